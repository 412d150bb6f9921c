"""Wall time, peak memory and per-step times of ``qdthermo paper`` (full), first and second run.

Usage (from the repository root)::

    python benchmarks/paper.py              # full paper, first run (cold Numba cache) then second run
    python benchmarks/paper.py --quick      # the --quick configuration (seconds)
    python benchmarks/paper.py --runs 3     # a third run too
    python benchmarks/paper.py --baseline /work/main/src   # interleaved with another tree: A B A B ...

Each run is a fresh process, ``qdthermo paper --out DIR --no-progress``, timed
from its start to its exit.  The first run gets an empty ``NUMBA_CACHE_DIR``
(so every compiled kernel is compiled), the later runs reuse it: the second
run's time is the one with warm compile caches.  Nothing else is kept between
runs (a new, empty output folder each time).

Memory: ``max_rss_MiB`` is what ``/usr/bin/time -v`` calls "Maximum resident
set size" (the largest single process: ``ru_maxrss`` of the children); the
whole process tree (driver, figure workers, their fork server) is sampled
every 0.1 s for the peak of its summed RSS and PSS (see
``benchmarks/sweep_throughput.py``).

``cpu_s_tree`` sums the CPU time of every process of the run (see
``TreeMemory``): on a busy machine the wall time mostly measures the other
jobs, the CPU time much less.

With ``--baseline SRC`` every run of this tree is preceded by the same run of
the ``qdthermo`` package found in SRC (its own Numba cache, also cold first):
``baseline_runs`` beside ``runs``, measured under the same load.

The machine is shared and noisy: every run is bracketed by a fixed NumPy
reference workload (best of 5), and each wall time is also given as a ratio
to it.  Per-step times come from the run's own ``report.md`` table.  Results go
to ``benchmarks/results/paper.json`` (``paper_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

from sweep_throughput import TreeMemory  # noqa: E402


def reference_s() -> float:
    """Best of 5 of a fixed NumPy workload (one BLAS thread): the machine's speed right now."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.random((20_000, 4, 4)) + 4 * np.eye(4)
    b = rng.random((20_000, 4))
    best = float("inf")
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(10):
                np.linalg.solve(a, b[..., None])
                np.exp(b).sum()
            best = min(best, time.perf_counter() - t0)
    return best


def step_times(report: Path) -> dict[str, float]:
    """The ``| step | seconds |`` table of a report.md."""
    out: dict[str, float] = {}
    rows = False
    for line in report.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\|\s*step\s*\|\s*seconds\s*\|", line):
            rows = True
            continue
        if rows:
            m = re.match(r"^\|\s*(.+?)\s*\|\s*([0-9.]+)\s*\|$", line)
            if m:
                out[m[1]] = float(m[2])
            elif not line.startswith("|"):
                break
    return out


def run_paper(out: Path, quick: bool, numba_cache: Path, src: Path = ROOT / "src") -> dict[str, Any]:
    """One ``qdthermo paper`` (of the package in ``src``) in a fresh process: wall time, memory, claims line,
    per-step times."""
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(numba_cache)}
    cmd = [sys.executable, "-c", "import sys; from qdthermo.cli import main; sys.argv[0] = 'qdthermo'; main()",
           "paper", "--out", str(out), "--no-progress", *(["--quick"] if quick else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mem = TreeMemory(proc.pid)
    output, _ = proc.communicate()
    wall = time.perf_counter() - t0
    mem.stop()
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise RuntimeError(f"qdthermo paper failed ({proc.returncode}):\n{output[-3000:]}")
    claims = next((line.strip() for line in output.splitlines() if "claims PASS" in line), "")
    return {
        "wall_s": round(wall, 2), "claims": claims,
        "max_rss_MiB": round(maxrss / 1024, 1) if maxrss > before else None,
        "peak_rss_sum_MiB": round(mem.peak_rss / 2**20, 1), "peak_pss_sum_MiB": round(mem.peak_pss / 2**20, 1),
        "process_peaks_MiB": sorted(round(v / 2**20, 1) for v in mem.hwm.values()),
        "max_processes": mem.peak_procs, "cpu_s_tree": round(sum(mem.cpu.values()), 1),
        "steps_s": step_times(out / "report.md"),
    }


def timed_run(i: int, out: Path, quick: bool, numba_cache: Path, src: Path) -> dict[str, Any]:
    """Run ``i`` (0: cold Numba cache) of :func:`run_paper`, bracketed by :func:`reference_s`."""
    ref0 = reference_s()
    r = run_paper(out, quick, numba_cache, src)
    ref = min(ref0, reference_s())
    return {"run": i + 1, "numba_cache": "cold" if i == 0 else "warm", **r,
            "reference_s": round(ref, 4), "wall_over_reference": round(r["wall_s"] / ref, 1),
            "load_average": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the --quick configuration")
    ap.add_argument("--runs", type=int, default=2, help="runs (the first with a cold Numba cache)")
    ap.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                    help="also time the package in SRC (e.g. another worktree's src), each run just before this one's")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="qdpaper-bench-"))
    out: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
                    "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": os.getloadavg()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "runs": [],
    }
    trees = [("runs", ROOT / "src", "numba-cache")]
    if args.baseline is not None:
        out["baseline_src"] = str(args.baseline.resolve())
        out["baseline_runs"] = []
        trees.insert(0, ("baseline_runs", args.baseline.resolve(), "numba-cache-baseline"))
    try:
        for i in range(args.runs):
            for key, src, cache in trees:
                r = timed_run(i, base / f"out{i}", args.quick, base / cache, src)
                print(json.dumps({"tree": key, **r}), flush=True)
                out[key].append(r)
                shutil.rmtree(base / f"out{i}", ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "paper_quick" if args.quick else "paper"
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

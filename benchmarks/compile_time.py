"""Compile time of the Numba kernels, before/after in the same run.

For each source tree (``before``: ``git archive`` of ``--before``, default the merge base with
``main``; ``after``: this checkout's ``src``), in fresh subprocesses:

* ``cold``: an empty ``NUMBA_CACHE_DIR``; the first ``qd.solve(device, method="compiled").to_xarray()``
  of 100 points of ``qd.three_terminal`` (compiles the fused kernel and writes the cache), then the
  first ``qd.fluctuations(device, order=2, engine="compiled").cumulant(2, "N_t")`` (compiles the
  counting kernel);
* ``cached``: a second fresh process with the cache just written (loads it);
* ``run``: ``qd.solve(...).to_xarray()`` at ``--points`` random points, best of ``--repeat``, beside the
  batched 4x4 ``np.linalg.solve`` of the same points (1 BLAS thread) timed in the same process; and
  its two parts, ``device.finalized()`` (the model layer) and ``fused_observables`` (the kernel call).

Usage::

    python benchmarks/compile_time.py                     # before = merge-base with main
    python benchmarks/compile_time.py --before dcdc07e --points 1000000

Writes ``benchmarks/results/compile_time.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FIRST = r'''
import json, time
t0 = time.perf_counter()
import numpy as np
import qdthermo as qd
t1 = time.perf_counter()
dev = qd.three_terminal(np.linspace(0.5, 2.0, 100), 0.3, U=1.0, J=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0},
                        mu={"t": 0.2, "b": 0.0, "r": 0.0})
qd.solve(dev, method="compiled").to_xarray()
t2 = time.perf_counter()
fl = qd.fluctuations(dev, order=2, counting=["N_t", "E_t"], engine="compiled")
fl.cumulant(2, "N_t")  # the statistics are computed on first access
t3 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "solve_first_call_seconds": t2 - t1,
                  "fluctuations_first_call_seconds": t3 - t2}))
'''

RUN = r'''
import json, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
import qdthermo as qd
n, repeat = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
dev = qd.three_terminal(
    eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n), U=rng.uniform(0.0, 3.0, n),
    J=rng.uniform(0.0, 1.0, n), T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
    mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"}, gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"})
qd.solve(qd.three_terminal(np.linspace(0.5, 2.0, 100), 0.3), method="compiled").to_xarray()  # load the cache
A = rng.uniform(0.0, 1.0, (n, 4, 4)) + 4.0 * np.eye(4)
b = rng.uniform(0.0, 1.0, (n, 4, 1))
from qdthermo.kinetics.network import network
from qdthermo.thermo.fused import fused_observables
best, base, fin, ker = np.inf, np.inf, np.inf, np.inf
for _ in range(repeat):
    with threadpool_limits(1):
        t0 = time.perf_counter()
        np.linalg.solve(A, b)
        base = min(base, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ds = qd.solve(dev, method="compiled").to_xarray()
    best = min(best, time.perf_counter() - t0)
    check = float(np.nansum(ds["entropy_production"].values))
    del ds
    t0 = time.perf_counter()
    system = dev.finalized()
    fin = min(fin, time.perf_counter() - t0)
    net = network(system)
    t0 = time.perf_counter()
    fused_observables(system, net)
    ker = min(ker, time.perf_counter() - t0)
    del system
print(json.dumps({"seconds": best, "baseline_seconds": base, "ratio_to_baseline": best / base,
                  "finalized_seconds": fin, "fused_observables_seconds": ker,
                  "finalized_ratio": fin / base, "fused_observables_ratio": ker / base, "check": check}))
'''


def _env(src: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", "2"), **extra}


def _py(code: str, env: dict[str, str], *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(src: Path, points: int, repeat: int) -> dict[str, dict[str, float]]:
    """Cold compile, cached first call and run time of the source tree ``src``."""
    with tempfile.TemporaryDirectory() as cache:
        cold = _py(FIRST, _env(src, NUMBA_CACHE_DIR=cache))
        cached = _py(FIRST, _env(src, NUMBA_CACHE_DIR=cache))
        run = _py(RUN, _env(src, NUMBA_CACHE_DIR=cache), str(points), str(repeat))
    return {"cold": cold, "cached": cached, "run": run}


def _archive(rev: str, dest: Path) -> Path:
    """``src`` of the revision ``rev`` extracted under ``dest``."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    return dest / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=None, help="revision measured as 'before' (default: merge-base main)")
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "compile_time.json")
    args = parser.parse_args()
    before = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                           capture_output=True, text=True).stdout.strip()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": _archive(before, Path(tmp)), "after": ROOT / "src"}
        for label, src in trees.items():
            results[label] = measure(src, args.points, args.repeat)
            print(label, json.dumps(results[label], indent=1), flush=True)
    record = {
        "benchmark": "benchmarks/compile_time.py",
        "command": f"python benchmarks/compile_time.py --before {before[:12]} --points {args.points} "
                   f"--repeat {args.repeat}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "numba_threads": _env(ROOT).get("NUMBA_NUM_THREADS"), "load_average": os.getloadavg()},
        "figure": "cold: first call with an empty Numba cache (compile + cache write); cached: first call in a "
                  "fresh process with that cache; run: seconds at --points and the ratio to the batched 4x4 "
                  "np.linalg.solve of the same points (1 thread) timed in the same process",
        "before_revision": before,
        **results,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""End-to-end throughput and peak memory of ``qd.sweep`` streaming to Zarr.

Usage (from the repository root)::

    .venv/bin/python benchmarks/sweep_throughput.py                 # 2000 x 2000, then 10^8 for 120 s
    .venv/bin/python benchmarks/sweep_throughput.py --big-seconds 0 # 10^8 points to completion
    .venv/bin/python benchmarks/sweep_throughput.py --n 300 --no-big # quick look
    .venv/bin/python benchmarks/sweep_throughput.py --n 2000 --no-big --baseline-src ../main/src  # vs another tree

Each sweep runs in a child process (``qdthermo sweep CONFIG --out STORE`` of the
coupled-transport device, every observable written; ``--api write`` runs
``write_sweep(...)``, what the command runs, in ``python -c``; ``--api sweep`` runs
``qd.sweep``, which also opens the store with xarray at the end), timed from process
start to exit, so the figures include interpreter start, imports, the probe, store
creation, all writes and the exit.  Start-up: ``qdthermo sweep`` of a 10 x 10 grid
(TOML config) in a fresh process, best and median of ``--startup-repeat`` runs, and
``python -c "import qdthermo"``.
Memory is sampled every 0.1 s over the whole process tree (driver, fork server,
workers): the peak of the summed RSS (shared pages counted once per process, an
upper bound) and of the summed PSS (shared pages split, the honest total).

The 10^8-point sweep (10^4 x 10^4) writes ~30 GB; with ``--big-seconds T`` it is
interrupted with Ctrl-C (SIGINT) after T seconds (resumable; memory does not
depend on how far it got) and the store is removed.  Results go to
``benchmarks/results/sweep_throughput.json`` and ``.md``.

Baselines timed in the same run, in this process, on the same points (the
first three chunks of the grid, best of 3): ``compute`` is the sweep's own chunk
computation without the store (solve and every observable, on the route the
sweep takes: the compiled one on every core for this grid), ``numpy_solve`` the
NumPy batched solve (``qd.solve(device, method="linear")`` and every observable,
BLAS on every core), ``linalg_solve_1core`` a plain batched ``np.linalg.solve``
of one 4 x 4 system per point (the bare cost of a steady state).  The end-to-end
rate is also given as a ratio to each (the machine is shared and noisy: absolute
rates move with its load, ratios much less).  With ``--baseline-src PATH`` each
throughput run is followed by the same sweep with ``PYTHONPATH=PATH`` (another
source tree, e.g. the main branch), and the ratio of the two is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CHILD = """
import sys, numpy as np, qdthermo as qd
from qdthermo.sweeps.run import write_sweep
n_E, n_N, store, chunk = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
run = qd.sweep if sys.argv[6] == "sweep" else write_sweep
run(qd.coupled_transport, store=store, progress=False,
    chunk_points=None if chunk == "default" else int(chunk),
    scheduler=None if sys.argv[5] == "default" else sys.argv[5],
    F_E=np.linspace(-1.0, 0.5, n_E), F_N=np.linspace(-3.0, 3.0, n_N), eps_L=1.0, J=12.0)
"""



def grid_toml(n_E: int, n_N: int) -> str:
    """The ``qdthermo sweep`` configuration of the benchmark's sweep on an ``n_E x n_N`` grid."""
    return (f'preset = "coupled_transport"\n[parameters]\nF_E = {{ start = -1.0, stop = 0.5, num = {n_E} }}\n'
            f"F_N = {{ start = -3.0, stop = 3.0, num = {n_N} }}\neps_L = 1.0\nJ = 12.0\n")


#: the 10 x 10 grid of the start-up timing (``qdthermo sweep CONFIG --out STORE``)
SMALL_TOML = grid_toml(10, 10)

CLI = "import sys; from qdthermo.cli import main; sys.argv[0] = 'qdthermo'; main()"


def _chunks_done(store: Path, cache: dict[str, Any]) -> int:
    """Chunks recorded done (read again only when the record's file changed)."""
    from qdthermo.sweeps.store import read_done

    try:
        mtime = (store / "chunk_done" / "c" / "0").stat().st_mtime_ns
        if cache.get("mtime") != mtime:
            cache.update(mtime=mtime, n=int(read_done(store).sum()))
    except Exception:  # not created yet, or being replaced
        pass
    return int(cache.get("n", 0))


class TreeMemory:
    """Samples the memory of a process and all its descendants.

    Records the peak of the summed RSS and of the summed PSS over the tree,
    and each process's own peak RSS (``VmHWM``); the sum of those peaks is an
    upper bound of the tree's peak that sampling cannot miss.  Also each
    process's CPU time (user + system) at its last sample: their sum is the
    tree's CPU time (a lower bound: up to 0.1 s per process is missed), which
    depends much less than the wall time on what else runs on the machine.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = self.peak_pss = 0
        self.peak_procs = 0
        self.hwm: dict[int, int] = {}
        self.cpu: dict[int, float] = {}  # pid -> user + system CPU seconds at its last sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            rss = pss = 0
            for p in procs:
                try:
                    info = p.memory_full_info()
                    with open(f"/proc/{p.pid}/status") as f:
                        hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
                except (psutil.NoSuchProcess, psutil.AccessDenied, OSError, StopIteration):
                    continue
                try:
                    t = p.cpu_times()
                    self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
                self.hwm[p.pid] = max(self.hwm.get(p.pid, 0), hwm)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, len(procs))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_sweep(n_E: int, n_N: int, store: Path, chunk: str, scheduler: str, limit_s: float | None,
              src: Path = ROOT / "src", api: str = "write") -> dict[str, Any]:
    """One sweep in a fresh process (source tree ``src``), timed from its start to its exit, memory sampled."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    if api == "cli":  # qdthermo sweep CONFIG --out STORE
        config = store.with_suffix(".toml")
        config.write_text(grid_toml(n_E, n_N))
        cmd = [sys.executable, "-c", CLI, "sweep", str(config), "--out", str(store), "--no-progress"]
        cmd += [] if chunk == "default" else ["--chunk-points", chunk]
        cmd += [] if scheduler == "default" else ["--scheduler", scheduler]
    else:
        cmd = [sys.executable, "-c", CHILD, str(n_E), str(n_N), str(store), chunk, scheduler, api]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    mem = TreeMemory(proc.pid)
    interrupted = False
    progress: list[tuple[float, int]] = []  # (time, chunks recorded done), polled from the store
    cache: dict[str, Any] = {}
    while proc.poll() is None:
        if limit_s is not None and time.perf_counter() - t0 > limit_s:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the run stops and stays resumable
            proc.wait()
            interrupted = True
            break
        progress.append((time.perf_counter() - t0, _chunks_done(store, cache)))
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    progress.append((wall, _chunks_done(store, cache)))
    mem.stop()
    if proc.returncode != 0 and not interrupted:
        raise RuntimeError(f"sweep failed with exit code {proc.returncode}")

    import numpy as np

    from qdthermo.sweeps.store import read_done, read_spec

    spec, _ = read_spec(store)
    done = read_done(store)
    shape, cs = np.array([n_E, n_N]), np.array(spec["chunk_shape"])
    idx = np.array(np.unravel_index(np.flatnonzero(done), tuple(-(-shape // cs)))).T
    points_done = int(np.prod(np.minimum((idx + 1) * cs, shape) - idx * cs, axis=1).sum())
    disk = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    # steady rate: chunks recorded between the first record and the last one (chunk_done is
    # written every 0.25 s), i.e. without interpreter start, probing, store creation and pool start
    steady = None
    first = next(((t, c) for t, c in progress if c > 0), None)
    last = max(progress, key=lambda tc: tc[1], default=None)
    if first and last and last[0] > first[0]:
        steady = round((last[1] - first[1]) * points_done / max(int(done.sum()), 1) / (last[0] - first[0]))
    return {
        "grid": [n_E, n_N], "points": n_E * n_N, "chunk_points": spec["chunk_points"], "scheduler": scheduler,
        "src": str(src), "api": api,
        "complete": bool(done.all()), "interrupted_after_s": limit_s if interrupted else None,
        "chunks_done": int(done.sum()), "n_chunks": int(done.size), "points_done": points_done,
        "wall_s": round(wall, 2), "points_per_s": round(points_done / wall), "steady_points_per_s": steady,
        "first_chunk_recorded_s": round(first[0], 2) if first else None,
        "peak_rss_sum_MiB": round(mem.peak_rss / 2**20, 1), "peak_pss_sum_MiB": round(mem.peak_pss / 2**20, 1),
        "sum_of_process_peaks_MiB": round(sum(mem.hwm.values()) / 2**20, 1),
        "process_peaks_MiB": sorted(round(v / 2**20, 1) for v in mem.hwm.values()),
        "max_processes": mem.peak_procs, "store_MiB": round(disk / 2**20, 1),
        "cpu_s_tree": round(sum(mem.cpu.values()), 1),
        "points_per_cpu_s": round(points_done / max(sum(mem.cpu.values()), 1e-9)),
    }


def baselines(n_E: int, n_N: int, n_chunks: int = 3) -> dict[str, float]:
    """Points/s of the sweep's chunk computation (no store), of the NumPy batched solve and of np.linalg.solve."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import qdthermo as qd
    from qdthermo.sweeps import _worker
    from qdthermo.sweeps.plan import make_plan
    from qdthermo.sweeps.run import _default_chunk_points, _use_compiled

    params = dict(F_E=np.linspace(-1.0, 0.5, n_E), F_N=np.linspace(-3.0, 3.0, n_N), eps_L=1.0, J=12.0)
    plan = make_plan(qd.coupled_transport, params, None)
    plan = make_plan(qd.coupled_transport, params, _default_chunk_points(plan))
    method = "compiled" if _use_compiled(plan) else "auto"
    job = _worker.Job(plan, _worker.probe(plan, method), None, "baseline", method)
    ks = range(min(n_chunks, plan.n_chunks))
    start, stop = plan.chunk_range(ks[0])[0], plan.chunk_range(ks[-1])[1]
    points = stop - start
    device = qd.coupled_transport(**plan.kwargs_for(start, stop))
    rng = np.random.default_rng(0)
    a = rng.random((points, 4, 4)) + 4 * np.eye(4)
    b = rng.random((points, 4, 1))

    def best(f: Any) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    def numpy_solve() -> None:
        qd.solve(device, method="linear")._export_parts(("point",))

    _worker.compute_chunk(job, 0)  # warm-up (lazy imports, compiled kernels)
    t_compute = best(lambda: [_worker.compute_chunk(job, k) for k in ks])
    numpy_solve()
    t_numpy = best(numpy_solve)
    with threadpool_limits(limits=1, user_api="blas"):
        t_solve = best(lambda: np.linalg.solve(a, b))
    return {"points": points, "route": method, "compute_points_per_s": round(points / t_compute),
            "numpy_solve_points_per_s": round(points / t_numpy),
            "linalg_solve_1core_points_per_s": round(points / t_solve)}


def startup(base: Path, repeat: int, src: Path = ROOT / "src") -> dict[str, Any]:
    """Wall time of ``qdthermo sweep`` of a 10 x 10 grid and of ``import qdthermo``, fresh processes."""
    import statistics

    env = {**os.environ, "PYTHONPATH": str(src)}
    config = base / "small.toml"
    config.write_text(SMALL_TOML)
    sweep_s, import_s = [], []
    for i in range(repeat):
        store = base / f"small{i}.zarr"
        shutil.rmtree(store, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CLI, "sweep", str(config), "--out", str(store), "--no-progress"],
                       env=env, check=True, capture_output=True)
        sweep_s.append(time.perf_counter() - t0)
        shutil.rmtree(store, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import qdthermo"], env=env, check=True)
        import_s.append(time.perf_counter() - t0)
    return {"src": str(src), "repeat": repeat,
            "sweep_10x10_best_s": round(min(sweep_s), 3), "sweep_10x10_median_s": round(statistics.median(sweep_s), 3),
            "import_best_s": round(min(import_s), 3), "import_median_s": round(statistics.median(import_s), 3)}


def markdown(out: dict[str, Any]) -> str:
    """The results as a markdown table with notes."""
    m = out["machine"]
    lines = [
        f"# qd.sweep throughput and memory ({out['date']})", "",
        f"Command: `{out['command']}`  ",
        f"Machine: {m['affinity']} cores, {m['memory_GiB']} GiB, Python {m['python']}; load average "
        f"{[round(x, 2) for x in m['load_average_at_start']]} at start, "
        f"{[round(x, 2) for x in out['load_average_at_end']]} at end (other jobs shared the machine).", "",
        "| run | points | wall [s] | points/s end to end | points/s steady | first chunk [s] | CPU s (tree) "
        "| peak RSS sum [MiB] | peak PSS sum [MiB] | sum of per-process peaks [MiB] | store [MiB] |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    named = [(f"{r['grid'][0]}x{r['grid'][1]} #{i + 1}", r) for i, r in enumerate(out["throughput_runs"])]
    named += [(f"{r['grid'][0]}x{r['grid'][1]} #{i + 1}, --baseline-src", r)
              for i, r in enumerate(out.get("baseline_src_runs", []))]
    if "big" in out:
        r = out["big"]
        what = "complete" if r["complete"] else f"stopped after {r['interrupted_after_s']} s, {r['points_done']:,} done"
        named.append((f"10^4x10^4 ({what})", r))
    for label, r in named:
        lines.append(f"| {label} | {r['points']:,} | {r['wall_s']} | {r['points_per_s']:,} | "
                     f"{r['steady_points_per_s'] or 0:,} | {r.get('first_chunk_recorded_s')} | "
                     f"{r.get('cpu_s_tree', '')} | {r['peak_rss_sum_MiB']} | {r['peak_pss_sum_MiB']} | "
                     f"{r['sum_of_process_peaks_MiB']} | {r['store_MiB']} |")
    for i, r in enumerate(out["throughput_runs"]):
        bl = r.get("baselines")
        if bl and "compute_points_per_s" in bl:
            lines.append("")
            lines.append(f"Run #{i + 1} baselines (same points, this process): the sweep's chunk compute without store "
                         f"({bl['route']} route) {bl['compute_points_per_s']:,} points/s, NumPy batched solve "
                         f"(method='linear', every observable) {bl['numpy_solve_points_per_s']:,} points/s, plain "
                         f"np.linalg.solve (one core) {bl['linalg_solve_1core_points_per_s']:,} points/s; end to end / "
                         f"compute = {r['end_to_end_over_compute']:.2f}, end to end / NumPy batched solve = "
                         f"{r['end_to_end_over_numpy_solve']:.2f}.")
        if "end_to_end_over_baseline_src" in r:
            lines.append("")
            lines.append(f"Run #{i + 1} against --baseline-src (the same sweep, run right after): "
                         f"{r['end_to_end_over_baseline_src']:.2f} x its end-to-end rate.")
    for st in out.get("startup", []):
        lines += ["", f"Start-up ({st['src']}, {st['repeat']} fresh processes): `qdthermo sweep` of a 10 x 10 grid "
                      f"{st['sweep_10x10_best_s']} s best, {st['sweep_10x10_median_s']} s median; `import qdthermo` "
                      f"{st['import_best_s']} s best, {st['import_median_s']} s median."]
    lines += [
        "",
        f"* `{out.get('api', 'write')}` child: coupled_transport (F_E x F_N, eps_L = 1, J = 12), every observable "
        "written to Zarr "
        "(uncompressed), default chunk_points and scheduler (this grid: the compiled route in process, "
        "131 072 points per chunk, a writer thread writing each chunk while the next is computed).",
        "* end to end: a fresh process, from its start to its exit (interpreter, imports, probe, store "
        "creation, all chunks, closing).  steady: rate between the first and the last "
        "update of the store's chunk_done record (without the start-up).",
        "* memory over the whole process tree, sampled "
        "every 0.1 s; RSS counts shared pages once per process (upper bound), PSS splits them; the sum "
        "of per-process peaks (VmHWM) cannot be missed by sampling.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="grid side of the throughput run (n x n)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of the throughput run (best and all kept)")
    ap.add_argument("--chunk-points", default="default")
    ap.add_argument("--scheduler", default="default",
                    help="default (by grid size), serial, processes, local, address")
    ap.add_argument("--api", choices=("cli", "write", "sweep"), default="cli",
                    help="cli: `qdthermo sweep CONFIG --out STORE`; write: write_sweep (what the command runs) "
                         "in `python -c`; sweep: qd.sweep (opens the store with xarray at the end)")
    ap.add_argument("--baseline-src", default=None,
                    help="another source tree (a src directory): each throughput run is repeated with it")
    ap.add_argument("--startup-repeat", type=int, default=7, help="fresh processes of the start-up timing (0: none)")
    ap.add_argument("--no-big", action="store_true", help="skip the 10^8-point run")
    ap.add_argument("--big-seconds", type=float, default=120.0,
                    help="stop the 10^8-point run after this many seconds (0: run to completion)")
    ap.add_argument("--dir", default=None, help="where to put the stores (default: a temporary directory)")
    ap.add_argument("--tag", default="", help="suffix of the result file names")
    ap.add_argument("--markdown-only", action="store_true", help="rewrite the .md from the .json and stop")
    args = ap.parse_args()
    if args.markdown_only:
        name = f"sweep_throughput{args.tag}"
        (RESULTS / f"{name}.md").write_text(markdown(json.loads((RESULTS / f"{name}.json").read_text())))
        return

    base = Path(args.dir or tempfile.mkdtemp(prefix="qdsweep-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
                    "memory_GiB": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": os.getloadavg()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "api": args.api,
    }
    runs: list[dict[str, Any]] = []
    old_runs: list[dict[str, Any]] = []
    for i in range(args.repeat):
        store = base / f"tp{i}.zarr"
        shutil.rmtree(store, ignore_errors=True)
        bl0 = baselines(args.n, args.n)
        r = run_sweep(args.n, args.n, store, args.chunk_points, args.scheduler, None, api=args.api)
        shutil.rmtree(store, ignore_errors=True)
        if args.baseline_src:
            old = run_sweep(args.n, args.n, store, args.chunk_points, args.scheduler, None,
                            src=Path(args.baseline_src).resolve(), api=args.api)
            shutil.rmtree(store, ignore_errors=True)
            r["end_to_end_over_baseline_src"] = round(r["points_per_s"] / old["points_per_s"], 2)
            print(json.dumps(old), flush=True)
            old_runs.append(old)
        bl1 = baselines(args.n, args.n)
        r["baselines"] = {k: max(bl0[k], bl1[k]) if isinstance(bl0[k], (int, float)) else bl0[k]
                          for k in bl0}  # best of before and after the run
        r["end_to_end_over_compute"] = round(r["points_per_s"] / r["baselines"]["compute_points_per_s"], 2)
        r["end_to_end_over_numpy_solve"] = round(r["points_per_s"] / r["baselines"]["numpy_solve_points_per_s"], 2)
        print(json.dumps(r), flush=True)
        runs.append(r)
    out["throughput_runs"] = runs
    if old_runs:
        out["baseline_src_runs"] = old_runs
    if args.startup_repeat:
        out["startup"] = [startup(base, args.startup_repeat)]
        if args.baseline_src:
            out["startup"].append(startup(base, args.startup_repeat, Path(args.baseline_src).resolve()))
        print(json.dumps(out["startup"]), flush=True)

    if not args.no_big:
        store = base / "big.zarr"
        shutil.rmtree(store, ignore_errors=True)
        r = run_sweep(10_000, 10_000, store, args.chunk_points, args.scheduler, args.big_seconds or None,
                      api=args.api)
        print(json.dumps(r), flush=True)
        out["big"] = r
        shutil.rmtree(store, ignore_errors=True)
    out["load_average_at_end"] = os.getloadavg()

    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"sweep_throughput{args.tag}"
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    text = markdown(out)
    (RESULTS / f"{name}.md").write_text(text)
    print(text)
    if args.dir is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

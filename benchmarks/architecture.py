"""Architecture benchmark: before and after the kinetics-layer redesign, same machine, same run.

Two workloads, each in a fresh subprocess per code version (so peak RSS is that of one
workload), alternating versions and keeping the best of ``--repeat`` runs:

* every observable of the paper's device on ``--points`` random points: ``qd.solve`` then
  populations, 9 per-lead currents, entropy production, forces, fluxes, both regimes and all
  performance attributes (``to_xarray()`` of the result, which reads them all);
* one point of a chain of 8 capacitively coupled dots, each with its own lead: steady state,
  per-lead currents and entropy production.

Usage::

    git worktree add --detach /tmp/qd-baseline c0dc3dc   # the code before the redesign
    python benchmarks/architecture.py --baseline-src /tmp/qd-baseline/src

Writes ``benchmarks/results/architecture.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKLOAD = r'''
import json, resource, sys, time
import numpy as np
import qdthermo as qd

which, n = sys.argv[1], int(sys.argv[2])
if which == "observables":
    rng = np.random.default_rng(0)
    device = qd.three_terminal(
        eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n),
        U=rng.uniform(0.0, 3.0, n), J=rng.uniform(0.0, 1.0, n),
        T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"},
        gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"})
    t0 = time.perf_counter()
    ds = qd.solve(device).to_xarray()
    total = float(ds["entropy_production"].sum())
    seconds = time.perf_counter() - t0
else:
    rng = np.random.default_rng(1)
    N = n
    dots = [qd.Dot(f"d{k}", level=rng.uniform(-1, 1), species="x") for k in range(N)]
    leads = [qd.Lead(f"l{k}", dot=f"d{k}", temperature=rng.uniform(0.5, 2), chemical_potential=rng.uniform(-0.5, 0.5),
                     coupling=rng.uniform(0.5, 1.5)) for k in range(N)]
    inter = [qd.Interaction((f"d{k}", f"d{k+1}"), coulomb=rng.uniform(0.2, 1)) for k in range(N - 1)]
    device = qd.Device(dots, leads, inter)
    t0 = time.perf_counter()
    res = qd.solve(device)
    total = float(res.entropy_production) + float(np.sum(res.particle_current_array))
    seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "check": total}))
'''


def run(src: Path, which: str, n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    out = subprocess.run([sys.executable, "-c", WORKLOAD, which, str(n)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="src/ folder of the code before")
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "architecture.json")
    args = parser.parse_args()
    versions = {"before": args.baseline_src.resolve(), "after": (HERE.parent / "src").resolve()}
    workloads = {"observables": args.points, "chain8": 8}
    best: dict[str, dict[str, dict[str, float]]] = {w: {} for w in workloads}
    for _ in range(args.repeat):
        for w, n in workloads.items():
            for v, src in versions.items():
                r = run(src, w, n)
                if v not in best[w] or r["seconds"] < best[w][v]["seconds"]:
                    best[w][v] = r
    record = {
        "benchmark": "architecture redesign: all observables of the paper's device; one 8-dot chain point",
        "command": f"python benchmarks/architecture.py --baseline-src {args.baseline_src} --points {args.points} "
                   f"--repeat {args.repeat}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "points": args.points,
        "results": best,
        "ratio_after_over_before": {w: best[w]["after"]["seconds"] / best[w]["before"]["seconds"] for w in best},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for w in best:
        for v in versions:
            r = best[w][v]
            print(f"{w:12s} {v:7s} {r['seconds']:8.3f} s  peak RSS {r['peak_rss_MiB']:8.1f} MiB  "
                  f"check {r['check']:.12g}")
    print("after/before:", record["ratio_after_over_before"])


if __name__ == "__main__":
    main()

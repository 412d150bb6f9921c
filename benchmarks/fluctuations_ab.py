"""A/B of ``qd.fluctuations`` end to end: this tree against another tree's package, interleaved.

The workload of ``fluctuations_engine.py``'s end-to-end part: the paper's device at ``--points`` random
points, ``qd.fluctuations(device, order=2, counting=[N_t, N_b, N_r, E_t, E_b, E_r, J_E, J_N],
engine="compiled")``, then C1 and C2 of the eight quantities.  Each measurement is a fresh process
(``PYTHONPATH`` set to the tree's ``src``; its own Numba cache, warmed first) reporting the best wall
time of ``--repeat`` calls; the trees alternate ``--pairs`` times (A B A B ...), so both see the same
load on a shared machine.

Usage::

    python benchmarks/fluctuations_ab.py --baseline /path/to/other/src
    python benchmarks/fluctuations_ab.py --baseline OLD/src --points 1000000 --pairs 4 --repeat 5

Prints one line per run and the range of each tree; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

WORKLOAD = r'''
import sys, time
import numpy as np
import qdthermo as qd

n, repeat = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
dev = qd.three_terminal(eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n), U=rng.uniform(0.0, 3.0, n),
                        J=rng.uniform(0.0, 1.0, n), T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
                        mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"},
                        gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"})
names = ["N_t", "N_b", "N_r", "E_t", "E_b", "E_r", "J_E", "J_N"]
small = qd.three_terminal(eps_L=np.linspace(0.5, 2.0, 20000), eps_R=0.3, U=1.0, J=0.5)
fl = qd.fluctuations(small, order=2, counting=names, engine="compiled")  # warm-up: cache load
[fl.cumulant(k, q) for k in (1, 2) for q in names]
best = np.inf
for _ in range(repeat):
    t0 = time.perf_counter()
    fl = qd.fluctuations(dev, order=2, counting=names, engine="compiled")
    out = [fl.cumulant(k, q) for k in (1, 2) for q in names]
    best = min(best, time.perf_counter() - t0)
print(f"{best:.4f} {fl.route}")
'''


def run(src: Path, cache: str, points: int, repeat: int) -> float:
    """Best time of one fresh process running the workload with ``src`` first on ``sys.path``."""
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", WORKLOAD, str(points), str(repeat)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    if out[1] != "compiled":
        raise RuntimeError(f"{src}: the compiled route did not run ({out[1]})")
    return float(out[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other tree's src folder")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    trees = {"this": SRC, "baseline": args.baseline.resolve()}
    times: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        caches = {"this": a, "baseline": b}
        for name, src in trees.items():  # fill each tree's Numba cache (compiles once)
            run(src, caches[name], 1000, 1)
        for pair in range(args.pairs):
            for name, src in trees.items():
                seconds = run(src, caches[name], args.points, args.repeat)
                times[name].append(seconds)
                print(f"pair {pair + 1} {name:8s} {seconds:.3f} s  ({args.points / seconds / 1e6:.2f} M points/s)")
    for name, values in times.items():
        print(f"{name:8s} {min(values):.3f}-{max(values):.3f} s ({trees[name]})")


if __name__ == "__main__":
    main()

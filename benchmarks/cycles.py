"""Microscopic forces: the compiled Jacobi-SVD route against LAPACK's SVD (the NumPy route), by batch size.

``least_squares_forces(cycles.force_map, cycles.affinity, engine=...)`` (what
``qd.solve(device).microscopic_forces`` computes) on the paper's device at random points (every point
its own force map, so nothing is shared), best of ``--repeat``, one BLAS thread; the first compiled call
of the process (importing Numba, loading the kernel) is reported apart.

Usage::

    python benchmarks/cycles.py              # 10^3 ... 10^6 points

Writes ``benchmarks/results/cycles.json``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np
from fluctuations_sizes import device, write_record  # the paper's device at n random points; the JSON
from response import best  # best wall time of repeated calls
from threadpoolctl import threadpool_limits

import qdthermo as qd
from qdthermo.thermo.cycles import least_squares_forces

OUT = Path(__file__).resolve().parent / "results" / "cycles.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=1_000_000, help="largest batch (points)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per timing (best of)")
    args = parser.parse_args()
    rows = []
    first = None
    n = 1_000
    with threadpool_limits(limits=1, user_api="blas"):
        while n <= args.max:
            cyc = qd.solve(device(n)).cycles
            M, a = cyc.force_map, cyc.affinity
            if first is None:
                t0 = time.perf_counter()
                least_squares_forces(M[:10], a[:10], engine="compiled")
                first = time.perf_counter() - t0
            numpy = best(partial(least_squares_forces, M, a, engine="numpy"), args.repeat)
            compiled = best(partial(least_squares_forces, M, a, engine="compiled"), args.repeat)
            x, y = (least_squares_forces(M, a, engine=e) for e in ("numpy", "compiled"))
            row = {"points": n, "numpy_seconds": numpy, "compiled_seconds": compiled, "speed_up": numpy / compiled,
                   "compiled_points_per_second": n / compiled, "numpy_points_per_second": n / numpy,
                   "max_abs_difference": float(np.nanmax(np.abs(x - y))),
                   "same_nan": bool(np.array_equal(np.isnan(x), np.isnan(y)))}
            rows.append(row)
            print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
            n *= 10
    write_record(OUT, __doc__, "python benchmarks/cycles.py" + (f" --max {args.max}" if args.max != 1_000_000 else ""),
                 first, rows)


if __name__ == "__main__":
    main()

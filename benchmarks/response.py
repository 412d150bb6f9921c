"""Differential and linear response by batch size: the NumPy and compiled routes, and a first compiled call.

What ``engine="auto"`` of ``qd.response`` / ``qd.linear_response`` weighs
(``thermo.onsager.COMPILED_MIN_POINTS``): the paper's device at random points (forces on),
``qd.response(device, engine=...)`` and ``qd.linear_response(device, engine=...)`` end to end (the steady
state, by the route ``auto`` picks for the size, then the 3 x 3 matrix ``dJ_i/dF_j``), best of ``--repeat``,
both routes in the same process, beside the plain batched ``np.linalg.solve`` of as many 4 x 4 systems
(one BLAS thread; the machine is shared and noisy, the ratios are the figures).  The first compiled call
of the process (Numba's import and set-up, loading the kernel's cache) is timed first, in a fresh process.

Usage::

    python benchmarks/response.py                 # 10^3 ... 10^6 points
    python benchmarks/response.py --max 100000    # up to 10^5

Writes ``benchmarks/results/response.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from fluctuations_sizes import device, write_record  # the paper's device at n random points; the JSON
from threadpoolctl import threadpool_limits

import qdthermo as qd

OUT = Path(__file__).resolve().parent / "results" / "response.json"


def best(func: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    out = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        out = min(out, time.perf_counter() - t0)
    return float(out)


def baseline(n: int, repeat: int) -> float:
    """Plain batched ``np.linalg.solve`` of ``n`` random 4 x 4 systems, one BLAS thread."""
    rng = np.random.default_rng(1)
    a = rng.random((n, 4, 4)) + 4 * np.eye(4)
    b = rng.random((n, 4, 1))
    with threadpool_limits(limits=1, user_api="blas"):
        return best(lambda: np.linalg.solve(a, b), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=1_000_000, help="largest batch")
    parser.add_argument("--repeat", type=int, default=3, help="calls per timing (best of)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    qd.response(device(100), engine="compiled")
    first = time.perf_counter() - t0
    rows = []
    n = 1_000
    while n <= args.max:
        dev = device(n)
        row: dict[str, object] = {"points": n, "np_linalg_solve_seconds": baseline(n, args.repeat),
                                  "solve_seconds": best(partial(qd.solve, dev), args.repeat)}
        for name, func in (("response", qd.response), ("linear_response", qd.linear_response)):
            for engine in ("numpy", "compiled"):
                row[f"{name}_{engine}_seconds"] = best(partial(func, dev, engine=engine), args.repeat)
            row[f"{name}_numpy_over_compiled"] = (float(row[f"{name}_numpy_seconds"])  # type: ignore[arg-type]
                                                  / float(row[f"{name}_compiled_seconds"]))  # type: ignore[arg-type]
            row[f"{name}_compiled_points_per_second"] = n / float(row[f"{name}_compiled_seconds"])  # type: ignore
            row[f"{name}_compiled_over_np_linalg_solve"] = (
                float(row[f"{name}_compiled_seconds"]) / float(row["np_linalg_solve_seconds"]))  # type: ignore
        rows.append(row)
        print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
        n *= 10
    write_record(OUT, __doc__,
                 "python benchmarks/response.py" + (f" --max {args.max}" if args.max != 1_000_000 else ""), first, rows)

if __name__ == "__main__":
    main()

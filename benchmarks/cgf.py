"""Scaled CGF of real tilts: the real-eigenvalue route of ``cgf`` against the complex one, by batch size.

``qd.fluctuations(device).cgf({"N_t": -1j * s})`` (``chi = -i s``: the real tilt ``exp(s d)`` of large
deviations) on the paper's device at random points and random ``s`` in [-1, 1], best of ``--repeat``,
beside the same eigenvalue from the complex tilted generator
(``kinetics.counting.tilted_generator`` + ``np.linalg.eigvals``, what ``cgf`` did before), one BLAS thread.

Usage::

    python benchmarks/cgf.py              # 10^3 ... 10^5 points

Writes ``benchmarks/results/cgf.json``.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import numpy as np
from fluctuations_sizes import device, write_record  # the paper's device at n random points; the JSON
from response import best  # best wall time of repeated calls
from threadpoolctl import threadpool_limits

import qdthermo as qd
from qdthermo.kinetics import counting

OUT = Path(__file__).resolve().parent / "results" / "cgf.json"


def complex_route(fl: qd.Fluctuations, s: np.ndarray) -> np.ndarray:
    """The dominant eigenvalue of the complex tilted generator (the route before the real one)."""
    n, src, dst, rate, P = fl._jumps()
    W = counting.tilted_generator(n, src, dst, rate, fl.increments("N_t")[..., None], -1j * s[:, None])
    ev = np.linalg.eigvals(W)
    return np.take_along_axis(ev, np.argmax(ev.real, axis=-1)[:, None], axis=-1)[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=100_000, help="largest batch (points)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per timing (best of)")
    args = parser.parse_args()
    rows = []
    n = 1_000
    with threadpool_limits(limits=1, user_api="blas"):
        while n <= args.max:
            fl = qd.fluctuations(device(n), order=1, counting=["N_t"])
            s = np.random.default_rng(2).uniform(-1.0, 1.0, n)
            real = best(partial(fl.cgf, {"N_t": -1j * s}), args.repeat)
            cplx = best(partial(complex_route, fl, s), args.repeat)
            diff = np.max(np.abs(fl.cgf({"N_t": -1j * s}) - complex_route(fl, s)))
            row = {"points": n, "real_route_seconds": real, "complex_route_seconds": cplx,
                   "complex_over_real": cplx / real, "real_route_points_per_second": n / real,
                   "max_abs_difference": float(diff)}
            rows.append(row)
            print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
            n *= 10
    write_record(OUT, __doc__, "python benchmarks/cgf.py" + (f" --max {args.max}" if args.max != 100_000 else ""),
                 None, rows)


if __name__ == "__main__":
    main()

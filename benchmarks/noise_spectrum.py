"""Finite-frequency noise by batch size: the NumPy and compiled routes of ``Fluctuations.noise_spectrum``.

The paper's device at random points (forces on); ``fl.noise_spectrum("N_t", omega, "E_r")`` at 8
frequencies from ``qd.fluctuations(device, order=2, counting=["N_t", "E_r"], engine=...)`` (the statistics
computed before the timing: only the spectrum is timed), best of ``--repeat``, both routes in the same
process, beside a plain batched ``np.linalg.solve`` of as many complex 4 x 4 systems with 2 right-hand
sides (one BLAS thread; the machine is shared and noisy, the ratios are the figures).  The first compiled
spectrum of the process (Numba's import and set-up, loading the kernel's cache) is timed first.

Usage::

    python benchmarks/noise_spectrum.py                # 10^3 ... 10^5 points x 8 frequencies
    python benchmarks/noise_spectrum.py --max 10000

Writes ``benchmarks/results/noise_spectrum.json``.
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

OUT = Path(__file__).resolve().parent / "results" / "noise_spectrum.json"
OMEGA = np.geomspace(0.01, 100.0, 8)


def baseline(pairs: int, repeat: int) -> float:
    """Plain batched complex ``np.linalg.solve`` of ``pairs`` 4 x 4 systems with 2 right-hand sides."""
    rng = np.random.default_rng(1)
    a = rng.random((pairs, 4, 4)) + 4 * np.eye(4) + 1j * rng.random((pairs, 1, 1)) * np.eye(4)
    b = rng.random((pairs, 4, 2)) + 0j
    with threadpool_limits(limits=1, user_api="blas"):
        return best(lambda: np.linalg.solve(a, b), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=100_000, help="largest batch (points)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per timing (best of)")
    args = parser.parse_args()
    fl = qd.fluctuations(device(100), order=2, counting=["N_t", "E_r"], engine="compiled")
    t0 = time.perf_counter()
    fl.noise_spectrum("N_t", OMEGA, "E_r")
    first = time.perf_counter() - t0
    rows = []
    n = 1_000
    while n <= args.max:
        pairs = n * OMEGA.size
        row: dict[str, object] = {"points": n, "frequencies": OMEGA.size,
                                  "np_linalg_solve_seconds": baseline(pairs, args.repeat)}
        spectra = {}
        for engine in ("numpy", "compiled"):
            fl = qd.fluctuations(device(n), order=2, counting=["N_t", "E_r"], engine=engine)
            row[f"{engine}_seconds"] = best(partial(fl.noise_spectrum, "N_t", OMEGA, "E_r"), args.repeat)
            spectra[engine] = fl.noise_spectrum("N_t", OMEGA, "E_r")
        num, com = float(row["numpy_seconds"]), float(row["compiled_seconds"])  # type: ignore[arg-type]
        row["numpy_over_compiled"] = num / com
        row["compiled_pairs_per_second"] = pairs / com
        row["numpy_pairs_per_second"] = pairs / num
        row["compiled_over_np_linalg_solve"] = com / float(row["np_linalg_solve_seconds"])  # type: ignore[arg-type]
        row["max_abs_difference_over_max_abs"] = float(np.max(np.abs(spectra["numpy"] - spectra["compiled"]))
                                                       / np.max(np.abs(spectra["numpy"])))
        rows.append(row)
        print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
        n *= 10
    write_record(OUT, __doc__, "python benchmarks/noise_spectrum.py"
                 + (f" --max {args.max}" if args.max != 100_000 else ""), first, rows)


if __name__ == "__main__":
    main()

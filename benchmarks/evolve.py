"""Time evolution: the batched scaling-and-squaring route against SciPy's ``expm`` at every time.

The paper's device at random points (``benchmarks/fluctuations_sizes.py``'s), its 4 x 4 rate matrices,
from all dots empty: ``kinetics.evolve.propagate(W, times, P0, method=...)`` on a uniform grid of
``--times`` times (``np.linspace(0, 10, n)``: anchors and steps) and on ``--times`` log-spaced times
(an exponential at every time), best of ``--repeat``, both routes in the same process; SciPy only up to
10^4 points (about 20 us per matrix and time).  The agreement is the largest absolute difference of the
populations.

Usage::

    python benchmarks/evolve.py

Writes ``benchmarks/results/evolve.json``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np
from fluctuations_sizes import device, write_record  # the paper's device at n random points; the JSON

from qdthermo.kinetics.evolve import propagate
from qdthermo.kinetics.generator import PauliGenerator
from qdthermo.kinetics.network import network
from qdthermo.kinetics.rates import rates

OUT = Path(__file__).resolve().parent / "results" / "evolve.json"


def best(func: partial[np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """Best wall time of ``repeat`` calls, and the result."""
    out, value = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = func()
        out = min(out, time.perf_counter() - t0)
    return float(out), value  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--times", type=int, default=20, help="times per grid")
    parser.add_argument("--repeat", type=int, default=2, help="calls per timing (best of)")
    args = parser.parse_args()
    grids = {"uniform": np.linspace(0.0, 10.0, args.times), "log": np.geomspace(1e-3, 1e2, args.times)}
    rows = []
    for n in (1_000, 10_000, 100_000):
        system = device(n).finalized()
        W = PauliGenerator(network(system), rates(system)).matrix
        P0 = np.zeros(W.shape[-1])
        P0[0] = 1.0
        for grid, times in grids.items():
            row: dict[str, object] = {"points": n, "times": grid, "n_times": len(times)}
            row["pade_seconds"], ours = best(partial(propagate, W, times, P0), args.repeat)
            row["pade_points_times_per_second"] = n * len(times) / float(row["pade_seconds"])  # type: ignore[arg-type]
            if n <= 10_000:
                row["scipy_seconds"], ref = best(partial(propagate, W, times, P0, method="scipy"), 1)
                row["scipy_over_pade"] = float(row["scipy_seconds"]) / float(row["pade_seconds"])  # type: ignore
                row["max_abs_difference"] = float(np.max(np.abs(ours - ref)))
            rows.append(row)
            print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    write_record(OUT, __doc__, "python benchmarks/evolve.py" + (f" --times {args.times}" if args.times != 20 else ""),
                 None, rows)


if __name__ == "__main__":
    main()

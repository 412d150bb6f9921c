"""Benchmark: second-order counting statistics of a 4-state, 12-jump network at 10^6 points in one batch.

The network is shaped like the paper's two-dot, three-lead device: six channels (lead t: 00<->10 and
01<->11; lead b: the same pair; lead r: 00<->01 and 10<->11), each a forward and a backward jump with
local detailed balance, random rates at every point.  Eight counted quantities with point-dependent
increments: N_t, N_b, N_r (particles from each lead), E_t, E_b, E_r (energy from each lead), and two
combinations J_E, J_N.  Routes, all in the same run:

* ``plain``   - ``np.linalg.solve`` of the normalised 4x4 systems with one right-hand side (the yardstick,
  as in ``steady_state.py``);
* ``engine``  - :func:`qdthermo.kinetics.counting.scaled_cumulants` (order 2: C1 and C2 of the eight
  quantities) from rates, increments and a given steady state;
* ``engine (rank_one)`` - the same with the LAPACK rank-one group-inverse route instead of elimination;
* ``steady + engine`` - the steady state by the plain solve, then the engine;
* ``covariance matrix`` - the full (points, 8, 8) covariance, only when asked for.

Each time is the best of ``--repeat`` runs; peak memory is the ``tracemalloc`` peak of one run.
Results go to ``benchmarks/results/fluctuations_engine.json``.

Run::

    python benchmarks/fluctuations_engine.py                 # 10^6 points
    python benchmarks/fluctuations_engine.py --points 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from steady_state import measure

from qdthermo.kinetics import counting
from qdthermo.kinetics.group_inverse import DrazinSolver

# channels (lead, initial, final) between the states 00, 10, 01, 11
CHANNELS = [("t", 0, 1), ("t", 2, 3), ("b", 0, 1), ("b", 2, 3), ("r", 0, 2), ("r", 1, 3)]
LEADS = "tbr"


def network(n_points: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Jumps (src, dst), rates (points, 12) and increments (points, 12, 8) of the random device."""
    rng = np.random.default_rng(seed)
    E = np.stack([np.zeros(n_points), rng.uniform(0.5, 2, n_points), rng.uniform(0.5, 2, n_points),
                  rng.uniform(1, 6, n_points)], axis=-1)
    T = rng.uniform(0.5, 3.0, (n_points, 3))
    mu = rng.uniform(-1.0, 1.0, (n_points, 3))
    gamma = rng.uniform(0.5, 2.0, (n_points, 6))
    a = np.array([c[1] for c in CHANNELS])
    b = np.array([c[2] for c in CHANNELS])
    lead = np.array([LEADS.index(c[0]) for c in CHANNELS])
    w = E[:, b] - E[:, a]  # energy taken from the lead by the forward jump
    f = 1.0 / (np.exp((w - mu[:, lead]) / T[:, lead]) + 1.0)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    rate = np.concatenate([gamma * f, gamma * (1 - f)], axis=-1)
    d = np.zeros((n_points, 12, 8))
    for c, ell in enumerate(lead):
        d[:, c, ell], d[:, c + 6, ell] = 1.0, -1.0  # N_lead
        d[:, c, 3 + ell], d[:, c + 6, 3 + ell] = w[:, c], -w[:, c]  # E_lead
    d[..., 6] = d[..., 3] - d[..., 5]  # J_E-like combination
    d[..., 7] = d[..., 0] - d[..., 2]  # J_N-like combination
    return src, dst, rate, d, ["N_t", "N_b", "N_r", "E_t", "E_b", "E_r", "J_E", "J_N"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "fluctuations_engine.json")
    args = parser.parse_args()
    n = args.points
    src, dst, rate, d, names = network(n)
    W = counting.generator(4, src, dst, rate)
    scale = np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    A = W / scale
    A[..., -1, :] = 1.0
    rhs = np.zeros((n, 4, 1))
    rhs[:, -1] = 1.0
    P0 = np.linalg.solve(A, rhs)[..., 0]

    def plain() -> Any:
        return np.linalg.solve(A, rhs)

    def engine() -> Any:
        return counting.scaled_cumulants(4, src, dst, rate, d, P0, order=2)

    def engine_rank_one() -> Any:
        # the same recursion, with the LAPACK rank-one group inverse
        solver = DrazinSolver(W, P0, method="rank_one")
        g = rate * P0[:, src]
        C1 = np.einsum("nj,njq->nq", g, d)
        O = np.zeros((4, 12))
        O[dst, np.arange(12)] = 1.0
        x = solver.apply(np.einsum("kj,nj,njq->nkq", O, g, d))
        C2 = np.einsum("nj,njq,njq->nq", g, d, d) - 2 * np.einsum("nj,njq,njq->nq", rate, d, x[:, src, :])
        return np.stack([C1, C2], axis=-1)

    def steady_and_engine() -> Any:
        P = np.linalg.solve(A, rhs)[..., 0]
        return counting.scaled_cumulants(4, src, dst, rate, d, P, order=2)

    def cov_matrix() -> Any:
        return counting.covariance_matrix(4, src, dst, rate, d, P0)

    routes: dict[str, Callable[[], Any]] = {
        "plain np.linalg.solve (4x4, 1 rhs)": plain,
        "engine: C1, C2 of 8 quantities (elimination)": engine,
        "engine: C1, C2 of 8 quantities (rank_one, LAPACK)": engine_rank_one,
        "steady state (plain solve) + engine": steady_and_engine,
        "covariance matrix (points, 8, 8), when asked": cov_matrix,
    }
    rows = []
    values = {}
    for name, fn in routes.items():
        seconds, peak, value = measure(fn, args.repeat)
        values[name] = value
        rows.append({"route": name, "seconds": seconds, "points_per_second": n / seconds,
                     "peak_tracemalloc_MiB": peak / 2**20})
    t_plain = rows[0]["seconds"]
    for row in rows:
        row["time_vs_plain_solve"] = row["seconds"] / t_plain
    C = values["engine: C1, C2 of 8 quantities (elimination)"]
    C_r = values["engine: C1, C2 of 8 quantities (rank_one, LAPACK)"]
    cov = values["covariance matrix (points, 8, 8), when asked"]
    agreement = {
        "max_abs_C2_elimination_vs_rank_one_over_max_C2": float(np.max(np.abs(C[..., 1] - C_r[..., 1]))
                                                                  / np.max(np.abs(C_r[..., 1]))),
        "max_abs_C2_vs_covariance_diagonal_over_max_C2": float(np.max(np.abs(C[..., 1] - np.diagonal(cov, axis1=-2,
                                                                                                     axis2=-1)))
                                                               / np.max(np.abs(C[..., 1]))),
    }
    record = {
        "benchmark": "C1, C2 of 8 counted quantities, 4-state 12-jump network (two dots, three leads), random points",
        "command": f"python benchmarks/fluctuations_engine.py --points {n} --repeat {args.repeat}",
        "points": n,
        "quantities": names,
        "goal": "engine <= 2x plain solve (issue 10)",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "results": rows,
        "agreement": agreement,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{n} points, best of {args.repeat}; peak = tracemalloc peak of NumPy allocations")
    print(f"{'route':52s} {'s':>8s} {'points/s':>12s} {'x plain':>8s} {'peak MiB':>9s}")
    for row in rows:
        print(f"{row['route']:52s} {row['seconds']:8.4f} {row['points_per_second']:12.3e} "
              f"{row['time_vs_plain_solve']:8.2f} {row['peak_tracemalloc_MiB']:9.1f}")
    print("agreement:", agreement)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

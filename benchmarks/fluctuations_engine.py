"""Benchmark: second-order counting statistics at 10^6 points: NumPy engine, compiled route, end to end.

Part 1, the engine: a 4-state, 12-jump network shaped like the paper's two-dot, three-lead device: six
channels (lead t: 00<->10 and 01<->11; lead b: the same pair; lead r: 00<->01 and 10<->11), each a forward
and a backward jump with local detailed balance, random rates at every point.  Eight counted quantities
with point-dependent increments: N_t, N_b, N_r (particles from each lead), E_t, E_b, E_r (energy from each
lead), and two combinations J_E, J_N.  Routes, all in the same run:

* ``plain``   - ``np.linalg.solve`` of the normalised 4x4 systems with one right-hand side (the yardstick,
  as in ``steady_state.py``);
* ``engine``  - :func:`qdthermo.kinetics.counting.scaled_cumulants` (order 2: C1 and C2 of the eight
  quantities) from rates, increments and a given steady state;
* ``engine (rank_one)`` - the same with the LAPACK rank-one group-inverse route instead of elimination;
* ``steady + engine`` - the steady state by the plain solve, then the engine;
* ``compiled (factored)`` - :func:`qdthermo.kinetics.counting_compiled.second_order_factored`, the
  increments given as per-jump constants times the per-channel energies (as ``qd.fluctuations`` does);
* ``compiled (increments array)`` - :func:`qdthermo.kinetics.counting_compiled.second_order`, the same
  arguments as the engine (the ``(points, 12, 8)`` increments are copied once into the kernel's layout);
* ``covariance matrix`` - the full (points, 8, 8), only when asked for.

Part 2, end to end from the device (the paper's three-terminal device at random points):
``qd.fluctuations(device, order=2, counting=[N_t, N_b, N_r, E_t, E_b, E_r, J_E, J_N], engine=...)``, then
``cumulant(1|2, q)`` of the eight quantities and ``tur["J_E"]``, ``tur["J_N"]``, against the plain solve
of the same points' 4x4 generators; ``qd.solve(device)`` alone shows the share of the steady state.

Part 3, compile time of the compiled route: first call in a fresh process with an empty Numba cache
(``NUMBA_CACHE_DIR``), then in a second fresh process with that cache filled.

Each time is the best of ``--repeat`` runs; peak memory is the ``tracemalloc`` peak of one run (NumPy
allocations; the compiled kernels' per-chunk scratch is a few kB per thread).  Numba uses all CPUs
(``NUMBA_NUM_THREADS``); BLAS is pinned to one thread.  Results go to
``benchmarks/results/fluctuations_engine.json``.

Run::

    python benchmarks/fluctuations_engine.py                 # 10^6 points
    python benchmarks/fluctuations_engine.py --points 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from steady_state import measure, random_device
from threadpoolctl import threadpool_limits

import qdthermo as qd
from qdthermo.kinetics import counting, counting_compiled
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


def factored(n_points: int, seed: int = 0) -> tuple[np.ndarray, list[int], np.ndarray]:
    """The same eight quantities as ``network`` as coef (8, 12) x [1 or w] (the channel energies (points, 6))."""
    rng = np.random.default_rng(seed)
    E = np.stack([np.zeros(n_points), rng.uniform(0.5, 2, n_points), rng.uniform(0.5, 2, n_points),
                  rng.uniform(1, 6, n_points)], axis=-1)
    a = np.array([c[1] for c in CHANNELS])
    b = np.array([c[2] for c in CHANNELS])
    w = E[:, b] - E[:, a]  # the same draws as network(): its first random numbers
    coef = np.zeros((8, 12))
    for c, (lead, _, _) in enumerate(CHANNELS):
        ell = LEADS.index(lead)
        for k in (ell, 3 + ell):
            coef[k, c], coef[k, c + 6] = 1.0, -1.0
    coef[6] = coef[3] - coef[5]
    coef[7] = coef[0] - coef[2]
    return coef, [-1, -1, -1, 0, 0, 0, 0, -1], w


def engine_routes(n: int, repeat: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Part 1: the engines on the synthetic network, against the plain solve."""
    src, dst, rate, d, names = network(n)
    coef, base_of, w = factored(n)
    W = counting.generator(4, src, dst, rate)
    scale = np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    A = W / scale
    A[..., -1, :] = 1.0
    rhs = np.zeros((n, 4, 1))
    rhs[:, -1] = 1.0
    P0 = np.linalg.solve(A, rhs)[..., 0]

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

    column = np.arange(12) % 6
    routes: dict[str, Callable[[], Any]] = {
        "plain np.linalg.solve (4x4, 1 rhs)": lambda: np.linalg.solve(A, rhs),
        "engine: C1, C2 of 8 quantities (elimination)": lambda: counting.scaled_cumulants(4, src, dst, rate, d, P0, 2),
        "engine: C1, C2 of 8 quantities (rank_one, LAPACK)": engine_rank_one,
        "steady state (plain solve) + engine": lambda: counting.scaled_cumulants(
            4, src, dst, rate, d, np.linalg.solve(A, rhs)[..., 0], 2),
        "compiled: C1, C2 of 8 quantities (factored increments)": lambda: counting_compiled.second_order_factored(
            4, src, dst, rate, P0, coef, base_of, [w], column)[0],
        "compiled: C1, C2 of 8 quantities (increments array)": lambda: counting_compiled.second_order(
            4, src, dst, rate, d, P0),
        "steady state (plain solve) + compiled (factored)": lambda: counting_compiled.second_order_factored(
            4, src, dst, rate, np.linalg.solve(A, rhs)[..., 0], coef, base_of, [w], column)[0],
        "covariance matrix (points, 8, 8), when asked": lambda: counting.covariance_matrix(4, src, dst, rate, d, P0),
    }
    rows, values = run_routes(routes, n, repeat)
    C, C_c = values["engine: C1, C2 of 8 quantities (elimination)"], values[
        "compiled: C1, C2 of 8 quantities (factored increments)"]
    C_r, cov = values["engine: C1, C2 of 8 quantities (rank_one, LAPACK)"], values[
        "covariance matrix (points, 8, 8), when asked"]
    agreement = {
        "max_abs_C2_elimination_vs_rank_one_over_max_C2": float(np.max(np.abs(C[..., 1] - C_r[..., 1]))
                                                                  / np.max(np.abs(C_r[..., 1]))),
        "max_abs_C2_vs_covariance_diagonal_over_max_C2": float(
            np.max(np.abs(C[..., 1] - np.diagonal(cov, axis1=-2, axis2=-1))) / np.max(np.abs(C[..., 1]))),
        "max_rel_compiled_vs_engine_C1_C2": float(np.max(np.abs(C_c - C) / np.where(C == 0, 1.0, np.abs(C)))),
        "compiled_vs_engine_increments_array_identical": bool(np.array_equal(
            values["compiled: C1, C2 of 8 quantities (increments array)"], C)),
    }
    return rows, agreement


def end_to_end_routes(n: int, repeat: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Part 2: from the device to the eight cumulants and two TUR ratios, against the plain solve."""
    device = random_device(n)
    W = np.array(qd.solve(device).generator.matrix)
    A = W / np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    A[..., -1, :] = 1.0
    rhs = np.zeros((n, 4, 1))
    rhs[:, -1] = 1.0
    names = ["N_t", "N_b", "N_r", "E_t", "E_b", "E_r", "J_E", "J_N"]

    def statistics(engine: str) -> Callable[[], Any]:
        def run() -> Any:
            fl = qd.fluctuations(device, order=2, counting=names, engine=engine)
            out = [fl.cumulant(k, q) for k in (1, 2) for q in names]
            return (*out, fl.tur["J_E"], fl.tur["J_N"])  # the 18 arrays, as a caller reads them (no copy)
        return run

    routes: dict[str, Callable[[], Any]] = {
        "plain np.linalg.solve (4x4, 1 rhs) of the device's generators": lambda: np.linalg.solve(A, rhs),
        "qd.solve(device) alone": lambda: qd.solve(device),
        "device -> 8 x (C1, C2) + TUR(J_E, J_N), engine='numpy'": statistics("numpy"),
        "device -> 8 x (C1, C2) + TUR(J_E, J_N), engine='compiled'": statistics("compiled"),
    }
    rows, values = run_routes(routes, n, repeat)
    a, b = (np.stack(values[f"device -> 8 x (C1, C2) + TUR(J_E, J_N), engine='{engine}'"], axis=-1)
            for engine in ("compiled", "numpy"))
    ok = np.isfinite(b) & (b != 0)
    agreement = {"max_rel_compiled_vs_numpy_end_to_end": float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))),
                 "same_nan_and_zero_pattern": bool(np.array_equal(np.isnan(a), np.isnan(b))
                                                   and np.array_equal(a == 0, b == 0))}
    return rows, agreement


def run_routes(routes: dict[str, Callable[[], Any]], n: int,
               repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Time every route (best of ``repeat``), relative to the first."""
    rows, values = [], {}
    for name, fn in routes.items():
        with threadpool_limits(limits=1, user_api="blas"):
            seconds, peak, value = measure(fn, repeat)
        values[name] = value
        rows.append({"route": name, "seconds": seconds, "points_per_second": n / seconds,
                     "peak_tracemalloc_MiB": peak / 2**20})
        print(f"  {name:70s} {seconds:8.4f} s", flush=True)
    for row in rows:
        row["time_vs_plain_solve"] = row["seconds"] / rows[0]["seconds"]
    return rows, values


def compile_times() -> dict[str, float]:
    """Part 3: first call of the compiled route in a fresh process, with an empty and with a filled cache."""
    code = ("import time; t = time.perf_counter(); import numpy as np; from qdthermo.kinetics import "
            "counting_compiled as c; src = np.array([0, 1]); dst = np.array([1, 0]); "
            "c.second_order(2, src, dst, np.ones((3, 2)), np.ones((3, 2, 1)), np.full((3, 2), 0.5)); "
            "print(time.perf_counter() - t)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("first_call_empty_cache_s", "first_call_cached_s"):
            run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out[label] = float(run.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "fluctuations_engine.json")
    args = parser.parse_args()
    n = args.points
    if counting_compiled.available():
        counting_compiled.second_order(2, [0, 1], [1, 0], np.ones((3, 2)), np.ones((3, 2, 1)), np.full((3, 2), .5))
    print("part 1: engines")
    rows, agreement = engine_routes(n, args.repeat)
    print("part 2: end to end from the device")
    rows_e2e, agreement_e2e = end_to_end_routes(n, args.repeat)
    print("part 3: compile time")
    compile_s = compile_times()
    import numba

    record = {
        "benchmark": "C1, C2 of 8 counted quantities, 4-state 12-jump network (two dots, three leads), random points",
        "command": f"python benchmarks/fluctuations_engine.py --points {n} --repeat {args.repeat}",
        "points": n,
        "quantities": ["N_t", "N_b", "N_r", "E_t", "E_b", "E_r", "J_E", "J_N"],
        "goal": "issue 10: device -> second-order statistics <= 2x plain solve; issue 13: >= 5e6 points/s",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                    "load_average_1min_at_end": os.getloadavg()[0], "platform": platform.platform(),
                    "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__},
        "results": rows,
        "agreement": agreement,
        "end_to_end": rows_e2e,
        "end_to_end_agreement": agreement_e2e,
        "compile": compile_s,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{n} points, best of {args.repeat}; peak = tracemalloc peak of NumPy allocations")
    print(f"{'route':70s} {'s':>8s} {'points/s':>12s} {'x plain':>8s} {'peak MiB':>9s}")
    for row in rows + rows_e2e:
        print(f"{row['route']:70s} {row['seconds']:8.4f} {row['points_per_second']:12.3e} "
              f"{row['time_vs_plain_solve']:8.2f} {row['peak_tracemalloc_MiB']:9.1f}")
    print("agreement:", agreement, agreement_e2e)
    print("compile:", compile_s)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

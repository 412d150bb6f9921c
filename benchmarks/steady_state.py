"""Benchmark: steady state plus all per-lead currents of the paper's device, 10^6 points in one batch.

Routes, all from the same channel rates (the rate evaluation is timed separately):

* ``plain``        - ``np.linalg.solve`` of the normalised 4x4 systems alone (the yardstick);
* ``general``      - rate matrix + batched linear solve + channel fluxes + per-lead currents;
* ``closed_form``  - matrix-tree closed form + channel fluxes + per-lead currents;

and end to end, from a built device description: ``qd.solve(device, method=...)`` and its
particle, energy and heat currents.  Each time is the best of ``--repeat`` runs; peak memory
is the ``tracemalloc`` peak of NumPy allocations during one run (NumPy reports its buffers
to tracemalloc).  Results go to ``benchmarks/results/steady_state.json``.

Run::

    python benchmarks/steady_state.py            # 10^6 points
    python benchmarks/steady_state.py --points 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import qdthermo as qd
from qdthermo.kinetics.dense import rate_matrix
from qdthermo.kinetics.network import network
from qdthermo.kinetics.rates import rates
from qdthermo.kinetics.steady import steady_state_linear, steady_state_matrix_tree
from qdthermo.thermo.currents import channel_flux, lead_currents


def random_device(n: int, seed: int = 0) -> qd.Device:
    """The paper's three-terminal device at ``n`` random parameter points."""
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n),
        U=rng.uniform(0.0, 3.0, n), J=rng.uniform(0.0, 1.0, n),
        T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"},
        gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"},
    )


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, int, Any]:
    """Best wall time of ``repeat`` runs [s], the tracemalloc peak of one run [bytes], and its value."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
        del value
    tracemalloc.start()
    tracemalloc.reset_peak()
    value = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "steady_state.json")
    args = parser.parse_args()
    n = args.points

    device = random_device(n)
    system = device.finalized()
    k = rates(system)
    W = rate_matrix(network(system), k)
    A = W / np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    A[..., -1, :] = 1.0
    b = np.zeros((n, 4, 1))
    b[:, -1] = 1.0

    def plain() -> Any:
        return np.linalg.solve(A, b)

    def general() -> Any:
        P = steady_state_linear(network(system), k, rate_matrix(network(system), k))
        return P, lead_currents(system, channel_flux(system, k, P))

    def closed_form() -> Any:
        P = steady_state_matrix_tree(network(system), k)
        return P, lead_currents(system, channel_flux(system, k, P))

    def end_to_end(method: str) -> Callable[[], Any]:
        def run() -> Any:
            res = qd.solve(device, method=method)
            return res.populations, res.particle_current, res.energy_current, res.heat_current
        return run

    routes: dict[str, Callable[[], Any]] = {
        "plain np.linalg.solve (4x4 solve only)": plain,
        "general: linear solve + currents": general,
        "closed form: matrix tree + currents": closed_form,
        "end to end: qd.solve(method='linear') + currents": end_to_end("linear"),
        "end to end: qd.solve(method='matrix_tree') + currents": end_to_end("matrix_tree"),
        "setup: device.finalized() + rates": lambda: rates(device.finalized()),
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
        row["speed_vs_plain_solve"] = t_plain / row["seconds"]

    P_lin, (N_lin, E_lin, _) = values["general: linear solve + currents"]
    P_cf, (N_cf, E_cf, _) = values["closed form: matrix tree + currents"]
    agreement = {
        "max_abs_population_difference": float(np.max(np.abs(P_lin - P_cf))),
        "max_abs_particle_current_difference": float(np.max(np.abs(N_lin - N_cf))),
        "max_abs_energy_current_difference": float(np.max(np.abs(E_lin - E_cf))),
    }
    record = {
        "benchmark": "steady state + per-lead currents, paper's three-terminal device, random points",
        "command": f"python benchmarks/steady_state.py --points {n} --repeat {args.repeat}",
        "points": n,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "qdthermo": qd.__version__},
        "results": rows,
        "agreement_closed_form_vs_linear": agreement,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")

    print(f"{n} points, best of {args.repeat}; peak = tracemalloc peak of NumPy allocations")
    print(f"{'route':56s} {'s':>8s} {'points/s':>12s} {'x plain':>8s} {'peak MiB':>9s}")
    for row in rows:
        print(f"{row['route']:56s} {row['seconds']:8.4f} {row['points_per_second']:12.3e} "
              f"{row['speed_vs_plain_solve']:8.2f} {row['peak_tracemalloc_MiB']:9.1f}")
    print("closed form vs linear:", agreement)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

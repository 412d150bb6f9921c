"""Benchmark: steady density matrix + per-lead currents + entropy production of the serial double dot.

10^5 random points (4 many-body states, 16-dimensional Liouvillian), in each approach:

* ``end to end``  - ``qd.solve(device, approach=...)`` from the device description: Liouvillian
  assembly, steady state, particle/energy/heat currents, entropy production, second-law flag;
* ``plain``       - ``np.linalg.solve`` of the same bordered Liouvillians, prebuilt (the yardstick;
  the target is end to end within 2x of it);
* ``QuTiP``       - ``qutip.steadystate`` of the same Liouvillian, one point at a time, timed on
  ``--qutip-points`` points and extrapolated; its steady states are compared with ours.

Larger networks (``--chain-dots``, default 4 5 6; ``--chain-points`` random points each): a chain of
dots with one lead each, nearest-neighbour Coulomb and tunnelling, solved by the sparse route
(``method="auto"`` picks it from 16 states): ``end to end`` as above against ``plain``, a dense
``np.linalg.solve`` of the same (prebuilt, bordered) equal-N block Liouvillians.

Each time is the best of ``--repeat`` runs.  Results go to ``benchmarks/results/coherent.json``.

Run::

    python benchmarks/coherent.py                    # 10^5 points
    python benchmarks/coherent.py --points 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import qdthermo as qd
from qdthermo.kinetics.coherent import coherent_generator


def random_device(n: int, seed: int = 0) -> qd.Device:
    """The serial double dot at ``n`` random parameter points."""
    rng = np.random.default_rng(seed)
    return qd.serial_double_dot(
        rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(0.05, 2, n), U=rng.uniform(0, 3, n),
        T={lead: rng.uniform(0.2, 3, n) for lead in "LR"}, mu={lead: rng.uniform(-1, 1, n) for lead in "LR"},
        gamma={lead: rng.uniform(0.05, 1, n) for lead in "LR"},
    )


def chain_device(n_dots: int, m: int, seed: int = 0) -> qd.Device:
    """A chain of ``n_dots`` spinless dots at ``m`` random points (one lead per dot, Coulomb and tunnelling)."""
    from qdthermo.model.arrays import dot_array

    rng = np.random.default_rng(seed)
    base = dot_array(n_dots, 0.0, 1.0, T=1.0)
    dots = tuple(qd.Dot(d.name, rng.uniform(-1.5, 1.5, m), d.species) for d in base.dots)
    leads = tuple(qd.Lead(lead.name, lead.dot, rng.uniform(0.3, 2, m), rng.uniform(-1, 1, m), rng.uniform(0.05, 1, m))
                  for lead in base.leads)
    inter = tuple(qd.Interaction(i.dots, coulomb=rng.uniform(0, 1.5, m)) for i in base.interactions)
    tunnels = tuple(qd.Tunnel(i.dots, amplitude=rng.uniform(-1, 1, m)) for i in base.interactions)
    return qd.Device(dots=dots, leads=leads, interactions=inter, tunnels=tunnels)


def chain_rows(dots: list[int], m: int, repeat: int, agreement: dict[str, float]) -> list[dict[str, Any]]:
    """Sparse route on chains of ``dots`` dots against a dense solve of the same block Liouvillians."""
    rows = []
    for n_dots in dots:
        device = chain_device(n_dots, m)
        for approach in ("global", "local"):
            def end_to_end(approach: str = approach, device: qd.Device = device) -> Any:
                res = qd.solve(device, approach=approach)
                return res.density_matrix, res.heat_current, res.entropy_production, res.second_law_violated

            t_e2e, value = best_of(end_to_end, repeat)
            gen = coherent_generator(device, approach)
            M = gen.block_generator.copy()
            M[..., 0, :] = gen.block_trace
            rhs = np.zeros(M.shape[:-1] + (1,), dtype=complex)
            rhs[..., 0, 0] = 1.0
            t_plain, x = best_of(lambda M=M, rhs=rhs: np.linalg.solve(M, rhs), repeat)
            ours = gen.to_block(gen.from_occupation(value[0]))
            key = f"chain {n_dots} dots, {approach}: max |rho - rho_plain|"
            agreement[key] = float(np.max(np.abs(ours - x[..., 0])))
            rows.append({"approach": approach, "network": f"chain of {n_dots} dots", "states": 2**n_dots,
                         "block_size": gen.block_size, "points": m, "route": "sparse",
                         "end_to_end_seconds": t_e2e, "plain_solve_seconds": t_plain,
                         "end_to_end_over_plain": t_e2e / t_plain, "end_to_end_seconds_per_point": t_e2e / m})
    return rows


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, value = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def to_qutip(L_row: np.ndarray) -> Any:
    """Our row-major superoperator as a QuTiP (column-stacking) superoperator."""
    import qutip

    n = int(round(np.sqrt(np.sqrt(L_row.size))))
    perm = np.arange(n * n).reshape(n, n).T.ravel()  # vec_col(rho)[k] = vec_row(rho)[perm[k]]
    L_col = L_row[np.ix_(perm, perm)]
    return qutip.Qobj(L_col, dims=[[[n], [n]], [[n], [n]]], superrep="super")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--qutip-points", type=int, default=200)
    parser.add_argument("--chain-dots", type=int, nargs="*", default=[4, 5, 6])
    parser.add_argument("--chain-points", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "coherent.json")
    args = parser.parse_args()
    n = args.points
    device = random_device(n)
    rows: list[dict[str, Any]] = []
    agreement: dict[str, float] = {}
    for approach in ("global", "local", "unified"):
        def end_to_end(approach: str = approach) -> Any:
            res = qd.solve(device, approach=approach)
            return (res.density_matrix, res.particle_current, res.energy_current, res.heat_current,
                    res.entropy_production, res.second_law_violated)

        t_e2e, value = best_of(end_to_end, args.repeat)
        gen = coherent_generator(device, approach)
        M = gen.liouvillian.copy()
        M[..., 0, :] = 0.0
        M[..., 0, ::5] = 1.0
        rhs = np.zeros((n, 16, 1), dtype=complex)
        rhs[:, 0, 0] = 1.0
        t_plain, x = best_of(lambda M=M, rhs=rhs: np.linalg.solve(M, rhs), args.repeat)
        rho_plain = gen.to_occupation(x[..., 0].reshape(n, 4, 4))
        agreement[f"{approach}: max |rho - rho_plain|"] = float(np.max(np.abs(value[0] - rho_plain)))
        del M, x
        row: dict[str, Any] = {"approach": approach, "points": n,
                               "end_to_end_seconds": t_e2e, "plain_solve_seconds": t_plain,
                               "end_to_end_over_plain": t_e2e / t_plain,
                               "end_to_end_points_per_second": n / t_e2e,
                               "second_law_violated_fraction": float(np.mean(value[5]))}
        try:
            import qutip
        except ImportError:  # pragma: no cover
            qutip = None
        if qutip is not None:
            k = args.qutip_points
            Ls = gen.liouvillian[:k]
            t0 = time.perf_counter()
            rq = [qutip.steadystate(to_qutip(L)).full() for L in Ls]
            t_q = time.perf_counter() - t0
            ours = gen.from_occupation(value[0])[:k]  # compare in the working basis of the Liouvillian
            agreement[f"{approach}: max |rho - rho_qutip| ({k} points)"] = float(np.max(np.abs(ours - np.array(rq))))
            row.update({"qutip_points_timed": k, "qutip_seconds_timed": t_q,
                        "qutip_seconds_extrapolated": t_q * n / k,
                        "speedup_vs_qutip": t_q * n / k / t_e2e})
        rows.append(row)
        del gen, value
    larger = chain_rows(args.chain_dots, args.chain_points, args.repeat, agreement)
    record = {
        "benchmark": "serial double dot: steady density matrix + per-lead currents + entropy production",
        "command": f"python benchmarks/coherent.py --points {n} --repeat {args.repeat} "
                   f"--qutip-points {args.qutip_points} --chain-dots {' '.join(map(str, args.chain_dots))} "
                   f"--chain-points {args.chain_points}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "qdthermo": qd.__version__,
                    "load_average_1min": os.getloadavg()[0]},
        "results": rows,
        "larger_networks": larger,
        "agreement": agreement,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()

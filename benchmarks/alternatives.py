"""The compiled (Numba) fused route against its alternatives: NumPy unblocked and blocked, and JAX on the CPU.

Issue 13 asks for the fused kernel to be measured against blocked NumPy and JAX before settling on
Numba.  One workload, the paper's device (``qd.three_terminal``) at ``--points`` random points: the
steady state, the nine per-lead particle, energy and heat currents and the entropy production
(the "core" observables every route here computes), each route timed as the best of ``--repeat``
after a warm-up call, beside the plain batched 4x4 ``np.linalg.solve`` of the same number of points
timed in the same process (the ratio to it is the figure; the machine is shared and noisy):

* ``numba fused``: ``qd.solve(device, method="compiled")`` (it computes every observable in one pass);
* ``numpy linear`` / ``numpy matrix_tree``: the NumPy routes on the whole batch;
* ``numpy linear, blocked`` / ``numpy matrix_tree, blocked``: the same on blocks of ``--block`` points
  (the device rebuilt per block from slices of the parameters: what a cache-blocked NumPy driver does);
* ``jax (jit, CPU)``: the same formulas written in ``jax.numpy`` (float64), from the same point-last
  parameters the compiled kernel reads (``thermo.fused.kernel_inputs``): energies, rates (``expit``),
  the generator with its last row replaced by the normalisation, a batched ``jnp.linalg.solve``,
  channel fluxes, per-lead currents and the Schnakenberg entropy production; jit-compiled once
  (compile time reported), run with ``block_until_ready``.  Skipped if JAX is not installed.

Every route's currents and entropy production are compared with the NumPy ``linear`` route
(largest relative difference, recorded).  Writes ``benchmarks/results/alternatives.json``.

Usage::

    python benchmarks/alternatives.py                     # 10^6 points
    python benchmarks/alternatives.py --points 200000 --repeat 3
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
from threadpoolctl import threadpool_limits

import qdthermo as qd
from qdthermo.kinetics.network import network
from qdthermo.thermo.fused import kernel_inputs

HERE = Path(__file__).resolve().parent


def parameters(n: int) -> dict[str, Any]:
    """Random parameters of the paper's device (as benchmarks/kernels.py)."""
    rng = np.random.default_rng(0)
    return dict(eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n), U=rng.uniform(0.0, 3.0, n),
                J=rng.uniform(0.0, 1.0, n), T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
                mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"},
                gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"})


def block(p: dict[str, Any], i: int, j: int) -> dict[str, Any]:
    """The parameters of points ``i:j``."""
    return {k: ({lead: a[i:j] for lead, a in v.items()} if isinstance(v, dict) else v[i:j]) for k, v in p.items()}


def core(result: qd.SteadyState) -> tuple[np.ndarray, ...]:
    """Populations, particle, energy and heat currents ``(N, 3)`` and the entropy production."""
    return (result.populations, result.particle_current_array, result.energy_current_array,
            result.heat_current_array, result.entropy_production)


def qdthermo_route(p: dict[str, Any], method: str, size: int | None) -> Callable[[], Any]:
    """``qd.solve`` on the whole batch (``size`` None) or block by block."""
    n = len(p["eps_L"])

    def run() -> Any:
        if size is None:
            return core(qd.solve(qd.three_terminal(**p), method=method))
        parts = [core(qd.solve(qd.three_terminal(**block(p, i, min(n, i + size))), method=method))
                 for i in range(0, n, size)]
        return tuple(np.concatenate(a) for a in zip(*parts))
    return run


def jax_route(p: dict[str, Any]) -> tuple[Callable[[], Any], float] | None:
    """The core observables in ``jax.numpy`` (jit), and its compile time [s]; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import expit
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    system = qd.three_terminal(**p).finalized()
    net = network(system)
    levels, pairs, occ, pocc, g, gcol, TL, muL = kernel_inputs(system)
    ini, fin, lead = net.initial, net.final, net.lead
    n, nl = net.n_states, TL.shape[0]
    to_lead = np.zeros((nl, len(ini)))
    to_lead[lead, np.arange(len(ini))] = 1.0

    @jax.jit
    def observables(levels: Any, pairs: Any, g: Any, TL: Any, muL: Any) -> Any:
        E = jnp.asarray(occ) @ levels + jnp.asarray(pocc) @ pairs  # (n, N)
        w = E[fin] - E[ini]
        x = (w - muL[lead]) / TL[lead]
        gam = g[gcol]
        kp, km = gam * expit(-x), gam * expit(x)  # (channels, N)
        N = E.shape[1]
        W = jnp.zeros((N, n, n)).at[:, fin, ini].add(kp.T).at[:, ini, fin].add(km.T)
        W = W - jnp.eye(n)[None] * W.sum(axis=1)[:, None, :]  # minus the total rate out of each state
        A = W.at[:, -1, :].set(1.0)
        P = jnp.linalg.solve(A, jnp.broadcast_to(jnp.eye(n)[-1], (N, n))[..., None])[..., 0]  # (N, n)
        Pt = P.T
        a, b = kp * Pt[ini], km * Pt[fin]
        J = a - b
        particle = jnp.asarray(to_lead) @ J
        energy = jnp.asarray(to_lead) @ (J * w)
        heat = energy - muL * particle
        sigma = jnp.sum(J * (jnp.log(a) - jnp.log(b)), axis=0)
        return P, particle.T, energy.T, heat.T, sigma

    args = tuple(jnp.asarray(a) for a in (levels, pairs, g, TL, muL))
    t0 = time.perf_counter()
    jax.block_until_ready(observables(*args))
    compile_s = time.perf_counter() - t0

    def run() -> Any:
        return tuple(np.asarray(a) for a in jax.block_until_ready(observables(*args)))
    return run, compile_s


def largest_difference(got: tuple[np.ndarray, ...], ref: tuple[np.ndarray, ...]) -> float:
    """Largest difference of the currents and entropy production, relative to the point's largest value of
    the same kind (a current that cancels to round-off is compared with the currents it cancels)."""
    worst = 0.0
    for a, b in zip(got[1:], ref[1:]):
        scale = np.max(np.abs(b.reshape(len(b), -1)), axis=-1).reshape((-1,) + (1,) * (b.ndim - 1))
        worst = max(worst, float(np.max(np.abs(a - b) / scale)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--block", type=int, default=1 << 14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "alternatives.json")
    args = parser.parse_args()
    n, p = args.points, parameters(args.points)
    routes: dict[str, Callable[[], Any]] = {
        "numba fused (method='compiled')": qdthermo_route(p, "compiled", None),
        "numpy linear": qdthermo_route(p, "linear", None),
        f"numpy linear, blocked ({args.block} points)": qdthermo_route(p, "linear", args.block),
        "numpy matrix_tree": qdthermo_route(p, "matrix_tree", None),
        f"numpy matrix_tree, blocked ({args.block} points)": qdthermo_route(p, "matrix_tree", args.block),
    }
    jax_compile = None
    jr = jax_route(p)
    if jr is not None:
        routes["jax (jit, CPU, float64)"], jax_compile = jr
    rng = np.random.default_rng(1)
    A = rng.uniform(0.0, 1.0, (n, 4, 4)) + 4.0 * np.eye(4)
    rhs = rng.uniform(0.0, 1.0, (n, 4, 1))
    reference = routes["numpy linear"]()
    rows = []
    for name, run in routes.items():
        value = run()  # warm-up (compile or cache load)
        best, base = np.inf, np.inf
        for _ in range(args.repeat):
            with threadpool_limits(1):
                t0 = time.perf_counter()
                np.linalg.solve(A, rhs)
                base = min(base, time.perf_counter() - t0)
            t0 = time.perf_counter()
            value = run()
            best = min(best, time.perf_counter() - t0)
        rows.append({"route": name, "seconds": best, "baseline_seconds": base, "ratio_to_baseline": best / base,
                     "points_per_s": n / best,
                     "max_difference_vs_numpy_linear_relative_to_point_scale": largest_difference(value, reference)})
        print(f"{name:50s} {best:8.3f} s  {best / base:6.2f}x  {n / best / 1e6:6.2f} M points/s", flush=True)
    record = {
        "benchmark": "benchmarks/alternatives.py",
        "command": f"python benchmarks/alternatives.py --points {n} --block {args.block} --repeat {args.repeat}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "workload": "paper's device, random points: steady state, 9 per-lead currents, entropy production",
        "figure": "ratio_to_baseline = seconds / (batched 4x4 np.linalg.solve of the same number of points, "
                  "1 BLAS thread, same process); Numba and XLA use every core",
        "jax_compile_seconds": jax_compile,
        "results": rows,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

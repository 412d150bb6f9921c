"""Property tests: energy conservation and particle conservation per dot at every steady state."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import qdthermo as qd
from tests.thermo.devices import random_network, random_three_terminal

seeds = st.integers(0, 2**32 - 1)
energies = st.floats(-5.0, 5.0, allow_nan=False)
temperatures = st.floats(0.02, 50.0, allow_nan=False)
couplings = st.floats(1e-3, 10.0, allow_nan=False)


@st.composite
def paper_devices(draw: Any) -> qd.Device:
    """One point of the paper's device with every parameter drawn independently (hypothesis shrinks them)."""
    transitions = {"t": ("1->2", "3->4"), "b": ("1->2", "3->4"), "r": ("1->3", "2->4")}
    return qd.three_terminal(
        draw(energies), draw(energies), U=draw(st.floats(0.0, 5.0)), J=draw(st.floats(0.0, 20.0)),
        T={lead: draw(temperatures) for lead in "tbr"}, mu={lead: draw(energies) for lead in "tbr"},
        gamma={(lead, tr): draw(couplings) for lead, trs in transitions.items() for tr in trs},
    )


def _scales(res: qd.SteadyState) -> tuple[np.ndarray, np.ndarray]:
    """Round-off scales of particle and energy currents: the one-way channel fluxes (times |w|)."""
    s, k, P = res.system, res.rates, res.populations
    one_way = k.plus * P[..., s.channel_initial] + k.minus * P[..., s.channel_final]
    return one_way.sum(axis=-1), (one_way * np.abs(s.channel_energy)).sum(axis=-1)


def _assert_small(x: np.ndarray, bound: np.ndarray, what: str) -> None:
    x, bound = np.broadcast_arrays(np.abs(x), bound)
    bad = ~(x <= bound)
    assert not np.any(bad), f"{what}: {x[bad][:3]} > {bound[bad][:3]}"


def _check(res: qd.SteadyState) -> None:
    sN, sE = _scales(res)
    JN, JE = res.particle_current_array, res.energy_current_array
    _assert_small(JE.sum(axis=-1), 1e-12 * sE, "sum_nu J_E^nu")
    dev = res.device
    for dot in dev.dot_names:
        on_dot = [k for k, lead in enumerate(dev.leads) if lead.dot == dot]
        _assert_small(JN[..., on_dot].sum(axis=-1), 1e-12 * sN, f"particles of dot {dot}")
    # heat is not conserved: sum_nu J_Q^nu = -sum_nu mu_nu J_N^nu = P, the power (PHYSICS.md section 9)
    mu = res.system.lead_chemical_potential
    mu_max = np.abs(mu).max(axis=-1)
    JQ_total = res.heat_current_array.sum(axis=-1)
    _assert_small(JQ_total + (mu * JN).sum(axis=-1), 1e-12 * (sE + sN * mu_max), "sum J_Q + sum mu J_N")
    _assert_small(JQ_total - res.performance.power, 1e-12 * (sE + sN * mu_max), "sum J_Q - P")


@given(paper_devices())
def test_conservation_single_points(dev: qd.Device) -> None:
    res = qd.solve(dev)
    _check(res)
    sN, _ = _scales(res)
    JN = res.particle_current
    _assert_small(JN["t"] + JN["b"], 1e-12 * sN, "J_N^t + J_N^b")
    _assert_small(JN["r"], 1e-12 * sN, "J_N^r")
    # one cycle flux carries the energy exchange: J_E^r = U_eff K, K = J^r_{42} = -J^r_{31}
    flux = dict(zip(res.channel_labels, np.moveaxis(res.channel_flux, -1, 0)))
    K = flux["r:10->11"]
    _assert_small(K + flux["r:00->01"], 1e-12 * sN, "K + J^r_31")
    p = dev.parameters
    U_eff = p["U"] - p["J"] / 4
    _, sE = _scales(res)
    _assert_small(res.energy_current["r"] - U_eff * K, 1e-12 * sE, "J_E^r - U_eff K")


@given(seeds, st.sampled_from([10.0, 1e3, 1e6]))
def test_conservation_random_batches(seed: int, t_ratio: float) -> None:
    _check(qd.solve(random_three_terminal(seed, n=256, t_ratio=t_ratio)))


@given(seeds)
def test_conservation_general_networks(seed: int) -> None:
    _check(qd.solve(random_network(seed, n=32)))


@given(seeds)
def test_conservation_linear_route(seed: int) -> None:
    _check(qd.solve(random_three_terminal(seed, n=64), method="linear"))

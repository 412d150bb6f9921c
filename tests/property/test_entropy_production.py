"""Property tests: the second law and the agreement of every route to Sigma_dot."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import qdthermo as qd
from tests.thermo.devices import random_network, random_three_terminal

seeds = st.integers(0, 2**32 - 1)


def _scale(res: qd.SteadyState) -> np.ndarray:
    """Round-off scale of Sigma_dot: the one-way channel fluxes times their affinities.

    Each net flux k+ P_i - k- P_j is a difference of two one-way fluxes, so absolute
    errors are of order eps * sum_c (k+ P_i + k- P_j) |ln(k+/k-)|; relative to that scale
    the routes must agree to ~1e-10 even where Sigma itself is tiny (near equilibrium).
    """
    s, k, P = res.system, res.rates, res.populations
    one_way = k.plus * P[..., s.channel_initial] + k.minus * P[..., s.channel_final]
    cancelling = np.abs(res.heat_current_array / s.lead_temperature).sum(axis=-1)  # terms of -sum J_Q/T
    return ((one_way * np.maximum(1.0, np.abs(k.log_ratio))).sum(axis=-1) + cancelling) * 1e-4 + 1e-300


@given(seeds)
def test_micro_equals_macro_equals_forces_fluxes_equals_cycles(seed: int) -> None:
    res = qd.solve(random_three_terminal(seed))
    micro = res.entropy_production
    macro = res.entropy_production_macro
    ff = (res.force_array * res.flux_array).sum(axis=-1)
    cyc = res.cycles.entropy_production
    scale = _scale(res)
    for other in (macro, ff, cyc):
        np.testing.assert_array_less(np.abs(micro - other), 1e-10 * np.maximum(np.abs(micro), scale))
    # the paper's explicit formula with reference lead b
    F, J = res.forces, res.fluxes
    paper = F["F_E"] * J["J_E"] + F["F_R"] * J["J_R"] + F["F_N"] * J["J_N"]
    np.testing.assert_array_less(np.abs(micro - paper), 1e-10 * np.maximum(np.abs(micro), scale))


@given(seeds)
def test_general_networks_all_routes_agree(seed: int) -> None:
    res = qd.solve(random_network(seed))
    micro = res.entropy_production
    scale = _scale(res)
    ff = (res.force_array * res.flux_array).sum(axis=-1)
    for other in (res.entropy_production_macro, ff, res.cycles.entropy_production):
        np.testing.assert_array_less(np.abs(micro - other), 1e-9 * np.maximum(np.abs(micro), scale))
    # affinities from rates = cycle map applied to macroscopic forces
    A = res.cycles.affinity
    MF = np.einsum("...ck,...k->...c", res.cycles.force_map, res.force_array)
    np.testing.assert_allclose(A, MF, rtol=1e-9, atol=1e-9)


@given(seeds, st.sampled_from([1e2, 1e4, 1e6]))
def test_second_law_extreme_temperature_ratios(seed: int, ratio: float) -> None:
    res = qd.solve(random_three_terminal(seed, t_ratio=ratio))
    sigma = res.entropy_production
    assert np.all(np.isfinite(sigma))
    assert np.all(sigma >= 0)
    assert np.all(res.entropy_production_macro >= -1e-10 * _scale(res))


def test_vanishing_rates_and_populations_are_finite() -> None:
    # a closed transition (Gamma = 0), a frozen lead (T = 1e-12) and a huge |w - mu|
    dev = qd.three_terminal(
        eps_L=np.array([1.0, 5e5, 0.3]), eps_R=np.array([-1.0, 2.0, 1e5]), U=0.5, J=0.0,
        T={"t": np.array([1e-12, 1.0, 2.0]), "b": 1.0, "r": np.array([1.0, 1e-12, 1e-6])},
        mu={"t": 0.0, "b": 0.1, "r": -0.2},
        gamma={"t": 1.0, ("b", "1->2"): 0.0, ("b", "3->4"): 1.0, "r": 1.0},
    )
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is benign
        res = qd.solve(dev)
        sigma = res.entropy_production
    assert np.all(np.isfinite(sigma)) and np.all(sigma >= 0)
    scale = _scale(res)
    np.testing.assert_array_less(np.abs(sigma - res.entropy_production_macro), 1e-9 * np.maximum(sigma, scale))


def test_near_equilibrium_accuracy() -> None:
    # Sigma ~ delta^2: the stable evaluation keeps micro = macro at tiny forces
    delta = np.logspace(-6, -2, 9)
    dev = qd.three_terminal(1.0, 0.7, U=0.3, J=0.0, T={"t": 1.0 + delta, "b": 1.0, "r": 1.0},
                            mu={"t": delta, "b": 0.0, "r": 0.0})
    res = qd.solve(dev)
    sigma, macro = res.entropy_production, res.entropy_production_macro
    assert np.all(sigma > 0)
    # the macroscopic form loses digits to cancellation (sum of J_Q/T ~ delta, result ~ delta^2);
    # the microscopic form keeps them: Sigma/delta^2 converges smoothly to its linear-response limit
    np.testing.assert_allclose(sigma[3:], macro[3:], rtol=1e-4)
    c = sigma / delta**2
    assert abs(c[0] - c[1]) / c[1] < 1e-4
    # quadratic scaling near equilibrium
    slope = np.polyfit(np.log(delta), np.log(sigma), 1)[0]
    assert abs(slope - 2.0) < 0.01


@given(seeds)
def test_trajectory_entropy_balance(seed: int) -> None:
    dev = random_three_terminal(seed, n=4)
    rng = np.random.default_rng(seed)
    P0 = rng.dirichlet(np.ones(4), size=4)
    tr = qd.evolve(dev, np.linspace(0.0, 5.0, 11), initial=P0)
    sigma = tr.entropy_production
    assert np.all(np.isfinite(sigma)) and np.all(sigma >= 0)
    lhs = tr.entropy_rate
    rhs = sigma + tr.entropy_flow
    np.testing.assert_allclose(lhs, rhs, rtol=1e-8, atol=1e-10 * np.abs(sigma).max())


def test_trajectory_from_pure_state_starts_infinite_then_finite() -> None:
    dev = qd.three_terminal(1.0, 1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0})
    tr = qd.evolve(dev, [0.0, 0.1, 1.0], initial="00")
    assert np.isposinf(tr.entropy_production[0])  # probability flows into empty states
    assert np.all(np.isfinite(tr.entropy_production[1:]))
    assert not np.any(np.isnan(tr.entropy_rate))

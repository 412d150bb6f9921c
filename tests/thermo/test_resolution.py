"""Efficiency and COP where currents approach what double precision resolves (issue 11, section 4)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.thermo.performance import RESOLUTION_MARGIN, current_resolution, performance

_TRANSITIONS = (("t", ("1->2", "3->4")), ("b", ("1->2", "3->4")), ("r", ("1->3", "2->4")))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _random_device(seed: int, n: int) -> qd.Device:
    """The issue's distribution: T in 1e-4..1e4 and couplings in 1e-6..1e3 log-uniform, |mu| <= 50."""
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        eps_L=rng.uniform(-50, 50, n), eps_R=rng.uniform(-50, 50, n),
        U=rng.uniform(0, 20, n), J=rng.uniform(0, 40, n),
        T={lead: _log_uniform(rng, 1e-4, 1e4, n) for lead in "tbr"},
        mu={lead: rng.uniform(-50, 50, n) for lead in "tbr"},
        gamma={(lead, tr): _log_uniform(rng, 1e-6, 1e3, n) for lead, trs in _TRANSITIONS for tr in trs},
    )


def _underflow_band(seed: int, n: int) -> qd.Device:
    """Every lead's Fermi argument |eps - mu|/T at the first transition in 600..800: fluxes near 1e-308."""
    rng = np.random.default_rng(seed)
    eps_L, eps_R = rng.uniform(-50, 50, n), rng.uniform(-50, 50, n)
    mu = {lead: rng.uniform(-50, 50, n) for lead in "tbr"}
    level = {"t": eps_L, "b": eps_L, "r": eps_R}
    return qd.three_terminal(
        eps_L=eps_L, eps_R=eps_R, U=rng.uniform(0, 20, n), J=rng.uniform(0, 40, n),
        T={lead: np.abs(level[lead] - mu[lead]) / rng.uniform(600, 800, n) for lead in "tbr"}, mu=mu,
        gamma={(lead, tr): _log_uniform(rng, 1e-6, 1e3, n) for lead, trs in _TRANSITIONS for tr in trs},
    )


def _resolution(res: qd.SteadyState) -> np.ndarray:
    s, k = res.system, res.rates
    Pi, Pj = s.on_channels(res.populations)
    return current_resolution(k.plus * Pi + k.minus * Pj, s.channel_energy, s.channel_chemical_potential,
                              s.channel_temperature, k.plus + k.minus)


def _check_bounds(res: qd.SteadyState) -> tuple[int, int]:
    """Carnot bounds wherever defined, and the floor alone (without the second-law guard) suffices."""
    perf = res.performance
    eff, cop = perf.efficiency, perf.cop
    ok_e, ok_c = ~np.isnan(eff), ~np.isnan(cop)
    assert np.all(eff[ok_e] <= perf.carnot_efficiency[ok_e])
    assert np.all(cop[ok_c] <= perf.carnot_cop[ok_c])
    assert np.all(eff[ok_e] > 0) and np.all(cop[ok_c] > 0)
    # the resolution floor alone never lets a ratio of round-off through: the guard is a backstop
    R = _resolution(res)
    T, heat = res.system.lead_temperature, res.heat_current_array
    cold = T == T.min(axis=-1, keepdims=True)
    warm_absorbs = np.any(~cold & (heat > R[..., None]), axis=-1)  # a warm lead absorbing beyond round-off
    gradient = perf.carnot_efficiency > 0
    engine = gradient & (perf.power > R) & (perf.heat_input > R)
    fridge = gradient & (perf.power < -R) & (perf.cooling_power > R) & ~warm_absorbs
    assert np.all(perf.power[engine] / perf.heat_input[engine] <= perf.carnot_efficiency[engine])
    assert np.all(perf.cooling_power[fridge] / -perf.power[fridge] <= perf.carnot_cop[fridge])
    # ... and the guard removes nothing the floor lets through
    assert np.array_equal(engine, ok_e) and np.array_equal(fridge, ok_c)
    return int(ok_e.sum()), int(ok_c.sum())


def test_issue_11_point_is_nan_not_above_carnot() -> None:
    res = qd.solve(qd.three_terminal(
        eps_L=-22.30588800289973, eps_R=1.4873016565671051, U=3.6008801871138445,
        T={"t": 0.02009903171513149, "b": 0.01128400800286897, "r": 0.0009865240895944934},
        mu={"t": -8.149382503648773, "b": -14.257253781804337, "r": -8.789857132660252},
        gamma={"t": 2.24460484351913e-06, "b": 68.17540934937378, "r": 0.09871390110465222}))
    perf = res.performance
    assert 0 < float(perf.power) < 1e-300  # underflowing currents: the signs say "engine" ...
    assert np.isnan(perf.efficiency) and np.isnan(perf.cop)  # ... but nothing is resolved
    assert float(perf.carnot_efficiency) == pytest.approx(0.9509168350208735)
    assert float(perf.power) < float(_resolution(res)[()])


@pytest.mark.parametrize("make, seeds, n", [(_random_device, range(4), 250_000), (_underflow_band, (7,), 250_000)],
                         ids=["issue-distribution-1e6", "underflow-band"])
def test_carnot_bounds_on_random_points(make: Callable[[int, int], qd.Device], seeds: range, n: int) -> None:
    engines = fridges = 0
    for seed in seeds:
        e, f = _check_bounds(qd.solve(make(seed, n)))
        engines, fridges = engines + e, fridges + f
    # the floor keeps the resolved points: plenty of engines and refrigerators remain
    assert engines > 0.05 * n * len(seeds) and fridges > 0.001 * n * len(seeds)


def test_resolution_is_positive_and_does_not_underflow() -> None:
    w = np.array([[1.0, -2.0, 3.0]])
    mu = np.zeros((1, 3))
    T = np.ones((1, 3))
    K = np.ones((1, 3))
    zero = current_resolution(np.zeros((1, 3)), w, mu, T, K)
    assert zero.shape == (1,) and zero[0] > 1e-305  # the underflow term, not 0
    tiny = current_resolution(np.full((1, 3), 1e-310), w, mu, T, K)
    assert tiny[0] >= zero[0]
    # relative term: scales with the one-way fluxes
    big = current_resolution(np.ones((2, 5, 3)), w, mu, T, K)
    assert big.shape == (2, 5)
    eps = np.finfo(float).eps
    expected = RESOLUTION_MARGIN * eps * (16 + 3 + 6.0) * 6.0
    np.testing.assert_allclose(big, expected, rtol=1e-6)
    # nothing at all to resolve: still a positive floor (smallest subnormals)
    assert current_resolution(np.zeros(3), np.zeros(3), np.zeros(3), np.ones(3), np.zeros(3)) > 0


def test_second_law_guard_in_performance() -> None:
    # hand-made per-lead currents claiming an efficiency above Carnot: round-off, hence NaN
    T = np.array([2.0, 1.0])
    mu = np.array([0.0, 1.0])
    particle = np.array([1.0, -1.0])  # power = -(0*1 + 1*(-1)) = 1
    heat = np.array([1.2, -0.2])  # Q_in = 1.2: eta = 0.83 > 0.5
    perf = performance(particle, heat, T, mu)
    assert float(perf.power) == 1.0 and np.isnan(perf.efficiency)
    perf = performance(particle, np.array([2.5, -1.5]), T, mu)  # eta = 0.4 <= 0.5
    assert float(perf.efficiency) == pytest.approx(0.4)

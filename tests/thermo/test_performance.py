"""Engines and refrigerators: Carnot bounds and the single-dot thermoelectric limits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qdthermo as qd
from tests.thermo.devices import random_network, random_three_terminal


@given(st.integers(0, 2**32 - 1))
def test_carnot_bounds_hold_wherever_defined(seed: int) -> None:
    for dev in (random_three_terminal(seed, n=256), random_network(seed, n=64)):
        perf = qd.solve(dev).performance
        eff, cop = perf.efficiency, perf.cop
        ok = ~np.isnan(eff)
        assert np.all(eff[ok] <= perf.carnot_efficiency[ok] * (1 + 1e-9) + 1e-12)
        assert np.all(eff[ok] > 0)
        ok = ~np.isnan(cop)
        assert np.all(cop[ok] <= perf.carnot_cop[ok] * (1 + 1e-9) + 1e-12)
        assert np.all(cop[ok] > 0)
        # NaN only where the device is not an engine / refrigerator
        engine = (perf.power > 0) & (perf.heat_input > 0) & (perf.carnot_efficiency > 0)
        assert not np.any(~np.isnan(eff) & ~engine)


def test_power_is_total_heat() -> None:
    res = qd.solve(random_three_terminal(7))
    np.testing.assert_allclose(res.performance.power, res.heat_current_array.sum(axis=-1), atol=1e-13)


def _stopping_bias(eps: float, T_L: float, T_R: float, mu_R: float = 0.0) -> float:
    """mu_L at which (eps - mu_L)/T_L = (eps - mu_R)/T_R: the single-level current vanishes."""
    return eps - T_L * (eps - mu_R) / T_R


def test_single_dot_stopping_voltage_and_carnot_efficiency() -> None:
    eps, T_L, T_R = 1.5, 2.0, 1.0
    mu_stop = _stopping_bias(eps, T_L, T_R)
    # current vanishes at the stopping bias
    res = qd.solve(qd.single_dot(eps, T={"L": T_L, "R": T_R}, mu={"L": mu_stop, "R": 0.0}))
    assert abs(float(res.particle_current["L"])) < 1e-15
    assert float(res.entropy_production) == pytest.approx(0.0, abs=1e-15)
    # approaching it from the engine side, the efficiency tends to Carnot (tight coupling)
    mu_L = mu_stop + np.array([1e-1, 1e-2, 1e-3, 1e-4]) * (0.0 - mu_stop)
    res = qd.solve(qd.single_dot(eps, T={"L": T_L, "R": T_R}, mu={"L": mu_L, "R": 0.0}))
    perf = res.performance
    carnot = 1 - T_R / T_L
    assert np.all(perf.power > 0)
    assert np.all(perf.efficiency < carnot)
    np.testing.assert_allclose(perf.efficiency[-1], carnot, rtol=1e-3)
    # exact tight-coupling formula eta = (mu_R - mu_L)/(eps - mu_L)
    np.testing.assert_allclose(perf.efficiency, (0.0 - mu_L) / (eps - mu_L), rtol=1e-10)


def test_single_dot_landauer_current() -> None:
    # sequential tunnelling through one level: J = G_L G_R/(G_L + G_R) (f_L - f_R)
    eps = np.linspace(-3, 3, 13)
    gL, gR = 0.3, 1.7
    res = qd.solve(qd.single_dot(eps, T={"L": 0.5, "R": 1.2}, mu={"L": 0.4, "R": -0.3},
                                 gamma={"L": gL, "R": gR}))
    expected = gL * gR / (gL + gR) * (qd.fermi(eps, 0.4, 0.5) - qd.fermi(eps, -0.3, 1.2))
    np.testing.assert_allclose(res.particle_current["L"], expected, rtol=1e-12, atol=1e-16)


def test_icc_engine_and_refrigerator_in_paper_setup() -> None:
    F_E = np.linspace(0.01, 0.95, 60)[:, None]
    F_N = np.linspace(0.01, 4.0, 80)[None, :]
    res = qd.solve(qd.coupled_transport(F_E, F_N, eps_L=1.0, eps_R=1.0, U=0.0, J=12.0))
    perf = res.performance
    icc_N = res.regime["J_N"] == qd.Regime.ICC
    icc_E = res.regime["J_E"] == qd.Regime.ICC
    assert icc_N.any() and icc_E.any()
    # ICC in J_N: particles pushed against F_N -> an engine, below Carnot (Eq. 56)
    assert np.all(perf.power[icc_N] > 0)
    assert np.all(perf.efficiency[icc_N] < perf.carnot_efficiency[icc_N])
    np.testing.assert_allclose(perf.efficiency[icc_N], perf.power[icc_N] / res.heat_current["t"][icc_N])
    # ICC in J_E: heat drawn from the cold leads -> a refrigerator, below Carnot COP (Eq. 58)
    cooling = res.heat_current["b"] + res.heat_current["r"]
    assert np.all(cooling[icc_E] > 0)
    assert np.all(perf.cop[icc_E] < perf.carnot_cop[icc_E])


def test_isothermal_device_has_no_carnot_cop() -> None:
    perf = qd.solve(qd.three_terminal(1.0, 1.0, U=0.5, T=1.0, mu={"t": 0.5, "b": 0.0, "r": 0.0})).performance
    assert perf.carnot_efficiency == 0.0
    assert np.isnan(perf.carnot_cop) and np.isnan(perf.efficiency) and np.isnan(perf.cop)

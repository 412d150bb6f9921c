"""Forces and fluxes: the paper's table, microscopic = macroscopic, the two-force setup."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qdthermo as qd
from tests.thermo.devices import random_three_terminal


def test_paper_table_of_forces() -> None:
    T = {"t": 2.0, "b": 1.0, "r": 1.5}
    mu = {"t": 0.3, "b": -0.1, "r": 0.2}
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.4, J=0.4, T=T, mu=mu))
    assert tuple(res.forces) == ("F_E", "F_R", "F_N")
    assert tuple(res.fluxes) == ("J_E", "J_R", "J_N")
    assert res.forces["F_E"] == pytest.approx(1 / 1.0 - 1 / 2.0)
    assert res.forces["F_R"] == pytest.approx(1 / 1.0 - 1 / 1.5)
    assert res.forces["F_N"] == pytest.approx(0.3 / 2.0 - (-0.1) / 1.0)
    assert res.fluxes["J_E"] == res.energy_current["t"]
    assert res.fluxes["J_R"] == res.energy_current["r"]
    assert res.fluxes["J_N"] == res.particle_current["t"]


def test_cycles_are_the_papers() -> None:
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.4, T={"t": 2.0, "b": 1.0, "r": 1.5}))
    assert res.cycles.basis.descriptions == (
        "00 -t-> 10 -b-> 00",
        "01 -t-> 11 -b-> 01",
        "10 -r-> 11 -b-> 01 -r-> 00 -b-> 10",
    )
    # cycle fluxes: J_C1 + J_C2 = J_N, K = J^r_42
    J = res.cycles.flux
    assert J[0] + J[1] == pytest.approx(float(res.fluxes["J_N"]), abs=1e-15)
    assert J[2] == pytest.approx(float(res.channel_flux[res.channel_labels.index("r:10->11")]))


@given(st.integers(0, 2**32 - 1))
def test_microscopic_forces_equal_macroscopic(seed: int) -> None:
    res = qd.solve(random_three_terminal(seed))
    U_eff = res.system.energies[..., 3] - res.system.energies[..., 1] - res.system.energies[..., 2]
    ok = np.abs(U_eff) > 1e-3
    for name in ("F_E", "F_R", "F_N"):
        micro, macro = res.microscopic_forces[name], res.forces[name]
        np.testing.assert_allclose(micro[ok], macro[ok], rtol=1e-7, atol=1e-7 * np.abs(macro[ok]).max())


def test_paper_affinities_in_scaled_forces() -> None:
    # A_1 = F~_E + F_N, A_2 = x F~_E + F_N, A_3 = U_eff F_R (= 0 in the two-force setup)
    F_E, F_N = np.meshgrid(np.linspace(-0.5, 0.5, 5), np.linspace(-1, 1, 5))
    dev = qd.coupled_transport(F_E, F_N, eps_L=0.8, eps_R=0.3, U=0.2, J=8.0)
    res = qd.solve(dev)
    x, Ft = dev.parameters["x"], dev.parameters["F_E_scaled"]
    A = res.cycles.affinity
    np.testing.assert_allclose(A[..., 0], Ft + F_N, atol=1e-12)
    np.testing.assert_allclose(A[..., 1], x * Ft + F_N, atol=1e-12)
    np.testing.assert_allclose(A[..., 2], 0.0, atol=1e-12)


def test_microscopic_forces_undefined_when_U_eff_vanishes() -> None:
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=1.0, J=4.0, T={"t": 2.0, "b": 1.0, "r": 1.5}))
    assert all(np.isnan(v) for v in res.microscopic_forces.values())


def test_coupled_transport_parametrisation() -> None:
    dev = qd.coupled_transport(F_E=0.3, F_N=0.2, eps_L=2.0, U=1.0, J=12.0, T_ref=1.5, mu_ref=0.1)
    res = qd.solve(dev)
    assert res.forces["F_E"] == pytest.approx(0.3)
    assert res.forces["F_N"] == pytest.approx(0.2)
    assert res.forces["F_R"] == 0.0
    assert dev.parameters["F_E_scaled"] == pytest.approx(0.6)
    assert dev.parameters["x"] == pytest.approx((2.0 + 1.0 - 3.0) / 2.0)
    assert res.system.lead_temperature[1] == res.system.lead_temperature[2] == 1.5


@pytest.mark.parametrize("F_E", [1.0, 2.0, np.array([0.1, 1.5])])
def test_coupled_transport_rejects_negative_temperature(F_E: object) -> None:
    with pytest.raises(ValueError, match=r"F_E = .* non-positive temperature of lead t.*F_E < 1/T_ref"):
        qd.coupled_transport(F_E=F_E, F_N=0.0, T_ref=1.0)


def test_zero_forces_zero_currents_and_equilibrium_regime() -> None:
    x_values = np.array([2.0, 0.5, -0.5, -2.0])
    J = np.where(x_values < 1, 4 * (1 - x_values), 0.0)
    U = np.where(x_values >= 1, x_values - 1, 0.0)
    res = qd.solve(qd.coupled_transport(0.0, 0.0, eps_L=1.0, eps_R=0.7, U=U, J=J, T_ref=0.8, mu_ref=0.3))
    for lead in res.lead_names:
        np.testing.assert_allclose(res.particle_current[lead], 0.0, atol=1e-15)
        np.testing.assert_allclose(res.energy_current[lead], 0.0, atol=1e-15)
    assert np.all(res.regime["J_E"] == qd.Regime.EQUILIBRIUM)
    assert np.all(res.regime["J_N"] == qd.Regime.EQUILIBRIUM)
    np.testing.assert_allclose(res.entropy_production, 0.0, atol=1e-15)


def test_general_device_force_names_and_reference() -> None:
    dev = qd.three_terminal(1.0, 0.5, U=0.4, T={"t": 2.0, "b": 1.0, "r": 1.5}, reference_lead="t")
    res = qd.solve(dev)
    assert res.force_basis.force_names == ("F_E_b", "F_E_r", "F_N_b")
    sigma = (res.force_array * res.flux_array).sum(axis=-1)
    assert sigma == pytest.approx(float(res.entropy_production), rel=1e-12)
    with pytest.raises(ValueError, match="parallel force pair"):
        _ = res.regime

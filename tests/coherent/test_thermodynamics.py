"""Thermodynamics of the global and local approaches: Gibbs state, Spohn's inequality, the Pauli limit,
and a second-law violation of the local equation that the flag sees."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import qdthermo as qd
from qdthermo.kinetics.hamiltonian import hamiltonian, number_operator


def test_global_equilibrium_is_gibbs_with_zero_currents() -> None:
    rng = np.random.default_rng(3)
    n = 10
    T, mu = rng.uniform(0.2, 3, n), rng.uniform(-1, 1, n)
    dev = qd.serial_double_dot(rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(-2, 2, n),
                               U=rng.uniform(0, 3, n), T=T, mu=mu,
                               gamma={"L": rng.uniform(0.1, 2, n), "R": rng.uniform(0.1, 2, n)})
    res = qd.solve(dev, approach="global")
    H = hamiltonian(dev)
    N = number_operator(2)
    for k in range(n):
        gibbs = expm(-(H[k] - mu[k] * N) / T[k])
        gibbs /= np.trace(gibbs)
        np.testing.assert_allclose(res.density_matrix[k], gibbs, atol=1e-10)
    for lead in "LR":
        np.testing.assert_allclose(res.particle_current[lead], 0.0, atol=1e-12)
        np.testing.assert_allclose(res.heat_current[lead], 0.0, atol=1e-11)
    np.testing.assert_allclose(res.entropy_production, 0.0, atol=1e-11)
    assert not res.second_law_violated.any()


def test_global_spohn_inequality_at_random_points() -> None:
    rng = np.random.default_rng(4)
    n = 400
    dev = qd.serial_double_dot(rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.uniform(-3, 3, n),
                               U=rng.uniform(0, 4, n), T={"L": rng.uniform(0.1, 3, n), "R": rng.uniform(0.1, 3, n)},
                               mu={"L": rng.uniform(-2, 2, n), "R": rng.uniform(-2, 2, n)},
                               gamma={"L": rng.uniform(0.01, 2, n), "R": rng.uniform(0.01, 2, n)})
    res = qd.solve(dev, approach="global")
    scale = sum(np.abs(res.heat_current[k]) / dev.lead(k).temperature for k in "LR")
    assert np.all(res.entropy_production >= -1e-10 * scale - 1e-15)
    assert not res.second_law_violated.any()
    assert res.valid.all()
    # trace one, Hermitian, positive
    np.testing.assert_allclose(np.trace(res.density_matrix, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    assert np.linalg.eigvalsh(res.density_matrix).min() > -1e-10
    # particle conservation in the steady state
    np.testing.assert_allclose(res.particle_current["L"] + res.particle_current["R"], 0.0, atol=1e-12)
    np.testing.assert_allclose(res.energy_current["L"] + res.energy_current["R"], 0.0, atol=1e-10)


def _capacitive(tunnel: float | None) -> qd.Device:
    """Two spinless dots, three leads (two on L), capacitive U; optionally a tunnel between the dots."""
    leads = (qd.Lead("t", "A", 1.5, 0.3, 0.8), qd.Lead("b", "A", 0.7, -0.4, 0.5), qd.Lead("r", "B", 2.5, 0.1, 1.1))
    return qd.Device(dots=(qd.Dot("A", np.array([0.4, -0.3]), "x"), qd.Dot("B", np.array([-0.9, 1.2]), "x")),
                     leads=leads, interactions=(qd.Interaction(("A", "B"), coulomb=0.6),),
                     tunnels=() if tunnel is None else (qd.Tunnel(("A", "B"), amplitude=tunnel),))


def test_global_reduces_to_pauli_at_vanishing_tunnelling() -> None:
    pauli = qd.solve(_capacitive(None), approach="pauli")
    for t in (0.0, 1e-9):
        res = qd.solve(_capacitive(t), approach="global")
        np.testing.assert_allclose(res.populations, pauli.populations, atol=1e-8)
        for lead in "tbr":
            np.testing.assert_allclose(res.particle_current[lead], pauli.particle_current[lead], atol=1e-8)
            np.testing.assert_allclose(res.heat_current[lead], pauli.heat_current[lead], atol=1e-8)
        np.testing.assert_allclose(res.entropy_production, pauli.entropy_production, atol=1e-8)
    local = qd.solve(_capacitive(0.0), approach="local")
    np.testing.assert_allclose(local.populations, pauli.populations, atol=1e-12)


def test_local_current_against_the_bias_is_flagged() -> None:
    """Equal temperatures, mu_R > mu_L, but the local rates see only the bare levels: with eps_L << eps_R
    electrons are pumped from L to R, against the bias (sigma = (mu_L - mu_R) I / T < 0)."""
    dev = qd.serial_double_dot(-1.0, 1.0, 0.5, T=0.5, mu={"L": 0.0, "R": 0.1}, gamma=0.1)
    local = qd.solve(dev, approach="local")
    assert local.particle_current["L"] > 0
    assert local.entropy_production < 0
    assert local.second_law_violated
    glob = qd.solve(dev, approach="global")
    assert glob.particle_current["L"] < 0 and glob.entropy_production > 0 and not glob.second_law_violated


def test_local_heat_from_cold_to_hot_levy_kosloff() -> None:
    """No bias, T_L = 2 > T_R = 0.5: for detuned dots the local equation carries heat out of the cold lead
    and into the hot one (J_Q^R > 0, J_Q^L < 0, sigma < 0): the Clausius violation of local master
    equations of coupled systems (Levy & Kosloff, EPL 107, 20004 (2014)).  Resonant dots at the same
    temperatures do not violate; the global equation never does."""
    eps_L = np.array([0.5, -3.0])
    dev = qd.serial_double_dot(eps_L, 0.5, 3.0, T={"L": 2.0, "R": 0.5}, mu=0.0, gamma=0.1)
    local = qd.solve(dev, approach="local")
    assert local.heat_current["L"][1] < 0 < local.heat_current["R"][1]
    assert local.entropy_production[1] < 0 < local.entropy_production[0]
    np.testing.assert_array_equal(local.second_law_violated, [False, True])
    glob = qd.solve(dev, approach="global")
    assert np.all(glob.entropy_production > 0) and not glob.second_law_violated.any()
    assert glob.heat_current["L"][1] > 0 > glob.heat_current["R"][1]


def test_pauli_refuses_tunnelling_and_approach_is_checked() -> None:
    dev = qd.serial_double_dot(0.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="approach='global'"):
        qd.solve(dev)
    with pytest.raises(ValueError, match="cannot describe interdot tunnelling"):
        qd.solve(dev, approach="pauli")
    with pytest.raises(ValueError, match="unknown approach"):
        qd.solve(dev, approach="redfield")
    # devices without tunnels still go to the Pauli solver by default
    assert isinstance(qd.solve(_capacitive(None)), qd.SteadyState)
    assert isinstance(qd.solve(_capacitive(0.2), approach="local"), qd.CoherentState)


def test_singular_points_are_invalid_not_fatal() -> None:
    """Decoupled leads (gamma = 0) leave the steady state undetermined: NaN and valid False at those points."""
    dev = qd.serial_double_dot(0.1, -0.2, 0.3, T=1.0, mu=0.0, gamma=np.array([0.5, 0.0]))
    with pytest.warns(qd.InvalidPointsWarning, match=r"1 of 2 points are NaN.*index \(1,\)"):
        res = qd.solve(dev, approach="global")
    np.testing.assert_array_equal(res.valid, [True, False])
    assert np.isnan(res.populations[1]).all() and np.isfinite(res.populations[0]).all()
    with pytest.raises(ValueError, match="no unique steady state"):
        qd.solve(qd.serial_double_dot(0.1, -0.2, 0.3, gamma=0.0), approach="local")


def test_evolve_lindblad_refuses_interdot_tunnelling() -> None:
    """evolve_lindblad has the rate equation's jumps and a diagonal H: with tunnelling it would silently give
    Pauli dynamics (a blocked state instead of the coherent current); it points to evolve_coherent."""
    dev = qd.serial_double_dot(0.0, 0.0, 0.5, T=0.5, mu={"L": 2.0, "R": -2.0}, gamma=1.0)
    with pytest.raises(ValueError, match="evolve_coherent"):
        qd.evolve_lindblad(dev, [0.0, 1.0])
    rho = qd.evolve_coherent(dev, [200.0], approach="local")[-1]
    np.testing.assert_allclose(rho, qd.solve(dev, approach="local").density_matrix, atol=1e-10)


def test_a_huge_energy_does_not_merge_resolved_bohr_frequencies() -> None:
    """An "infinite" U (1e3 ... 1e7) beside a tunnel splitting 2t = 8e-3: the secular grouping's tolerance is
    relative to max |E|, and must stay far below the splitting (1e-8 of 1e7 merged it: 0.5% off in the current)."""
    kw = dict(T=0.05, mu={"L": 0.3, "R": -0.3}, gamma=1e-3)
    J = [float(qd.solve(qd.serial_double_dot(0.0, 0.0, 0.004, U=U, **kw), approach="global").particle_current["L"])
         for U in (1e3, 1e6, 1e7)]
    np.testing.assert_allclose(J[1:], J[0], rtol=1e-9)

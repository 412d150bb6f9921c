"""The sparse steady-state route of the density-matrix approaches (larger networks): the same states as the
dense batched route, and the physics of a chain of four dots (Gibbs state, second law, conservation)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import qdthermo as qd
from qdthermo.kinetics.coherent import SPARSE_MIN_STATES, choose_coherent_route
from qdthermo.kinetics.hamiltonian import hamiltonian, number_operator
from qdthermo.model.arrays import dot_array


def chain(n_dots: int, rng: np.random.Generator, m: int, *, T: object = None, mu: object = None) -> qd.Device:
    """A chain of ``n_dots`` spinless dots, one lead each, nearest-neighbour Coulomb and tunnelling."""
    base = dot_array(n_dots, 0.0, 1.0, T=1.0)
    dots = tuple(qd.Dot(d.name, rng.uniform(-1.5, 1.5, m), d.species) for d in base.dots)
    leads = tuple(qd.Lead(lead.name, lead.dot, rng.uniform(0.3, 2, m) if T is None else T,
                          rng.uniform(-1, 1, m) if mu is None else mu, rng.uniform(0.05, 1, m))
                  for lead in base.leads)
    inter = tuple(qd.Interaction(i.dots, coulomb=rng.uniform(0, 1.5, m)) for i in base.interactions)
    tunnels = tuple(qd.Tunnel(i.dots, amplitude=rng.uniform(-1, 1, m)) for i in base.interactions)
    return qd.Device(dots=dots, leads=leads, interactions=inter, tunnels=tunnels)


@pytest.mark.parametrize("approach", ["global", "local"])
def test_sparse_equals_dense_on_a_three_dot_chain(approach: str) -> None:
    dev = chain(3, np.random.default_rng(21), 12)
    dense = qd.solve(dev, approach=approach, method="dense")
    sparse = qd.solve(dev, approach=approach, method="sparse")
    assert dense.valid.all() and sparse.valid.all()
    np.testing.assert_allclose(sparse.density_matrix, dense.density_matrix, atol=1e-12)
    for lead in dev.lead_names:
        np.testing.assert_allclose(sparse.particle_current[lead], dense.particle_current[lead], atol=1e-12)
        np.testing.assert_allclose(sparse.heat_current[lead], dense.heat_current[lead], atol=1e-12)
    np.testing.assert_array_equal(sparse.second_law_violated, dense.second_law_violated)


def test_route_choice_and_validation() -> None:
    assert choose_coherent_route(4) == "dense" and choose_coherent_route(SPARSE_MIN_STATES) == "sparse"
    assert choose_coherent_route(SPARSE_MIN_STATES, "dense") == "dense"
    with pytest.raises(ValueError, match="method must be one of"):
        qd.solve(qd.serial_double_dot(0.0, 0.0, 0.5), approach="global", method="linear")


def test_four_dot_chain_global_equilibrium_is_gibbs() -> None:
    rng = np.random.default_rng(22)
    T, mu = 0.7, 0.2
    dev = chain(4, rng, 3, T=T, mu=mu)
    res = qd.solve(dev, approach="global")  # 16 states: the sparse route
    H = hamiltonian(dev)
    N = number_operator(4)
    for k in range(3):
        gibbs = expm(-(H[k] - mu * N) / T)
        np.testing.assert_allclose(res.density_matrix[k], gibbs / np.trace(gibbs), atol=1e-10)
    for lead in dev.lead_names:
        np.testing.assert_allclose(res.particle_current[lead], 0.0, atol=1e-12)
        np.testing.assert_allclose(res.heat_current[lead], 0.0, atol=1e-11)


def test_four_dot_chain_out_of_equilibrium() -> None:
    rng = np.random.default_rng(23)
    dev = chain(4, rng, 20)
    res = qd.solve(dev, approach="global")
    assert res.valid.all() and not res.second_law_violated.any()
    assert np.all(res.entropy_production > -1e-12)
    np.testing.assert_allclose(np.trace(res.density_matrix, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(res.density_matrix, np.conj(np.swapaxes(res.density_matrix, -1, -2)), atol=1e-14)
    assert np.linalg.eigvalsh(res.density_matrix).min() > -1e-10
    np.testing.assert_allclose(sum(res.particle_current[lead] for lead in dev.lead_names), 0.0, atol=1e-12)
    np.testing.assert_allclose(sum(res.energy_current[lead] for lead in dev.lead_names), 0.0, atol=1e-11)
    # the counting statistics work at this size too: C_1 is the mean current
    fl = qd.fluctuations(dev, approach="global", counting=["N_l0", "Q_l3"])
    np.testing.assert_allclose(fl.cumulant(1, "N_l0"), res.particle_current["l0"], atol=1e-12)
    np.testing.assert_allclose(fl.cumulant(1, "Q_l3"), res.heat_current["l3"], atol=1e-11)
    assert np.all(fl.cumulant(2, "N_l0") > 0)

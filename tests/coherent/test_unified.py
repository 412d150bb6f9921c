"""The unified GKLS equation (Potts, Kalaee, Wacker, NJP 23, 123013 (2021)): the global limit for resolved
Bohr frequencies, local-like results at weak interdot tunnelling, exact thermodynamics with respect to
the modified Hamiltonian (Gibbs state and zero currents at equilibrium, second law at random points)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import qdthermo as qd
from qdthermo.kinetics.hamiltonian import number_operator
from qdthermo.thermo.coherent import solve_coherent


def _random(rng: np.random.Generator, n: int, T: object = None, mu: object = None) -> qd.Device:
    return qd.serial_double_dot(rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n),
                                U=rng.uniform(0, 3, n),
                                T={"L": rng.uniform(0.2, 3, n), "R": rng.uniform(0.2, 3, n)} if T is None else T,
                                mu={"L": rng.uniform(-1, 1, n), "R": rng.uniform(-1, 1, n)} if mu is None else mu,
                                gamma={"L": rng.uniform(0.05, 2, n), "R": rng.uniform(0.05, 2, n)})


def test_resolved_frequencies_give_the_global_equation() -> None:
    dev = _random(np.random.default_rng(31), 100)
    glob = qd.solve(dev, approach="global")
    uni = solve_coherent(dev, "unified", cluster_width=0.0)  # every Bohr frequency its own cluster
    np.testing.assert_allclose(uni.density_matrix, glob.density_matrix, atol=1e-14)
    for lead in "LR":
        np.testing.assert_allclose(uni.heat_current[lead], glob.heat_current[lead], atol=1e-14)
    # resolved at the default width too: hopping splitting far above Gamma
    dev = qd.serial_double_dot(0.3, -0.2, 5.0, U=20.0, T=1.0, mu={"L": 0.5, "R": -0.5}, gamma=0.1)
    np.testing.assert_allclose(qd.solve(dev, approach="unified").density_matrix,
                               qd.solve(dev, approach="global").density_matrix, atol=1e-14)


def test_weak_tunnelling_is_local_like() -> None:
    """Resonant dots, hopping far below Gamma: the split levels form one cluster at the bare level and the
    unified equation is the local one; at infinite bias it is exact where the global one fails."""
    W = np.array([1e-4, 1e-3, 3e-3])
    dev = qd.serial_double_dot(0.15, 0.15, W, U=0.5, T={"L": 0.5, "R": 0.3}, mu={"L": 0.4, "R": -0.3},
                               gamma={"L": 0.05, "R": 0.04})
    uni, loc = qd.solve(dev, approach="unified"), qd.solve(dev, approach="local")
    np.testing.assert_allclose(uni.density_matrix, loc.density_matrix, atol=1e-12)
    np.testing.assert_allclose(uni.particle_current["L"], loc.particle_current["L"], rtol=1e-9)
    # small detuning (below Gamma): close to local, far from global
    dev = qd.serial_double_dot(0.15, 0.14, W, U=0.5, T={"L": 0.5, "R": 0.3}, mu={"L": 0.4, "R": -0.3},
                               gamma={"L": 0.05, "R": 0.04})
    uni, loc = qd.solve(dev, approach="unified"), qd.solve(dev, approach="local")
    np.testing.assert_allclose(uni.particle_current["L"], loc.particle_current["L"], rtol=0.02)
    omega = np.array([0.01, 0.1])
    dev = qd.serial_double_dot(0.0, 0.0, omega, T=0.05, mu={"L": 500.0, "R": -500.0}, gamma=1.0)
    np.testing.assert_allclose(qd.solve(dev, approach="unified").particle_current["L"],
                               2 * omega**2 / (4 * omega**2 + 1), rtol=1e-9)


def test_equilibrium_is_gibbs_of_the_modified_hamiltonian() -> None:
    rng = np.random.default_rng(32)
    n = 20
    T, mu = rng.uniform(0.2, 3, n), rng.uniform(-1, 1, n)
    res = qd.solve(_random(rng, n, T=T, mu=mu), approach="unified")
    assert res.valid.all()
    gen = res.generator
    assert gen.energy_operator is not None
    H_mod = gen.basis @ gen.energy_operator @ np.swapaxes(gen.basis, -1, -2)  # occupation basis
    N = number_operator(2)
    for k in range(n):
        gibbs = expm(-(H_mod[k] - mu[k] * N) / T[k])
        np.testing.assert_allclose(res.density_matrix[k], gibbs / np.trace(gibbs), atol=1e-10)
    for lead in "LR":
        np.testing.assert_allclose(res.particle_current[lead], 0.0, atol=1e-12)
        np.testing.assert_allclose(res.heat_current[lead], 0.0, atol=1e-11)


def test_second_law_and_counting_at_random_points() -> None:
    rng = np.random.default_rng(33)
    n = 400
    dev = _random(rng, n)
    res = qd.solve(dev, approach="unified")
    assert res.valid.all()  # the serial double dot always admits a modified Hamiltonian (docs/coherent.md)
    scale = sum(np.abs(res.heat_current[k]) / dev.lead(k).temperature for k in "LR")
    assert np.all(res.entropy_production >= -1e-10 * scale - 1e-15)
    assert not res.second_law_violated.any()
    np.testing.assert_allclose(res.energy_current["L"] + res.energy_current["R"], 0.0, atol=1e-10)
    fl = qd.fluctuations(dev, approach="unified", order=1)
    for lead in "LR":
        np.testing.assert_allclose(fl.cumulant(1, f"E_{lead}"), res.energy_current[lead], atol=1e-12)
    np.testing.assert_allclose(fl.cumulant(1, "entropy"), res.entropy_production, atol=1e-11)


def test_cluster_width_is_checked() -> None:
    with pytest.raises(ValueError, match="cluster_width"):
        solve_coherent(qd.serial_double_dot(0.0, 0.0, 0.5), "unified", cluster_width=-1.0)


def test_points_without_a_modified_hamiltonian_are_invalid() -> None:
    """On a three-dot chain the clusters of some points admit no consistent modified Hamiltonian: those
    points are NaN with valid False, the others obey the second law."""
    from .test_sparse import chain

    dev = chain(3, np.random.default_rng(1), 60)
    with pytest.warns(qd.InvalidPointsWarning, match="no modified Hamiltonian"):
        res = qd.solve(dev, approach="unified")
    ok = res.valid
    assert ok.any() and not ok.all()
    assert np.isnan(res.populations[~ok]).all() and np.isfinite(res.populations[ok]).all()
    assert np.all(res.entropy_production[ok] > -1e-12) and not res.second_law_violated.any()
    np.testing.assert_array_equal(ok, res.generator.consistent)
    # at zero width (the global equation) every point is consistent
    assert solve_coherent(dev, "unified", cluster_width=0.0).valid.all()


def test_clusters_at_a_gap_equal_to_the_width() -> None:
    """U = Gamma (the default width): the Bohr-frequency gaps (g, h, g) with g = U equal the width, and round-off
    must not merge one g-pair and split the other (that left no modified Hamiltonian at ~14% of the points)."""
    rng = np.random.default_rng(3)
    n = 300
    dev = qd.serial_double_dot(rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(0.05, 1, n), U=0.5, T=0.5,
                               mu={"L": 0.5, "R": -0.5}, gamma=0.5)
    res = qd.solve(dev, approach="unified")
    assert res.valid.all() and not res.second_law_violated.any()
    # the same points with the width a hair above or below U: the clusters (and the state) change continuously
    for width in (0.5 * (1 + 1e-6), 0.5 * (1 - 1e-6)):
        near = solve_coherent(dev, "unified", cluster_width=width)
        assert near.valid.all()

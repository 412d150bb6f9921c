"""Time evolution: the batched scaling-and-squaring exponential against SciPy's, and against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm as scipy_expm

import qdthermo as qd
from qdthermo.kinetics import evolve


def random_generators(rng: np.random.Generator, batch: int, m: int, decades: float = 3.0) -> np.ndarray:
    """Rate matrices ``(batch, m, m)``: rates over ``decades`` decades, columns summing to zero."""
    W = 10.0 ** rng.uniform(-decades / 2, decades / 2, (batch, m, m))
    idx = np.arange(m)
    W[:, idx, idx] = 0.0
    W[:, idx, idx] = -W.sum(axis=-2)
    return W


def assert_close_to_scipy(ours: np.ndarray, reference: np.ndarray, rtol: float | np.ndarray) -> None:
    """Equal to ``rtol`` of each matrix's largest entry."""
    scale = np.max(np.abs(reference), axis=(-2, -1), keepdims=True)
    assert np.all(np.abs(ours - reference) <= rtol * scale)


@pytest.mark.parametrize(("m", "scale"), [(1, 1.0), (2, 0.01), (4, 1.0), (4, 300.0), (9, 3.0), (16, 30.0)])
def test_expm_equals_scipy_on_random_generators(m: int, scale: float) -> None:
    rng = np.random.default_rng(m)
    G = random_generators(rng, 300, m) * scale
    E = evolve.expm(G)
    # the condition number of exp grows with ||G||: two implementations differ by ~ eps ||G|| (3e-12 at 2e4)
    tol = np.maximum(1e-13, 4e-16 * evolve._onenorm(G))[:, None, None]
    assert_close_to_scipy(E, scipy_expm(G), tol)
    assert np.all(np.abs(E.sum(axis=-2) - 1.0) <= tol[:, 0])  # columns of a stochastic matrix


def test_expm_of_general_and_complex_matrices() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(size=(200, 5, 5))
    assert_close_to_scipy(evolve.expm(A), scipy_expm(A), 1e-12)  # non-normal: the routes' round-off differs more
    Z = rng.normal(size=(4, 3, 9, 9)) + 1j * rng.normal(size=(4, 3, 9, 9))
    E = evolve.expm(Z)
    assert E.shape == Z.shape and E.dtype == np.complex128
    assert_close_to_scipy(E, scipy_expm(Z), 1e-12)
    np.testing.assert_allclose(evolve.expm(np.zeros((2, 3, 3))), np.broadcast_to(np.eye(3), (2, 3, 3)), rtol=0,
                               atol=1e-15)


def test_expm_of_commuting_blocks_is_exact() -> None:
    # a diagonal and a rotation generator: exp known in closed form, norms from 1e-8 to 1e3 (0 to 8 squarings)
    lam = np.array([-1e-8, -1.0, -7.3, -250.0, -1e3])
    D = np.zeros((len(lam), 2, 2))
    D[:, 0, 0], D[:, 1, 1] = lam, 2 * lam
    expected = np.zeros_like(D)
    expected[:, 0, 0], expected[:, 1, 1] = np.exp(lam), np.exp(2 * lam)
    # relative accuracy of the tiny entries (exp(-2000) underflows) degrades as 2^s eps over s squarings
    np.testing.assert_allclose(evolve.expm(D), expected, rtol=1e-11, atol=0)
    w = np.array([0.1, 2.0, 40.0])
    R = np.zeros((3, 2, 2))
    R[:, 0, 1], R[:, 1, 0] = -w, w
    c, s = np.cos(w), np.sin(w)
    np.testing.assert_allclose(evolve.expm(R), np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2),
                               rtol=0, atol=1e-13)


def test_the_algorithm_of_scipy_sparse_linalg() -> None:
    # the same algorithm (Al-Mohy and Higham 2009, one matrix at a time in Python): the same scalings, so the
    # same result to a few ulps, including stiff generators and a non-normal matrix where ell adds squarings
    from scipy.sparse.linalg import expm as one_at_a_time

    rng = np.random.default_rng(5)
    A = np.concatenate([random_generators(rng, 6, 4) * 300.0, rng.normal(size=(6, 4, 4))])
    A[-1] = [[-1.0, 1e6, 0.0, 0.0], [0.0, -2.0, 1e6, 0.0], [0.0, 0.0, -3.0, 1e6], [0.0, 0.0, 0.0, -4.0]]
    E = evolve.expm(A)
    for a, e in zip(A, E):
        np.testing.assert_allclose(e, one_at_a_time(a), rtol=1e-12, atol=1e-14 * np.abs(e).max())


def test_points_that_are_not_finite_are_nan_and_leave_the_rest() -> None:
    rng = np.random.default_rng(2)
    G = random_generators(rng, 5, 4)
    G[2, 0, 1] = np.nan
    E = evolve.expm(G)
    assert np.all(np.isnan(E[2]))
    assert_close_to_scipy(E[[0, 1, 3, 4]], scipy_expm(G[[0, 1, 3, 4]]), 1e-13)


@pytest.mark.parametrize("times", [np.linspace(0.0, 20.0, 101), np.arange(0.0, 3.0, 0.25) + 1.0,
                                   np.array([0.0, 0.1, 0.5, 3.0, 40.0]), np.array([2.0, 1.0, 0.5])])
def test_propagate_equals_scipy_at_every_time(times: np.ndarray) -> None:
    # uniform grids are stepped between anchors, others exponentiated time by time: both equal SciPy's expm
    rng = np.random.default_rng(3)
    G = random_generators(rng, 200, 6, decades=2.0)
    x0 = rng.dirichlet(np.ones(6), 200)
    ours, reference = evolve.propagate(G, times, x0), evolve.propagate(G, times, x0, method="scipy")
    assert ours.shape == (200, len(times), 6)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, rtol=0, atol=1e-12)  # probability is conserved
    with pytest.raises(ValueError, match=r"method must be one of \['pade', 'scipy'\], got 'eig'"):
        evolve.propagate(G, times, x0, method="eig")


def test_two_state_relaxation_in_closed_form() -> None:
    # a single level: P_1(t) = P_1(inf) + (P_1(0) - P_1(inf)) exp(-(k_in + k_out) t), k_in + k_out = sum of Gamma
    dev = qd.single_dot(eps=np.array([-0.5, 0.2, 1.5]), T={"L": 2.0, "R": 0.5}, mu={"L": 0.3, "R": -0.1},
                        gamma={"L": 1.0, "R": 0.25})
    t = np.linspace(0.0, 8.0, 41)
    P = qd.evolve(dev, t).populations[..., 1]
    P_inf = qd.solve(dev).populations[..., 1]
    expected = P_inf[:, None] * (1.0 - np.exp(-1.25 * t))  # empty at t = 0
    np.testing.assert_allclose(P, expected, rtol=1e-12, atol=1e-15)


def test_conserved_vector_keeps_the_normalisation_at_any_time() -> None:
    """Plain scaling and squaring loses ``1^T exp(G t) = 1^T`` like ``2^s`` eps (SciPy's too); with the
    conserved vector it holds to round-off at any time, and the state is the steady state at long times."""
    rng = np.random.default_rng(5)
    G = random_generators(rng, 50, 5, decades=4.0)
    times = np.array([1e3, 1e12, 1e15, 1e20, 1e300])
    x0 = rng.dirichlet(np.ones(5), 50)
    x = evolve.propagate(G, times, x0, conserved=np.ones(5))
    np.testing.assert_allclose(x.sum(axis=-1), 1.0, rtol=0, atol=1e-13)
    steady = np.linalg.svd(G)[2][:, -1, :]  # the null vector of each generator
    steady /= steady.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(x[:, 1:], np.broadcast_to(steady[:, None], x[:, 1:].shape), rtol=0, atol=1e-12)
    # at moderate times the correction changes nothing beyond round-off (SciPy's expm as reference)
    t = np.array([0.1, 10.0])
    np.testing.assert_allclose(evolve.propagate(G, t, x0, conserved=np.ones(5)),
                               evolve.propagate(G, t, x0, method="scipy"), rtol=0, atol=1e-12)
    # the public route: qd.evolve reaches the steady state of qd.solve however long the time
    dev = qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0})
    P = qd.evolve(dev, [1e18, 1e20, 1e300]).populations
    np.testing.assert_allclose(P, np.broadcast_to(qd.solve(dev).populations, P.shape), rtol=0, atol=1e-14)
    # a trace-preserving Liouvillian: the trace stays 1
    rho = qd.evolve_lindblad(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}), [1.0, 1e16, 1e20]).density_matrix
    np.testing.assert_allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, rtol=0, atol=1e-13)


def test_norm_that_overflows_and_degenerate_inputs() -> None:
    # finite entries whose 1-norm overflows: pre-scaled in log space (not the identity)
    G = 1e308 * np.array([[-1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(evolve.expm(G, conserved=np.ones(2)), 0.5, rtol=1e-12)
    assert evolve.expm(np.zeros((2, 0, 0))).shape == (2, 0, 0)
    # the correction keeps zeros: exp(0) is the identity exactly (no probability in unreachable states)
    np.testing.assert_array_equal(evolve.expm(np.zeros((2, 3, 3)), conserved=np.ones(3)),
                                  np.broadcast_to(np.eye(3), (2, 3, 3)))
    # integer inputs are not truncated
    x = evolve.propagate(np.array([[-1, 1], [1, -1]]), np.array([0.0, 1.0]), np.array([1, 0]))
    np.testing.assert_allclose(x[1], [(1 + np.exp(-2.0)) / 2, (1 - np.exp(-2.0)) / 2], rtol=1e-14)

"""Group (Drazin) inverse: defining identities, the pseudo-inverse projection formula, both routes,
singular (reducible) batch points marked NaN, transient states, broadcasting and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from qdthermo.kinetics.group_inverse import DrazinSolver, drazin, drazin_apply, stationary_dense

METHODS = ["elimination", "rank_one"]


def random_generators(rng: np.random.Generator, shape: tuple[int, ...], n: int, density: float = 0.6) -> np.ndarray:
    """Random ergodic generators: a directed ring plus random extra rates spanning 4 decades."""
    K = 10 ** rng.uniform(-2, 2, shape + (n, n)) * (rng.random(shape + (n, n)) < density)
    ring = np.roll(np.eye(n), 1, axis=0).astype(bool)
    K = np.where(ring, 10 ** rng.uniform(-1, 1, shape + (n, n)), K)
    K[..., np.arange(n), np.arange(n)] = 0.0
    return K - np.eye(n) * K.sum(axis=-2)[..., None, :]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_defining_identities_on_random_batches(method: str, n: int) -> None:
    rng = np.random.default_rng(n)
    W = random_generators(rng, (7, 3), n)
    P0 = stationary_dense(W)
    D = drazin(W, P0, method=method)
    Q = np.eye(n) - P0[..., :, None]
    scale = np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    scale_D = np.max(np.abs(D), axis=(-2, -1), keepdims=True)
    tol = 1e-11
    assert np.all(np.abs(W @ D @ W - W) <= tol * scale)
    assert np.all(np.abs(D @ W @ D - D) <= tol * scale_D)
    assert np.all(np.abs(W @ D - Q) <= tol * scale * scale_D)
    assert np.all(np.abs(D @ W - Q) <= tol * scale * scale_D)
    assert np.all(np.abs(D.sum(axis=-2, keepdims=True)) <= tol * scale_D)  # 1^T W^D = 0
    assert np.all(np.abs(D @ P0[..., None]) <= tol * scale_D)  # W^D P0 = 0


@pytest.mark.parametrize("method", METHODS)
def test_matches_projected_moore_penrose_inverse(method: str) -> None:
    rng = np.random.default_rng(1)
    W = random_generators(rng, (20,), 6)
    P0 = stationary_dense(W)
    Q = np.eye(6) - P0[..., :, None]
    ref = Q @ np.linalg.pinv(W) @ Q
    D = drazin(W, P0, method=method)
    np.testing.assert_allclose(D, ref, rtol=1e-9, atol=1e-11 * np.max(np.abs(ref)))


def test_routes_agree_and_apply_matches_matrix() -> None:
    rng = np.random.default_rng(2)
    W = random_generators(rng, (4, 5), 5)
    P0 = stationary_dense(W)
    b = rng.normal(size=(4, 5, 5, 3))
    x_e = drazin_apply(W, P0, b)
    x_r = drazin_apply(W, P0, b, method="rank_one")
    np.testing.assert_allclose(x_e, x_r, rtol=1e-9, atol=1e-10 * np.max(np.abs(x_r)))
    np.testing.assert_allclose(x_e, drazin(W, P0) @ b, rtol=1e-9, atol=1e-10 * np.max(np.abs(x_r)))
    assert np.all(np.abs(x_e.sum(axis=-2)) < 1e-10 * np.max(np.abs(x_e)))
    v = rng.normal(size=(4, 5, 5))  # a batch of vectors
    np.testing.assert_allclose(drazin_apply(W, P0, v), (drazin(W, P0) @ v[..., None])[..., 0], rtol=1e-9,
                               atol=1e-10 * np.max(np.abs(x_r)))
    shared = rng.normal(size=5)  # one vector broadcast over the batch
    np.testing.assert_allclose(drazin_apply(W, P0, shared), drazin(W, P0) @ shared, rtol=1e-9,
                               atol=1e-10 * np.max(np.abs(x_r)))


def test_reducible_point_is_nan_and_the_rest_of_the_batch_is_unaffected() -> None:
    rng = np.random.default_rng(3)
    W = random_generators(rng, (5,), 4)
    P0 = stationary_dense(W)
    # point 2: two closed classes {0, 1} and {2, 3}; P0 on the first
    Wr = np.zeros((4, 4))
    Wr[1, 0], Wr[0, 1], Wr[3, 2], Wr[2, 3] = 1.0, 2.0, 0.5, 1.5
    Wr -= np.diag(Wr.sum(axis=0))
    W[2], P0[2] = Wr, [2 / 3, 1 / 3, 0.0, 0.0]
    good = np.array([True, True, False, True, True])
    for method in METHODS:
        solver = DrazinSolver(W, P0, method=method)
        assert solver.singular.tolist() == (~good).tolist()
        D = solver.matrix()
        assert np.all(np.isnan(D[2]))
        np.testing.assert_allclose(D[good], drazin(W[good], P0[good], method=method), rtol=1e-12, atol=1e-14)


def test_transient_last_state_uses_the_pivoting_fallback() -> None:
    # states 0, 1 recurrent; state 2 transient (leaves to 0, never entered): unique steady state
    W = np.array([[-1.0, 2.0, 3.0], [1.0, -2.0, 0.5], [0.0, 0.0, -3.5]])
    P0 = np.array([2 / 3, 1 / 3, 0.0])
    Q = np.eye(3) - P0[:, None]
    ref = Q @ np.linalg.pinv(W) @ Q
    D = drazin(W, P0)
    np.testing.assert_allclose(D, ref, atol=1e-13)
    assert not DrazinSolver(W, P0).singular


def test_bad_input_raises() -> None:
    W = random_generators(np.random.default_rng(4), (), 3)
    P0 = stationary_dense(W)
    with pytest.raises(ValueError, match="W must have shape"):
        drazin(np.zeros((3, 2)), P0)
    with pytest.raises(ValueError, match="P0 must have shape"):
        drazin(W, np.ones(4) / 4)
    with pytest.raises(ValueError, match="method"):
        drazin(W, P0, method="qr")
    with pytest.raises(ValueError, match="W must be finite"):
        drazin(np.full((3, 3), np.nan), P0)
    with pytest.raises(ValueError, match="b must have shape"):
        drazin_apply(W, P0, np.ones(4))

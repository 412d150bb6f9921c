"""Compiled counting statistics against the NumPy engine (the reference route)."""

from __future__ import annotations

import numpy as np
import pytest

from qdthermo.kinetics import counting_compiled as cc
from qdthermo.kinetics.counting import scaled_cumulants

from .test_counting import random_network, steady

pytestmark = pytest.mark.skipif(not cc.available(), reason="Numba is not available or disabled")


def assert_same(compiled: np.ndarray, reference: np.ndarray) -> None:
    """Same NaN pattern, and equal to 1e-12 relative (round-off of the scale where cancelling)."""
    assert np.array_equal(np.isnan(compiled), np.isnan(reference))
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("n", "seed"), [(1, 0), (2, 1), (3, 2), (4, 3), (6, 4), (11, 5)])
@pytest.mark.parametrize("order", [1, 2, 3, 5, 8])
def test_random_networks_equal_the_numpy_engine(n: int, seed: int, order: int) -> None:
    rng = np.random.default_rng(seed)
    n, src, dst, rate, d = random_network(rng, n, (300,), q=3)
    rate *= 10 ** rng.uniform(-3, 3, rate.shape)  # rates over six decades
    P0 = steady(n, src, dst, rate)
    reference = scaled_cumulants(n, src, dst, rate, d, P0, order)
    C = cc.second_order(n, src, dst, rate, d, P0, order)
    if order <= 2:  # no cancellation in these random networks (C_k not tiny against its absolute moment)
        assert_same(C, reference)
        return
    np.testing.assert_array_equal(C[..., :2], cc.second_order(n, src, dst, rate, d, P0, 2))  # whatever the order
    scale = np.abs(reference) + np.stack([np.einsum("pj,pjq->pq", rate * P0[:, src], np.abs(d) ** k)
                                          for k in range(1, order + 1)], axis=-1)  # |C_k| + M_k
    tol = 1e-13 * 3.0 ** np.arange(1, order + 1)  # round-off grows with the order (measured: 1e-12 at k = 8)
    assert np.all(np.abs(C - reference) <= tol * scale)


def test_paper_shaped_network_with_broadcast_inputs() -> None:
    rng = np.random.default_rng(8)
    # the paper's four states 00, 10, 01, 11: two leads join 00 <-> 10 (parallel jumps), one 00 <-> 01
    a = np.array([0, 2, 0, 2, 0, 1])
    b = np.array([1, 3, 1, 3, 2, 3])
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    rate = rng.uniform(0.1, 3.0, (5, 40, 12))
    d = rng.normal(size=(40, 12, 4))  # increments broadcast over the first batch axis
    P0 = steady(4, src, dst, rate)
    assert_same(cc.second_order(4, src, dst, rate, d, P0), scaled_cumulants(4, src, dst, rate, d, P0, 2))


def test_round_off_cleaning_matches_the_absolute_moment_rule() -> None:
    rng = np.random.default_rng(9)
    n, src, dst, rate, d = random_network(rng, 4, (200,), q=2)
    d[..., 1] = 0.0
    d[..., 0, 1] = 1.0  # one jump only: C_1 exact, C_2 > 0
    P0 = steady(n, src, dst, rate)
    C = cc.second_order(n, src, dst, rate, d, P0, round_off=0.5)
    g = rate * P0[..., src]
    M = np.stack([np.einsum("pj,pjq->pq", g, np.abs(d) ** k) for k in (1, 2)], axis=-1)
    raw = scaled_cumulants(n, src, dst, rate, d, P0, 2)
    np.testing.assert_array_equal(C == 0, np.abs(raw) <= 0.5 * M)


def test_points_needing_pivoting_fall_back_to_the_numpy_engine() -> None:
    P0 = np.array([[1 / 3, 1 / 6, 1 / 4, 1 / 4], [2 / 3, 1 / 3, 0, 0], [2 / 3, 1 / 3, 0, 0],
                   [0.25, 0.25, 0.25, 0.25]])
    src = np.array([0, 1, 2, 3, 2, 3])
    dst = np.array([1, 0, 3, 2, 0, 1])
    # 0, 1: two closed classes {0, 1}, {2, 3}: P0 on both (no unique steady state: the elimination meets a
    # zero pivot, the NumPy engine gives NaN), P0 on {0, 1} only (the unoccupied class is cut off: the
    # statistics of {0, 1}); 2: 3 -> 2 -> 0 transient; 3: a regular point
    rate = np.array([[1.0, 2.0, 1.0, 1.0, 0.0, 0.0], [1.0, 2.0, 1.0, 1.0, 0.0, 0.0], [1.0, 2.0, 0.0, 1.0, 1.0, 0.0],
                     [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    P0[3] = steady(4, src, dst, rate[3])
    d = np.arange(12.0).reshape(6, 2) - 5
    C = cc.second_order(4, src, dst, rate, d, P0)
    assert_same(C, scaled_cumulants(4, src, dst, rate, d, P0, 2))
    assert np.all(np.isnan(C[0, :, 1])) and np.all(np.isfinite(C[1:]))
    two_state = scaled_cumulants(2, src[:2], dst[:2], rate[1, :2], d[:2], P0[1, :2], 2)
    np.testing.assert_allclose(C[1], two_state, rtol=1e-14)


def test_factored_increments_and_entropy_production() -> None:
    rng = np.random.default_rng(10)
    n_ch = 5
    a, b = np.array([0, 1, 2, 0, 1]), np.array([1, 2, 0, 2, 2])
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    x = rng.normal(0, 2, (100, n_ch))  # ln(k+/k-)
    kp, km = np.exp(x / 2), np.exp(-x / 2)
    rate = np.concatenate([kp, km], axis=-1)
    P0 = steady(3, src, dst, rate)
    E = rng.normal(size=(100, n_ch))
    coef = np.stack([np.r_[np.ones(n_ch), -np.ones(n_ch)], np.r_[np.ones(n_ch), -np.ones(n_ch)]])
    C, sigma = cc.second_order_factored(3, src, dst, rate, P0, coef, [-1, 0], [E], np.arange(10) % n_ch,
                                        log_ratio=x, negligible=1e-290)
    d = np.stack([np.broadcast_to(coef[0], (100, 10)), coef[1] * np.concatenate([E, E], axis=-1)], axis=-1)
    assert_same(C, scaled_cumulants(3, src, dst, rate, d, P0, 2))
    flux = kp * P0[:, a] - km * P0[:, b]
    schnakenberg = np.sum(flux * np.log(kp * P0[:, a] / (km * P0[:, b])), axis=-1)
    np.testing.assert_allclose(sigma, schnakenberg, rtol=1e-12)
    entropy = scaled_cumulants(3, src, dst, rate, np.concatenate([x, -x], axis=-1)[..., None], P0, 1)
    np.testing.assert_allclose(sigma, entropy[:, 0, 0], rtol=1e-10)


def test_bad_order_and_size_are_named() -> None:
    rng = np.random.default_rng(11)
    n, src, dst, rate, d = random_network(rng, 3, (2,), q=1)
    P0 = steady(n, src, dst, rate)
    with pytest.raises(ValueError, match="order must be between 1 and 8 on the compiled route, got 9"):
        cc.second_order(n, src, dst, rate, d, P0, 9)
    with pytest.raises(ValueError, match="increments must have shape"):
        cc.second_order(n, src, dst, rate, d[:, :-1], P0)

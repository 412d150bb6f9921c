"""The compiled finite-frequency noise against the NumPy route, the single level's closed form and
a 40-digit reference; the zero-pivot fallback, invalid points and bad input."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from qdthermo.kinetics import counting, noise_compiled
from tests.kinetics.test_counting import random_network, steady

pytestmark = pytest.mark.skipif(not noise_compiled.available(), reason="Numba unavailable or disabled")


def _scale(src, rate, da, db, P0):  # type: ignore[no-untyped-def]
    """The round-off scale of S_ab: the absolute Schottky sum of one-way transfers."""
    return np.abs(rate * P0[..., src] * da * db).sum(axis=-1)


def test_single_level_closed_form() -> None:
    rng = np.random.default_rng(3)
    gL, gR = rng.uniform(0.1, 3.0, 40), rng.uniform(0.1, 3.0, 40)
    rate = np.stack([gL, gR], axis=-1)
    d = np.array([0.0, 1.0])
    P0 = np.stack([gR, gL], axis=-1) / (gL + gR)[:, None]
    omega = np.array([0.0, 0.3, 1.0, 5.0, 1e4])
    S = noise_compiled.noise_spectrum(2, [0, 1], [1, 0], rate, d, d, P0, omega)
    s, current = gL + gR, gL * gR / (gL + gR)
    exact = current[:, None] * (1 - 2 * (gL * gR)[:, None] / (s[:, None] ** 2 + omega**2))
    np.testing.assert_allclose(S, exact, rtol=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_equals_the_numpy_route_on_random_networks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, src, dst, rate, d = random_network(rng, int(rng.integers(2, 9)), (300,), q=2)
    rate = rate * 10.0 ** rng.uniform(-1.0, 1.0, rate.shape)  # two decades
    P0 = steady(n, src, dst, rate)
    da, db = d[..., 0], d[..., 1]
    omega = np.array([0.0, 1e-3, 0.2, -1.5, 40.0, 1e6])
    S = noise_compiled.noise_spectrum(n, src, dst, rate, da, db, P0, omega)
    ref = counting.noise_spectrum(n, src, dst, rate, da, db, P0, omega)
    scale = _scale(src, rate, da, db, P0)[:, None]
    assert np.all(np.abs(S - ref) <= 1e-13 * (np.abs(ref) + scale))
    # outer=False, one frequency per point, and a batch broadcast against the frequencies
    w = rng.uniform(-3.0, 3.0, 300)
    pair = noise_compiled.noise_spectrum(n, src, dst, rate, da, db, P0, w, outer=False)
    pair_ref = counting.noise_spectrum(n, src, dst, rate, da, db, P0, w, outer=False)
    assert np.all(np.abs(pair - pair_ref) <= 1e-13 * (np.abs(pair_ref) + scale[:, 0]))
    one = noise_compiled.noise_spectrum(n, src, dst, rate[0], da[0], db[0], P0[0], w, outer=False)
    assert one.shape == (300,)
    np.testing.assert_allclose(one, counting.noise_spectrum(n, src, dst, rate[0], da[0], db[0], P0[0], w),
                               rtol=1e-12, atol=1e-13 * scale[0, 0])


def _reference(n, src, dst, rate, da, db, w):  # type: ignore[no-untyped-def]
    """S_ab(omega) of one point in 40-digit arithmetic (its own steady state)."""
    mp.mp.dps = 40
    src, dst = [int(s) for s in src], [int(t) for t in dst]
    k = [mp.mpf(float(r)) for r in rate]
    W = mp.matrix(n, n)
    for j, (s, t) in enumerate(zip(src, dst)):
        W[t, s] += k[j]
        W[s, s] -= k[j]
    A = W.copy()
    for c in range(n):
        A[0, c] = 1
    e0 = mp.matrix(n, 1)
    e0[0] = 1
    p = mp.lu_solve(A, e0)
    G = W + 1j * mp.mpf(float(w)) * mp.eye(n)
    for i in range(n):
        for c in range(n):
            G[i, c] -= 0 if w else max(abs(W[m, m]) for m in range(n)) * p[i]

    def q(d):  # type: ignore[no-untyped-def]
        v = mp.matrix(n, 1)
        c1 = mp.mpf(0)
        for j, (s, t) in enumerate(zip(src, dst)):
            g = k[j] * p[s] * mp.mpf(float(d[j]))
            v[t] += g
            c1 += g
        return v - p * c1

    ya, yb = mp.lu_solve(G, q(da)), mp.lu_solve(G, q(db))
    total = mp.mpf(0)
    for j, s in enumerate(src):
        total += k[j] * (p[s] * mp.mpf(float(da[j])) * mp.mpf(float(db[j]))
                         - mp.mpf(float(da[j])) * yb[s] - mp.mpf(float(db[j])) * ya[s])
    return float(mp.re(total))


def test_stiff_networks_against_a_40_digit_reference() -> None:
    """Rates over six decades: both routes are as close to the exact value (round-off of the solve)."""
    rng = np.random.default_rng(7)
    n, src, dst, rate, d = random_network(rng, 5, (6,), q=2)
    rate = rate * 10.0 ** rng.uniform(-3.0, 3.0, rate.shape)
    P0 = steady(n, src, dst, rate)
    da, db = d[..., 0], d[..., 1]
    omega = np.array([0.0, 0.1, 10.0])
    S = noise_compiled.noise_spectrum(n, src, dst, rate, da, db, P0, omega)
    S_np = counting.noise_spectrum(n, src, dst, rate, da, db, P0, omega)
    scale = _scale(src, rate, da, db, P0)
    for p in range(rate.shape[0]):
        for i, w in enumerate(omega):
            exact = _reference(n, src, dst, rate[p], da[p], db[p], w)
            bound = 1e-10 * (abs(exact) + scale[p])
            assert abs(S[p, i] - exact) <= bound and abs(S_np[p, i] - exact) <= bound


def test_undecided_points_take_the_numpy_route_and_failures_are_nan() -> None:
    # point 1: no jumps at all, no unique steady state (NaN at every frequency); point 2: rates whose sums
    # overflow (a pivot that is not finite): recomputed by the NumPy route, which the compiled one then equals
    src, dst = [0, 0, 1, 2, 1, 2], [1, 2, 0, 0, 2, 1]
    rate = np.array([[1.0, 2.0, 3.0, 1.0, 0.5, 0.5], [0.0] * 6, [1e308, 1e308, 1.0, 1.0, 1.0, 1.0]])
    P0 = np.array([steady(3, src, dst, rate[0]), [1 / 3] * 3, [1e-308, 0.5, 0.5]])
    d = np.array([1.0, -1.0, 0.5, 0.0, 1.0, -0.5])
    omega = np.array([0.0, 2.0])
    with np.errstate(over="ignore", invalid="ignore"):  # the overflowing point's generator
        S = noise_compiled.noise_spectrum(3, src, dst, rate, d, d, P0, omega)
        ref = counting.noise_spectrum(3, src, dst, rate, d, d, P0, omega)
    np.testing.assert_allclose(S[0], ref[0], rtol=1e-13)
    assert np.all(np.isfinite(S[0])) and np.all(np.isnan(S[1])) and np.all(np.isnan(ref[1]))
    np.testing.assert_array_equal(S[2], ref[2])  # the NumPy route's values, bit for bit


def test_bad_input_is_named() -> None:
    args = (2, [0, 1], [1, 0], np.array([1.0, 2.0]), np.array([1.0, 0.0]), np.array([1.0, 0.0]),
            np.array([2 / 3, 1 / 3]))
    with pytest.raises(ValueError, match="omega must be finite"):
        noise_compiled.noise_spectrum(*args, [0.0, np.nan])
    with pytest.raises(ValueError, match="omega must be real"):
        noise_compiled.noise_spectrum(*args, [1j])
    with pytest.raises(ValueError, match="omega must broadcast"):
        noise_compiled.noise_spectrum(*args[:3], np.ones((4, 2)), *args[4:], np.zeros(3), outer=False)
    with pytest.raises(ValueError, match="n must be between 1 and 256"):
        noise_compiled.noise_spectrum(300, *args[1:], 0.0)


@pytest.mark.parametrize("spectrum", [counting.noise_spectrum, noise_compiled.noise_spectrum],
                         ids=["numpy", "compiled"])
def test_several_closed_classes_are_nan_at_every_frequency(spectrum) -> None:  # type: ignore[no-untyped-def]
    """Two separate cycles: no unique steady state. Round-off leaves the LU a tiny pivot, not 0, so only the
    generator's elimination (as for the cumulants) finds it; the NaN does not depend on the rest of the batch."""
    rng = np.random.default_rng(4)
    src, dst = np.array([0, 1, 1, 0, 2, 3, 3, 4, 4, 2]), np.array([1, 0, 0, 1, 3, 2, 4, 3, 2, 4])
    rate = rng.uniform(0.1, 2.0, (60, src.size))
    W = counting.generator(5, src, dst, rate)

    def steady_of(block: np.ndarray) -> np.ndarray:
        A = block.copy()
        A[:, 0, :] = 1.0
        e0 = np.zeros(A.shape[:-1])
        e0[:, 0] = 1.0
        return np.linalg.solve(A, e0[..., None])[..., 0]

    P = np.zeros((60, 5))
    P[:, :2], P[:, 2:] = 0.5 * steady_of(W[:, :2, :2]), 0.5 * steady_of(W[:, 2:, 2:])
    d = rng.normal(size=src.size)
    omega = np.array([0.0, 1e-300, 1.0, 1e3])
    assert np.all(np.isnan(spectrum(5, src, dst, rate, d, d, P, omega)))
    for w in omega:  # each frequency alone
        assert np.isnan(spectrum(5, src, dst, rate[0], d, d, P[0], w))
    # the same network joined into one class is finite (and a disconnected point does not touch its neighbours)
    joined = np.concatenate([src, [1, 2]]), np.concatenate([dst, [2, 1]])
    rate_j = np.concatenate([rate, np.ones((60, 2))], axis=-1)
    P_j = steady(5, *joined, rate_j)
    both = spectrum(5, *joined, np.stack([rate_j[0], np.r_[rate[0], 0.0, 0.0]]), np.r_[d, 0.0, 0.0], np.r_[d, 0.0, 0.0],
                    np.stack([P_j[0], P[0]]), omega)
    assert np.all(np.isfinite(both[0])) and np.all(np.isnan(both[1]))

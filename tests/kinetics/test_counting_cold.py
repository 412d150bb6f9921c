"""Counting statistics at low temperature: rates over hundreds of decades, against exact rational arithmetic.

A two-dot, three-lead network (the paper's four states 00, 10, 01, 11) at ``T`` down to 1/500 of the
level spacing has rates from 1 down to 1e-300, and some that underflow to exactly 0.  Every float64
rate is an exact rational number, so the cumulants of the float64 network are computed exactly with
:class:`fractions.Fraction` (Gaussian elimination, no rounding) and compared with both engines.
Where rates underflow to 0 a state is cut off from the chain (unoccupied and without escape): the
reference is then the exact statistics of the remaining chain.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from qdthermo.kinetics import counting_compiled as cc
from qdthermo.kinetics.counting import scaled_cumulants
from qdthermo.kinetics.group_inverse import DrazinSolver

# jumps of the four states 00, 10, 01, 11: leads t, b on dot L (0 <-> 1, 2 <-> 3), lead r on dot R
_A = np.array([0, 2, 0, 2, 0, 1])
_B = np.array([1, 3, 1, 3, 2, 3])
SRC, DST = np.concatenate([_A, _B]), np.concatenate([_B, _A])


def cold_rates(rng: np.random.Generator, n: int, T: float) -> np.ndarray:
    """``(n, 12)`` Fermi rates ``k^+ = f(x)``, ``k^- = f(-x)``, ``x = (w - mu)/T`` of the six channels."""
    eL, eR, U = rng.uniform(0.5, 2.0, (n, 1)), rng.uniform(0.5, 2.0, (n, 1)), rng.uniform(0.0, 3.0, (n, 1))
    w = np.concatenate([eL, eL + U, eL, eL + U, eR, eR + U], axis=1)  # the channels' transition energies
    lead = np.array([0, 0, 1, 1, 2, 2])  # t, t, b, b, r, r
    mu, temperature = rng.uniform(-1.0, 1.0, (n, 3)), T * rng.uniform(0.5, 2.0, (n, 3))
    x = (w - mu[:, lead]) / temperature[:, lead]
    return np.concatenate([np.exp(-np.logaddexp(0.0, x)), np.exp(-np.logaddexp(0.0, -x))], axis=1)


def _solve(M: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Exact Gaussian elimination with pivoting on non-zero entries."""
    n = len(b)
    M = [row[:] + [bi] for row, bi in zip(M, b)]
    for k in range(n):
        p = next(i for i in range(k, n) if M[i][k] != 0)
        M[k], M[p] = M[p], M[k]
        for i in range(n):
            if i != k and M[i][k] != 0:
                f = M[i][k] / M[k][k]
                M[i] = [a - f * c for a, c in zip(M[i], M[k])]
    return [M[i][n] / M[i][i] for i in range(n)]


def exact_cumulants(rate: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Steady state, ``C_1`` and ``C_2`` of the float64 network, exactly."""
    r = [Fraction(float(v)) for v in rate]
    # states with no non-zero rate in or out are cut off (unoccupied; the chain of the rest is ergodic here)
    states = sorted({int(s) for j, s in enumerate(SRC) if r[j] > 0} | {int(t) for j, t in enumerate(DST) if r[j] > 0})
    idx = {s: i for i, s in enumerate(states)}
    m = len(states)
    W = [[Fraction(0)] * m for _ in range(m)]
    W1, W2 = [[Fraction(0)] * m for _ in range(m)], [[Fraction(0)] * m for _ in range(m)]
    for j, (s, t) in enumerate(zip(SRC, DST)):
        if int(s) in idx and int(t) in idx:
            a, b, dj = idx[int(s)], idx[int(t)], Fraction(float(d[j]))
            W[b][a] += r[j]
            W[a][a] -= r[j]
            W1[b][a] += r[j] * dj
            W2[b][a] += r[j] * dj * dj
    norm = [[Fraction(1)] * m] + W[1:]
    P = _solve(norm, [Fraction(1)] + [Fraction(0)] * (m - 1))
    c1 = sum(W1[b][a] * P[a] for a in range(m) for b in range(m))
    v = [sum(W1[b][a] * P[a] for a in range(m)) - c1 * P[b] for b in range(m)]
    x = _solve(norm, [Fraction(0)] + v[1:])  # W x = v, 1^T x = 0
    c2 = sum(W2[b][a] * P[a] for a in range(m) for b in range(m)) - 2 * sum(
        W1[b][a] * x[a] for a in range(m) for b in range(m))
    P0 = np.zeros(4)
    P0[states] = [float(p) for p in P]
    return P0, float(c1), float(c2)


@pytest.mark.parametrize("T", [0.1, 0.02, 0.005, 0.002])
def test_both_engines_equal_the_exact_cumulants_at_low_temperature(T: float) -> None:
    rng = np.random.default_rng(int(1000 * T))
    rate = cold_rates(rng, 40, T)
    d = np.zeros((12, 2))
    d[[0, 1], 0], d[[6, 7], 0] = 1.0, -1.0  # particles into dot L from lead t
    d[[2, 3], 1], d[[8, 9], 1] = 1.5, -1.5  # energy into dot L from lead b (any fixed weights)
    exact = [[exact_cumulants(rate[p], d[:, q]) for q in range(2)] for p in range(len(rate))]
    P0 = np.array([e[0][0] for e in exact])
    ref = np.array([[[c1, c2] for _, c1, c2 in e] for e in exact])
    assert np.any(rate == 0.0) == (T <= 0.005)  # the coldest batches have underflowing rates
    engines = [scaled_cumulants(4, SRC, DST, rate, d, P0, 2)]
    if cc.available():
        engines.append(cc.second_order(4, SRC, DST, rate, d, P0, 2))
    for C in engines:
        assert np.all(np.isfinite(C))
        # relative to the exact value, down to C_2 of 1e-300 (a floor of 1e-300 for the exact zeros)
        np.testing.assert_array_less(np.abs(C - ref), 1e-12 * np.maximum(np.abs(ref), 1e-300))


def test_both_engines_equal_the_exact_cumulants_with_couplings_over_twelve_decades() -> None:
    rng = np.random.default_rng(17)
    rate = cold_rates(rng, 60, 0.5)
    gamma = 10.0 ** rng.uniform(-6, 6, (60, 6))
    rate *= np.concatenate([gamma, gamma], axis=1)
    d = np.zeros((12, 2))
    d[[0, 1], 0], d[[6, 7], 0] = 1.0, -1.0
    d[[2, 3], 1], d[[8, 9], 1] = 1.5, -1.5
    exact = [[exact_cumulants(rate[p], d[:, q]) for q in range(2)] for p in range(len(rate))]
    P0 = np.array([e[0][0] for e in exact])
    ref = np.array([[[c1, c2] for _, c1, c2 in e] for e in exact])
    # the absolute moments M_k = sum_j rate_j P0[src_j] |d_j|^k: the round-off scale where C_k cancels
    M = np.stack([(rate * P0[:, SRC]) @ np.abs(d) ** k for k in (1, 2)], axis=-1)
    engines = [scaled_cumulants(4, SRC, DST, rate, d, P0, 2)]
    if cc.available():
        engines.append(cc.second_order(4, SRC, DST, rate, d, P0, 2))
    for C in engines:  # the conditioning grows with the coupling ratio: 3e-12 at 1e12 here (the natural order: 1e-11)
        np.testing.assert_array_less(np.abs(C - ref), 1e-11 * np.maximum(np.abs(ref), M))


def test_drazin_cuts_unoccupied_states_only_when_asked() -> None:
    # state 3 is isolated (its rates underflowed) and unoccupied: cut off, or the point is singular
    rate = np.array([1.0, 0.0, 2.0, 0.0, 0.5, 0.0, 3.0, 0.0, 1.5, 0.0, 0.7, 0.0])
    W = np.zeros((4, 4))
    np.add.at(W, (DST, SRC), rate)
    W -= np.diag(W.sum(axis=0))
    P0 = exact_cumulants(rate, np.zeros(12))[0]
    assert P0[3] == 0.0
    b = np.array([1.0, -0.5, -0.5, 0.0])
    cut = DrazinSolver(W, P0, cut_unoccupied=True)
    x = cut.apply(b)
    assert not cut.singular and x[3] == 0.0
    np.testing.assert_allclose(W @ x, b, atol=1e-15)
    np.testing.assert_allclose(x.sum(), 0.0, atol=1e-15)
    strict = DrazinSolver(W, P0)
    assert strict.singular and np.all(np.isnan(strict.apply(b)))

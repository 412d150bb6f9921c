"""Counting statistics: single resonant level (analytic), cumulants against contour-integral finite
differences of the dominant eigenvalue, joint cumulants, fluctuation theorem, TUR, fluctuation-dissipation,
finite-frequency noise, QuTiP and input validation."""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from qdthermo.kinetics.counting import (
    cgf,
    covariance,
    covariance_matrix,
    generator,
    joint_cumulant,
    noise_spectrum,
    scaled_cumulants,
    tilted_generator,
)
from qdthermo.kinetics.group_inverse import stationary_dense


# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------
def random_network(rng: np.random.Generator, n: int, shape: tuple[int, ...], q: int = 2):  # type: ignore[no-untyped-def]
    """Directed ring (ergodic) + random jumps (parallel ones included) + one self-loop; random increments."""
    extra = int(rng.integers(n, 2 * n + 1))
    src = np.concatenate([np.arange(n), rng.integers(0, n, extra), [0]])
    dst = np.concatenate([(np.arange(n) + 1) % n, rng.integers(0, n, extra), [0]])
    keep = (src != dst) | (np.arange(src.size) == src.size - 1)
    src, dst = src[keep], dst[keep]
    rate = rng.uniform(0.2, 2.0, shape + (src.size,))
    d = rng.normal(0.0, 0.6, shape + (src.size, q))
    return n, src, dst, rate, d


def ldb_network(rng: np.random.Generator, n: int, shape: tuple[int, ...], n_forces: int = 2, scale: float = 1.0):  # type: ignore[no-untyped-def]
    """Channels (ring + random pairs, parallel channels allowed) with local detailed balance.

    Each channel c joins a -> b with forward/backward jumps; its currents d_c (forward +d, backward -d)
    and affinity x_c = E_a - E_b + A . d_c give k+ / k- = exp(x_c).  Returns the network, the state
    energies, the force vector A and the current increments (n_forces antisymmetric currents)."""
    extra = int(rng.integers(1, n + 1))
    a = np.concatenate([np.arange(n), rng.integers(0, n, extra)])
    b = np.concatenate([(np.arange(n) + 1) % n, rng.integers(0, n, extra)])
    keep = a != b
    a, b = a[keep], b[keep]
    n_ch = a.size
    E = rng.normal(0, scale, shape + (n,))
    A = rng.normal(0, scale, shape + (n_forces,))
    dc = rng.normal(0, 1, shape + (n_ch, n_forces))
    return a, b, E, A, dc


def ldb_rates(a, b, E, A, dc, gamma):  # type: ignore[no-untyped-def]
    x = E[..., a] - E[..., b] + np.einsum("...cf,...f->...c", dc, A)
    kp, km = gamma * np.exp(x / 2), gamma * np.exp(-x / 2)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    rate = np.concatenate([kp, km], axis=-1)
    sigma = np.concatenate([x, -x], axis=-1)  # entropy increment ln(k_j / k_reverse(j))
    currents = np.concatenate([dc, -dc], axis=-2)
    return src, dst, rate, sigma, currents


def steady(n, src, dst, rate):  # type: ignore[no-untyped-def]
    return stationary_dense(generator(n, src, dst, rate))


def contour_cumulants(n, src, dst, rate, d, orders: int, r: float = 0.1, m: int = 48) -> np.ndarray:  # type: ignore[no-untyped-def]
    """C_k = k! [s^k] lambda(s e_a) by the trapezoidal Cauchy integral on |s| = r (s = i chi), via :func:`cgf`."""
    q = d.shape[-1]
    shape = np.broadcast_shapes(rate.shape[:-1], d.shape[:-2])
    theta = 2 * np.pi * np.arange(m) / m
    out = np.empty(shape + (q, orders))
    for a in range(q):
        lam = []
        for t in theta:
            chi = np.zeros(shape + (q,), dtype=complex)
            chi[..., a] = -1j * r * np.exp(1j * t)
            lam.append(cgf(n, src, dst, rate, d, chi))
        lam_arr = np.stack(lam, axis=-1)
        for k in range(1, orders + 1):
            coeff = np.mean(lam_arr * np.exp(-1j * k * theta), axis=-1) / r**k
            assert np.all(np.abs(coeff.imag) < 1e-8 * (1 + np.abs(coeff.real)))
            out[..., a, k - 1] = factorial(k) * coeff.real
    return out


# --------------------------------------------------------------------------------------------
# single resonant level
# --------------------------------------------------------------------------------------------
def test_single_resonant_level_current_fano_and_third_cumulant() -> None:
    rng = np.random.default_rng(0)
    gL, gR = rng.uniform(0.1, 3.0, (2, 50))
    rate = np.stack([gL, gR], axis=-1)  # 0 -> 1 (in from L), 1 -> 0 (out to R)
    d = np.array([[0.0], [1.0]])  # count the electrons leaving to R
    P0 = np.stack([gR, gL], axis=-1) / (gL + gR)[:, None]
    C = scaled_cumulants(2, [0, 1], [1, 0], rate, d, P0, order=3)[:, 0]
    s = gL + gR
    current = gL * gR / s
    np.testing.assert_allclose(C[:, 0], current, rtol=1e-13)
    np.testing.assert_allclose(C[:, 1] / C[:, 0], (gL**2 + gR**2) / s**2, rtol=1e-12)
    # Bagrets & Nazarov PRB 67, 085316 (2003): F3 = 1 - 6 gL gR (gL^2 + gR^2) / (gL + gR)^4
    np.testing.assert_allclose(C[:, 2] / C[:, 0], 1 - 6 * gL * gR * (gL**2 + gR**2) / s**4, rtol=1e-11)
    # analytic CGF: lambda(s) = [-(gL + gR) + sqrt((gL - gR)^2 + 4 gL gR e^{i chi})] / 2
    chi = rng.uniform(-2, 2, 50)
    lam = cgf(2, [0, 1], [1, 0], rate, d, chi[:, None])
    exact = (-s + np.sqrt((gL - gR) ** 2 + 4 * gL * gR * np.exp(1j * chi))) / 2
    np.testing.assert_allclose(lam, exact, rtol=1e-12, atol=1e-14)
    # finite-frequency noise: S(omega) = I [1 - 2 gL gR / ((gL + gR)^2 + omega^2)]
    omega = np.array([0.0, 0.3, 1.0, 5.0])
    S = noise_spectrum(2, [0, 1], [1, 0], rate, d[:, 0], d[:, 0], P0, omega)
    np.testing.assert_allclose(S, current[:, None] * (1 - 2 * (gL * gR)[:, None] / (s[:, None] ** 2 + omega**2)),
                               rtol=1e-11)


# --------------------------------------------------------------------------------------------
# cumulants against the dominant eigenvalue
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_cumulants_match_contour_derivatives_of_the_dominant_eigenvalue(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    n, src, dst, rate, d = random_network(rng, n, (3, 2), q=2)
    P0 = steady(n, src, dst, rate)
    C = scaled_cumulants(n, src, dst, rate, d, P0, order=4)
    ref = contour_cumulants(n, src, dst, rate, d, 4)
    np.testing.assert_allclose(C, ref, rtol=1e-7, atol=1e-9)
    # the CGF vanishes at chi = 0 and the tilted generator reduces to W
    np.testing.assert_allclose(cgf(n, src, dst, rate, d, np.zeros(2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(tilted_generator(n, src, dst, rate, d, np.zeros(2)), generator(n, src, dst, rate))


def test_increments_broadcast_and_batch_shapes() -> None:
    rng = np.random.default_rng(10)
    n, src, dst, rate, d = random_network(rng, 4, (5,), q=3)
    d_shared = d[0]  # (n_jumps, q), shared by the batch
    P0 = steady(n, src, dst, rate)
    C = scaled_cumulants(n, src, dst, rate, d_shared, P0, order=3)
    assert C.shape == (5, 3, 3)
    C_loop = np.stack([scaled_cumulants(n, src, dst, rate[i], d_shared, P0[i], 3) for i in range(5)])
    np.testing.assert_allclose(C, C_loop, rtol=1e-12, atol=1e-14)


def test_joint_cumulants_agree_with_univariate_and_polarisation() -> None:
    rng = np.random.default_rng(11)
    n, src, dst, rate, d = random_network(rng, 5, (4,), q=3)
    P0 = steady(n, src, dst, rate)
    a, b, c = (d[..., i] for i in range(3))
    C = scaled_cumulants(n, src, dst, rate, d, P0, order=4)
    for k in range(1, 5):
        np.testing.assert_allclose(joint_cumulant(n, src, dst, rate, [a] * k, P0), C[:, 0, k - 1], rtol=1e-10,
                                   atol=1e-12)
    # covariance: matrix, pairwise function and polarisation C2(a + b) = C2(a) + C2(b) + 2 cov
    cov = covariance_matrix(n, src, dst, rate, d, P0)
    np.testing.assert_allclose(cov, np.swapaxes(cov, -1, -2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.diagonal(cov, axis1=-2, axis2=-1), C[..., 1], rtol=1e-10)
    np.testing.assert_allclose(covariance(n, src, dst, rate, a, b, P0), cov[:, 0, 1], rtol=1e-10, atol=1e-12)
    sums = np.stack([a + b, a + c, b + c, a + b + c], axis=-1)
    C_sum = scaled_cumulants(n, src, dst, rate, sums, P0, order=3)
    np.testing.assert_allclose(C_sum[:, 0, 1], C[:, 0, 1] + C[:, 1, 1] + 2 * cov[:, 0, 1], rtol=1e-10)
    # third order: 6 k(a, b, c) = C3(a+b+c) - C3(a+b) - C3(a+c) - C3(b+c) + C3(a) + C3(b) + C3(c)
    k3 = joint_cumulant(n, src, dst, rate, [a, b, c], P0)
    polar = C_sum[:, 3, 2] - C_sum[:, 0, 2] - C_sum[:, 1, 2] - C_sum[:, 2, 2] + C[:, :, 2].sum(axis=-1)
    np.testing.assert_allclose(6 * k3, polar, rtol=1e-9, atol=1e-11)
    # the joint cumulant is symmetric in its arguments
    np.testing.assert_allclose(joint_cumulant(n, src, dst, rate, [c, a, b], P0), k3, rtol=1e-10, atol=1e-12)


def test_real_tilts_take_the_real_eigenvalue_route() -> None:
    """chi = -i s: the real tilted generator's Perron root (dgeev) equals the complex route's eigenvalue
    (zgeev on the same matrix) to round-off of ||W||, is exactly real, and obeys the fluctuation theorem."""
    rng = np.random.default_rng(21)
    n, src, dst, rate, d = random_network(rng, 5, (200,), q=2)
    s = rng.uniform(-1.5, 1.5, (200, 2))
    lam = cgf(n, src, dst, rate, d, -1j * s)
    assert lam.dtype == np.complex128 and np.all(lam.imag == 0)
    W = tilted_generator(n, src, dst, rate, d, -1j * s)
    assert W.dtype == np.complex128
    ev = np.linalg.eigvals(W)
    ref = np.take_along_axis(ev, np.argmax(ev.real, axis=-1)[:, None], axis=-1)[:, 0]
    norm = np.abs(W).sum(axis=-2).max(axis=-1)
    assert np.all(np.abs(lam - ref) <= 1e-14 * norm)
    # a field with a real part takes the complex route: the real tilt plus 1e-300 is the same branch
    np.testing.assert_allclose(cgf(n, src, dst, rate, d, -1j * s + 1e-300), lam, rtol=0, atol=1e-14 * norm.max())


def test_cgf_is_nan_where_it_cannot_be_resolved_and_right_elsewhere() -> None:
    """A tilt that overflows is NaN without taking down the batch; on a cold, strongly biased device the
    tilted rates of strong real tilts span ~50 decades, and every value is either NaN or the 60-digit
    reference's (lambda(s) = lambda(-1 - s) for the entropy)."""
    import mpmath as mp

    import qdthermo as qd

    lam = cgf(2, [0, 1], [1, 0], [1.0, 2.0], [[1.0], [-1.0]], [[-1j], [-800j]])
    assert np.isfinite(lam[0]) and np.isnan(lam[1])
    dev = qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 0.05, "b": 0.02, "r": 0.02},
                            mu={"t": 0.2, "b": 0.0, "r": 0.0})
    fl = qd.fluctuations(dev, counting=["entropy"])
    n, src, dst, rate, _ = fl._jumps()
    sigma = np.broadcast_to(fl.increments("entropy"), rate.shape)
    s = np.array([-2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    ours = cgf(n, src, dst, rate, sigma[:, None], (-1j * s)[:, None])
    mp.mp.dps = 60
    for value, tilt in zip(ours, s):
        W = mp.zeros(n, n)
        for j, (a, b) in enumerate(zip(src, dst)):
            W[int(b), int(a)] += mp.mpf(float(rate[j])) * mp.exp(mp.mpf(float(tilt)) * mp.mpf(float(sigma[j])))
            W[int(a), int(a)] -= mp.mpf(float(rate[j]))
        exact = float(max(mp.re(z) for z in mp.eig(W, left=False, right=False)))
        assert np.isnan(value) or abs(value - exact) <= 1e-9 * max(abs(exact), 1.0), (tilt, value, exact)
    assert np.all(np.isfinite(ours[3:6]))  # s = -1, -0.5, 0: resolved


# --------------------------------------------------------------------------------------------
# thermodynamics: fluctuation theorem, TUR, equilibrium
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_gallavotti_cohen_symmetry(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(3, 8))
    a, b, E, A, dc = ldb_network(rng, n, (6,))
    gamma = rng.uniform(0.2, 2.0, (6, a.size))
    src, dst, rate, sigma, currents = ldb_rates(a, b, E, A, dc, gamma)
    # entropy counting: lambda(chi) = lambda(-chi + i)
    chi = rng.uniform(-2, 2, (6, 1)) + 1j * rng.uniform(-0.5, 1.5, (6, 1))
    s = sigma[..., None]
    np.testing.assert_allclose(cgf(n, src, dst, rate, s, chi), cgf(n, src, dst, rate, s, -chi + 1j),
                               rtol=1e-9, atol=1e-11)
    # joint over the independent channel currents, each with its affinity x_c: lambda(chi) = lambda(-chi + i x)
    n_ch = a.size
    d_ch = np.concatenate([np.eye(n_ch), -np.eye(n_ch)], axis=0)
    x = sigma[..., :n_ch]
    chi_v = rng.uniform(-2, 2, (6, n_ch))
    np.testing.assert_allclose(cgf(n, src, dst, rate, d_ch, chi_v), cgf(n, src, dst, rate, d_ch, -chi_v + 1j * x),
                               rtol=1e-9, atol=1e-11)


def test_thermodynamic_uncertainty_relation_on_random_points() -> None:
    rng = np.random.default_rng(7)
    n_points = 20_000
    for n in (3, 4, 6):
        a, b, E, A, dc = ldb_network(rng, n, (n_points,), n_forces=3, scale=1.5)
        gamma = 10 ** rng.uniform(-1, 1, (n_points, a.size))
        src, dst, rate, sigma, currents = ldb_rates(a, b, E, A, dc, gamma)
        P0 = steady(n, src, dst, rate)
        J = np.concatenate([currents, sigma[..., None]], axis=-1)
        C = scaled_cumulants(n, src, dst, rate, J, P0, order=2)
        Sigma = C[:, -1, 0]
        assert np.all(Sigma > 0)
        # Sigma C2 >= 2 C1^2, up to the round-off of the net fluxes Sigma and C1 (each a sum of one-way
        # fluxes that cancel near equilibrium)
        one_way = np.einsum("nj,njq,nj->nq", rate, np.abs(J), P0[:, src])
        schottky = np.einsum("nj,njq,nj->nq", rate, J**2, P0[:, src])
        slack = Sigma[:, None] * C[:, :, 1] - 2 * C[:, :, 0] ** 2
        tol = 1e-11 * (one_way[:, -1:] * C[:, :, 1] + 4 * np.abs(C[:, :, 0]) * one_way)
        tol += 1e-9 * Sigma[:, None] * schottky
        assert np.all(slack >= -tol), np.min(slack / tol)
        ratio = Sigma[:, None] * C[:, :, 1] / C[:, :, 0] ** 2
        assert np.min(ratio) < 2.5  # the bound is approached at some random points
    # equality limit near equilibrium: the entropy current itself, ratio -> 2 + O(force)
    for eps in (1e-2, 1e-3):
        a, b, E, A, dc = ldb_network(np.random.default_rng(8), 5, (50,), n_forces=2)
        src, dst, rate, sigma, _ = ldb_rates(a, b, E, eps * A, dc, 1.0)
        P0 = steady(5, src, dst, rate)
        C = scaled_cumulants(5, src, dst, rate, sigma[..., None], P0, 2)[:, 0]
        ratio = C[:, 0] * C[:, 1] / C[:, 0] ** 2
        assert np.all(np.abs(ratio - 2) < 50 * eps)


def test_equilibrium_fluctuation_dissipation_and_onsager() -> None:
    rng = np.random.default_rng(9)
    n, shape = 5, (8,)
    a, b, E, A, dc = ldb_network(rng, n, shape, n_forces=3)
    gamma = rng.uniform(0.2, 2.0, shape + (a.size,))
    zero = np.zeros_like(A)
    src, dst, rate, sigma, currents = ldb_rates(a, b, E, zero, dc, gamma)
    P0 = steady(n, src, dst, rate)
    # the entropy counted at detailed balance is a boundary term: every cumulant vanishes
    Cs = scaled_cumulants(n, src, dst, rate, sigma[..., None], P0, order=4)
    assert np.all(np.abs(Cs) < 1e-11)
    cov = covariance_matrix(n, src, dst, rate, currents, P0)
    # Onsager matrix L_ab = d C1(J_a) / d A_b at A = 0, centred differences
    h = 1e-5
    L = np.empty(shape + (3, 3))
    for f in range(3):
        dA = np.zeros_like(A)
        dA[..., f] = h
        cur = []
        for sgn in (1, -1):
            s_, d_, r_, _, c_ = ldb_rates(a, b, E, sgn * dA, dc, gamma)
            cur.append(scaled_cumulants(n, s_, d_, r_, c_, steady(n, s_, d_, r_), 1)[..., 0])
        L[..., :, f] = (cur[0] - cur[1]) / (2 * h)
    np.testing.assert_allclose(L, np.swapaxes(L, -1, -2), rtol=1e-6, atol=1e-9)  # Onsager reciprocity
    np.testing.assert_allclose(cov, 2 * L, rtol=1e-6, atol=1e-9)  # fluctuation-dissipation
    # the mean currents vanish and the covariance equals the finite-frequency noise at omega = 0
    assert np.all(np.abs(scaled_cumulants(n, src, dst, rate, currents, P0, 1)) < 1e-12)
    S0 = noise_spectrum(n, src, dst, rate, currents[..., 0], currents[..., 1], P0, 0.0)
    np.testing.assert_allclose(S0, cov[..., 0, 1], rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------------
# finite-frequency noise
# --------------------------------------------------------------------------------------------
def _spectrum_routes() -> list[object]:
    """The NumPy route and, where Numba is available, the compiled one (the same tests for both)."""
    from qdthermo.kinetics import noise_compiled

    compiled = pytest.param(noise_compiled.noise_spectrum, id="compiled", marks=pytest.mark.skipif(
        not noise_compiled.available(), reason="Numba unavailable or disabled"))
    return [pytest.param(noise_spectrum, id="numpy"), compiled]


@pytest.mark.parametrize("noise_spectrum", _spectrum_routes())
def test_noise_spectrum_limits_symmetry_and_independent_route(noise_spectrum) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(12)
    n, src, dst, rate, d = random_network(rng, 6, (4,), q=2)
    P0 = steady(n, src, dst, rate)
    da, db = d[..., 0], d[..., 1]
    omega = np.array([[0.0, 0.1], [-0.7, 3.0]])
    S_ab = noise_spectrum(n, src, dst, rate, da, db, P0, omega)
    assert S_ab.shape == (4, 2, 2) and S_ab.dtype == np.float64
    np.testing.assert_allclose(S_ab, noise_spectrum(n, src, dst, rate, db, da, P0, omega), rtol=1e-12)
    np.testing.assert_allclose(S_ab, noise_spectrum(n, src, dst, rate, da, db, P0, -omega), rtol=1e-10)
    np.testing.assert_allclose(S_ab[:, 0, 0], covariance(n, src, dst, rate, da, db, P0), rtol=1e-10, atol=1e-12)
    schottky = np.einsum("...j,...j,...j,...j->...", rate, da, db, P0[..., src])
    S_inf = noise_spectrum(n, src, dst, rate, da, db, P0, 1e9)
    np.testing.assert_allclose(S_inf, schottky, rtol=1e-6, atol=1e-9)
    # independent route: S = schottky + 2 Re int_0^inf cos... via (W + i omega)^{-1} Q, omega != 0
    W = generator(n, src, dst, rate)
    Q = np.eye(n) - P0[..., :, None]
    O = np.zeros((n, src.size))
    O[dst, np.arange(src.size)] = 1.0

    def jump(x):  # type: ignore[no-untyped-def]
        return np.einsum("kj,...j->...kj", O, x)

    for w in (0.1, -0.7, 3.0):
        G = np.linalg.inv(W + 1j * w * np.eye(n)) @ Q
        Wa = np.einsum("kj,...j,...j->...k", O, rate * da, P0[..., src])
        Wb = np.einsum("kj,...j,...j->...k", O, rate * db, P0[..., src])
        ta = np.einsum("...j,...j->...", rate * da, np.einsum("...kl,...l->...k", G, Wb)[..., src])
        tb = np.einsum("...j,...j->...", rate * db, np.einsum("...kl,...l->...k", G, Wa)[..., src])
        ref = schottky - (ta + tb).real
        np.testing.assert_allclose(noise_spectrum(n, src, dst, rate, da, db, P0, w), ref, rtol=1e-10, atol=1e-12)
    # outer=False: one frequency per batch point
    w_b = np.array([0.0, 0.1, -0.7, 3.0])
    S_b = noise_spectrum(n, src, dst, rate, da, db, P0, w_b, outer=False)
    np.testing.assert_allclose(S_b, np.diagonal(noise_spectrum(n, src, dst, rate, da, db, P0, w_b)), rtol=1e-12)
    with pytest.raises(ValueError, match="omega must broadcast"):
        noise_spectrum(n, src, dst, rate, da, db, P0, np.zeros(3), outer=False)
    with pytest.raises(ValueError, match="omega must be finite"):
        noise_spectrum(n, src, dst, rate, da, db, P0, [0.0, np.inf])
    with pytest.raises(ValueError, match="omega must be real"):
        noise_spectrum(n, src, dst, rate, da, db, P0, [1j])


# --------------------------------------------------------------------------------------------
# QuTiP
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_current_and_noise_match_qutip(seed: int) -> None:
    qutip = pytest.importorskip("qutip")
    rng = np.random.default_rng(200 + seed)
    n = 4
    # two "leads": lead 0 moves states 0<->1, 2<->3; lead 1 moves 0<->2, 1<->3 (particle in = +1)
    src = np.array([0, 1, 2, 3, 0, 2, 1, 3])
    dst = np.array([1, 0, 3, 2, 2, 0, 3, 1])
    rate = rng.uniform(0.2, 2.0, 8)
    d = np.zeros((8, 2))
    d[[0, 2], 0], d[[1, 3], 0] = 1.0, -1.0
    d[[4, 6], 1], d[[5, 7], 1] = 1.0, -1.0
    P0 = steady(n, src, dst, rate)
    ket = [qutip.basis(n, i) for i in range(n)]
    c_ops = [np.sqrt(rate[j]) * ket[dst[j]] * ket[src[j]].dag() for j in range(8)]
    H = qutip.Qobj(np.diag(rng.normal(size=n) * 3))
    L = qutip.liouvillian(H, c_ops)
    sp = [qutip.sprepost(c, c.dag()) for c in c_ops]
    I_ops = [sp[0] - sp[1] + sp[2] - sp[3], sp[4] - sp[5] + sp[6] - sp[7]]
    J_ops = [sp[0] + sp[1] + sp[2] + sp[3], sp[4] + sp[5] + sp[6] + sp[7]]
    omega = [0.0, 0.5, 2.0]
    current, noise, _ = qutip.countstat_current_noise(L, [], wlist=omega, J_ops=J_ops, I_ops=I_ops, sparse=False,
                                                      method="numpy")
    C = scaled_cumulants(n, src, dst, rate, d, P0, 2)
    np.testing.assert_allclose(C[:, 0], current, rtol=1e-8, atol=1e-12)
    for i in range(2):
        for j in range(2):
            S = noise_spectrum(n, src, dst, rate, d[:, i], d[:, j], P0, np.array(omega))
            np.testing.assert_allclose(S, noise[i, j], rtol=1e-7, atol=1e-10)


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def test_bad_input_names_the_parameter() -> None:
    rng = np.random.default_rng(13)
    n, src, dst, rate, d = random_network(rng, 3, (2,), q=1)
    P0 = steady(n, src, dst, rate)
    for order in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="order must be an integer >= 1"):
            scaled_cumulants(n, src, dst, rate, d, P0, order)  # type: ignore[arg-type]
    for bad in (np.nan, np.inf, complex(0, np.nan)):
        with pytest.raises(ValueError, match="chi must be finite"):
            cgf(n, src, dst, rate, d, np.full((2, 1), bad))
    with pytest.raises(ValueError, match="chi must have shape"):
        cgf(n, src, dst, rate, d, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="increments must have shape"):
        scaled_cumulants(n, src, dst, rate, d[:, :-1], P0, 2)
    with pytest.raises(ValueError, match="P0 must have shape"):
        scaled_cumulants(n, src, dst, rate, d, P0[:, :-1], 2)
    with pytest.raises(ValueError, match="batch shapes do not broadcast"):
        scaled_cumulants(n, src, dst, rate, d, np.ones((3, n)) / n, 2)
    with pytest.raises(ValueError, match="rate must be finite and >= 0"):
        scaled_cumulants(n, src, dst, -rate, d, P0, 2)
    with pytest.raises(ValueError, match=r"src must hold state indices in \[0, 2\]"):
        scaled_cumulants(n, src + 5, dst, rate, d, P0, 2)
    with pytest.raises(ValueError, match="src and dst must have the same length"):
        scaled_cumulants(n, src, dst[:-1], rate, d, P0, 2)
    with pytest.raises(ValueError, match=r"increments\[1\] must have shape"):
        covariance(n, src, dst, rate, d[..., 0], d[..., :-1, 0], P0)
    with pytest.raises(ValueError, match="increments must hold between 1 and"):
        joint_cumulant(n, src, dst, rate, [], P0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        generator(0, src, dst, rate)


def test_reducible_batch_point_gives_nan_without_raising() -> None:
    P0 = np.array([[1 / 3, 1 / 6, 1 / 4, 1 / 4], [2 / 3, 1 / 3, 0, 0], [2 / 3, 1 / 3, 0, 0]])
    src1 = np.array([0, 1, 2, 3, 2])
    dst1 = np.array([1, 0, 3, 2, 0])
    # points 0, 1: two closed classes {0, 1}, {2, 3}; point 0's P0 weighs both (no unique steady state: NaN),
    # point 1's only {0, 1}, where the process started in P0 stays: the statistics of that class;
    # point 2: 3 -> 2 -> 0 transient, unique steady state
    rate1 = np.array([[1.0, 2.0, 1.0, 1.0, 0.0], [1.0, 2.0, 1.0, 1.0, 0.0], [1.0, 2.0, 0.0, 1.0, 1.0]])
    d = np.ones((5, 1))
    C = scaled_cumulants(4, src1, dst1, rate1, d, P0, 3)
    assert np.all(np.isnan(C[0, :, 1:]))
    two_state = scaled_cumulants(2, src1[:2], dst1[:2], rate1[1, :2], d[:2], P0[1, :2], 3)
    np.testing.assert_allclose(C[1], two_state, rtol=1e-14)
    assert np.all(np.isfinite(C[2]))


def test_steady_state_with_more_batch_axes_than_the_rates() -> None:
    rng = np.random.default_rng(14)
    n, src, dst, rate, d = random_network(rng, 4, (), q=2)
    P0 = steady(n, src, dst, rate)
    P0_b = np.broadcast_to(P0, (3, n))
    for order in (1, 2, 3):
        C = scaled_cumulants(n, src, dst, rate, d, P0_b, order)
        assert C.shape == (3, 2, order)
        np.testing.assert_allclose(C, np.broadcast_to(scaled_cumulants(n, src, dst, rate, d, P0, order), C.shape),
                                   rtol=1e-12, atol=1e-14)

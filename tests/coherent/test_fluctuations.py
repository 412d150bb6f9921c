"""Counting statistics of the density-matrix approaches: qd.fluctuations(device, approach=...).

Checks: analytic results at infinite bias (Stoof-Nazarov current and Fano factor; the non-interacting
double dot against the Levitov-Lesovik integrals of its transmission), the recursion against contour
derivatives of the dominant eigenvalue of the tilted Liouvillian, C_1 against the mean currents, the
Pauli limit, the Gallavotti-Cohen symmetry and the TUR of the global equation, and QuTiP's
``countstat_current_noise`` on the same Liouvillian.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest
from scipy.integrate import quad

import qdthermo as qd
from qdthermo.thermo.coherent_counting import CoherentFluctuations

from .test_thermodynamics import _capacitive

BIAS = {"L": 1e3, "R": -1e3}


def _random_device(rng: np.random.Generator, n: int) -> qd.Device:
    return qd.serial_double_dot(rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n),
                                U=rng.uniform(0, 3, n), T={"L": rng.uniform(0.2, 2, n), "R": rng.uniform(0.2, 2, n)},
                                mu={"L": rng.uniform(-1.5, 1.5, n), "R": rng.uniform(-1.5, 1.5, n)},
                                gamma={"L": rng.uniform(0.05, 1, n), "R": rng.uniform(0.05, 1, n)})


def test_stoof_nazarov_current_and_fano_factor() -> None:
    """U -> infinity, infinite bias, detuning eps = eps_L - eps_R, hopping Omega: the current of Stoof and
    Nazarov and the Fano factor of Elattari and Gurvitz (Phys. Lett. A 292, 289 (2002); the form of
    Kiesslich et al.), F = 1 - 8 G_L W^2 [4 eps^2 (G_R - G_L) + G_R (3 G_L G_R + G_R^2 + 8 W^2)]
    / [G_R^2 G_L + 4 eps^2 G_L + 4 W^2 (G_R + 2 G_L)]^2."""
    rng = np.random.default_rng(11)
    n = 20
    GL, GR, W, eps = rng.uniform(0.1, 2, n), rng.uniform(0.1, 2, n), rng.uniform(0.01, 3, n), rng.uniform(-2, 2, n)
    dev = qd.serial_double_dot(eps / 2, -eps / 2, W, U=1e4, T=0.05, mu=BIAS, gamma={"L": GL, "R": GR})
    fl = qd.fluctuations(dev, approach="local")
    assert isinstance(fl, qd.CoherentFluctuations) and fl.__class__ is CoherentFluctuations
    current = GR * W**2 / (W**2 * (2 + GR / GL) + GR**2 / 4 + eps**2)
    fano = 1 - 8 * GL * W**2 * (4 * eps**2 * (GR - GL) + GR * (3 * GL * GR + GR**2 + 8 * W**2)) / (
        GR**2 * GL + 4 * eps**2 * GL + 4 * W**2 * (GR + 2 * GL)) ** 2
    np.testing.assert_allclose(fl.cumulant(1, "N_L"), current, rtol=1e-9)
    np.testing.assert_allclose(fl.cumulant(1, "N_R"), -current, rtol=1e-9)
    np.testing.assert_allclose(fl.fano["N_L"], fano, rtol=1e-9)
    np.testing.assert_allclose(fl.fano["N_R"], fano, rtol=1e-9)
    # the CoherentState shortcut is the same engine
    np.testing.assert_allclose(qd.solve(dev, approach="local").fano_factor("R"), fano, rtol=1e-9)


def test_noninteracting_double_dot_equals_levitov_lesovik() -> None:
    """U = 0, infinite bias: the local equation is exact (Gurvitz-Prager), and its counting statistics are
    those of non-interacting electrons, C_k = int dE/2pi of the k-th binomial cumulant of T(E):
    T, T(1 - T), T(1 - T)(1 - 2T)."""
    rng = np.random.default_rng(12)
    n = 4
    GL, GR, W, eps = rng.uniform(0.2, 2, n), rng.uniform(0.2, 2, n), rng.uniform(0.1, 2, n), rng.uniform(-1, 1, n)
    dev = qd.serial_double_dot(eps / 2, -eps / 2, W, U=0.0, T=0.05, mu=BIAS, gamma={"L": GL, "R": GR})
    fl = qd.fluctuations(dev, approach="local", order=3, counting=["N_L"])
    for k in range(n):
        def T(E: float, k: int = k) -> float:
            return float(GL[k] * GR[k] * W[k]**2 / abs((E - eps[k] / 2 + 0.5j * GL[k]) * (E + eps[k] / 2 + 0.5j * GR[k])
                                                       - W[k]**2) ** 2)

        binomial = (lambda t: t, lambda t: t * (1 - t), lambda t: t * (1 - t) * (1 - 2 * t))
        for order, c in enumerate(binomial, start=1):
            expected = quad(lambda E: c(T(E)), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0] / (2 * np.pi)
            assert fl.cumulant(order, "N_L")[k] == pytest.approx(expected, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("approach", ["global", "local"])
def test_cumulants_are_derivatives_of_the_dominant_eigenvalue(approach: str) -> None:
    """C_k = d^k lambda/ds^k by a contour integral of the CGF (real tilt s = i chi) on a circle of radius r."""
    rng = np.random.default_rng(13)
    n = 6
    fl = qd.fluctuations(_random_device(rng, n), approach=approach, order=4)
    r, m = 0.12, 64
    theta = 2 * np.pi * np.arange(m) / m
    for q in ("N_L", "E_R", "Q_L", "entropy"):
        lam = np.stack([fl.cgf({q: np.full(n, -1j * r * np.exp(1j * t))}) for t in theta], axis=-1)
        for k in range(1, 5):
            contour = np.real(np.mean(lam * np.exp(-1j * k * theta), axis=-1)) * factorial(k) / r**k
            scale = np.abs(contour).max()
            np.testing.assert_allclose(fl.cumulant(k, q), contour, atol=1e-9 * scale + 1e-14)


def test_mean_equals_the_currents_of_solve() -> None:
    """C_1 of every counted quantity is the mean current of qd.solve: exactly for the global equation; for
    the local one the particle currents, and the energy with the bare H_0 the jumps carry (equal to
    Tr[H D_nu(rho)] without tunnelling)."""
    rng = np.random.default_rng(14)
    dev = _random_device(rng, 30)
    res = qd.solve(dev, approach="global")
    fl = qd.fluctuations(dev, approach="global", order=1)
    for lead in "LR":
        np.testing.assert_allclose(fl.cumulant(1, f"N_{lead}"), res.particle_current[lead], atol=1e-13)
        np.testing.assert_allclose(fl.cumulant(1, f"E_{lead}"), res.energy_current[lead], atol=1e-12)
        np.testing.assert_allclose(fl.cumulant(1, f"Q_{lead}"), res.heat_current[lead], atol=1e-12)
    np.testing.assert_allclose(fl.cumulant(1, "entropy"), res.entropy_production, atol=1e-11)
    loc = qd.solve(dev, approach="local")
    fl = qd.fluctuations(dev, approach="local", order=1)
    gen = loc.generator
    H0 = np.zeros(gen.hamiltonian.shape)
    idx = np.arange(gen.n_states)
    H0[..., idx, idx] = loc.system.energies
    bare = gen.lead_expectations(loc.density_matrix, H0)
    for k, lead in enumerate("LR"):
        np.testing.assert_allclose(fl.cumulant(1, f"N_{lead}"), loc.particle_current[lead], atol=1e-13)
        np.testing.assert_allclose(fl.cumulant(1, f"E_{lead}"), bare[k], atol=1e-12)
    cap = _capacitive(0.0)
    res, fl = qd.solve(cap, approach="local"), qd.fluctuations(cap, approach="local", order=1)
    for lead in "tbr":
        np.testing.assert_allclose(fl.cumulant(1, f"E_{lead}"), res.energy_current[lead], atol=1e-13)


def test_global_at_vanishing_tunnelling_equals_pauli_fluctuations() -> None:
    pauli = qd.fluctuations(_capacitive(None), order=3)
    glob = qd.fluctuations(_capacitive(0.0), approach="global", order=3)
    for q in glob.counting:
        for k in (1, 2, 3):
            np.testing.assert_allclose(glob.cumulant(k, q), pauli.cumulant(k, q), rtol=1e-9, atol=1e-13)
    names = ["N_t", "E_b", "entropy"]
    np.testing.assert_allclose(glob.covariance_matrix(names), pauli.covariance_matrix(names), rtol=1e-9, atol=1e-13)
    omega = np.array([0.0, 0.3, 2.0])
    np.testing.assert_allclose(glob.noise_spectrum("Q_r", omega, "N_t"), pauli.noise_spectrum("Q_r", omega, "N_t"),
                               rtol=1e-9, atol=1e-13)


def test_global_gallavotti_cohen_and_tur() -> None:
    """Entropy CGF: lambda(chi) = lambda(i - chi) (real tilts s and -1 - s), at random points of the global
    equation; the TUR C_2 Sigma / C_1^2 >= 2 for every counted current."""
    rng = np.random.default_rng(15)
    n = 200
    fl = qd.fluctuations(_random_device(rng, n), approach="global")
    for s in (-0.1, -0.3, 0.4, 1.5):
        lam = fl.cgf({"entropy": np.full(n, -1j * s)})
        mirror = fl.cgf({"entropy": np.full(n, 1j * (1 + s))})
        np.testing.assert_allclose(lam, mirror, atol=1e-10 * np.abs(lam).max())
    chi = 0.3 + 0.2j
    np.testing.assert_allclose(fl.cgf({"entropy": chi}), fl.cgf({"entropy": 1j - chi}), atol=1e-10)
    for q, ratio in fl.tur.items():
        ok = np.isfinite(ratio)
        assert ok.sum() > n // 2, q
        assert np.all(ratio[ok] >= 2 * (1 - 1e-7)), (q, ratio[ok].min())


def test_api_consistency() -> None:
    rng = np.random.default_rng(16)
    n = 5
    fl = qd.fluctuations(_random_device(rng, n), approach="global", order=3)
    cov = fl.covariance_matrix()
    np.testing.assert_allclose(np.diagonal(cov, axis1=-2, axis2=-1), fl._cumulants[..., 1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cov, np.swapaxes(cov, -1, -2), atol=1e-13)
    np.testing.assert_allclose(fl.covariance("N_L", "E_R"), cov[..., 0, 3], rtol=1e-10, atol=1e-14)
    S = fl.noise_spectrum("N_L", np.array([0.0, 1e7]))
    np.testing.assert_allclose(S[..., 0], fl.cumulant(2, "N_L"), rtol=1e-9)
    schottky = fl.cgf({"N_L": np.zeros(n)})  # lambda(0) = 0
    np.testing.assert_allclose(schottky, 0.0, atol=1e-12)
    ds = fl.to_xarray(dims=["point"])
    assert ds["C3"].shape == (n, len(fl.counting)) and ds["fano"].dims == ("point", "counted")
    with pytest.raises(ValueError, match="unknown counted quantity"):
        fl.cumulant(2, "N_X")
    with pytest.raises(ValueError, match="order k"):
        fl.cumulant(0, "N_L")
    with pytest.raises(ValueError, match="unknown approach"):
        qd.fluctuations(_random_device(rng, 2), approach="redfield")
    # a point without a unique steady state is NaN, the rest of the batch is not
    dev = qd.serial_double_dot(0.1, -0.2, 0.3, T=1.0, mu=0.0, gamma=np.array([0.5, 0.0]))
    with pytest.warns(qd.InvalidPointsWarning):
        bad = qd.fluctuations(dev, approach="global")
    assert np.isfinite(bad.cumulant(2, "N_L")[0]) and np.isnan(bad.cumulant(2, "N_L")[1])


@pytest.mark.parametrize("approach", ["local", "global"])
def test_agrees_with_qutip_countstat(approach: str) -> None:
    qutip = pytest.importorskip("qutip")
    from .test_qutip import PARAMS, _device, _model

    H, c_ops, by_lead = _model(**PARAMS, approach=approach)
    L = qutip.liouvillian(H, c_ops)
    jumps_in = sum(qutip.sprepost(c, c.dag()) for c in by_lead["L"][0::2])
    jumps_out = sum(qutip.sprepost(c, c.dag()) for c in by_lead["L"][1::2])
    current, noise, skewness = qutip.countstat_current_noise(L, [], rhoss=qutip.steadystate(L), sparse=False,
                                                             I_ops=[jumps_in - jumps_out],
                                                             J_ops=[jumps_in + jumps_out])
    fl = qd.fluctuations(_device(), approach=approach, order=3, counting=["N_L"])
    assert fl.cumulant(1, "N_L") == pytest.approx(float(np.real(current[0])), rel=1e-9)
    assert fl.cumulant(2, "N_L") == pytest.approx(float(np.real(np.ravel(noise)[0])), rel=1e-9)
    assert fl.cumulant(3, "N_L") == pytest.approx(float(np.real(np.ravel(skewness)[0])), rel=1e-8)

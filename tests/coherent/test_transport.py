"""Serial double dot at large bias: the local master equation against exact transport results.

Conventions: ``H = eps_L n_L + eps_R n_R + U n_L n_R + Omega (c_L^+ c_R + h.c.)``
(``Omega`` = the tunnel amplitude ``t``), ``delta = eps_L - eps_R``, ``hbar = 1``.
At infinite bias (all levels deep inside the window) the local Lindblad
equation is exact for U = 0 (Gurvitz-Prager) and for U -> infinity
(Stoof-Nazarov, PRB 53, 1050 (1996)).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

import qdthermo as qd

BIAS = {"L": 500.0, "R": -500.0}


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return (rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(0.05, 2, n),
            rng.uniform(0.1, 2, n), rng.uniform(0.1, 2, n))


def _noninteracting_current(eL, eR, W, GL, GR):  # type: ignore[no-untyped-def]
    """U = 0, infinite bias: I = G_L G_R W^2 (G_L + G_R) / [(G_L + G_R)^2 (W^2 + G_L G_R / 4) + G_L G_R delta^2].

    From the steady single-particle density matrix of the local equation
    ``d rho1/dt = -i[h, rho1] - {G, rho1}/2 + diag(G_L, 0)``, ``I = G_R (rho1)_RR``;
    it equals the Landauer integral of the two-level transmission.
    """
    d = eL - eR
    return GL * GR * W**2 * (GL + GR) / ((GL + GR) ** 2 * (W**2 + GL * GR / 4) + GL * GR * d**2)


def _landauer(eL, eR, W, GL, GR):  # type: ignore[no-untyped-def]
    def T(E: float) -> float:
        return GL * GR * W**2 / abs((E - eL + 0.5j * GL) * (E - eR + 0.5j * GR) - W**2) ** 2

    return quad(T, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-11, limit=400)[0] / (2 * np.pi)


def test_local_noninteracting_equals_landauer_transmission() -> None:
    rng = np.random.default_rng(1)
    eL, eR, W, GL, GR = _points(rng, 12)
    dev = qd.serial_double_dot(eL, eR, W, U=0.0, T=0.05, mu=BIAS, gamma={"L": GL, "R": GR})
    res = qd.solve(dev, approach="local")
    I = res.particle_current["L"]
    assert I.shape == (12,)
    np.testing.assert_allclose(-res.particle_current["R"], I, rtol=1e-10)
    np.testing.assert_allclose(I, _noninteracting_current(eL, eR, W, GL, GR), rtol=1e-9)
    for k in range(4):
        assert I[k] == pytest.approx(_landauer(eL[k], eR[k], W[k], GL[k], GR[k]), rel=1e-7)


def test_local_strong_coupling_equals_stoof_nazarov() -> None:
    rng = np.random.default_rng(2)
    eL, eR, W, GL, GR = _points(rng, 16)
    dev = qd.serial_double_dot(eL, eR, W, U=1e4, T=0.05, mu=BIAS, gamma={"L": GL, "R": GR})
    res = qd.solve(dev, approach="local")
    d = eL - eR
    stoof = GR * W**2 / (W**2 * (2 + GR / GL) + GR**2 / 4 + d**2)
    np.testing.assert_allclose(res.particle_current["L"], stoof, rtol=1e-9)
    np.testing.assert_allclose(res.populations[..., 3], 0.0, atol=1e-12)  # no double occupation


def test_fano_factor_from_the_tilted_liouvillian() -> None:
    """Counting into lead R: the variance from the Drazin-inverse formula equals the second derivative of the
    leading eigenvalue of the tilted Liouvillian, and the limits are right: Poissonian at weak hopping, the
    two-step renewal value (G_L^2 + (G_R/2)^2)/(G_L + G_R/2)^2 at strong hopping."""
    GL, GR = 0.7, 1.3
    W = np.array([1e-3, 0.4, 100.0])
    dev = qd.serial_double_dot(0.3, -0.2, W, U=1e4, T=0.05, mu=BIAS, gamma={"L": GL, "R": GR})
    res = qd.solve(dev, approach="local")
    mean, var = res.noise("R")
    np.testing.assert_allclose(mean, res.particle_current["R"], rtol=1e-12)
    F = res.fano_factor("R")
    assert F[0] == pytest.approx(1.0, abs=1e-4)
    assert F[2] == pytest.approx((GL**2 + GR**2 / 4) / (GL + GR / 2) ** 2, rel=1e-3)
    gen = res.generator

    def leading(s: float) -> float:
        L = gen.liouvillian[1] + (np.exp(s) - 1) * gen.jumps_in[1, 1] + (np.exp(-s) - 1) * gen.jumps_out[1, 1]
        ev = np.linalg.eigvals(L)
        return float(ev[np.argmax(ev.real)].real)

    h = 1e-3
    second = (leading(h) - 2 * leading(0.0) + leading(-h)) / h**2
    assert var[1] == pytest.approx(second, rel=1e-5)
    assert 0 < F[1] < 1
    with pytest.raises(ValueError, match="unknown lead"):
        res.noise("X")

"""Time evolution: relaxation to the steady state, conservation laws along the trajectory, Lindblad = Pauli."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd

N_L = np.array([0, 1, 0, 1])  # occupation of dot L in states 00, 10, 01, 11
N_R = np.array([0, 0, 1, 1])


def _device(n: int = 5, seed: int = 0) -> qd.Device:
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        rng.uniform(-1, 2, n), rng.uniform(-1, 2, n), U=rng.uniform(0, 2, n), J=rng.uniform(0, 4, n),
        T={lead: rng.uniform(0.3, 3, n) for lead in "tbr"}, mu={lead: rng.uniform(-1, 1, n) for lead in "tbr"},
        gamma={lead: rng.uniform(0.2, 2, n) for lead in "tbr"},
    )


def _slowest_rate(W: np.ndarray) -> float:
    ev = np.linalg.eigvals(W)
    return float(np.sort(np.abs(ev.real), axis=-1)[..., 1].min())  # the first is the stationary 0


def test_long_time_limit_is_the_steady_state() -> None:
    dev = _device()
    res = qd.solve(dev)
    t_relax = 1.0 / _slowest_rate(res.rate_matrix)
    rng = np.random.default_rng(1)
    for initial in ("00", "11", rng.dirichlet(np.ones(4), size=5)):
        tr = qd.evolve(dev, [0.0, 60 * t_relax], initial=initial)
        np.testing.assert_allclose(tr.populations[:, -1], res.populations, rtol=1e-10, atol=1e-13)
        for lead in "tbr":
            np.testing.assert_allclose(tr.particle_current[lead][:, -1], res.particle_current[lead], atol=1e-12)
            np.testing.assert_allclose(tr.energy_current[lead][:, -1], res.energy_current[lead], atol=1e-12)
    # a trajectory started in the steady state stays there
    tr = qd.evolve(dev, np.linspace(0, 5, 6), initial=res.populations)
    np.testing.assert_allclose(tr.populations, np.broadcast_to(res.populations[:, None], tr.populations.shape),
                               rtol=1e-12, atol=1e-15)


def test_probability_and_charge_balance_along_the_trajectory() -> None:
    dev = _device(seed=3)
    times = np.linspace(0.0, 4.0, 41)
    tr = qd.evolve(dev, times, initial="01")
    P = tr.populations
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    assert np.all(P >= 0)
    assert tr.populations.shape == (5, 41, 4)
    # the rate matrix conserves probability exactly: columns sum to 0
    np.testing.assert_allclose(tr.rate_matrix.sum(axis=-2), 0.0, atol=1e-15)
    # dP/dt = W P (the matrix exponential is exact): check against a fine central difference
    dP = np.einsum("bij,btj->bti", tr.rate_matrix, P)
    h = 1e-5
    for k in (1, 10, 30):
        pm = qd.evolve(dev, [times[k] - h, times[k] + h], initial="01").populations
        np.testing.assert_allclose((pm[:, 1] - pm[:, 0]) / (2 * h), dP[:, k], rtol=1e-5, atol=1e-8)
    # charge balance of each dot: d<n_L>/dt = J_N^t + J_N^b, d<n_R>/dt = J_N^r; energy: d<E>/dt = sum J_E
    JN, JE = tr.particle_current, tr.energy_current
    np.testing.assert_allclose(dP @ N_L, JN["t"] + JN["b"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dP @ N_R, JN["r"], rtol=1e-10, atol=1e-13)
    E = tr.system.energies
    np.testing.assert_allclose(np.einsum("bti,bi->bt", dP, E), JE["t"] + JE["b"] + JE["r"], rtol=1e-10, atol=1e-13)
    # the transient particle current of R is non-zero (only the steady state has J_N^r = 0)
    assert np.abs(JN["r"][:, 1]).max() > 1e-3


def test_lindblad_populations_equal_rate_equation_at_all_times() -> None:
    dev = _device(n=3, seed=5)
    times = np.array([0.0, 0.05, 0.3, 1.0, 3.0, 10.0])
    for initial in ("00", "10", np.array([0.1, 0.2, 0.3, 0.4])):
        lb = qd.evolve_lindblad(dev, times, initial=initial)
        pe = qd.evolve(dev, times, initial=initial)
        np.testing.assert_allclose(lb.populations, pe.populations, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(lb.coherences, 0.0, atol=1e-15)  # a diagonal state stays diagonal


def test_coherences_decay_from_a_superposition() -> None:
    dev = _device(n=3, seed=7)
    res = qd.solve(dev)
    # |psi> = (|00> + |10> + i|01> + |11>)/2: maximal coherences
    psi = np.array([1.0, 1.0, 1.0j, 1.0]) / 2
    rho0 = np.outer(psi, psi.conj())
    times = np.array([0.0, 0.1, 0.5, 2.0, 8.0])
    lb = qd.evolve_lindblad(dev, times, initial=rho0)
    rho = lb.density_matrix
    assert rho.shape == (3, 5, 4, 4)
    np.testing.assert_allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(rho, np.conj(np.swapaxes(rho, -1, -2)), atol=1e-14)
    # populations follow the rate equation from the diagonal of rho0 (secular: coherences do not feed them)
    pe = qd.evolve(dev, times, initial=np.real(np.diag(rho0)))
    np.testing.assert_allclose(lb.populations, pe.populations, rtol=1e-10, atol=1e-13)
    # each coherence rotates at E_a - E_b and decays at (Gamma_a + Gamma_b)/2, Gamma_a = total escape rate
    E = res.system.energies
    out = -np.diagonal(res.rate_matrix, axis1=-2, axis2=-1)
    dE = E[:, :, None] - E[:, None, :]
    decay = (out[:, :, None] + out[:, None, :]) / 2
    t = times[None, :, None, None]
    expected = rho0 * np.exp((-1j * dE[:, None] - decay[:, None]) * t)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(rho[..., off], expected[..., off], rtol=1e-9, atol=1e-13)
    c = lb.coherences
    assert np.all(c[:, 0] == pytest.approx(0.25))
    assert np.all(np.diff(c, axis=-1) < 0)
    # and the state tends to the (diagonal) steady state
    long = qd.evolve_lindblad(dev, [200.0 / _slowest_rate(res.rate_matrix)], initial=rho0)
    np.testing.assert_allclose(long.populations[:, 0], res.populations, rtol=1e-9, atol=1e-12)
    assert np.all(long.coherences < 1e-12)


def test_bad_initial_density_matrix() -> None:
    dev = _device(n=1)
    with pytest.raises(ValueError, match="trace 1"):
        qd.evolve_lindblad(dev, [1.0], initial=np.eye(4))
    with pytest.raises(ValueError, match="Hermitian"):
        qd.evolve_lindblad(dev, [1.0], initial=np.diag([1.0, 0, 0, 0]) + np.triu(np.ones((4, 4)), 1) * 0.1)
    with pytest.raises(ValueError, match="positive semidefinite"):
        qd.evolve_lindblad(dev, [1.0], initial=np.diag([1.5, -0.5, 0.0, 0.0]))

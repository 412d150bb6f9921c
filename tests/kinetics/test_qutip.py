"""Cross-check against QuTiP: the same device as a 4-level Lindblad problem built from scratch."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd

qutip = pytest.importorskip("qutip")


def _random_point(rng: np.random.Generator) -> qd.Device:
    return qd.three_terminal(
        rng.uniform(-2, 2), rng.uniform(-2, 2), U=rng.uniform(0, 2), J=rng.uniform(0, 6),
        T={lead: rng.uniform(0.2, 3) for lead in "tbr"}, mu={lead: rng.uniform(-1, 1) for lead in "tbr"},
        gamma={("t", "1->2"): rng.uniform(0.1, 2), ("t", "3->4"): rng.uniform(0.1, 2), "b": rng.uniform(0.1, 2),
               "r": rng.uniform(0.1, 2)},
    )


def _qutip_model(eps_L, eps_R, U, J, T, mu, gamma):  # type: ignore[no-untyped-def]
    """H and collapse operators from PHYSICS.md sections 1-3, independently of qdthermo's model code."""
    U_eff = U - J / 4
    E = np.array([0.0, eps_L, eps_R, eps_L + eps_R + U_eff])  # |00>, |10>, |01>, |11>
    # (lead, i, j): excitation i -> j through that lead
    channels = [("t", 0, 1), ("t", 2, 3), ("b", 0, 1), ("b", 2, 3), ("r", 0, 2), ("r", 1, 3)]
    ket = [qutip.basis(4, s) for s in range(4)]
    c_ops, table = [], []
    for lead, i, j in channels:
        w = E[j] - E[i]
        f = 1.0 / (np.exp((w - mu[lead]) / T[lead]) + 1.0)
        g = gamma[(lead, i, j)]
        kp, km = g * f, g * (1 - f)
        c_ops += [np.sqrt(kp) * ket[j] * ket[i].dag(), np.sqrt(km) * ket[i] * ket[j].dag()]
        table.append((lead, i, j, w, kp, km))
    return qutip.Qobj(np.diag(E)), c_ops, table


def _from_device(dev: qd.Device):  # type: ignore[no-untyped-def]
    p = dev.parameters
    T = {lead: float(dev.lead(lead).temperature) for lead in "tbr"}
    mu = {lead: float(dev.lead(lead).chemical_potential) for lead in "tbr"}
    g = dev.parameters["gamma"]
    gamma = {("t", 0, 1): g[("t", "1->2")], ("t", 2, 3): g[("t", "3->4")], ("b", 0, 1): g["b"], ("b", 2, 3): g["b"],
             ("r", 0, 2): g["r"], ("r", 1, 3): g["r"]}
    return _qutip_model(p["eps_L"], p["eps_R"], p["U"], p["J"], T, mu, gamma)


@pytest.mark.parametrize("seed", range(4))
def test_steady_state_and_currents_match_qutip(seed: int) -> None:
    dev = _random_point(np.random.default_rng(seed))
    res = qd.solve(dev)
    H, c_ops, table = _from_device(dev)
    rho = qutip.steadystate(H, c_ops)
    P = np.real(np.diag(rho.full()))
    np.testing.assert_allclose(P, res.populations, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.abs(rho.full() - np.diag(np.diag(rho.full()))), 0.0, atol=1e-10)
    JN = dict.fromkeys("tbr", 0.0)
    JE = dict.fromkeys("tbr", 0.0)
    for lead, i, j, w, kp, km in table:
        flux = kp * P[i] - km * P[j]
        JN[lead] += flux
        JE[lead] += w * flux
    for lead in "tbr":
        assert res.particle_current[lead] == pytest.approx(JN[lead], rel=1e-7, abs=1e-9)
        assert res.energy_current[lead] == pytest.approx(JE[lead], rel=1e-7, abs=1e-9)
        mu = float(dev.lead(lead).chemical_potential)
        assert res.heat_current[lead] == pytest.approx(JE[lead] - mu * JN[lead], rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("seed", range(2))
def test_time_evolution_matches_mesolve(seed: int) -> None:
    dev = _random_point(np.random.default_rng(100 + seed))
    H, c_ops, _ = _from_device(dev)
    times = np.array([0.0, 0.2, 1.0, 3.0])
    psi = (qutip.basis(4, 0) + qutip.basis(4, 3)).unit()  # a superposition of |00> and |11>
    out = qutip.mesolve(H, psi * psi.dag(), times, c_ops, options={"atol": 1e-12, "rtol": 1e-10})
    rho_q = np.array([s.full() for s in out.states])
    lb = qd.evolve_lindblad(dev, times, initial=(psi * psi.dag()).full())
    np.testing.assert_allclose(lb.density_matrix, rho_q, atol=1e-8)
    pe = qd.evolve(dev, times, initial=np.real(np.diag(rho_q[0])))
    np.testing.assert_allclose(pe.populations, np.real(np.diagonal(rho_q, axis1=-2, axis2=-1)), atol=1e-8)

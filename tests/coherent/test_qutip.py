"""QuTiP cross-checks: steady state and time evolution from H and collapse operators built independently."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd

qutip = pytest.importorskip("qutip")


def _fermi(w: float, mu: float, T: float) -> float:
    return 1.0 / (np.exp((w - mu) / T) + 1.0)


def _operators():  # type: ignore[no-untyped-def]
    """c_L, c_R on |n_L n_R> with basis index n_L + 2 n_R (qdthermo's bit order), Jordan-Wigner order L, R."""
    cL = qutip.Qobj(np.array([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=float))
    cR = qutip.Qobj(np.array([[0, 0, 1, 0], [0, 0, 0, -1], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=float))
    return cL, cR


def _model(eL, eR, t, U, T, mu, G, approach):  # type: ignore[no-untyped-def]
    cL, cR = _operators()
    nL, nR = cL.dag() * cL, cR.dag() * cR
    H = eL * nL + eR * nR + U * nL * nR + t * (cL.dag() * cR + cR.dag() * cL)
    c_ops: dict[str, list] = {"L": [], "R": []}
    if approach == "local":  # U = 0 here: jumps c_d^+, c_d at the bare levels
        for c, e, lead in ((cL, eL, "L"), (cR, eR, "R")):
            f = _fermi(e, mu[lead], T[lead])
            c_ops[lead] += [np.sqrt(G[lead] * f) * c.dag(), np.sqrt(G[lead] * (1 - f)) * c]
    else:  # global, U = 0: the normal modes d_k = sum_i u_ik c_i with energies e_k
        e, u = np.linalg.eigh(np.array([[eL, t], [t, eR]]))
        for k in range(2):
            d = u[0, k] * cL + u[1, k] * cR
            for lead, i in (("L", 0), ("R", 1)):
                f = _fermi(e[k], mu[lead], T[lead])
                g = G[lead] * u[i, k] ** 2
                c_ops[lead] += [np.sqrt(g * f) * d.dag(), np.sqrt(g * (1 - f)) * d]
    return H, c_ops["L"] + c_ops["R"], c_ops


PARAMS = dict(eL=0.4, eR=-0.3, t=0.7, U=0.0, T={"L": 1.3, "R": 0.4}, mu={"L": 0.5, "R": -0.6},
              G={"L": 0.8, "R": 0.3})


def _device() -> qd.Device:
    p = PARAMS
    return qd.serial_double_dot(p["eL"], p["eR"], p["t"], U=p["U"], T=p["T"], mu=p["mu"], gamma=p["G"])


@pytest.mark.parametrize("approach", ["local", "global"])
def test_steady_state_agrees_with_qutip(approach: str) -> None:
    H, c_ops, by_lead = _model(**PARAMS, approach=approach)
    expected = qutip.steadystate(H, c_ops).full()
    res = qd.solve(_device(), approach=approach)
    np.testing.assert_allclose(res.density_matrix, expected, atol=1e-9)
    # currents from the dissipators, J_N = Tr[N D_nu(rho)], J_E = Tr[H D_nu(rho)], with QuTiP's own dissipators
    cL, cR = _operators()
    N = cL.dag() * cL + cR.dag() * cR
    rho = qutip.operator_to_vector(qutip.Qobj(expected))
    for lead, ops in by_lead.items():
        D_rho = qutip.vector_to_operator(sum(qutip.lindblad_dissipator(c) for c in ops) * rho)
        assert res.particle_current[lead] == pytest.approx((N * D_rho).tr().real, abs=1e-10)
        assert res.energy_current[lead] == pytest.approx((H * D_rho).tr().real, abs=1e-10)


@pytest.mark.parametrize("approach", ["local", "global"])
def test_evolution_agrees_with_qutip_mesolve(approach: str) -> None:
    H, c_ops, _ = _model(**PARAMS, approach=approach)
    times = np.array([0.0, 0.3, 1.0, 4.0])
    psi0 = (qutip.basis(4, 1) + qutip.basis(4, 2)).unit()  # a coherent superposition of L and R occupied
    rho0 = psi0 * psi0.dag()
    out = qutip.mesolve(H, rho0, times, c_ops, options={"atol": 1e-12, "rtol": 1e-10})
    ours = qd.evolve_coherent(_device(), times, rho0.full(), approach=approach)
    assert ours.shape == (4, 4, 4)
    for k, state in enumerate(out.states):
        np.testing.assert_allclose(ours[k], state.full(), atol=1e-8)


def test_evolution_relaxes_to_the_steady_state() -> None:
    dev = qd.serial_double_dot(np.array([0.2, -0.5]), 0.1, 0.6, U=1.5, T=0.8, mu={"L": 1.0, "R": -1.0}, gamma=0.5)
    for approach in ("local", "global"):
        rho = qd.evolve_coherent(dev, [0.0, 200.0], "00", approach=approach)
        assert rho.shape == (2, 2, 4, 4)
        np.testing.assert_allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, atol=1e-12)
        np.testing.assert_allclose(rho[:, -1], qd.solve(dev, approach=approach).density_matrix, atol=1e-9)
    with pytest.raises(ValueError, match="unknown state"):
        qd.evolve_coherent(dev, [0.0], "22")

"""Steady state: analytic limits, equilibrium (Gibbs), closed form vs linear solve, broadcasting,
energy-dependent couplings and the Sanchez-Buttiker harvester."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

import qdthermo as qd
from tests.thermo.devices import random_three_terminal

pytestmark = pytest.mark.usefixtures("steady_route")  # NumPy routes, then the compiled route (conftest)

N = np.array([0, 1, 1, 2])  # particle number of the states 00, 10, 01, 11


def one_way_scale(res: qd.SteadyState) -> np.ndarray:
    """Sum over channels of the one-way fluxes k+ P_i + k- P_j: the round-off scale of every net flux."""
    s, k, P = res.system, res.rates, res.populations
    return (k.plus * P[..., s.channel_initial] + k.minus * P[..., s.channel_final]).sum(axis=-1)


def assert_close(actual, desired, rtol: float, atol, msg: str = "") -> None:  # type: ignore[no-untyped-def]
    """|actual - desired| <= rtol |desired| + atol elementwise, with array-valued atol broadcast."""
    actual, desired = np.broadcast_arrays(np.asarray(actual, dtype=float), np.asarray(desired, dtype=float))
    bound = rtol * np.abs(desired) + np.broadcast_to(atol, actual.shape)
    err = np.abs(actual - desired)
    bad = ~(err <= bound)
    if np.any(bad):
        with np.errstate(all="ignore"):
            worst = np.max(np.where(bad, err / np.where(bound > 0, bound, 1e-300), 0))
        raise AssertionError(f"{msg}: {bad.sum()} of {bad.size} elements off; worst {worst:.3g} x tolerance")


def assert_small(x, bound, msg: str = "") -> None:  # type: ignore[no-untyped-def]
    """|x| <= bound elementwise (bound broadcast)."""
    assert_close(x, np.zeros(np.shape(x)), 0.0, bound, msg)


def paper_energies(eps_L, eps_R, U, J):  # type: ignore[no-untyped-def]
    """State energies of PHYSICS.md section 1 (00, 10, 01, 11), U_eff = U - J/4."""
    eps_L, eps_R, U, J = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (eps_L, eps_R, U, J)))
    return np.stack([np.zeros_like(eps_L), eps_L, eps_R, eps_L + eps_R + U - J / 4], axis=-1)


def log_gibbs(E: np.ndarray, mu: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln of the grand-canonical weights exp(-(E_s - mu N_s)/T)/Z."""
    a = -(E - np.asarray(mu)[..., None] * N) / np.asarray(T)[..., None]
    return a - logsumexp(a, axis=-1, keepdims=True)


# ---------------------------------------------------------------- analytic limits
@pytest.mark.parametrize("uncoupled", ["U=J=0", "U=J/4"])
def test_dot_L_decouples_when_U_eff_vanishes(uncoupled: str) -> None:
    rng = np.random.default_rng(11)
    n = 2000
    eps_L, eps_R = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)
    J = np.zeros(n) if uncoupled == "U=J=0" else rng.uniform(0, 8, n)
    U = J / 4
    T = {lead: rng.uniform(0.1, 5, n) for lead in "tbr"}
    mu = {lead: rng.uniform(-2, 2, n) for lead in "tbr"}
    g = {lead: rng.uniform(0.01, 3, n) for lead in "tbr"}
    res = qd.solve(qd.three_terminal(eps_L, eps_R, U=U, J=J, T=T, mu=mu, gamma=g))
    f = {lead: qd.fermi(eps_L if lead != "r" else eps_R, mu[lead], T[lead]) for lead in "tbr"}
    g_eff = g["t"] * g["b"] / (g["t"] + g["b"])
    JN_t = g_eff * (f["t"] - f["b"])
    assert_close(res.particle_current["t"], JN_t, 1e-12, 1e-14 * g_eff, "J_N^t")
    assert_close(res.particle_current["b"], -JN_t, 1e-12, 1e-14 * g_eff, "J_N^b")
    assert_close(res.energy_current["t"], eps_L * JN_t, 1e-12, 1e-14 * g_eff, "J_E^t")
    assert_small(res.energy_current["r"], 1e-14 * g["r"] * (1 + np.abs(eps_R)), "J_E^r")
    # the populations factorise: P(n_L, n_R) = p_L(n_L) p_R(n_R)
    pL = (g["t"] * f["t"] + g["b"] * f["b"]) / (g["t"] + g["b"])
    pR = f["r"]
    expected = np.stack([(1 - pL) * (1 - pR), pL * (1 - pR), (1 - pL) * pR, pL * pR], axis=-1)
    np.testing.assert_allclose(res.populations, expected, rtol=1e-11, atol=1e-15)


def test_single_dot_landauer_like_current() -> None:
    rng = np.random.default_rng(5)
    n = 500
    eps = rng.uniform(-2, 2, n)
    T = {"L": rng.uniform(0.1, 3, n), "R": rng.uniform(0.1, 3, n)}
    mu = {"L": rng.uniform(-1, 1, n), "R": rng.uniform(-1, 1, n)}
    g = {"L": rng.uniform(0.1, 2, n), "R": rng.uniform(0.1, 2, n)}
    res = qd.solve(qd.single_dot(eps, T=T, mu=mu, gamma=g))
    fL, fR = qd.fermi(eps, mu["L"], T["L"]), qd.fermi(eps, mu["R"], T["R"])
    J = g["L"] * g["R"] / (g["L"] + g["R"]) * (fL - fR)
    np.testing.assert_allclose(res.particle_current["L"], J, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.energy_current["L"], eps * J, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.heat_current["R"], -(eps - mu["R"]) * J, rtol=1e-11, atol=1e-14)


# ------------------------------------------------------------------ equilibrium
def _equilibrium_batch(n: int, T_lo: float, T_hi: float, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    T = np.exp(rng.uniform(np.log(T_lo), np.log(T_hi), n))
    mu = rng.uniform(-2, 2, n)
    eps_L, eps_R, U, J = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.uniform(0, 3, n), rng.uniform(0, 12, n)
    gamma = {(lead, tr): rng.uniform(0.01, 3, n)
             for lead, trs in (("t", ("1->2", "3->4")), ("b", ("1->2", "3->4")), ("r", ("1->3", "2->4")))
             for tr in trs}
    dev = qd.three_terminal(eps_L, eps_R, U=U, J=J, T=T, mu=mu, gamma=gamma)
    return dev, log_gibbs(paper_energies(eps_L, eps_R, U, J), mu, T)


@pytest.mark.parametrize("method", ["auto", "matrix_tree", "linear"])
def test_equilibrium_currents_vanish_and_populations_are_gibbs(method: str) -> None:
    dev, logG = _equilibrium_batch(2000, 0.1, 10.0)
    res = qd.solve(dev, method=method)
    scale = one_way_scale(res)
    mu = res.system.lead_chemical_potential
    w_max = np.abs(res.system.channel_energy).max(axis=-1) + np.abs(mu).max(axis=-1)
    for name, J, s in (("J_N", res.particle_current_array, scale), ("J_E", res.energy_current_array, scale * w_max),
                       ("J_Q", res.heat_current_array, scale * w_max)):
        assert_small(J, 1e-15 * s[:, None], name)
    assert_small(res.entropy_production, 1e-28 * scale, "Sigma_dot")
    np.testing.assert_allclose(res.populations, np.exp(logG), rtol=1e-12, atol=1e-15)
    assert np.all(res.regime["J_E"] == qd.Regime.EQUILIBRIUM)
    assert np.all(res.regime["J_N"] == qd.Regime.EQUILIBRIUM)


@pytest.mark.parametrize("method", ["auto", "matrix_tree"])
def test_closed_form_is_relatively_accurate_at_low_temperature(method: str) -> None:
    # T down to 1e-3: Boltzmann factors down to 1e-43 come out with full relative precision
    dev, logG = _equilibrium_batch(5000, 1e-3, 1e2, seed=1)
    res = qd.solve(dev, method=method)
    P = res.populations
    x_max = np.abs(res.rates.log_ratio).max(axis=-1, keepdims=True)  # largest |w - mu|/T at the point
    ok = logG > -100
    assert np.all(P[ok] > 0)
    tol = 1e-14 * (1.0 + x_max)  # each exponent (w - mu)/T carries a rounding error ~ eps |w - mu|/T
    err = np.abs(np.log(np.where(ok, P, 1.0)) - np.where(ok, logG, 0.0))
    assert_small(err, tol, "ln P - ln Gibbs")


def test_equilibrium_entropy_production_vanishes_at_low_temperature() -> None:
    dev, _ = _equilibrium_batch(5000, 1e-3, 1e2, seed=1)
    res = qd.solve(dev)
    assert np.all(np.isfinite(res.entropy_production))
    # each ln(a/b) = ln(k+/k-) + ln P_i - ln P_j carries a rounding error ~ eps |w - mu|/T
    x_max = np.abs(res.rates.log_ratio).max(axis=-1)
    assert_small(res.entropy_production, 1e-28 * (1.0 + x_max) * one_way_scale(res), "Sigma_dot")


def test_linear_route_is_relatively_accurate() -> None:
    dev, logG = _equilibrium_batch(10_000, 1e-3, 1e2, seed=0)
    P = qd.solve(dev, method="linear").populations
    np.testing.assert_allclose(P, np.exp(logG), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------- closed form vs linear
@pytest.mark.parametrize(("seed", "t_ratio"), [(0, 10.0), (1, 1e3), (2, 1e6)])
def test_matrix_tree_equals_linear_solve(seed: int, t_ratio: float) -> None:
    dev = random_three_terminal(seed, n=10_000, t_ratio=t_ratio)
    P_tree = qd.solve(dev, method="matrix_tree").populations
    P_lin = qd.solve(dev, method="linear").populations
    P_auto = qd.solve(dev).populations
    np.testing.assert_allclose(P_tree, P_lin, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(P_auto, P_tree, rtol=1e-12, atol=1e-15)
    # and both solve W P = 0 to round-off of the one-way fluxes
    W = qd.solve(dev, method="linear").rate_matrix
    resid = np.einsum("...ij,...j->...i", W, P_tree)
    assert_small(resid, 1e-14 * np.abs(W).max(axis=(-2, -1))[:, None], "W P")


def test_methods_agree_on_three_dot_networks() -> None:
    from tests.thermo.devices import random_network

    for seed in range(6):
        dev = random_network(seed, n=200)
        if len(dev.dots) == 1:
            continue
        a = qd.solve(dev, method="matrix_tree").populations
        b = qd.solve(dev, method="linear").populations
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


# ------------------------------------------------------------------ broadcasting
def test_broadcasting_equals_pointwise_scalar_solves() -> None:
    eps_L = np.array([[-0.5], [0.4], [1.5]])  # (3, 1)
    T_t = np.array([[0.3, 1.0, 2.0, 5.0]])  # (1, 4)
    g_b = np.array([[0.2], [1.0], [2.5]])  # (3, 1)
    kw = {"eps_R": 0.7, "U": 0.9, "J": 4.5, "mu": {"t": 0.2, "b": -0.1, "r": 0.0}}
    res = qd.solve(qd.three_terminal(eps_L, T={"t": T_t, "b": 1.0, "r": 0.5},
                                     gamma={"t": 1.0, "b": g_b, "r": 0.3}, **kw))
    assert res.shape == (3, 4)
    assert res.populations.shape == (3, 4, 4)
    assert res.particle_current["t"].shape == (3, 4)
    assert res.entropy_production.shape == (3, 4)
    assert res.regime["J_N"].shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = qd.solve(qd.three_terminal(float(eps_L[i, 0]), T={"t": float(T_t[0, j]), "b": 1.0, "r": 0.5},
                                             gamma={"t": 1.0, "b": float(g_b[i, 0]), "r": 0.3}, **kw))
            assert one.shape == ()
            np.testing.assert_allclose(res.populations[i, j], one.populations, rtol=1e-13, atol=1e-16)
            for lead in "tbr":
                for got, want in ((res.particle_current, one.particle_current),
                                  (res.energy_current, one.energy_current), (res.heat_current, one.heat_current)):
                    np.testing.assert_allclose(got[lead][i, j], want[lead], rtol=1e-12, atol=1e-16)
            np.testing.assert_allclose(res.entropy_production[i, j], one.entropy_production, rtol=1e-12, atol=1e-16)
            np.testing.assert_allclose(res.force_array[i, j], one.force_array, rtol=1e-15)
            assert res.regime["J_N"][i, j] == one.regime["J_N"]
            assert res.regime["J_E"][i, j] == one.regime["J_E"]


def test_coupled_transport_broadcasts_force_grid() -> None:
    F_E = np.linspace(0.0, 0.8, 5)[:, None]
    F_N = np.linspace(-1.0, 1.0, 7)[None, :]
    res = qd.solve(qd.coupled_transport(F_E, F_N, eps_L=1.0, eps_R=0.5, U=0.3))
    assert res.shape == (5, 7)
    np.testing.assert_allclose(res.forces["F_E"], np.broadcast_to(F_E, (5, 7)), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(res.forces["F_N"], np.broadcast_to(F_N, (5, 7)), rtol=1e-14, atol=1e-15)
    one = qd.solve(qd.coupled_transport(0.6, 1.0 / 3.0, eps_L=1.0, eps_R=0.5, U=0.3))
    np.testing.assert_allclose(res.fluxes["J_N"][3, 4], one.fluxes["J_N"], rtol=1e-12)


# ----------------------------------------------------- energy-dependent couplings
def test_callable_coupling_equals_transition_keyed_coupling() -> None:
    rng = np.random.default_rng(2)
    n = 300
    eps_L, eps_R, U, J = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(0, 2, n), rng.uniform(0, 4, n)
    U_eff = U - J / 4
    T = {lead: rng.uniform(0.2, 3, n) for lead in "tbr"}
    mu = {lead: rng.uniform(-1, 1, n) for lead in "tbr"}

    def gt(w):  # type: ignore[no-untyped-def]
        return 0.5 + np.exp(-(w**2))

    def gr(w):  # type: ignore[no-untyped-def]
        return np.where(w > 0.2, 2.0, 0.1)

    a = qd.solve(qd.three_terminal(eps_L, eps_R, U, J, T, mu, gamma={"t": gt, "b": 0.7, "r": gr}))
    b = qd.solve(qd.three_terminal(eps_L, eps_R, U, J, T, mu, gamma={
        ("t", "1->2"): gt(eps_L), ("t", "3->4"): gt(eps_L + U_eff), "b": 0.7,
        ("r", "00->01"): gr(eps_R), ("r", "10->11"): gr(eps_R + U_eff)}))
    np.testing.assert_allclose(a.populations, b.populations, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(a.particle_current_array, b.particle_current_array, rtol=1e-12, atol=1e-15)
    # a constant function is a constant coupling
    c = qd.solve(qd.three_terminal(eps_L, eps_R, U, J, T, mu, gamma=lambda w: np.full_like(w, 0.7)))
    d = qd.solve(qd.three_terminal(eps_L, eps_R, U, J, T, mu, gamma=0.7))
    np.testing.assert_allclose(c.populations, d.populations, rtol=1e-14, atol=1e-16)


def test_closing_a_transition_removes_its_channel() -> None:
    g = {"t": 1.0, ("t", "3->4"): 0.0, "b": 1.0, "r": 1.0}
    res = qd.solve(qd.three_terminal(0.5, 0.2, U=0.8, T={"t": 3.0, "b": 1.0, "r": 1.0}, mu=0.0, gamma=g))
    flux = dict(zip(res.channel_labels, res.channel_flux))
    assert flux["t:01->11"] == 0.0
    assert res.particle_current["t"] == pytest.approx(flux["t:00->10"], rel=1e-15)
    # lead t only exchanges electrons at w = eps_L: every particle carries exactly eps_L
    assert res.energy_current["t"] == pytest.approx(0.5 * res.particle_current["t"], rel=1e-14)
    # and the result differs from the open channel
    open_ = qd.solve(qd.three_terminal(0.5, 0.2, U=0.8, T={"t": 3.0, "b": 1.0, "r": 1.0}, mu=0.0, gamma=1.0))
    assert abs(open_.particle_current["t"] - res.particle_current["t"]) > 1e-3


def _sb_batch(a: float, n: int = 2000, seed: int = 4):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    kw = {"eps_L": rng.uniform(-2, 2, n), "eps_R": rng.uniform(-2, 2, n), "U": rng.uniform(0.05, 3, n),
          "T": rng.uniform(0.1, 2, n), "T_hot": rng.uniform(0.1, 5, n), "V": rng.uniform(-1, 1, n),
          "gamma": rng.uniform(0.1, 3, n), "gamma_hot": rng.uniform(0.1, 3, n)}
    return kw, qd.solve(qd.sanchez_buttiker(asymmetry=a, **kw))


@pytest.mark.parametrize("a", [1.0, -1.0])
def test_sanchez_buttiker_tight_coupling(a: float) -> None:
    kw, res = _sb_batch(a)
    JN_t, JE_r = res.particle_current["t"], res.energy_current["r"]
    scale = one_way_scale(res) * (1.0 + np.abs(res.system.channel_energy).max(axis=-1))
    # every electron transferred t -> b carries exactly one quantum U from the hot lead
    assert_close(JN_t, a * JE_r / kw["U"], 0.0, 1e-13 * scale / kw["U"], "J_N^t - a J_E^r / U")
    # without bias, the second law gives J_E^r (1/T - 1/T_hot) >= 0: energy flows out of the hotter gate lead,
    # and the filter turns it into a particle current t -> b with the sign of a
    v0 = qd.solve(qd.sanchez_buttiker(asymmetry=a, **{**kw, "V": 0.0, "T_hot": kw["T"] * 2.0}))
    assert np.all(v0.energy_current["r"] > 0)
    assert np.all(np.sign(v0.particle_current["t"]) == np.sign(a))


def test_sanchez_buttiker_leaky_filter_is_not_tight() -> None:
    kw, res = _sb_batch(0.5, n=200)
    JN_t, JE_r = res.particle_current["t"], res.energy_current["r"]
    assert np.max(np.abs(JN_t - 0.5 * JE_r / kw["U"])) > 1e-3


@pytest.mark.parametrize("a", [-1.0, 0.3, 1.0])
def test_sanchez_buttiker_equals_three_terminal_with_transition_couplings(a: float) -> None:
    kw, res = _sb_batch(a, n=300, seed=9)
    g = kw["gamma"]
    hi, lo = g * (1 + a) / 2, g * (1 - a) / 2
    tt = qd.solve(qd.three_terminal(
        kw["eps_L"], kw["eps_R"], U=kw["U"], J=0.0,
        T={"t": kw["T"], "b": kw["T"], "r": kw["T_hot"]}, mu={"t": kw["V"] / 2, "b": -kw["V"] / 2, "r": 0.0},
        gamma={("t", "1->2"): hi, ("t", "3->4"): lo, ("b", "1->2"): lo, ("b", "3->4"): hi, "r": kw["gamma_hot"]}))
    np.testing.assert_allclose(res.populations, tt.populations, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(res.energy_current_array, tt.energy_current_array, rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("T", [1.0, 1e-3, 1e-6])
def test_transition_closed_on_every_lead_still_unique(T: float) -> None:
    # 01->11 closed on both leads of dot L: the ring loses one edge but stays connected
    g = {("t", "00->10"): 1.0, ("t", "01->11"): 0.0, ("b", "00->10"): 0.5, ("b", "01->11"): 0.0, "r": 1.0}
    dev = qd.three_terminal(eps_L=1.0, eps_R=0.5, U=3.0, J=0.0, T=T, mu={"t": 0.3, "b": 0.2, "r": 0.2}, gamma=g)
    P_tree = qd.solve(dev, method="matrix_tree").populations
    P_lin = qd.solve(dev, method="linear").populations
    assert np.all(np.isfinite(P_tree)) and np.all(P_tree >= 0)
    np.testing.assert_allclose(P_tree, P_lin, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(P_tree.sum(), 1.0, rtol=1e-15)

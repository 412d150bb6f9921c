"""Exact conditions for ICC: the Onsager sign edge x0(eps_R) and the nonlinear edges in a force window."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.design.conditions import (
    cross_coefficient_closed_form,
    icc_edges,
    onsager_sign_edge,
    onsager_sign_edge_closed_form,
    paper_device,
)

EPS_R = np.array([-4.0, -2.0, 0.0, 1.0, 2.0])


def _regime_J_N(F_E_scaled: float, F_N: float, x: float, eps_R: float) -> int:
    res = qd.solve(paper_device(F_E_scaled, F_N, x=x, eps_R=eps_R))
    return int(res.classify(force_tol=1e-14, flux_tol=1e-14)["J_N"])


def test_x0_is_the_root_of_the_closed_form_and_L_NE_flips_there() -> None:
    x0 = onsager_sign_edge(EPS_R)
    assert np.all(x0 < 0)
    # x0 = -phi_12(x0)/phi_34(x0), the one-way fluxes read from qd.solve of the equilibrium device
    L, phi_12, phi_34 = cross_coefficient_closed_form(x0, EPS_R)
    np.testing.assert_allclose(-phi_12 / phi_34, x0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(onsager_sign_edge_closed_form(EPS_R), x0, rtol=0, atol=1e-9)
    assert x0[3] == pytest.approx(-1.0, abs=1e-9)  # eps_R = eps_L: particle-hole symmetric point
    for dx, sign in ((-1e-6, -1.0), (1e-6, 1.0)):
        lr = qd.linear_response(paper_device(0.0, 0.0, x=x0 + dx, eps_R=EPS_R))
        L_NE = lr.coefficient("J_N", "F_E")
        assert np.all(np.sign(L_NE) == sign)
        np.testing.assert_allclose(L_NE, cross_coefficient_closed_form(x0 + dx, EPS_R)[0], rtol=1e-8, atol=1e-16)
        np.testing.assert_allclose(lr.coefficient("J_E", "F_N"), L_NE, rtol=1e-8, atol=1e-16)  # reciprocity


def test_near_equilibrium_icc_exactly_when_L_NE_negative() -> None:
    """Tiny forces, both > 0: ICC in J_N just below x0, none just above (and likewise J_E)."""
    x0 = float(onsager_sign_edge(0.0))
    fe, fn = 1e-4, 1e-9
    assert _regime_J_N(fe, fn, x0 - 0.01, 0.0) == qd.Regime.ICC
    assert _regime_J_N(fe, fn, x0 + 0.01, 0.0) != qd.Regime.ICC
    for x, icc in ((x0 - 0.01, True), (x0 + 0.01, False)):
        J_E = qd.solve(paper_device(fn, fe, x=x, eps_R=0.0)).energy_current["t"]
        assert (J_E < 0) == icc


def test_far_from_equilibrium_icc_where_L_NE_is_positive() -> None:
    """eps_R = 2, x = -2: L_NE > 0, yet J_N < 0 with both forces > 0 at finite F~_E (second order)."""
    x, eR = -2.0, 2.0
    L = float(qd.linear_response(paper_device(0.0, 0.0, x=x, eps_R=eR)).coefficient("J_N", "F_E"))
    assert L > 0 and x > onsager_sign_edge(eR)
    assert _regime_J_N(0.85, 0.01, x, eR) == qd.Regime.ICC
    # J_N(F_E, F_N = 0) = L_NE F_E + M F_E^2 / 2 + ...: M < 0 turns J_N negative near F_E = -2 L_NE / M
    h = 1e-4
    d = [qd.response(paper_device(f, 0.0, x=x, eps_R=eR)).coefficient("J_N", "F_E") for f in (-h, h)]
    M = float(d[1] - d[0]) / (2 * h)
    assert M < 0
    fe = np.linspace(0.01, 0.9, 90)
    J = qd.solve(paper_device(fe, 0.0, x=x, eps_R=eR)).particle_current["t"]
    root = fe[np.argmax(J < 0)]
    assert J[0] > 0 and J[-1] < 0 and 0.5 * (-2 * L / M) < root < 1.5 * (-2 * L / M)


def test_third_quadrant_cold_lead_t_gives_icc_at_any_negative_x() -> None:
    """eps_R = 0, x = -0.01 (far above x0 = -0.44): J_N ICC with both forces < 0 when lead t is cold."""
    assert _regime_J_N(-200.0, -0.01, -0.01, 0.0) == qd.Regime.ICC
    assert _regime_J_N(-0.9, -0.01, -0.01, 0.0) != qd.Regime.ICC


def test_edges_near_equilibrium_do_not_move_with_the_window_far_ones_do() -> None:
    x0 = onsager_sign_edge(np.array([0.0, 2.0]))
    got = {}
    for fe_max in (0.9, 0.6):
        r = icc_edges((-3.0, 0.0), eps_R=np.array([0.0, 2.0]), fluxes=("J_N",), quadrants=("Q1",), fe_max=fe_max,
                      n_scan=13, n_grid=9)
        assert r.window["F_E_scaled"] == (0.0, fe_max)
        for b in (0, 1):
            (edge,) = r.find("J_N", "Q1", b)
            assert edge.present_below
            got[fe_max, b] = edge
            assert r.present[("J_N", "Q1")][b, 0]  # x = -3 has ICC
    for fe_max in (0.9, 0.6):
        e0, e2 = got[fe_max, 0], got[fe_max, 1]
        assert e0.near_equilibrium and abs(e0.value - x0[0]) < 1e-4
        assert not e2.near_equilibrium and e2.value > x0[1] + 0.3
        assert e2.F_E_scaled == pytest.approx(fe_max) and e2.depth < 0  # appears at the window's upper F~_E
    assert got[0.9, 0].value == pytest.approx(got[0.6, 0].value, abs=1e-4)
    assert got[0.9, 1].value > got[0.6, 1].value + 0.03  # the eps_R = 2 edge moves with the window


def test_pseudo_edges_and_validation() -> None:
    r = icc_edges((-1.0, 0.0), eps_R=0.0, kind="pseudo", quadrants=("Q1",), n_scan=6, n_grid=9)
    (e,) = r.find("J_N", "Q1")
    assert e.kind == "pseudo" and e.F_N == 0.0 and abs(e.value - float(onsager_sign_edge(0.0))) < 1e-4
    with pytest.raises(ValueError, match="along"):
        icc_edges(along="nope")
    with pytest.raises(ValueError, match="Q1"):
        icc_edges(quadrants=("Q2",))
    with pytest.raises(ValueError, match="unknown parameter"):
        icc_edges(eps_X=1.0)
    with pytest.raises(ValueError, match="bracket"):
        onsager_sign_edge(1.0, along="eps_R")
    # a generic edge: L_NE along eps_R at fixed x (x0(eps_R) is increasing: invert one point)
    eR = onsager_sign_edge(0.0, along="eps_R", bracket=(-1.0, 1.0), x=float(onsager_sign_edge(0.5)))
    assert float(eR) == pytest.approx(0.5, abs=1e-8)


def test_existence_decided_early_equals_the_full_grid_minimum():
    from qdthermo.design.conditions import _exists, _min_flux

    x = np.linspace(-4.0, 0.0, 17)
    params = {"eps_R": np.full(x.size, 2.0)}
    for kind in ("icc", "pseudo"):
        full = _min_flux(x, params, "x", ("J_N", "J_E"), ("Q1", "Q3"), 0.9, 2.0, 9, kind, 2)
        fast = _exists(x, params, "x", ("J_N", "J_E"), ("Q1", "Q3"), 0.9, 2.0, 9, kind, 2, 1e-12)
        for key, (m, _, _, cross) in full.items():
            want = (m < -1e-12) | (cross < 0)
            assert np.array_equal(fast[key], want)
            assert want.any() and not want.all()  # both answers occur

"""Classifying the response: the table of PHYSICS.md section 8 and the paper's claims 3-6."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.thermo.regimes import Regime, Tolerance, classify

R = Regime


@pytest.mark.parametrize(
    ("J", "Fi", "Fj", "expected"),
    [
        (0.0, 0.0, 0.0, R.EQUILIBRIUM),
        (1.0, 1.0, 0.0, R.NORMAL),
        (-1.0, 1.0, 0.0, R.CROSS_EFFECT),
        (1.0, 0.0, 1.0, R.INDUCED),
        (-1.0, 0.0, 1.0, R.PSEUDO_ICC),
        (1.0, 0.0, -1.0, R.PSEUDO_ICC),
        (-1.0, 1.0, 1.0, R.ICC),
        (1.0, -1.0, -1.0, R.ICC),
        (1.0, 1.0, 1.0, R.NORMAL),
        (1.0, -1.0, 1.0, R.CROSS_EFFECT),
        (-1.0, -1.0, 1.0, R.NORMAL),
        (0.0, 1.0, 1.0, R.NORMAL),
    ],
)
def test_classification_table(J: float, Fi: float, Fj: float, expected: Regime) -> None:
    got = classify(J, Fi, Fj, J_zero=J == 0, F_i_zero=Fi == 0, F_j_zero=Fj == 0)
    assert got == expected


def test_tolerance_validation() -> None:
    with pytest.raises(ValueError, match="force_tol"):
        Tolerance(force_tol=-1.0)
    with pytest.raises(ValueError, match="flux_tol"):
        Tolerance(flux_tol=float("nan"))


def _device(x: float, F_E, F_N):  # type: ignore[no-untyped-def]
    """Two-force device at eps_L = 1 with the given x (U_eff = x - 1)."""
    U_eff = x - 1.0
    U, J = (U_eff, 0.0) if U_eff >= 0 else (0.0, -4.0 * U_eff)
    return qd.coupled_transport(F_E, F_N, eps_L=1.0, eps_R=np.array([-1.0, 0.0, 0.5, 1.0, 2.0])[:, None, None],
                                U=U, J=J, T_ref=1.0)


F_axis = np.linspace(0.0, 0.95, 39)
FN_axis = np.linspace(0.0, 4.0, 41)


@pytest.mark.parametrize("x", [3.0, 2.0, 0.5, 0.1])
def test_no_inverse_current_for_positive_x(x: float) -> None:
    res = qd.solve(_device(x, F_axis[:, None], FN_axis[None, :]))
    JE, JN = res.fluxes["J_E"], res.fluxes["J_N"]
    tol = 1e-12
    # claim 4: F_N = 0, F_E > 0 -> J_E > 0 and J_N > 0
    assert np.all(JE[:, 1:, 0] > 0) and np.all(JN[:, 1:, 0] > 0)
    # claim 5: F_E = 0, F_N > 0 -> J_N > 0 and J_E >= 0
    assert np.all(JN[:, 0, 1:] > 0) and np.all(JE[:, 0, 1:] >= -tol)
    # claim 6: no genuine ICC anywhere in the first quadrant
    for name in ("J_E", "J_N"):
        assert not np.any(res.regime[name] == R.ICC)
        assert not np.any(res.regime[name] == R.PSEUDO_ICC)


@pytest.mark.parametrize("x", [-0.5, -2.0, -4.0])
def test_inverse_currents_for_negative_x(x: float) -> None:
    res = qd.solve(_device(x, F_axis[:, None], FN_axis[None, :]))
    JE, JN = res.fluxes["J_E"], res.fluxes["J_N"]
    # claims 4/5: the conjugate flux still follows its own force ...
    assert np.all(JE[:, 1:, 0] > 0) and np.all(JN[:, 0, 1:] > 0)
    # ... while the induced flux can run against the other force (pseudo-ICC)
    assert np.any(JN[:, 1:, 0] < 0)
    assert np.any(JE[:, 0, 1:] < 0)
    # claim 6: genuine ICC in both fluxes, never at the same point
    icc_E = res.regime["J_E"] == R.ICC
    icc_N = res.regime["J_N"] == R.ICC
    assert icc_E.any() and icc_N.any()
    assert not np.any(icc_E & icc_N)
    # and Sigma >= 0 everywhere
    assert np.all(res.entropy_production >= 0)


def test_gradients_can_call_a_cross_effect_an_icc() -> None:
    # T_t = 4 > T_b = 1 and mu_b = 1: for 1 < mu_t < 4 the gradients (dT, dmu) are both
    # positive (parallel) while F_N = mu_t/4 - 1 < 0 opposes F_E > 0.  A particle current
    # running t <- b is then "against both gradients" (ICC by gradients) but merely follows
    # its own force (paper Sec. VI, the critique of Zhang & Xie 2021).
    dev = qd.three_terminal(-1.0, 1.0, U=0.0, J=0.0, T={"t": 4.0, "b": 1.0, "r": 1.0},
                            mu={"t": np.linspace(1.05, 3.95, 300), "b": 1.0, "r": 1.0})
    res = qd.solve(dev)
    by_force, by_grad = res.regime["J_N"], res.regime_by_gradients["J_N"]
    disagree = by_force != by_grad
    assert disagree.any()
    fake = (by_grad == R.ICC) & (by_force != R.ICC)
    assert fake.any()
    assert np.all(res.forces["F_N"][fake] < 0) and np.all(res.fluxes["J_N"][fake] < 0)

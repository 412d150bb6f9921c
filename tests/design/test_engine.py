"""Single-level engine: efficiency at maximum power against Esposito, Lindenberg, Van den Broeck, PRL 102, 130602.

For a single level between a hot lead L (T_L = 1) and a cold lead R
(T_R = 1 - eta_C), optimising the power over the level and the bias, the
efficiency at maximum power is eta* = eta_C/2 + eta_C^2/8 + (7/96) eta_C^3 + O(eta_C^4)
(tight coupling: every electron carries heat eps - mu_L out of the hot lead).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import fsolve

import qdthermo as qd

ETA_C = (0.02, 0.05, 0.1, 0.15, 0.2)
VARY = {"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}


def engine(eta_c: float, **kw):
    return qd.optimize(qd.single_dot, maximize="power", vary=VARY,
                       T={"L": 1.0, "R": 1.0 - eta_c}, mu={"L": 0.0, "R": 0.0}, gamma=1.0, **kw)


@pytest.fixture(scope="module")
def optima():
    return {eta_c: engine(eta_c) for eta_c in ETA_C}


def _reference_eta(eta_c: float) -> float:
    """Independent: the stationary point of P = V (f((eps - mu_L)/T_L) - f(eps/T_R)), V = -mu_L (fsolve)."""
    t_l, t_r = 1.0, 1.0 - eta_c

    def f(x):
        return 0.5 * (1.0 - np.tanh(x / 2.0))

    def df(x):
        return -f(x) * (1.0 - f(x))

    def grad(p):
        eps, mu_l = p
        a, b = (eps - mu_l) / t_l, eps / t_r
        return [-mu_l * (df(a) / t_l - df(b) / t_r), -(f(a) - f(b)) + mu_l * df(a) / t_l]

    eps, mu_l = fsolve(grad, [2.4, -1.2 * eta_c], xtol=1e-14)
    return float(-mu_l / (eps - mu_l))


@pytest.mark.parametrize("eta_c", ETA_C)
def test_efficiency_at_maximum_power_follows_the_published_expansion(optima, eta_c):
    opt = optima[eta_c]
    eta = float(opt.performance.efficiency)
    second_order = eta_c / 2 + eta_c**2 / 8
    # agreement to O(eta_C^3); the single level's third-order coefficient is 7/96 ~ 0.073
    assert abs(eta - second_order) <= 0.1 * eta_c**3
    assert eta - second_order > 0.0
    assert not opt.on_bound
    assert opt.value == pytest.approx(float(opt.performance.power), rel=1e-12)


def test_expansion_coefficients_from_a_fit(optima):
    eta_c = np.array(ETA_C)
    ratio = np.array([float(optima[e].performance.efficiency) for e in ETA_C]) / eta_c
    c3, c2, c1, c0 = np.polyfit(eta_c, ratio, 3)
    assert c0 == pytest.approx(0.5, abs=2e-4)
    assert c1 == pytest.approx(1 / 8, abs=5e-3)
    assert c2 == pytest.approx(7 / 96, abs=0.03)


def test_optimum_agrees_with_an_independent_maximisation(optima):
    for eta_c in (0.05, 0.2):
        assert float(optima[eta_c].performance.efficiency) == pytest.approx(_reference_eta(eta_c), abs=1e-7)


def test_linear_response_limit():
    """eta* -> eta_C/2, at the level x = (eps - mu)/T solving x tanh(x/2) = 2 (x = 2.3994)."""
    for eta_c in (1e-3, 1e-2):
        opt = engine(eta_c)
        eta = float(opt.performance.efficiency)
        assert eta / eta_c == pytest.approx(0.5 + eta_c / 8, abs=0.1 * eta_c**2 + 1e-6)
        mu_mean = (opt.parameters["mu_L"] + 0.0) / 2
        x = abs(opt.parameters["eps"] - mu_mean) / (1.0 - eta_c / 2)
        assert x == pytest.approx(2.399357, abs=5 * eta_c**2 + 1e-5)


def test_power_efficiency_bounds_and_constraint():
    kw = dict(T={"L": 1.0, "R": 0.5}, mu=0.0, gamma=1.0, vary=VARY)
    free = qd.optimize(qd.single_dot, maximize="power", **kw)
    eta_max = qd.optimize(qd.single_dot, maximize="efficiency", **kw)
    held = qd.optimize(qd.single_dot, maximize="power", constraints={"efficiency": (0.4, None)}, **kw)
    for opt in (free, eta_max, held):
        assert float(opt.performance.efficiency) <= float(opt.performance.carnot_efficiency)
        for name, value in opt.parameters.items():
            lo, hi = opt.bounds[name]
            assert lo <= value <= hi
    assert float(eta_max.performance.efficiency) == pytest.approx(0.5, abs=1e-3)  # Carnot, at vanishing power
    assert float(held.performance.efficiency) >= 0.4
    assert float(held.performance.efficiency) == pytest.approx(0.4, abs=1e-6)  # the constraint is active
    assert held.constraints["efficiency"] == pytest.approx(0.4, abs=1e-6)
    assert held.value < free.value


def test_optimum_on_a_bound_is_reported():
    opt = qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-10.0, 10.0), "mu_L": (-0.1, 0.0)},
                      T={"L": 1.0, "R": 0.5}, mu=0.0)
    assert dict(opt.on_bound) == {"mu_L": "lower"}
    assert opt.parameters["mu_L"] == -0.1
    assert "on_bound" in repr(opt)

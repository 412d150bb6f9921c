"""Refrigerator design: maximum cooling power at a required COP, never beyond Carnot."""

from __future__ import annotations

import pytest

import qdthermo as qd

KW = dict(vary={"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}, T={"L": 1.0, "R": 0.8}, mu=0.0, gamma=1.0)


@pytest.fixture(scope="module")
def fridges():
    free = qd.optimize(qd.single_dot, maximize="cooling_power", **KW)
    held = qd.optimize(qd.single_dot, maximize="cooling_power", constraints={"cop": (2.0, None)}, **KW)
    best = qd.optimize(qd.single_dot, maximize="cop", starts=2, **KW)
    return free, held, best


def test_cop_constraint_is_met_and_active(fridges):
    free, held, _ = fridges
    perf = held.performance
    assert float(perf.carnot_cop) == pytest.approx(4.0)
    assert float(perf.cop) >= 2.0
    assert float(perf.cop) == pytest.approx(2.0, abs=1e-6)
    assert float(perf.cooling_power) > 0
    assert held.value <= free.value
    assert float(free.performance.cop) < 2.0  # unconstrained: more cooling at a lower COP
    # cooling power keeps growing with the bias: mu_L on a bound (either, by particle-hole symmetry:
    # eps, mu_L -> -eps, -mu_L with mu_R = 0 gives the same cooling power)
    assert free.on_bound in ({"mu_L": "upper"}, {"mu_L": "lower"})


def test_cop_never_exceeds_carnot(fridges):
    for opt in fridges:
        assert float(opt.performance.cop) <= float(opt.performance.carnot_cop)
    best = fridges[2]
    assert float(best.performance.cop) == pytest.approx(4.0, rel=1e-3)  # Carnot, at vanishing cooling power


def test_minimize_and_per_lead_temperature():
    """Minimising the entropy production of a refrigerator at a cooling power; T_R varied as a lead entry."""
    opt = qd.optimize(qd.single_dot, minimize="entropy_production", constraints={"cooling_power": (0.01, None)},
                      vary={"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0), "T_R": (0.5, 0.9)},
                      T={"L": 1.0, "R": 0.8}, mu=0.0)
    assert opt.sense == "minimize"
    assert float(opt.performance.cooling_power) >= 0.01
    assert float(opt.result.device.lead("R").temperature) == pytest.approx(opt.parameters["T_R"])
    assert float(opt.result.device.lead("L").temperature) == 1.0
    assert opt.value >= 0.0  # second law

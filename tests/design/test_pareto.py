"""Pareto fronts: non-dominated, sorted, ends consistent with the single-objective optima, within Carnot."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.design.front import non_dominated

KW = dict(vary={"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}, T={"L": 1.0, "R": 0.5}, mu=0.0, gamma=1.0)


@pytest.fixture(scope="module")
def front():
    return qd.pareto(qd.single_dot, objectives=("power", "efficiency"), **KW)


def test_front_is_non_dominated_and_sorted(front):
    v = front.values
    assert v.shape == (len(front), 2) and len(front) >= 8
    assert np.all(np.diff(v[:, 0]) > 0)  # sorted by power, ascending
    assert np.all(np.diff(v[:, 1]) < 0)  # so efficiency falls along it
    better_eq = np.all(v[None, :, :] >= v[:, None, :], axis=-1)
    strictly = np.any(v[None, :, :] > v[:, None, :], axis=-1)
    assert not np.any(better_eq & strictly)
    assert not v.flags.writeable


def test_front_ends_match_single_objective_optima(front):
    p_max = qd.optimize(qd.single_dot, maximize="power", **KW)
    eta_max = qd.optimize(qd.single_dot, maximize="efficiency", **KW)
    assert front.values[-1, 0] == pytest.approx(p_max.value, rel=1e-8)
    assert front.values[-1, 1] == pytest.approx(float(p_max.performance.efficiency), abs=1e-6)
    assert front.values[0, 1] == pytest.approx(eta_max.value, abs=1e-4)


def test_front_within_carnot_and_bounds(front):
    perf = front.result.performance
    assert np.all(perf.efficiency <= perf.carnot_efficiency)
    np.testing.assert_allclose(perf.power, front.values[:, 0], rtol=1e-12)
    np.testing.assert_allclose(perf.efficiency, front.values[:, 1], rtol=1e-12)
    for name, (lo, hi) in front.bounds.items():
        assert np.all((front.parameters[name] >= lo) & (front.parameters[name] <= hi))


def test_to_xarray(front):
    ds = front.to_xarray()
    assert ds.sizes["point"] == len(front)
    np.testing.assert_array_equal(ds["eps"].values, front.parameters["eps"])
    np.testing.assert_array_equal(ds["power"].values, front.values[:, 0])
    assert ds.attrs["objectives"] == "power,efficiency"
    assert ds["power"].attrs["units"]


def test_refrigerator_front_minimising_entropy_production():
    fr = qd.pareto(qd.single_dot, objectives={"cooling_power": "max", "entropy_production": "min"},
                   vary={"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}, T={"L": 1.0, "R": 0.8}, mu=0.0,
                   constraints={"cop": (1.0, None)}, samples=512, refine_points=3)
    assert fr.senses == ("maximize", "minimize")
    assert np.all(np.diff(fr.values[:, 0]) > 0) and np.all(np.diff(fr.values[:, 1]) > 0)
    perf = fr.result.performance
    assert np.all(perf.cop >= 1.0) and np.all(perf.cop <= perf.carnot_cop)
    assert "entropy_production" in fr.to_xarray()


def test_non_dominated_filter():
    scores = np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [np.nan, 0.0], [0.5, 3.0]])
    np.testing.assert_array_equal(non_dominated(scores), [True, True, False, True, False, True])

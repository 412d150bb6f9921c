"""The search is global, works for any registered observable and maps per-lead names for any preset."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.thermo.registry import unregister


@pytest.fixture
def bumpy():
    """A registered observable with many local maxima in eps: sin(3 eps) + 0.05 eps."""
    @qd.observable("bumpy_test_design", units="1", long_name="multimodal test function of the level")
    def _bumpy(result):
        eps = np.asarray(result.device.parameters["eps"], dtype=float)
        return np.broadcast_to(np.sin(3 * eps) + 0.05 * eps, result.shape)

    yield "bumpy_test_design"
    unregister("bumpy_test_design")


def test_global_maximum_of_a_multimodal_observable(bumpy):
    opt = qd.optimize(qd.single_dot, maximize=bumpy, vary={"eps": (-10.0, 10.0)}, samples=64)
    grid = np.linspace(-10, 10, 2_000_001)
    values = np.sin(3 * grid) + 0.05 * grid
    assert opt.parameters["eps"] == pytest.approx(grid[np.argmax(values)], abs=1e-5)  # eps = 8.90, not a local one
    assert opt.value == pytest.approx(np.max(values), abs=1e-9)
    low = qd.optimize(qd.single_dot, minimize=bumpy, vary={"eps": (-10.0, 10.0)}, samples=64)
    assert low.value == pytest.approx(np.min(values), abs=1e-9)


def test_per_lead_names_override_fixed_values():
    opt = qd.optimize(qd.three_terminal, minimize="entropy_production",
                      vary={"mu_t": (-1.0, 1.0), "T_r": (1.0, 3.0), "gamma_b": (0.5, 2.0)},
                      eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 1.0, "b": 1.0, "r": 2.0}, mu=0.3,
                      gamma={"t": 1.0, ("b", "1->2"): 0.1, "r": 1.0}, samples=64, starts=1)
    dev = opt.result.device
    assert float(dev.lead("t").chemical_potential) == pytest.approx(opt.parameters["mu_t"])
    assert float(dev.lead("b").chemical_potential) == 0.3  # the other leads keep their fixed values
    assert float(dev.lead("r").temperature) == pytest.approx(opt.parameters["T_r"])
    # near equilibrium: mu_t -> mu_b and T_r -> the bottom of its range
    assert opt.parameters["mu_t"] == pytest.approx(0.3, abs=1e-3)
    assert opt.on_bound == {"T_r": "lower"}
    assert opt.value >= 0.0


def test_plain_argument_wins_over_a_split_and_any_quantity_entry():
    """sanchez_buttiker's T_hot is its own argument; heat_current_r is one lead's entry of heat_current."""
    opt = qd.optimize(qd.sanchez_buttiker, maximize="power", vary={"V": (-2.0, 2.0), "T_hot": (1.0, 4.0)},
                      eps_L=0.5, eps_R=0.5, U=1.0, asymmetry=0.9, constraints={"heat_current_r": (None, 0.008)},
                      samples=256, starts=2)
    assert opt.value > 0
    assert float(opt.result.heat_current["r"]) <= 0.008
    assert opt.constraints["heat_current_r"] == pytest.approx(0.008, rel=1e-6)  # active: T_hot held below 4
    assert not opt.on_bound
    assert float(opt.performance.efficiency) <= float(opt.performance.carnot_efficiency)
    assert float(opt.result.device.lead("r").temperature) == pytest.approx(opt.parameters["T_hot"])

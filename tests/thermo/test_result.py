"""The solved result is frozen and read-only, solving leaves the device alone, and exports are labelled."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

import qdthermo as qd


@pytest.fixture(scope="module")
def result() -> qd.SteadyState:
    dev = qd.three_terminal(np.array([0.5, 1.0]), 0.3, U=0.8, J=6.0, T={"t": 2.0, "b": 1.0, "r": 1.0},
                            mu={"t": 0.1, "b": 0.0, "r": 0.0})
    return qd.solve(dev)


def _arrays(res: qd.SteadyState) -> dict[str, np.ndarray]:
    out = {
        "populations": res.populations, "rate_matrix": res.rate_matrix, "channel_flux": res.channel_flux,
        "particle_current_array": res.particle_current_array, "energy_current_array": res.energy_current_array,
        "heat_current_array": res.heat_current_array, "entropy_production": res.entropy_production,
        "entropy_production_macro": res.entropy_production_macro, "entropy_flow": res.entropy_flow,
        "entropy": res.entropy, "force_array": res.force_array, "flux_array": res.flux_array,
        "rates.plus": res.rates.plus, "rates.minus": res.rates.minus, "rates.log_ratio": res.rates.log_ratio,
        "system.energies": res.system.energies, "performance.power": res.performance.power,
        "performance.efficiency": res.performance.efficiency, "cycles.affinity": res.cycles.affinity,
        "cycles.flux": res.cycles.flux, "cycles.force_map": res.cycles.force_map,
        "cycles.entropy_production": res.cycles.entropy_production,
        "cycles.microscopic_forces": res.cycles.microscopic_forces,
        "regime_by_gradients[J_N]": res.regime_by_gradients["J_N"],
    }
    for mapping in ("particle_current", "energy_current", "heat_current", "forces", "fluxes", "regime"):
        for key, value in getattr(res, mapping).items():
            out[f"{mapping}[{key}]"] = value
    return out


def test_attributes_cannot_be_assigned(result: qd.SteadyState) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.populations = np.zeros(4)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.device = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.rates.plus = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.particle_current["t"] = np.zeros(2)  # type: ignore[index]
    with pytest.raises(TypeError):
        result.forces["F_E"] = np.zeros(2)  # type: ignore[index]


def test_every_array_is_read_only(result: qd.SteadyState) -> None:
    for name, arr in _arrays(result).items():
        assert isinstance(arr, np.ndarray), name
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = 0


def test_solving_does_not_mutate_the_device() -> None:
    eps_L = np.array([0.5, 1.0, 1.5])
    T_t = np.array([2.0, 3.0, 4.0])
    dev = qd.three_terminal(eps_L, 0.3, U=0.8, J=1.0, T={"t": T_t, "b": 1.0, "r": 1.0},
                            gamma={"t": 1.0, ("b", "1->2"): 0.5, "b": 2.0, "r": 1.0})
    before = copy.deepcopy(dev)
    res = qd.solve(dev)
    _ = (res.entropy_production, res.regime, res.performance, res.to_xarray(), res.cycles.microscopic_forces)
    qd.evolve(dev, [0.0, 1.0])
    qd.evolve_lindblad(dev, [0.0, 1.0])
    assert res.device is dev
    for a, b in zip(dev.dots, before.dots):
        np.testing.assert_array_equal(a.level, b.level)
    for a, b in zip(dev.leads, before.leads):
        np.testing.assert_array_equal(a.temperature, b.temperature)
        np.testing.assert_array_equal(a.chemical_potential, b.chemical_potential)
        if isinstance(a.coupling, dict):
            assert a.coupling.keys() == b.coupling.keys()
            for key in a.coupling:
                np.testing.assert_array_equal(a.coupling[key], b.coupling[key])
        else:
            np.testing.assert_array_equal(a.coupling, b.coupling)
    assert dev.parameters.keys() == before.parameters.keys()
    # and the user's own arrays are untouched and still theirs
    np.testing.assert_array_equal(eps_L, [0.5, 1.0, 1.5])
    assert eps_L.flags.writeable and T_t.flags.writeable
    # solving twice gives the same answer
    np.testing.assert_array_equal(qd.solve(dev).populations, res.populations)


def test_to_xarray_labels_and_units(result: qd.SteadyState) -> None:
    ds = result.to_xarray(dims=("eps_L",), coords={"eps_L": [0.5, 1.0]})
    assert ds.sizes["eps_L"] == 2 and ds.sizes["state"] == 4 and ds.sizes["lead"] == 3
    assert list(ds["state"].values) == ["00", "10", "01", "11"]
    assert list(ds["lead"].values) == ["t", "b", "r"]
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units"), f"{name} has no units"
        assert var.attrs.get("long_name"), f"{name} has no long_name"
    np.testing.assert_array_equal(ds["populations"].values, result.populations)
    np.testing.assert_array_equal(ds["particle_current"].sel(lead="t").values, result.particle_current["t"])
    assert ds["particle_current"].attrs["units"] == "rate"
    assert ds["energy_current"].attrs["units"] == "energy*rate"
    expected = {"populations", "energy", "channel_flux", "particle_current", "energy_current", "heat_current",
                "entropy_production", "entropy_flow", "forces", "fluxes", "regime_J_E", "regime_J_N", "power",
                "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"}
    assert expected <= set(ds.data_vars)


def test_to_xarray_scalar_and_dim_errors() -> None:
    res = qd.solve(qd.single_dot(0.3, T={"L": 2.0, "R": 1.0}))
    ds = res.to_xarray()
    assert ds["populations"].dims == ("state",)
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
    with pytest.raises(ValueError, match="dims must name the 0 batch dimension"):
        res.to_xarray(dims=("x",))

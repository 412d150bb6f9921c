"""The observable registry: one registration reaches results, datasets and sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.thermo.registry import OBSERVABLES, unregister

DEVICE = dict(eps_L=1.0, eps_R=1.0, U=0.5, J=0.0, T={"t": 2.0, "b": 1.0, "r": 1.0}, mu=0.0, gamma=1.0)


@pytest.fixture()
def twice():
    @qd.observable("twice_particle_current_t", units="rate", long_name="twice the particle current of lead t")
    def twice(result):
        return 2 * result.particle_current["t"]

    yield twice
    unregister("twice_particle_current_t")


def test_registered_observable_reaches_result_and_dataset(twice) -> None:
    res = qd.solve(qd.three_terminal(**DEVICE))
    assert res.observable("twice_particle_current_t") == 2 * res.particle_current["t"]
    ds = res.to_xarray()
    var = ds["twice_particle_current_t"]
    assert float(var) == 2 * float(res.particle_current["t"])
    assert var.attrs == {"units": "rate", "long_name": "twice the particle current of lead t"}


def test_registered_observable_reaches_sweeps(twice) -> None:
    ds = qd.sweep(qd.three_terminal, scheduler="serial", progress=False,
                  **{**DEVICE, "eps_L": np.linspace(0.5, 1.5, 3)})
    direct = qd.solve(qd.three_terminal(**{**DEVICE, "eps_L": np.linspace(0.5, 1.5, 3)}))
    np.testing.assert_allclose(ds["twice_particle_current_t"].values, 2 * direct.particle_current["t"], rtol=1e-14)


def test_every_builtin_observable_has_units_and_long_name() -> None:
    for name, obs in OBSERVABLES.items():
        assert obs.units and obs.long_name, name


def test_units_by_quantity_name() -> None:
    @qd.observable("my_power", units="power", long_name="power again")
    def my_power(result):
        return result.performance.power

    try:
        assert OBSERVABLES["my_power"].units == "energy*rate"
    finally:
        unregister("my_power")


def test_bad_registrations_are_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        qd.observable("not a name", units="1", long_name="x")(lambda r: 0)
    with pytest.raises(ValueError, match="unknown trailing dims"):
        qd.observable("odd", units="1", long_name="x", dims=("spin",))(lambda r: 0)
    with pytest.raises(ValueError, match="already registered"):
        qd.observable("populations", units="1", long_name="x")(lambda r: 0)
    with pytest.raises(ValueError, match="unknown observable 'nope'"):
        qd.solve(qd.three_terminal(**DEVICE)).observable("nope")

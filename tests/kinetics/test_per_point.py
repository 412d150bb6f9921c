"""Per-point failures stay per point: NaN and valid=False there, exact results elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd

pytestmark = pytest.mark.usefixtures("steady_route")  # NumPy routes, then the compiled route (conftest)

KW = dict(eps_L=1.0, eps_R=0.5, U=0.7, J=0.0, T={"t": 2.0, "b": 1.0, "r": 1.5}, mu={"t": 0.3, "b": 0.0, "r": 0.1})


@pytest.mark.parametrize("method", ["auto", "linear", "matrix_tree"])
def test_disconnected_point_is_nan_and_the_rest_exact(method: str) -> None:
    device = qd.three_terminal(**KW, gamma={"t": [0.0, 1.0, 2.0], "b": [0.0, 1.0, 1.0], "r": 1.0})
    with pytest.warns(qd.InvalidPointsWarning, match=r"1 of 3 points .* index \(0,\).*disconnected.*gamma\['t'\]=0"):
        res = qd.solve(device, method=method)
    np.testing.assert_array_equal(res.valid, [False, True, True])
    for k, g in ((1, 1.0), (2, 2.0)):
        single = qd.solve(qd.three_terminal(**KW, gamma={"t": g, "b": 1.0, "r": 1.0}), method=method)
        np.testing.assert_array_equal(res.populations[k], single.populations)
        assert res.entropy_production[k] == single.entropy_production
        assert res.regime["J_N"][k] == single.regime["J_N"]
    assert np.all(np.isnan(res.populations[0]))
    for value in (res.particle_current["t"], res.entropy_production, res.fluxes["J_N"], res.performance.power,
                  res.performance.efficiency, res.entropy_flow):
        assert np.isnan(value[0])
    assert res.regime["J_E"][0] == qd.thermo.regimes.INVALID_REGIME
    ds = res.to_xarray()
    np.testing.assert_array_equal(ds.valid.values, [False, True, True])


def test_scalar_device_without_steady_state_raises_with_cause() -> None:
    with pytest.raises(ValueError, match=r"not unique.*disconnected.*gamma\['r'\]=0"):
        qd.solve(qd.three_terminal(**KW, gamma={"t": 1.0, "b": 1.0, "r": 0.0}))


def test_sweep_stores_valid_and_goes_on() -> None:
    with pytest.warns(qd.InvalidPointsWarning):
        ds = qd.sweep(qd.three_terminal, scheduler="serial", progress=False,
                      **{**KW, "gamma": {"t": np.array([0.0, 1.0]), "b": np.array([0.0, 1.0]), "r": 1.0}})
    assert ds.valid.dims == ("gamma_t", "gamma_b")
    np.testing.assert_array_equal(ds.valid.values, [[False, True], [True, True]])
    assert np.isnan(ds.entropy_production.values[0, 0]) and np.all(ds.entropy_production.values.ravel()[1:] > 0)


def test_route_is_reported(steady_route: str) -> None:
    res = qd.solve(qd.three_terminal(**KW, gamma=1.0), method="linear")
    assert res.route == "linear" and res.to_xarray().attrs["steady_state_route"] == "linear"
    auto = "compiled" if steady_route == "compiled" else "matrix_tree"
    assert qd.solve(qd.three_terminal(**KW, gamma=1.0)).route == auto

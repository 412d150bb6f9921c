"""qd.sweep in memory: grid layout, labelled observables, every preset, chunking, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qdthermo as qd
from qdthermo.sweeps.plan import Axis, Plan, _chunk_shape
from qdthermo.units import attrs as unit_attrs
from tests.sweeps.helpers import PARAMS, assert_same_results

OBSERVABLES = [
    "populations", "energy", "channel_flux", "particle_current", "energy_current", "heat_current",
    "entropy_production", "entropy_flow", "forces", "fluxes", "regime_J_E", "regime_J_N",
    "power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop", "valid",
]


@pytest.fixture(scope="module")
def phase() -> object:
    return qd.sweep(qd.coupled_transport, progress=False, **PARAMS)


def test_layout_coordinates_and_attributes(phase) -> None:
    ds = phase
    assert list(ds.data_vars) == OBSERVABLES
    assert ds.populations.dims == ("F_E", "F_N", "state")
    assert ds.particle_current.dims == ("F_E", "F_N", "lead")
    assert list(ds.lead.values) == ["t", "b", "r"]
    assert ds.regime_J_E.dims == ("F_E", "F_N") and ds.regime_J_N.dtype == np.int8
    np.testing.assert_array_equal(ds.F_E.values, PARAMS["F_E"])
    np.testing.assert_array_equal(ds.F_N.values, PARAMS["F_N"])
    for dim in ("F_E", "F_N"):
        assert ds[dim].attrs == unit_attrs(dim)
    for name in OBSERVABLES:
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
    assert ds.attrs["preset"] == "coupled_transport"
    assert ds.attrs["eps_L"] == 1.0 and ds.attrs["J"] == 12.0
    assert ds.attrs["fixed_parameters"] == "eps_L J" and ds.attrs["swept_parameters"] == "F_E F_N"


def test_every_point_is_the_direct_solve(phase) -> None:
    FE, FN = np.meshgrid(PARAMS["F_E"], PARAMS["F_N"], indexing="ij")
    direct = qd.solve(qd.coupled_transport(F_E=FE, F_N=FN, eps_L=1.0, J=12.0)).to_xarray(dims=("F_E", "F_N"))
    for name in OBSERVABLES:
        np.testing.assert_allclose(phase[name].values, direct[name].values, rtol=1e-13, atol=1e-300,
                                   err_msg=name)
    # forces follow the swept axes
    np.testing.assert_allclose(phase.forces.sel(force="F_E").values, FE, rtol=1e-12)
    np.testing.assert_allclose(phase.forces.sel(force="F_N").values, FN, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk_points", [1, 7, 11, 50, 143])
def test_chunking_does_not_change_results(phase, chunk_points: int) -> None:
    ds = qd.sweep(qd.coupled_transport, chunk_points=chunk_points, scheduler="serial", progress=False, **PARAMS)
    assert_same_results(ds, phase, ignore_identity=True)


def test_process_pool_equals_serial(phase) -> None:
    ds = qd.sweep(qd.coupled_transport, chunk_points=20, progress=False, **PARAMS)  # default: process pool
    assert_same_results(ds, phase, ignore_identity=True)


def test_three_axes_in_the_order_given() -> None:
    ds = qd.sweep("coupled_transport", U=[0.0, 1.0], F_N=np.linspace(-1, 1, 3), F_E=[-0.5, 0.0, 0.25, 0.5],
                  eps_L=1.0, chunk_points=5, progress=False)
    assert ds.entropy_production.dims == ("U", "F_N", "F_E")
    ref = qd.solve(qd.coupled_transport(F_E=0.25, F_N=1.0, U=1.0, eps_L=1.0))
    np.testing.assert_allclose(ds.populations.sel(U=1.0, F_N=1.0, F_E=0.25).values, ref.populations, rtol=1e-13)
    assert ds.U.attrs["long_name"] == "interdot Coulomb interaction"


def test_dict_entries_and_other_presets() -> None:
    ds = qd.sweep(qd.three_terminal, eps_L=[0.5, 1.0], eps_R=1.0,
                  T={"t": np.linspace(1.0, 2.0, 3), "b": 1.0, "r": 1.0}, progress=False)
    assert ds.populations.dims == ("eps_L", "T_t", "state")
    assert ds.T_t.attrs == {"units": "energy", "long_name": "temperature k_B T (t)"}
    assert ds.attrs["T_b"] == 1.0
    ref = qd.solve(qd.three_terminal(1.0, 1.0, T={"t": 1.5, "b": 1.0, "r": 1.0}))
    np.testing.assert_allclose(ds.heat_current.sel(eps_L=1.0, T_t=1.5).values, ref.heat_current_array, rtol=1e-13)

    ds = qd.sweep("single_dot", eps=np.linspace(-1, 1, 5), mu={"L": 0.1, "R": 0.0}, progress=False)
    assert ds.particle_current.dims == ("eps", "lead") and list(ds.lead.values) == ["L", "R"]

    ds = qd.sweep(qd.sanchez_buttiker, eps_L=0.0, eps_R=0.0, U=1.0, V=np.linspace(0, 0.5, 4),
                  asymmetry=[-1.0, 1.0], progress=False)
    assert ds.regime_J_N.dims == ("V", "asymmetry")
    assert ds.V.attrs["units"] == "energy"


def test_no_swept_parameter_is_one_point() -> None:
    ds = qd.sweep(qd.single_dot, eps=0.3, progress=False)
    ref = qd.solve(qd.single_dot(0.3))
    assert ds.populations.dims == ("state",)
    np.testing.assert_allclose(ds.populations.values, ref.populations, rtol=1e-14)


def test_progress_bar_shows_rate(capsys) -> None:
    qd.sweep(qd.single_dot, eps=np.linspace(-1, 1, 50), chunk_points=10, scheduler="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep: 100%" in err and "pt/s" in err and "50.0/50.0" in err


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(F_E=np.zeros((2, 2)), F_N=0.0), r"F_E must be a scalar \(fixed\) or a 1-D array \(swept\).*\(2, 2\)"),
        (dict(F_E=[0.1], F_N=0.0, bogus=1.0), r"unknown parameter\(s\) \['bogus'\].*allowed"),
        (dict(F_N=0.0), r"needs parameter\(s\) \['F_E'\]"),
        (dict(F_E=[], F_N=0.0), r"F_E: a swept parameter needs at least one value"),
        (dict(F_E=[0.0, np.nan], F_N=0.0), r"F_E: swept values must be finite"),
        (dict(F_E=["a", "b"], F_N=0.0), r"F_E: swept values must be real numbers"),
        (dict(F_E=np.linspace(0, 2, 5), F_N=0.0), r"F_E = 1\.0 implies .*allowed range: F_E < 1/T_ref = 1\.0"),
        (dict(F_E=0.0, F_N=0.0, eps_L=[1.0, -1.0]), r"eps_L = -1\.0: must be positive \(allowed range: 0 < eps_L"),
        (dict(F_E=0.0, F_N=0.0, gamma={"t": [1.0, -0.5], "b": 1.0, "r": 1.0}),
         r"^gamma_t = -0\.5: must be non-negative \(allowed range: 0 <= gamma_t < inf\)$"),
        (dict(F_E=0.0, F_N=0.0, gamma=lambda w: 1.0), r"gamma: a callable"),
        (dict(F_E=0.0, F_N=0.0, gamma={"t": {"a": 1}}), r"gamma\['t'\] must be a real number"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        qd.sweep(qd.coupled_transport, progress=False, **kwargs)


def test_bad_preset_chunking_scheduler() -> None:
    with pytest.raises(ValueError, match=r"unknown preset 'nope'; allowed: three_terminal"):
        qd.sweep("nope", progress=False, eps=1.0)
    with pytest.raises(ValueError, match=r"returned NoneType, not a qdthermo Device"):  # any function is accepted
        qd.sweep(lambda eps: None, progress=False, eps=1.0)
    with pytest.raises(ValueError, match=r"a preset must be a name .* or a function returning a Device, got 3"):
        qd.sweep(3, progress=False, eps=1.0)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match=rf"chunk_points must be a positive integer, got {bad!r}"):
            qd.sweep(qd.single_dot, eps=[1.0], chunk_points=bad, progress=False)
    with pytest.raises(ValueError, match=r"scheduler must be None, 'serial', 'local'.*got 3"):
        qd.sweep(qd.single_dot, eps=[1.0], scheduler=3, progress=False)


# ------------------------------------------------------------ chunk geometry
@given(st.lists(st.integers(1, 9), min_size=0, max_size=4), st.integers(1, 200))
def test_chunks_tile_the_grid_in_flat_order(shape: list[int], chunk_points: int) -> None:
    axes = tuple(Axis(f"d{i}", f"d{i}", None, np.arange(n, dtype=float)) for i, n in enumerate(shape))
    plan = Plan("single_dot", {}, axes, chunk_points, _chunk_shape(tuple(shape), chunk_points))
    cover = np.zeros(plan.shape, dtype=int)
    stop_prev = 0
    for k in range(plan.n_chunks):
        start, stop = plan.chunk_range(k)
        assert start == stop_prev and stop - start <= max(chunk_points, 1)
        stop_prev = stop
        cover[plan.chunk_slices(k)] += 1
        block = np.zeros(plan.shape, dtype=bool)
        block.flat[start:stop] = True  # the flat range is exactly the block
        assert block[plan.chunk_slices(k)].all() and block.sum() == stop - start
    assert stop_prev == plan.n_points
    assert (cover == 1).all()


def test_bad_combination_of_swept_values_fails_in_its_chunk() -> None:
    # each axis is fine against the others' first values; F_E = 0.6 with T_ref = 2 is not (1/T_ref - F_E < 0)
    with pytest.raises(ValueError, match=r"F_E = 0\.6 implies a non-positive temperature.*F_E < 1/T_ref = 0\.5"):
        qd.sweep(qd.coupled_transport, F_E=[0.3, 0.6], T_ref=[1.0, 2.0], F_N=0.0, chunk_points=1, progress=False)


def test_large_grids_take_the_compiled_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Grids from COMPILED_MIN_POINTS points are solved by the compiled route, in process; same results."""
    from qdthermo import _compiled
    from qdthermo.sweeps import run

    if not _compiled.available():
        pytest.skip("Numba unavailable: the sweep keeps the NumPy routes")
    monkeypatch.setattr(run, "COMPILED_MIN_POINTS", 1000)
    fe, fn = np.linspace(-1.0, 0.5, 40), np.linspace(-2.0, 2.0, 30)
    ds = qd.sweep(qd.coupled_transport, store=tmp_path / "c.zarr", chunk_points=300, progress=False,
                  F_E=fe, F_N=fn, eps_L=1.0, J=12.0)
    assert ds.attrs["steady_state_route"] == "compiled"
    ref = qd.solve(qd.coupled_transport(fe[:, None], fn[None, :], eps_L=1.0, J=12.0), method="linear")
    np.testing.assert_allclose(ds.populations.values, ref.populations, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ds.particle_current.values, ref.particle_current_array, rtol=1e-8, atol=1e-12)

"""The compiled fused route agrees with the NumPy route on every observable, including the hard corners.

``qd.solve(device, method="compiled")`` computes the steady state and every built-in observable in one
compiled pass (:mod:`qdthermo.thermo.fused`); the NumPy route ``"linear"`` runs the same algorithm array
by array.  The two must agree to 1e-13 relative (absolutely near zero) on random batches, in the
underflow and log-space regions and at points without a steady state; the compiled route must not
compile on import, must work from a read-only installation, and must fall back without Numba.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import qdthermo as qd
from qdthermo import _compiled
from qdthermo.kinetics import steady
from qdthermo.kinetics.network import network
from qdthermo.kinetics.rates import rates
from qdthermo.thermo.regimes import INVALID_REGIME
from tests.thermo.devices import random_network, random_three_terminal

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="Numba unavailable or disabled")

SRC = Path(__file__).resolve().parents[2] / "src"
RTOL = 1e-13


def _scale(res: qd.SteadyState) -> np.ndarray:
    """``(*shape)`` natural size of the currents at each point: largest rate times largest |w| + |mu| + T."""
    s = res.system
    e = np.abs(s.channel_energy).max(axis=-1) + np.abs(s.lead_chemical_potential).max(axis=-1) \
        + s.lead_temperature.max(axis=-1)
    return np.asarray(s.channel_coupling.max(axis=-1) * e)


def assert_same(reference: qd.SteadyState, compiled: qd.SteadyState) -> None:
    """Every exported variable equal to 1e-13 relative; absolute 1e-13 of the point's scale near zero."""
    a, b = reference.to_xarray(), compiled.to_xarray()
    assert list(a.data_vars) == list(b.data_vars)
    scale = _scale(reference)
    # efficiency = power / Q_in and COP = cooling / (-power): the absolute round-off 1e-13 * scale of the
    # power and heats (which cancel) propagates through the division
    perf = reference.performance
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_atol = {"efficiency": 1e-13 * scale * (1 + np.abs(perf.efficiency)) / np.abs(perf.heat_input),
                      "cop": 1e-13 * scale * (1 + np.abs(perf.cop)) / np.abs(perf.power)}
    for name in a.data_vars:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind != "f":
            np.testing.assert_array_equal(y, x, err_msg=name)
            continue
        np.testing.assert_array_equal(np.isnan(y), np.isnan(x), err_msg=name)
        ok = ~np.isnan(x)
        s = np.broadcast_to(scale.reshape(scale.shape + (1,) * (x.ndim - scale.ndim)), x.shape)
        tol = RTOL * np.maximum(np.abs(x), np.abs(y)) + 1e-13 * np.where(np.isfinite(s), s, 0.0)
        if name in ("populations", "forces", "carnot_efficiency", "carnot_cop"):
            tol = RTOL * np.maximum(np.abs(x), np.abs(y))  # relative everywhere (no cancellation)
        if name in ratio_atol:
            tol = RTOL * np.maximum(np.abs(x), np.abs(y)) + np.where(ok, ratio_atol[name], 0.0)
        bad = ok & ~(np.abs(x - y) <= tol) & ~(x == y)
        assert not np.any(bad), f"{name}: {x[bad][:5]} vs {y[bad][:5]}"


def _both(device: qd.Device) -> tuple[qd.SteadyState, qd.SteadyState]:
    ref = qd.solve(device, method="linear")
    out = qd.solve(device, method="compiled")
    assert out.route == "compiled"
    return ref, out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_device_random_batches(seed: int) -> None:
    assert_same(*_both(random_three_terminal(seed, 3000, t_ratio=30.0)))


def test_paper_device_agrees_with_the_matrix_tree_route() -> None:
    dev = random_three_terminal(5, 2000)
    tree, out = qd.solve(dev, method="matrix_tree"), qd.solve(dev, method="compiled")
    np.testing.assert_allclose(out.populations, tree.populations, rtol=1e-12)
    np.testing.assert_allclose(out.particle_current_array, tree.particle_current_array, rtol=1e-9,
                               atol=1e-13 * float(_scale(tree).max()))


@pytest.mark.parametrize("seed", range(6))
def test_random_general_networks(seed: int) -> None:
    assert_same(*_both(random_network(seed, 300)))


@pytest.mark.parametrize("n_dots", [2, 3, 4])
def test_dot_arrays(n_dots: int) -> None:
    rng = np.random.default_rng(n_dots)
    n = 400
    dev = qd.dot_array(n_dots, rng.uniform(-1, 1, (n, n_dots)), U_nn=rng.uniform(0, 2, (n, 1)),
                       T=rng.uniform(0.2, 3, (n, n_dots)), mu=rng.uniform(-1, 1, (n, n_dots)),
                       gamma=rng.uniform(0.1, 2, (n, n_dots)))
    assert_same(*_both(dev))


def test_underflow_and_log_space_points() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    T = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), (3, n)))
    dev = qd.three_terminal(rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), U=rng.uniform(0, 3, n),
                            J=rng.uniform(0, 12, n), T=dict(zip("tbr", T)),
                            mu={lead: rng.uniform(-2, 2, n) for lead in "tbr"})
    k = rates(dev.finalized())
    ratio = np.minimum(k.plus, k.minus).min(axis=-1) / np.maximum(k.plus, k.minus).max(axis=-1)
    assert np.sum(ratio < steady._TINY_RATE) > 100  # many points take the log-space route
    assert np.any(ratio == 0.0)  # and some rates underflow to zero
    ref, out = _both(dev)
    assert_same(ref, out)
    assert np.all(out.valid)


def test_invalid_points_are_nan_and_the_rest_exact() -> None:
    rng = np.random.default_rng(3)
    n = 500
    gamma_r = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.1, 2, n))
    dev = qd.three_terminal(rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), U=1.0, J=2.0,
                            T={"t": 2.0, "b": 1.0, "r": 1.0}, mu={"t": 0.2, "b": 0.0, "r": -0.1},
                            gamma={"t": 1.0, "b": 1.0, "r": gamma_r})
    with pytest.warns(qd.InvalidPointsWarning) as ref_warning:
        ref = qd.solve(dev, method="linear")
    with pytest.warns(qd.InvalidPointsWarning) as out_warning:
        out = qd.solve(dev, method="compiled")
    assert str(out_warning[0].message) == str(ref_warning[0].message)
    np.testing.assert_array_equal(out.valid, gamma_r > 0)
    assert np.all(out.regime["J_E"][~out.valid] == INVALID_REGIME)
    assert_same(ref, out)


def test_scalar_devices() -> None:
    dev = qd.three_terminal(0.3, -0.2, U=1.0, J=3.0, T={"t": 2.0, "b": 1.0, "r": 0.5},
                            mu={"t": 0.1, "b": 0.0, "r": 0.0})
    ref, out = _both(dev)
    assert out.shape == () and out.populations.shape == (4,)
    assert_same(ref, out)
    bad = qd.three_terminal(0.3, -0.2, gamma={"t": 1.0, "b": 1.0, "r": 0.0})
    with pytest.raises(ValueError, match="not unique"):
        qd.solve(bad, method="compiled")


def test_everything_else_is_computed_lazily_and_agrees() -> None:
    dev = random_three_terminal(11, 200)
    ref, out = _both(dev)
    out.to_xarray()
    assert "rates" not in out.generator.__dict__  # the fused pass never built the rate arrays
    np.testing.assert_array_equal(out.rates.plus, ref.rates.plus)
    np.testing.assert_allclose(out.rate_matrix, ref.rate_matrix, rtol=1e-15)
    np.testing.assert_allclose(out.cycles.affinity, ref.cycles.affinity, rtol=1e-13)
    np.testing.assert_allclose(out.microscopic_forces["F_E"], ref.microscopic_forces["F_E"], rtol=1e-9)
    assert np.all(out.residual < 1e-12)
    np.testing.assert_array_equal(out.regime_by_gradients["J_N"], ref.regime_by_gradients["J_N"])
    np.testing.assert_allclose(out.entropy, ref.entropy, rtol=1e-13)
    for read in (lambda r: r.populations, lambda r: r.channel_flux, lambda r: r.performance.power):
        with pytest.raises(ValueError, match="read-only"):
            read(out)[...] = 0


def test_auto_picks_the_compiled_route_for_large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = random_three_terminal(2, 50)
    net = network(dev.finalized())
    assert steady.choose_route(net, 10) == "matrix_tree"
    assert steady.choose_route(net, steady.COMPILED_MIN_POINTS) == "compiled"
    monkeypatch.setattr(steady, "COMPILED_MIN_POINTS", 10)
    assert qd.solve(dev).route == "compiled"
    P, route = steady.steady_state(net, rates(dev.finalized()))
    assert route == "compiled"


def _run(code: str, **env: str) -> str:
    full = {**os.environ, "PYTHONPATH": str(SRC), **env}
    for key in [k for k, v in env.items() if v == ""]:
        full.pop(key)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True, text=True,
                         check=False, timeout=900)
    assert out.returncode == 0, out.stderr
    return out.stdout


SMALL = """
    import numpy as np, qdthermo as qd
    dev = qd.three_terminal(np.linspace(-1, 1, 7), 0.2, U=1.0, J=2.0, T={"t": 2.0, "b": 1.0, "r": 1.0},
                            mu={"t": 0.3, "b": 0.0, "r": 0.0})
"""


def test_import_and_small_solves_compile_nothing() -> None:
    out = _run(SMALL + """
    import sys
    ds = qd.solve(dev).to_xarray()
    print("numba" in sys.modules)
    """)
    assert out.split()[-1] == "False"


def test_no_numba_falls_back_to_numpy() -> None:
    out = _run(SMALL + """
    import sys
    from qdthermo.kinetics import steady
    from qdthermo.kinetics.network import network
    res = qd.solve(dev, method="compiled")
    ref = qd.solve(dev, method="linear")
    assert np.array_equal(res.populations, ref.populations)
    assert steady.choose_route(network(dev.finalized()), 10**7) != "compiled"
    print("numba" in sys.modules)
    """, QDTHERMO_NO_NUMBA="1")
    assert out.split()[-1] == "False"


def test_read_only_installation_compiles_in_memory() -> None:
    # no writable cache location anywhere: numba cannot create a file in any candidate cache folder
    out = _run(SMALL + """
    import tempfile
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")
    tempfile.TemporaryFile = refuse
    res = qd.solve(dev, method="compiled")
    ref = qd.solve(dev, method="linear")
    assert np.allclose(res.populations, ref.populations, rtol=1e-13)
    print(res.route)
    """, NUMBA_CACHE_DIR="")
    assert out.split()[-1] == "compiled"


@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_regimes_are_classify_of_its_own_forces_and_fluxes(seed: int) -> None:
    """``classify()`` with the default tolerances returns the kernel's regimes: they must be exactly what the
    NumPy classification makes of the kernel's forces and fluxes (a slightly different tolerance recomputes
    them), including points at equilibrium in one force (equal temperatures or potentials)."""
    device = random_three_terminal(seed, 4000, t_ratio=30.0)
    res = qd.solve(device, method="compiled")
    assert res.classify() is res.regime
    again = res.classify(force_tol=1e-9 * (1 + 2**-40), flux_tol=1e-9 * (1 + 2**-40))
    for name in ("J_E", "J_N"):
        np.testing.assert_array_equal(res.regime[name], again[name], err_msg=name)
    level = qd.three_terminal(eps_L=np.linspace(-1, 2, 200), eps_R=0.5, U=1.0, J=0.3,
                              T={"t": 1.5, "b": 1.0, "r": 1.0}, mu={"t": 0.0, "b": 0.0, "r": 0.2})
    res = qd.solve(level, method="compiled")
    again = res.classify(force_tol=1e-9 * (1 + 2**-40), flux_tol=1e-9 * (1 + 2**-40))
    for name in ("J_E", "J_N"):
        np.testing.assert_array_equal(res.regime[name], again[name], err_msg=name)

"""The compiled second-order route of qd.fluctuations against the NumPy engine, and its selection."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.kinetics import counting_compiled

from .devices import disconnected_at_middle
from .test_fluctuations import random_paper_device

needs_numba = pytest.mark.skipif(not counting_compiled.available(), reason="Numba is not available or disabled")


def assert_same(compiled: np.ndarray, reference: np.ndarray, scale: np.ndarray | float = 0.0) -> None:
    """Same NaN pattern; equal to 1e-12 relative, or within 64 eps of the round-off ``scale`` of the value.

    ``scale`` is the absolute moment ``M_k = sum_j rate_j P_src |d_j|^k`` of a cumulant: its round-off
    (different summation orders) is a few eps times that, whatever the size of the cumulant.  Values
    cleaned to exactly 0 (``|C| <= 1e-13 M``) may be 0 on one route and not on the other only within it.
    """
    assert np.array_equal(np.isnan(compiled), np.isnan(reference))
    ok = ~np.isnan(reference)
    tol = 1e-12 * np.abs(reference) + 64 * np.finfo(float).eps * np.broadcast_to(scale, reference.shape)
    with np.errstate(invalid="ignore"):
        close = (compiled == reference) | (np.abs(compiled - reference) <= tol)
    assert np.all(close[ok]), (compiled[ok & ~close][:5], reference[ok & ~close][:5])


def moments(fl: qd.Fluctuations, name: str, order: int = 2) -> list[np.ndarray]:
    """``M_1 ... M_order``: the absolute moments ``sum_j rate_j P_src |d_j|^k`` of ``name``, the round-off
    scales of ``C_1 ... C_order``."""
    res = fl.result
    g = res.generator.jump_rates * res.populations[..., res.generator.network.source]
    d = np.abs(fl.increments(name))
    return [np.sum(g * d**k, axis=-1) for k in range(1, order + 1)]


def ratio_scale(fl: qd.Fluctuations, name: str, value: np.ndarray) -> np.ndarray:
    """Round-off scale of ``C_2 / |C_1|``-like ratios: ``|value| (M_1/|C_1| + M_2/|C_2|)``."""
    M1, M2 = moments(fl, name)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(value) * (M1 / np.abs(fl.cumulant(1, name)) + M2 / np.abs(fl.cumulant(2, name)))


@needs_numba
@pytest.mark.parametrize(("seed", "decades"), [(0, 1.0), (1, 2.5)])
def test_device_statistics_equal_the_numpy_engine(seed: int, decades: float) -> None:
    device = random_paper_device(5000, seed=seed, decades=decades)
    compiled = qd.fluctuations(device, order=2, engine="compiled")
    numpy = qd.fluctuations(device, order=2, engine="numpy")
    assert compiled.route == "compiled" and numpy.route == "numpy"
    for name in compiled.counting:
        M = moments(numpy, name)
        for k in (1, 2):
            assert_same(compiled.cumulant(k, name), numpy.cumulant(k, name), M[k - 1])
        assert_same(compiled.fano[name], numpy.fano[name], ratio_scale(numpy, name, numpy.fano[name]))
        if name != "entropy":
            assert_same(compiled.tur[name], numpy.tur[name], ratio_scale(numpy, name, numpy.tur[name]))
    np.testing.assert_allclose(compiled._entropy_production, numpy.result.entropy_production, rtol=1e-12)
    # one lead on the right dot: N_r is round-off, cleaned to exactly 0 (mostly), TUR undefined there
    assert np.mean(compiled.cumulant(1, "N_r") == 0) > 0.9
    assert np.all(np.isnan(compiled.tur["N_r"][compiled.cumulant(1, "N_r") == 0]))


@needs_numba
def test_invalid_points_are_nan_on_the_compiled_route() -> None:
    device = disconnected_at_middle()  # the middle point has no unique steady state
    with pytest.warns(qd.InvalidPointsWarning):
        result = qd.solve(device)
    assert not result.valid[1]
    with pytest.warns(qd.InvalidPointsWarning):
        fl = qd.fluctuations(device, order=2, counting=["N_t", "E_t", "J_N"], engine="compiled")
        ref = qd.fluctuations(device, order=2, counting=["N_t", "E_t", "J_N"], engine="numpy")
    for name in fl.counting:
        assert_same(fl.cumulant(2, name), ref.cumulant(2, name), moments(ref, name)[1])
        assert np.isnan(fl.cumulant(1, name)[1]) and np.isnan(fl.tur[name][1])


def test_engine_selection_and_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    device = random_paper_device(4, seed=3)
    with pytest.raises(ValueError, match="engine must be one of"):
        qd.fluctuations(device, engine="fortran")
    assert qd.fluctuations(device, order=3, engine="compiled").route == "compiled"
    assert qd.fluctuations(device, order=counting_compiled.MAX_ORDER + 1, engine="compiled").route == "numpy"
    assert qd.fluctuations(device, engine="numpy").route == "numpy"
    from qdthermo import _compiled
    from qdthermo.thermo import counting_statistics as cs

    monkeypatch.setattr(cs, "COMPILED_WARM_MIN_POINTS", 4)  # auto: by the batch size, the cold threshold ...
    monkeypatch.setattr(cs, "COMPILED_MIN_POINTS", 5)
    monkeypatch.setattr(_compiled, "warm", lambda: False)
    assert qd.fluctuations(device).route == "numpy"  # ... (200 000 points): small batches never compile
    monkeypatch.setattr(cs, "COMPILED_MIN_POINTS", 4)
    assert qd.fluctuations(device).route == "compiled"
    monkeypatch.setattr(cs, "COMPILED_MIN_POINTS", 10**6)
    monkeypatch.setattr(_compiled, "warm", lambda: True)  # once a kernel has run: the warm threshold
    assert qd.fluctuations(device).route == "compiled"
    assert qd.fluctuations(device, order=3).route == "numpy"  # order 3 and up: the batch size alone decides
    monkeypatch.setattr(cs, "COMPILED_WARM_MIN_POINTS", 5)
    assert qd.fluctuations(device).route == "numpy"
    monkeypatch.setattr(counting_compiled, "available", lambda: False)
    assert qd.fluctuations(device, engine="compiled").route == "numpy"


def test_no_numba_environment_variable_falls_back_to_numpy() -> None:
    code = ("import qdthermo as qd, numpy as np; from qdthermo.kinetics import counting_compiled as c; "
            "fl = qd.fluctuations(qd.single_dot(eps=0.0, T={'L': 1.0, 'R': 1.0}, mu={'L': 60.0, 'R': -60.0}, "
            "gamma={'L': 1.0, 'R': 1.0}), order=2, counting=['N_L']); "
            "assert not c.available() and fl.route == 'numpy'; print(float(fl.fano['N_L']))")
    env = {**os.environ, "QDTHERMO_NO_NUMBA": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(0.5, rel=1e-12)  # symmetric single level: Fano 1/2


@needs_numba
@pytest.mark.parametrize("method", ["auto", "compiled", "linear"])
def test_engines_agree_bit_for_bit_on_devices(method: str) -> None:
    """``engine="auto"`` may pick either engine by what the process has loaded (``_compiled.warm``): that is
    sound only because both give the same cumulants and TUR ratios bit for bit, whatever the steady-state route."""
    device = random_paper_device(3000, seed=5, decades=2.0)
    a = qd.fluctuations(device, engine="compiled", method=method)
    b = qd.fluctuations(device, engine="numpy", method=method)
    assert a.route == "compiled" and b.route == "numpy"
    for name in a.counting:
        for k in (1, 2):
            np.testing.assert_array_equal(a.cumulant(k, name), b.cumulant(k, name), err_msg=f"C{k} {name}")
    for name in ("J_E", "J_N"):
        np.testing.assert_array_equal(a.tur[name], b.tur[name], err_msg=f"TUR {name}")


@needs_numba
@pytest.mark.parametrize(("seed", "decades", "order"), [(0, 1.0, 3), (1, 2.5, 4), (2, 1.5, 6)])
def test_higher_orders_equal_the_numpy_engine(seed: int, decades: float, order: int) -> None:
    """Orders 3 and up by the compiled recursion, equal to the NumPy engine to round-off of ``|C_k| + M_k``
    (C_k can exceed M_k by far where W^D is large); C_1, C_2 those of order 2, whatever the order."""
    device = random_paper_device(3000, seed=seed, decades=decades)
    compiled = qd.fluctuations(device, order=order, engine="compiled")
    numpy = qd.fluctuations(device, order=order, engine="numpy")
    second = qd.fluctuations(device, order=2, engine="compiled")
    assert compiled.route == "compiled" and numpy.route == "numpy"
    tiny = 64 * np.finfo(float).smallest_subnormal
    for name in compiled.counting:
        M = moments(numpy, name, order)
        for k in range(1, order + 1):
            a, b = compiled.cumulant(k, name), numpy.cumulant(k, name)
            assert np.array_equal(np.isnan(a), np.isnan(b))
            ok = ~np.isnan(b)
            assert np.all(np.abs(a - b)[ok] <= 1e-12 * (np.abs(b) + M[k - 1])[ok] + tiny), (name, k)
            if k <= 2:
                np.testing.assert_array_equal(a, second.cumulant(k, name))


@needs_numba
def test_higher_orders_of_a_larger_network_and_invalid_points() -> None:
    from .test_response import random_network

    device = random_network(9)
    for order in (3, 5):
        a = qd.fluctuations(device, order=order, engine="compiled")
        b = qd.fluctuations(device, order=order, engine="numpy")
        for name in a.counting:
            np.testing.assert_allclose(a.cumulant(order, name), b.cumulant(order, name), rtol=1e-12, atol=1e-300)
    with pytest.warns(qd.InvalidPointsWarning):
        fl = qd.fluctuations(disconnected_at_middle(), order=4, counting=["N_t", "E_t"], engine="compiled")
    assert fl.route == "compiled"
    for k in range(1, 5):
        assert np.isnan(fl.cumulant(k, "N_t")[1]) and np.all(np.isfinite(fl.cumulant(k, "N_t")[[0, 2]]))

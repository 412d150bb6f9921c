"""The fused compiled fluctuations (rates formed in the kernel from the parameters) against the NumPy engine."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo import _compiled
from qdthermo.kinetics import counting_compiled
from tests.thermo.devices import random_network, random_three_terminal

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="Numba unavailable or disabled")


def _both(device: qd.Device) -> tuple[qd.Fluctuations, qd.Fluctuations]:
    fused = qd.fluctuations(device, order=2, method="compiled", engine="compiled")
    assert fused.result.precomputed is not None and fused.route == "compiled"
    reference = qd.fluctuations(device, order=2, method="linear", engine="numpy")
    return fused, reference


def _assert_same(fused: qd.Fluctuations, reference: qd.Fluctuations) -> None:
    for name in fused.counting:
        for k in (1, 2):
            a, b = fused.cumulant(k, name), reference.cumulant(k, name)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"C{k} {name}")
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13 * np.nanmax(np.abs(b)), err_msg=f"C{k} {name}")


@pytest.mark.parametrize("seed", [0, 1])
def test_paper_device_per_transition_couplings(seed: int) -> None:
    _assert_same(*_both(random_three_terminal(seed, 500, t_ratio=30.0)))


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_random_networks(seed: int) -> None:
    _assert_same(*_both(random_network(seed, 200)))


def test_low_temperature_every_point_finite_and_both_engines_agree() -> None:
    # T down to 1/1000 of the levels: rates over hundreds of decades, some underflowing to 0, states of
    # probability 1e-400 (exactly 0 in float64); before the elimination order followed P0 these gave NaN
    # or values off by 1e+50 at points marked valid (tests/kinetics/test_counting_cold.py has the exact
    # reference)
    rng = np.random.default_rng(12)
    n = 400
    T = 10.0 ** rng.uniform(-3, -1, n)
    device = qd.three_terminal(eps_L=rng.uniform(0.5, 2, n), eps_R=rng.uniform(0.5, 2, n), U=rng.uniform(0, 3, n),
                               J=rng.uniform(0, 1, n), T={lead: T * rng.uniform(0.8, 1.25, n) for lead in "tbr"},
                               mu={lead: rng.uniform(-1, 1, n) for lead in "tbr"})
    fused, reference = _both(device)
    assert np.all(np.asarray(fused.result.valid))
    _, src, _, rate, P = reference._jumps()
    for name in fused.counting:
        d = np.abs(reference.increments(name))
        for k in (1, 2):
            a, b = fused.cumulant(k, name), reference.cumulant(k, name)
            assert np.all(np.isfinite(a)), name
            # round-off of the absolute moment where the cumulant cancels (currents of a lead that is a
            # dot's only lead), 1e-9 relative elsewhere (the two steady-state routes differ in round-off)
            M = np.sum(rate * P[..., src] * d**k, axis=-1)
            np.testing.assert_array_less(np.abs(a - b), 1e-12 * M + 1e-9 * np.abs(b) + 1e-300, err_msg=f"C{k} {name}")


def test_energy_dependent_coupling_and_zero_coupling_points() -> None:
    eps = np.linspace(-2, 2, 50)
    device = qd.single_dot(eps=eps, T={"L": 2.0, "R": 1.0}, mu={"L": 0.5, "R": 0.0},
                           gamma={"L": lambda w: 1.0 + 0.2 * np.tanh(w), "R": np.where(eps > 1.5, 0.0, 1.0)})
    fused, reference = _both(device)
    _assert_same(fused, reference)
    cut = eps > 1.5  # lead R cut off: no transfer through it, so no noise either
    assert np.all(fused.cumulant(1, "N_R")[cut] == 0) and np.all(fused.cumulant(2, "N_R")[cut] == 0)


def test_points_that_need_pivoting_go_to_the_numpy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points the elimination flags are recomputed by the NumPy engine (forced here for every other point)."""
    device = random_three_terminal(7, 64)
    fused, reference = _both(device)
    expected = {q: fused.cumulant(2, q) for q in fused.counting}
    original = counting_compiled.second_order_device

    def flag_half(*args, **kwargs):  # type: ignore[no-untyped-def]
        C, _ = original(*args, **kwargs)
        idx = np.arange(0, C.shape[0], 2)
        C[idx] = np.nan
        return C, idx

    monkeypatch.setattr(counting_compiled, "second_order_device", flag_half)
    again = qd.fluctuations(device, order=2, method="compiled", engine="compiled")
    for q in fused.counting:
        np.testing.assert_allclose(again.cumulant(2, q), expected[q], rtol=1e-9, atol=1e-14)


def test_minimal_pass_result_reads_every_observable_as_a_full_solve() -> None:
    """The fluctuations' solve writes only populations, energies and entropy production in its compiled pass;
    everything else its result exports is computed on first use and equals the full compiled solve's."""
    device = random_three_terminal(7, 300)
    fl = qd.fluctuations(device, order=2, method="compiled", engine="compiled", counting=["N_t", "J_E"])
    assert "channel_flux" not in fl.result.__dict__  # not computed by the minimal pass
    full = qd.solve(device, method="compiled")
    np.testing.assert_array_equal(fl.result.populations, full.populations)
    np.testing.assert_array_equal(fl.result.entropy_production, full.entropy_production)
    a, b = fl.result.to_xarray(), full.to_xarray()
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind != "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            scale = np.nanmax(np.abs(y)) if np.any(np.isfinite(y)) else 1.0
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13 * scale, err_msg=name)


def _fragile_and_invalid_device(n: int = 600, seed: int = 11) -> tuple[qd.Device, np.ndarray]:
    """The paper's device at random points; some (``cold``) so cold that a rate is below 1e-140 of the largest
    (the compiled steady state goes to log space there), some with leads t and b cut off (no unique steady
    state)."""
    rng = np.random.default_rng(seed)
    cold = rng.random(n) < 0.15
    cut = rng.random(n) < 0.1
    T0 = np.where(cold, rng.uniform(0.004, 0.01, n), rng.uniform(0.2, 2.0, n))
    return qd.three_terminal(
        eps_L=rng.uniform(-3, 3, n), eps_R=rng.uniform(-3, 3, n), U=rng.uniform(0, 3, n), J=rng.uniform(0, 2, n),
        T={lead: T0 * rng.uniform(1.0, 3.0, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1, 1, n) for lead in "tbr"},
        gamma={"t": np.where(cut, 0.0, rng.uniform(0.1, 2, n)), "b": np.where(cut, 0.0, rng.uniform(0.1, 2, n)),
               "r": rng.uniform(0.1, 2, n)}), cold


def test_one_pass_equals_the_two_pass_route_with_fragile_and_invalid_points() -> None:
    """qd.fluctuations counts in the solve's compiled pass; bit for bit the solve's minimal pass followed by
    the device kernel (and the NumPy engine to round-off), log-space and invalid points included."""
    from qdthermo.kinetics.steady import _TINY_RATE
    from qdthermo.thermo.solver import solve_for

    device, cold = _fragile_and_invalid_device()
    with pytest.warns(qd.InvalidPointsWarning):
        fused = qd.fluctuations(device, order=2, method="compiled", engine="compiled")
        two_pass = solve_for(device, method="compiled", full=False)
        reference = qd.fluctuations(device, order=2, method="linear", engine="numpy")
    assert "_fused_cumulants" in fused.result.__dict__ and "_fused_cumulants" not in two_pass.__dict__
    res = fused.result
    k = res.rates
    tiny = np.min(np.minimum(k.plus, k.minus), axis=-1) < _TINY_RATE * np.max(np.maximum(k.plus, k.minus), axis=-1)
    assert np.sum(tiny & res.valid) > 10 and np.sum(~res.valid) > 10  # both kinds of points are there
    separate = qd.Fluctuations(two_pass, 2, fused.counting, "compiled")
    for name in ("populations", "valid", "energies", "entropy_production"):
        np.testing.assert_array_equal(getattr(res, name), getattr(two_pass, name), err_msg=name)
    for name in fused.counting:
        for order in (1, 2):
            np.testing.assert_array_equal(fused.cumulant(order, name), separate.cumulant(order, name),
                                          err_msg=f"C{order} {name}")
        if name != "entropy":
            np.testing.assert_array_equal(fused.tur[name], separate.tur[name], err_msg=f"TUR {name}")
    for name in fused.counting:  # the NumPy engine, off the cold points (C_2 there is not resolved by either)
        for order in (1, 2):
            a, b = fused.cumulant(order, name)[~cold], reference.cumulant(order, name)[~cold]
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"C{order} {name}")
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13 * np.nanmax(np.abs(b)), err_msg=f"C{order} {name}")
    again = qd.Fluctuations(res, 2, fused.counting, "compiled")  # a second reader of the seeded cumulants
    np.testing.assert_array_equal(again._cumulants, fused._cumulants)


def test_points_that_need_pivoting_in_the_one_pass_route_go_to_the_numpy_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Points the one-pass kernel flags are recomputed by the NumPy engine (forced here for every other point)."""
    from qdthermo.thermo import fused as fused_module

    device = random_three_terminal(8, 64)
    expected = qd.fluctuations(device, order=2, method="compiled", engine="compiled")
    original = fused_module.fused_counting

    def flag_half(*args, **kwargs):  # type: ignore[no-untyped-def]
        observables, cumulants = original(*args, **kwargs)
        idx = np.arange(0, cumulants.cumulants.shape[0], 2)
        cumulants.cumulants[idx] = np.nan
        return observables, fused_module.FusedCumulants(cumulants.key, cumulants.cumulants, idx)

    monkeypatch.setattr(fused_module, "fused_counting", flag_half)
    again = qd.fluctuations(device, order=2, method="compiled", engine="compiled")
    assert "_fused_cumulants" in again.result.__dict__
    for q in again.counting:
        assert np.all(np.isfinite(again.cumulant(2, q)))
        np.testing.assert_allclose(again.cumulant(2, q), expected.cumulant(2, q), rtol=1e-9, atol=1e-14)


def test_one_pass_of_higher_orders_equals_the_two_pass_route() -> None:
    """Orders 3 and up counted in the solve's compiled pass: the device kernel's cumulants bit for bit."""
    from qdthermo.thermo.solver import solve_for

    device, _ = _fragile_and_invalid_device()
    with pytest.warns(qd.InvalidPointsWarning):
        fused = qd.fluctuations(device, order=4, method="compiled", engine="compiled")
        two_pass = solve_for(device, method="compiled", full=False)
    assert "_fused_cumulants" in fused.result.__dict__ and fused.route == "compiled"
    separate = qd.Fluctuations(two_pass, 4, fused.counting, "compiled")
    for name in fused.counting:
        for k in range(1, 5):
            np.testing.assert_array_equal(fused.cumulant(k, name), separate.cumulant(k, name), err_msg=f"C{k} {name}")

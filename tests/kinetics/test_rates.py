"""Fermi function and tunnelling rates: limits, detailed balance, no overflow at extreme parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.kinetics.rates import rates

T_GRID = np.array([1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6])
X_GRID = np.array([-1e6, -1e3, -1.0, -1e-9, 0.0, 1e-9, 1.0, 1e3, 1e6])  # w - mu


def test_fermi_values_and_symmetry() -> None:
    x = np.linspace(-40, 40, 161)
    np.testing.assert_allclose(qd.fermi(x, 0.0, 1.0), 1.0 / (np.exp(x) + 1.0), rtol=1e-14, atol=0)
    # f(mu + d) + f(mu - d) = 1, f(mu) = 1/2, scaling with T
    np.testing.assert_allclose(qd.fermi(0.3 + x, 0.3, 2.0) + qd.fermi(0.3 - x, 0.3, 2.0), 1.0, rtol=1e-15)
    assert qd.fermi(0.7, 0.7, 1e-12) == 0.5
    np.testing.assert_allclose(qd.fermi(2 * x, 0.0, 2.0), qd.fermi(x, 0.0, 1.0), rtol=1e-15)


def test_fermi_limits_without_warnings() -> None:
    w = X_GRID[:, None]
    T = T_GRID[None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            f = qd.fermi(w, 0.0, T)
            f_shifted = qd.fermi(w + 0.25, 0.25, T)
    assert f.shape == (X_GRID.size, T_GRID.size)
    assert np.all(np.isfinite(f)) and np.all((f >= 0) & (f <= 1))
    np.testing.assert_allclose(f_shifted, f, rtol=1e-7, atol=1e-12)  # w + mu - mu rounds tiny w
    # exact step at |w - mu| / T >= 1e3: 0 above mu, 1 below (to machine precision)
    arg = w / T
    np.testing.assert_array_less(f[arg >= 745], 1e-300)
    np.testing.assert_array_equal(f[arg <= -40], 1.0)
    np.testing.assert_array_equal(f[w[:, 0] == 0.0], 0.5)
    # monotonically decreasing in w at every temperature
    assert np.all(np.diff(f, axis=0) <= 0)
    # complement is accurate where f is tiny: 1 - f(x) = f(-x)
    np.testing.assert_allclose(qd.fermi(-w, 0.0, T), 1.0 - f, rtol=1e-15, atol=2e-16)


def test_rates_finite_and_log_ratio_exact_at_extremes() -> None:
    # every channel at every combination of T in [1e-12, 1e6] and |w - mu| up to 1e6
    eps = X_GRID[:, None]
    T = T_GRID[None, :]
    dev = qd.three_terminal(eps, eps[::-1], U=0.0, J=0.0, T={"t": T, "b": T[:, ::-1], "r": 1.0},
                            mu=0.0, gamma={"t": 2.0, "b": 0.5, "r": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = dev.finalized()
        k = rates(s)
    for a in (k.plus, k.minus, k.log_ratio):
        assert np.all(np.isfinite(a))
    assert np.all(k.plus >= 0) and np.all(k.minus >= 0)
    np.testing.assert_allclose(k.plus + k.minus, s.channel_coupling, rtol=1e-15)
    # local detailed balance, computed directly: ln(k+/k-) = -(w - mu)/T, never log of rounded rates
    np.testing.assert_array_equal(k.log_ratio, -(s.channel_energy - s.channel_chemical_potential)
                                  / s.channel_temperature)
    ok = (k.plus > 1e-300) & (k.minus > 1e-300)
    np.testing.assert_allclose(np.log(k.plus[ok] / k.minus[ok]), k.log_ratio[ok], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ["auto", "linear", "matrix_tree"])
def test_solve_at_extreme_parameters_gives_finite_populations(method: str) -> None:
    eps = X_GRID[:, None]
    T = T_GRID[None, :]
    dev = qd.three_terminal(eps, np.flip(eps), U=np.abs(eps) / 2, J=1.0,
                            T={"t": T, "b": np.flip(T), "r": 1e-12}, mu={"t": 1.0, "b": -1.0, "r": 0.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = qd.solve(dev, method=method)
        P = res.populations
        currents = [res.particle_current_array, res.energy_current_array, res.heat_current_array]
        sigma = res.entropy_production
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=1e-14)
    for J in currents:
        assert np.all(np.isfinite(J))
    assert np.all(sigma >= 0)
    assert np.all(np.isfinite(sigma))

"""The compiled route of the microscopic forces (one-sided Jacobi SVD) against LAPACK's and exact answers."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo import _compiled
from qdthermo.thermo.cycles import least_squares_forces

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="Numba unavailable or disabled")

EPS = np.finfo(float).eps


def _consistent(rng: np.random.Generator, n_points: int, m: int, n: int) -> tuple[np.ndarray, ...]:
    """Maps over six decades of scale and affinities ``M F_true`` with known forces."""
    M = rng.normal(size=(n_points, m, n)) * 10.0 ** rng.uniform(-3, 3, (n_points, 1, 1))
    F = rng.normal(size=(n_points, n))
    return M, np.einsum("pij,pj->pi", M, F), F


@pytest.mark.parametrize(("m", "n"), [(1, 1), (3, 1), (2, 2), (3, 3), (5, 3), (6, 4)])
def test_both_routes_recover_the_forces_of_a_consistent_map(m: int, n: int) -> None:
    M, y, F = _consistent(np.random.default_rng(m * 10 + n), 4000, m, n)
    bound = 64 * EPS * np.linalg.cond(M)[:, None] * np.linalg.norm(F, axis=-1, keepdims=True)
    for engine in ("numpy", "compiled"):
        got = least_squares_forces(M, y, engine=engine)
        assert np.all(np.abs(got - F) <= bound), engine


def test_the_routes_agree_on_inconsistent_systems() -> None:
    """Least squares proper (more cycles than forces, a residual): the same minimiser to round-off."""
    rng = np.random.default_rng(3)
    M, y = rng.normal(size=(3000, 5, 3)), rng.normal(size=(3000, 5))
    a, b = (least_squares_forces(M, y, engine=e) for e in ("numpy", "compiled"))
    scale = np.linalg.cond(M)[:, None] ** 2 * np.linalg.norm(a, axis=-1, keepdims=True)
    assert np.all(np.abs(a - b) <= 64 * EPS * scale)


def test_undetermined_and_invalid_points_are_nan_on_both_routes_and_only_there() -> None:
    rng = np.random.default_rng(4)
    M, y = rng.normal(size=(50, 3, 3)), rng.normal(size=(50, 3))
    M[1, :, 2] = 2.0 * M[1, :, 0]  # rank 2
    M[2] = 0.0  # no cycle carries a force
    M[3, :, 1] = M[3, :, 0] * (1.0 + 1e-14)  # a singular value ~1e-14 of the largest: below the 1e-12 rule
    M[4, 0, 0] = np.nan
    y[5, 1] = np.inf
    bad = np.zeros(50, dtype=bool)
    bad[1:6] = True
    for engine in ("numpy", "compiled"):
        got = least_squares_forces(M, y, engine=engine)
        assert np.array_equal(np.isnan(got).any(axis=-1), bad), engine
        assert np.array_equal(np.isnan(got).all(axis=-1), bad), engine


def test_fewer_cycles_than_forces_broadcasting_and_empty_batches() -> None:
    rng = np.random.default_rng(5)
    assert np.isnan(least_squares_forces(rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2)),
                                         engine="compiled")).all()
    M, y = rng.normal(size=(3, 3)), rng.normal(size=(2, 7, 3))  # one map, a (2, 7) batch of affinities
    got = least_squares_forces(M, y, engine="compiled")
    assert got.shape == (2, 7, 3)
    np.testing.assert_allclose(got, np.linalg.solve(M, y[..., None])[..., 0], rtol=1e-12, atol=1e-12)
    assert least_squares_forces(np.empty((0, 3, 3)), np.empty((0, 3)), engine="compiled").shape == (0, 3)
    with pytest.raises(ValueError, match="engine"):
        least_squares_forces(M, y, engine="lapack")


def test_compiled_microscopic_forces_of_devices_equal_the_macroscopic_forces() -> None:
    """The physics: the cycle affinities are linear in the forces, so the solution is the macroscopic forces."""
    rng = np.random.default_rng(6)
    n = 2000
    res = qd.solve(qd.three_terminal(
        eps_L=rng.uniform(-2.0, 2.0, n), eps_R=rng.uniform(-2.0, 2.0, n), U=rng.uniform(0.5, 3.0, n),
        J=rng.uniform(0.0, 1.0, n), T={lead: rng.uniform(0.3, 3.0, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"}))
    cyc = res.cycles
    got = least_squares_forces(cyc.force_map, cyc.affinity, engine="compiled")
    want = least_squares_forces(cyc.force_map, cyc.affinity, engine="numpy")
    macro = np.stack([np.asarray(res.forces[name]) for name in res.force_basis.force_names], axis=-1)
    scale = np.abs(macro).max(axis=-1, keepdims=True) + 1.0
    cond = np.linalg.cond(cyc.force_map)[:, None]
    assert np.all(np.abs(got - macro) <= 1e3 * EPS * cond * scale)
    assert np.all(np.abs(got - want) <= 1e3 * EPS * cond * scale)

"""Tests of the cycle decomposition's grouping of identical force maps (``thermo.cycles``)."""

from __future__ import annotations

import numpy as np

from qdthermo.thermo.cycles import _svd_of_distinct, distinct_rows


def test_distinct_rows_groups_by_exact_bits() -> None:
    rows = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [2.0, np.nan], [2.0, np.nan]])
    first, inverse = distinct_rows(rows)
    assert first.size == 3  # 0.0 and -0.0 differ in their bits; the two NaN rows are equal
    assert np.array_equal(rows[first][inverse].view(np.uint8), rows.view(np.uint8))


def test_distinct_rows_of_odd_width_and_all_distinct() -> None:
    rows = np.arange(30, dtype=np.uint8).reshape(10, 3)  # 3 bytes a row: the void-view path
    first, inverse = distinct_rows(np.vstack([rows, rows]))
    assert first.size == 10 and np.array_equal(inverse[:10], inverse[10:])


def test_svd_of_distinct_equals_the_batched_call() -> None:
    rng = np.random.default_rng(1)
    few = rng.normal(size=(5, 3, 3))
    few[0, 0, 1] = -0.0  # a signed zero is one more distinct matrix, not a reason to give up
    M = few[rng.integers(0, 5, 400)].reshape(20, 20, 3, 3)
    for got, want in zip(_svd_of_distinct(M), np.linalg.svd(M, full_matrices=False)):
        assert got.shape == want.shape
        assert np.array_equal(got, want)

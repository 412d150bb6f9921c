"""The short-axis reductions equal NumPy's (values, NaN and inf propagation, keepdims, long axes)."""

from __future__ import annotations

import numpy as np
import pytest

from qdthermo._reduce import any_last, max_last, min_last, sum_last


@pytest.mark.parametrize("n", [1, 3, 6, 40])
def test_reductions_equal_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    a = rng.normal(size=(5, 7, n))
    a[0, 0, 0] = np.nan
    a[1, 1, -1] = np.inf
    a[2, 2, 0] = -np.inf
    for ours, theirs in ((sum_last, np.sum), (max_last, np.max), (min_last, np.min)):
        np.testing.assert_allclose(ours(a), theirs(a, axis=-1), rtol=1e-15)
        assert ours(a, keepdims=True).shape == (5, 7, 1)
    b = a > 1.0
    np.testing.assert_array_equal(any_last(b), b.any(axis=-1))


def test_reductions_do_not_modify_their_input() -> None:
    a = np.arange(12.0).reshape(4, 3)
    a.setflags(write=False)
    assert sum_last(a).tolist() == [3.0, 12.0, 21.0, 30.0]
    assert max_last(a).tolist() == [2.0, 5.0, 8.0, 11.0]

"""Reductions over a short trailing axis (leads, channels, states), fast.

NumPy reduces ``a.sum(axis=-1)`` of an ``(N, 3)`` array row by row, paying a
call per row: 3-10x slower than adding the few columns as whole vectors.
These helpers do the latter for trailing axes of up to :data:`_SHORT`
entries (the order of summation is fixed: left to right, so results are
deterministic) and fall back to NumPy otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["sum_last", "max_last", "min_last", "any_last"]

_SHORT = 16


def _columns(ufunc: Callable[..., Any], reduce: Callable[..., Any], a: Any, keepdims: bool) -> NDArray[Any]:
    a = np.asarray(a)
    n = a.shape[-1] if a.ndim else 0
    if a.ndim == 0 or n == 0 or n > _SHORT:
        return np.asarray(reduce(a, axis=-1, keepdims=keepdims))
    out = np.array(a[..., 0], copy=True)
    for i in range(1, n):
        ufunc(out, a[..., i], out=out)
    return out[..., None] if keepdims else out


def sum_last(a: Any, *, keepdims: bool = False) -> NDArray[Any]:
    """``a.sum(axis=-1)``, columns added left to right."""
    return _columns(np.add, np.sum, a, keepdims)


def max_last(a: Any, *, keepdims: bool = False) -> NDArray[Any]:
    """``a.max(axis=-1)`` (NaN propagates)."""
    return _columns(np.maximum, np.max, a, keepdims)


def min_last(a: Any, *, keepdims: bool = False) -> NDArray[Any]:
    """``a.min(axis=-1)`` (NaN propagates)."""
    return _columns(np.minimum, np.min, a, keepdims)


def any_last(a: Any, *, keepdims: bool = False) -> NDArray[Any]:
    """``a.any(axis=-1)`` of a boolean array."""
    return _columns(np.logical_or, np.any, a, keepdims)

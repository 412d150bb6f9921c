"""``scipy.special`` functions imported on first use, and ``expit`` in NumPy.

``import scipy.special`` takes about 0.45 s (it loads SciPy's array-API
layer); importing it lazily keeps ``import qdthermo`` and ``qdthermo --help``
fast.  :func:`xlogy` and :func:`logsumexp` are the SciPy functions themselves
(same values, same speed); only the first call pays the import.
:func:`expit`, on the path of every rate, is SciPy's formula in NumPy, so that
a small sweep or a single point never pays that import.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["expit", "logsumexp", "xlogy"]


@functools.cache
def _scipy_special() -> ModuleType:
    import scipy.special

    return scipy.special


def expit(x: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-x))``, as :func:`scipy.special.expit` evaluates it.

    SciPy computes exactly ``1 / (1 + exp(-x))`` (``scipy/special/_logit.h``):
    the same expression in NumPy gives the same values (bit for bit where
    NumPy's ``exp`` is the C library's, as on AVX2 machines) without importing
    ``scipy.special``.  ``exp(-x)`` overflows to ``inf`` for ``x < -709``,
    giving 0 (the exact limit) without a warning, as SciPy does.

    Parameters
    ----------
    x
        Real array-like or scalar.

    Returns
    -------
    numpy.ndarray or numpy.floating
        ``1 / (1 + exp(-x))``, of the shape and (floating) dtype of ``x``.
    """
    a = np.asarray(x)
    with np.errstate(over="ignore"):
        if a.ndim == 0 or a.dtype.kind != "f":
            return 1.0 / (1.0 + np.exp(-a))
        t = np.negative(a)  # the same operations in place: one temporary instead of three
        np.exp(t, out=t)
        t += 1.0
        return np.divide(1.0, t, out=t)


def xlogy(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
    """``x log(y)``, 0 where ``x == 0`` (:func:`scipy.special.xlogy`)."""
    return _scipy_special().xlogy(x, y, *args, **kwargs)


def logsumexp(a: Any, *args: Any, **kwargs: Any) -> Any:
    """``log(sum(exp(a)))`` without overflow (:func:`scipy.special.logsumexp`)."""
    return _scipy_special().logsumexp(a, *args, **kwargs)

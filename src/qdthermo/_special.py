"""``scipy.special`` functions imported on first use.

``import scipy.special`` takes about 0.45 s (it loads SciPy's array-API
layer); importing it lazily keeps ``import qdthermo`` and ``qdthermo --help``
fast.  The functions are the SciPy ufuncs themselves (same values, same
speed); only the first call pays the import.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

__all__ = ["expit", "logsumexp", "xlogy"]


@functools.cache
def _scipy_special() -> ModuleType:
    import scipy.special

    return scipy.special


def expit(x: Any, *args: Any, **kwargs: Any) -> Any:
    """The logistic function ``1 / (1 + exp(-x))`` (:func:`scipy.special.expit`)."""
    return _scipy_special().expit(x, *args, **kwargs)


def xlogy(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
    """``x log(y)``, 0 where ``x == 0`` (:func:`scipy.special.xlogy`)."""
    return _scipy_special().xlogy(x, y, *args, **kwargs)


def logsumexp(a: Any, *args: Any, **kwargs: Any) -> Any:
    """``log(sum(exp(a)))`` without overflow (:func:`scipy.special.logsumexp`)."""
    return _scipy_special().logsumexp(a, *args, **kwargs)

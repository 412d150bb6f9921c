"""Input validation shared by every public entry point.

Every check raises :class:`ValueError` naming the parameter, the offending
value and the allowed range, so that bad input never silently turns into
NaN or inf further down.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["as_real_array", "check_finite", "check_positive", "check_nonnegative"]


def _first_bad(arr: NDArray[np.float64], bad: NDArray[np.bool_]) -> str:
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
    where = f" at index {idx}" if idx else ""
    return f"{arr[idx].item() if idx else arr.item()!r}{where}"


def as_real_array(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Convert ``value`` to a float64 array, rejecting NaN, inf and complex input.

    Raises
    ------
    ValueError
        If ``value`` is not real-valued or contains NaN or an infinity.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise ValueError(f"{name} must be a real number or array, got {value!r}") from exc
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got complex value {value!r}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real number or array, got {value!r}")
    arr = arr.astype(np.float64)
    check_finite(name, arr)
    return arr


def check_finite(name: str, arr: NDArray[np.float64]) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or an infinity."""
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(
            f"{name} must be finite (allowed range: -inf < {name} < inf), "
            f"got {_first_bad(arr, bad)}"
        )


def check_positive(name: str, arr: NDArray[np.float64]) -> None:
    """Raise ``ValueError`` unless every element of ``arr`` is > 0."""
    bad = ~(arr > 0)
    if np.any(bad):
        raise ValueError(
            f"{name} must be positive (allowed range: 0 < {name} < inf), "
            f"got {_first_bad(arr, bad)}"
        )


def check_nonnegative(name: str, arr: NDArray[np.float64]) -> None:
    """Raise ``ValueError`` unless every element of ``arr`` is >= 0."""
    bad = ~(arr >= 0)
    if np.any(bad):
        raise ValueError(
            f"{name} must be non-negative (allowed range: 0 <= {name} < inf), "
            f"got {_first_bad(arr, bad)}"
        )

"""One palette for every figure of qdthermo: regimes, signed quantities, the zero line.

``qdthermo plot`` and ``qdthermo paper`` both draw regimes with
:data:`REGIME_COLORS` (NORMAL grey, ICC red, PSEUDO_ICC orange, CROSS_EFFECT
blue, EQUILIBRIUM near-white), so a colour means the same thing everywhere.
Signed quantities (currents, forces, power) use the diverging map
:data:`DIVERGING` with a symmetric norm centred on zero (:func:`signed_norm`),
and the zero itself is drawn as a line (:data:`ZERO_LINE`).

>>> from qdthermo.plot.palette import regime_colormap
>>> cmap, norm, codes, names = regime_colormap()
>>> names[4]
'ICC'
"""

from __future__ import annotations

from typing import Any

import numpy as np

import qdthermo as qd

__all__ = [
    "DIVERGING", "REGIME_COLORS", "REGIME_LABELS", "ROUND_OFF", "ZERO_LINE", "SEQUENTIAL",
    "clean_round_off", "regime_colormap", "signed_norm",
]

R = qd.Regime

#: colour of each response regime (PHYSICS.md section 8), the same in every figure
REGIME_COLORS: dict[qd.Regime, str] = {
    R.EQUILIBRIUM: "#f7f7f7",
    R.NORMAL: "#bdbdbd",
    R.INDUCED: "#8c8c8c",
    R.PSEUDO_ICC: "#fdae61",
    R.ICC: "#d73027",
    R.CROSS_EFFECT: "#4575b4",
}

#: legend label of each regime
REGIME_LABELS: dict[qd.Regime, str] = {
    R.EQUILIBRIUM: "equilibrium",
    R.NORMAL: "normal",
    R.INDUCED: "induced (normal)",
    R.PSEUDO_ICC: "pseudo-ICC",
    R.ICC: "genuine ICC",
    R.CROSS_EFFECT: "cross-effect",
}

#: colour map of signed quantities (negative purple, zero white, positive green): no red or blue, which
#: mean ICC and cross-effect in :data:`REGIME_COLORS`
DIVERGING = "PRGn"
#: colour map of non-negative quantities (efficiencies, entropy production)
SEQUENTIAL = "viridis"
#: style of the line that marks zero on signed maps and plots
ZERO_LINE: dict[str, Any] = {"colors": "k", "linewidths": 1.0}
#: values below this fraction of the largest |value| are round-off of a zero and drawn as exactly 0
ROUND_OFF = 1e-12


def regime_colormap(codes: Any = None, names: Any = None) -> tuple[Any, Any, np.ndarray, list[str]]:
    """A categorical colour map of regime codes in :data:`REGIME_COLORS`.

    Parameters
    ----------
    codes
        The integer codes to show (default: every :class:`qdthermo.Regime`).
    names
        Their names (default: the enum names).

    Returns
    -------
    cmap, norm, codes, names
        A :class:`~matplotlib.colors.ListedColormap`, a
        :class:`~matplotlib.colors.BoundaryNorm` with one bin per code, the
        codes as floats and their names (for colour-bar ticks).
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    codes = np.asarray([int(r) for r in R] if codes is None else codes, dtype=float)
    if names is None:
        names = [R(int(c)).name if int(c) in {int(r) for r in R} else str(int(c)) for c in codes]
    colors = [REGIME_COLORS[R(int(c))] if int(c) in {int(r) for r in R} else "#000000" for c in codes]
    bounds = np.concatenate([codes - 0.5, [codes[-1] + 0.5]])
    return ListedColormap(colors), BoundaryNorm(bounds, len(codes)), codes, list(names)


def clean_round_off(values: Any, rel: float = ROUND_OFF) -> np.ndarray:
    """``values`` with entries below ``rel`` x max|values| set to exactly 0 (round-off of a zero)."""
    v = np.array(values, dtype=float)
    finite = np.isfinite(v)
    scale = float(np.max(np.abs(v[finite]))) if finite.any() else 0.0
    v[finite & (np.abs(v) <= rel * scale)] = 0.0
    return v


def signed_norm(values: Any) -> Any:
    """A symmetric linear norm ``[-m, m]`` with ``m = max|values|`` (zero in the middle of the map)."""
    from matplotlib.colors import Normalize

    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    m = float(np.max(np.abs(v[finite]))) if finite.any() else 1.0
    m = m if m > 0 else 1.0
    return Normalize(-m, m)

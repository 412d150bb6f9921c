"""Preset: an array of capacitively coupled single-level dots on a chain or a 2-D grid.

:func:`dot_array` builds a :class:`~qdthermo.model.device.Device` of ``n``
dots on a chain (``n_or_shape = n``) or ``rows x cols`` dots on a grid
(``n_or_shape = (rows, cols)``, dots numbered row by row), nearest
neighbours coupled by a Coulomb interaction, each dot with its own lead(s).
Large arrays (up to 20+ dots, 2^20 states) are solved by the sparse routes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo._validate import as_real_array, check_nonnegative, check_positive
from qdthermo.model.device import MAX_DOTS, Device, Dot, Interaction, Lead

__all__ = ["dot_array", "array_bonds"]


def _shape(n_or_shape: Any) -> tuple[int, int]:
    """``(rows, cols)`` of the array (a chain is one row)."""
    dims = (n_or_shape,) if np.ndim(n_or_shape) == 0 else tuple(n_or_shape)
    ok = len(dims) in (1, 2) and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1
                                     for d in dims)
    if not ok:
        raise ValueError(f"n_or_shape must be a number of dots n >= 1 or a grid shape (rows, cols) of integers "
                         f">= 1, got {n_or_shape!r}")
    rows, cols = (1, int(dims[0])) if len(dims) == 1 else (int(dims[0]), int(dims[1]))
    if rows * cols > MAX_DOTS:
        raise ValueError(f"n_or_shape: number of dots must be <= {MAX_DOTS} (2^n many-body states), "
                         f"got {rows * cols} ({n_or_shape!r})")
    return rows, cols


def array_bonds(n_or_shape: int | tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The nearest-neighbour bonds ``(a, b)``, ``a < b``, of a chain or grid (the order of ``U_nn``).

    Chain: ``(0, 1), (1, 2), ...``.  Grid ``(rows, cols)`` with dot
    ``r * cols + c``: all horizontal bonds row by row, then all vertical
    bonds row by row.
    """
    rows, cols = _shape(n_or_shape)
    horizontal = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    vertical = [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    return tuple(horizontal + vertical)


def _per_item(name: str, value: ArrayLike, n: int, what: str, *, positive: bool = False,
              nonnegative: bool = False) -> list[NDArray[np.float64]]:
    """Split a scalar or an array with a trailing axis of length ``n`` (or 1) into ``n`` batch arrays."""
    arr = as_real_array(name, value)
    if positive:
        check_positive(name, arr)
    if nonnegative:
        check_nonnegative(name, arr)
    if arr.ndim == 0:
        return [arr] * n
    if arr.shape[-1] not in (1, n):
        raise ValueError(f"{name} must be a scalar or an array whose last axis has length {n} (one value per "
                         f"{what}) or 1, got shape {arr.shape}")
    return [arr[..., 0] if arr.shape[-1] == 1 else arr[..., k] for k in range(n)]


def dot_array(
    n_or_shape: int | tuple[int, int],
    levels: ArrayLike,
    U_nn: ArrayLike = 0.0,
    T: ArrayLike = 1.0,
    mu: ArrayLike = 0.0,
    gamma: ArrayLike = 1.0,
    *,
    leads_per_dot: int = 1,
    species: str = "spinless",
) -> Device:
    """Capacitively coupled single-level dots on a chain or a 2-D grid, each with its own lead(s).

    Dot ``d`` (named ``"d0"``, ``"d1"``, ...; on a grid numbered row by row,
    ``d = r * cols + c``) has level ``levels[d]``; nearest neighbours ``a, b``
    interact by ``U n_a n_b`` (no hopping between dots).  Each dot has one
    lead ``"l<d>"`` or, with ``leads_per_dot=2``, two leads ``"l<d>a"`` and
    ``"l<d>b"``.  The reference lead of the force basis is the last lead.

    **Per-dot and batch convention.**  Every numeric argument is a scalar
    (the same for all dots/leads/bonds) or an array whose **last axis** runs
    over the dots (``levels``), the leads (``T``, ``mu``, ``gamma``: length
    ``n_dots * leads_per_dot``, leads in the order ``l0a, l0b, l1a, ...``;
    with one lead per dot a length ``n_dots`` axis) or the bonds (``U_nn``:
    length ``len(array_bonds(n_or_shape))``), or has length 1 there.  Any
    leading axes are batch axes and broadcast (NumPy rules) against each
    other: ``levels`` of shape ``(50, n)`` and ``T`` of shape ``(n,)`` give a
    device of batch shape ``(50,)``.  To scan a parameter that is the same for
    every dot, add a trailing axis of length 1: ``levels=eps[:, None]``.

    Parameters
    ----------
    n_or_shape
        Number of dots of a chain, or ``(rows, cols)`` of a grid; at most
        :data:`~qdthermo.model.device.MAX_DOTS` dots in all.
    levels
        Single-particle level of each dot [energy unit].
    U_nn
        Nearest-neighbour Coulomb interaction [energy unit], >= 0: a scalar or
        one value per bond (order of :func:`array_bonds`).
    T
        Lead temperatures k_B T [energy unit], > 0.
    mu
        Lead chemical potentials [energy unit].
    gamma
        Tunnel couplings of the leads [rate unit], >= 0.
    leads_per_dot
        1 or 2 leads attached to every dot.
    species
        Particle species of every dot (``"spinless"`` by default; ``"up"`` or
        ``"down"`` only matter for an exchange interaction, which this preset
        does not set).

    Returns
    -------
    Device
        ``2**n_dots`` many-body states, ``n_dots * leads_per_dot`` leads.

    Raises
    ------
    ValueError
        Naming the parameter, the offending value and the allowed range.

    Examples
    --------
    A chain of 6 dots with alternating hot and cold leads, all at the same
    chemical potential: heat flows from the hot leads into the array and out
    through the cold ones, and the entropy production is positive.

    >>> import numpy as np
    >>> import qdthermo as qd
    >>> from qdthermo.model.arrays import dot_array
    >>> n = 6
    >>> T = np.where(np.arange(n) % 2 == 0, 2.0, 0.5)       # hot, cold, hot, ...
    >>> dev = dot_array(n, levels=np.linspace(-0.5, 0.5, n), U_nn=0.8, T=T, mu=0.0, gamma=1.0)
    >>> res = qd.solve(dev)
    >>> J_Q = np.array([res.heat_current[f"l{d}"] for d in range(n)])
    >>> bool(J_Q[::2].sum() > 0 and J_Q[1::2].sum() < 0)   # heat in from hot, out to cold
    True
    >>> bool(res.entropy_production > 0)
    True
    """
    rows, cols = _shape(n_or_shape)
    n_dots = rows * cols
    if isinstance(leads_per_dot, bool) or leads_per_dot not in (1, 2):
        raise ValueError(f"leads_per_dot must be 1 or 2, got {leads_per_dot!r}")
    if not isinstance(species, str):
        raise ValueError(f"species must be a string ('up', 'down' or a spinless label), got {species!r}")
    bonds = array_bonds((rows, cols) if rows > 1 else cols)
    n_leads = n_dots * leads_per_dot
    eps = _per_item("levels (dot levels)", levels, n_dots, "dot")
    U = _per_item("U_nn (nearest-neighbour Coulomb interaction)", U_nn, max(len(bonds), 1), "bond",
                  nonnegative=True)
    Ts = _per_item("T (lead temperatures)", T, n_leads, "lead", positive=True)
    mus = _per_item("mu (lead chemical potentials)", mu, n_leads, "lead")
    gs = _per_item("gamma (lead tunnel couplings)", gamma, n_leads, "lead", nonnegative=True)
    dots = tuple(Dot(f"d{d}", eps[d], species) for d in range(n_dots))
    suffixes = ("",) if leads_per_dot == 1 else ("a", "b")
    leads = tuple(
        Lead(f"l{d}{s}", f"d{d}", Ts[d * leads_per_dot + m], mus[d * leads_per_dot + m], gs[d * leads_per_dot + m])
        for d in range(n_dots) for m, s in enumerate(suffixes)
    )
    interactions = tuple(Interaction((f"d{a}", f"d{b}"), U[k]) for k, (a, b) in enumerate(bonds))
    geometry = f"{n_dots}-dot chain" if rows == 1 else f"{rows}x{cols} dot grid"
    return Device(
        dots=dots, leads=leads, interactions=interactions, name=f"dot_array ({geometry})",
        parameters={"n_or_shape": n_or_shape, "levels": levels, "U_nn": U_nn, "T": T, "mu": mu, "gamma": gamma,
                    "leads_per_dot": leads_per_dot, "species": species},
    )

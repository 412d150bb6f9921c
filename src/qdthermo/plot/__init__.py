"""Quick looks at sweep results: a 1-D or 2-D slice of one variable, axes labelled with units.

>>> fig = plot_slice("phase.zarr", "regime_J_N")              # doctest: +SKIP
>>> fig = plot_slice(ds, "particle_current", lead="t", F_N=0.5)  # doctest: +SKIP
>>> fig.savefig("slice.png")                                  # doctest: +SKIP

Figures are built with :class:`matplotlib.figure.Figure` directly (no
pyplot), so this works on headless machines and never changes the
matplotlib backend.  The ``qdthermo plot`` command wraps :func:`plot_slice`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_slice"]

#: larger slices are thinned to at most this many values per axis for display
MAX_VALUES_PER_AXIS = 2048


def _open(data: Any) -> Any:
    import xarray as xr

    if isinstance(data, xr.Dataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        from qdthermo.sweeps.store import FINGERPRINT_ATTR, open_sweep

        path = Path(data)
        if not path.is_dir() or not any((path / m).exists() for m in (".zgroup", "zarr.json", ".zattrs")):
            raise ValueError(f"{os.fspath(data)} is not a Zarr store (no .zgroup or zarr.json in it); give the "
                             "folder a sweep wrote (qdthermo sweep ... --store PATH)")
        ds = xr.open_zarr(data, consolidated=False)
        return open_sweep(data) if FINGERPRINT_ATTR in ds.attrs else ds
    raise TypeError(f"expected an xarray.Dataset or the path of a Zarr store, got {type(data).__name__}")


def _label(obj: Any, name: str) -> str:
    text = str(obj.attrs.get("long_name", name))
    units = obj.attrs.get("units")
    return f"{text} [{units}]" if units else text


def _select(da: Any, var: str, selection: dict[str, Any]) -> tuple[Any, list[str]]:
    """Apply ``dim=value`` selections (nearest for numeric coordinates); return the slice and a caption."""
    caption = []
    for dim, value in selection.items():
        if dim not in da.dims:
            raise ValueError(f"cannot select {dim}={value!r}: {var!r} has no dimension {dim!r}; "
                             f"its dimensions: {list(da.dims)}")
        coord = da[dim]
        if coord.dtype.kind in "iuf":
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{dim}={value!r}: {dim} is numeric (from {float(coord.min())!r} to "
                                 f"{float(coord.max())!r}); give a number") from None
            lo, hi = float(coord.min()), float(coord.max())
            slack = 1e-9 * max(hi - lo, abs(hi), abs(lo), 1e-300)
            if not (lo - slack <= x <= hi + slack):
                raise ValueError(f"{dim}={value!r} is outside the grid: {dim} runs from {lo:.6g} to {hi:.6g}")
            da = da.sel({dim: x}, method="nearest")
            picked = float(da[dim])
            exact = abs(picked - x) <= slack
            caption.append(f"{dim} = {picked:.6g}" + ("" if exact else f" (nearest to {x:.6g})"))
        else:
            labels = [str(v) for v in coord.values]
            if str(value) not in labels:
                raise ValueError(f"{dim}={value!r}: not a label of {dim}; allowed: {labels}")
            da = da.isel({dim: labels.index(str(value))})
            caption.append(f"{dim} = {value}")
    return da, caption


def _positions(coord: Any) -> tuple[np.ndarray, list[str] | None]:
    """Plot positions of a coordinate and, for text labels, the tick labels."""
    if coord.dtype.kind in "iuf":
        return np.asarray(coord.values, dtype=float), None
    labels = [str(v) for v in coord.values]
    return np.arange(len(labels), dtype=float), labels


def plot_slice(ds_or_store: Any, var: str, **selection: Any) -> Any:
    """Draw a 1-D (line) or 2-D (colour map) slice of one variable of a sweep.

    Parameters
    ----------
    ds_or_store
        An :class:`xarray.Dataset` (e.g. from :func:`qdthermo.sweeps`) or the
        path of a sweep's Zarr store.
    var
        Name of the variable (``"populations"``, ``"regime_J_N"``, ...).
    **selection
        ``dim=value`` for every dimension beyond two: numeric coordinates
        take the nearest value, label coordinates (``lead="t"``) an exact label.

    Returns
    -------
    matplotlib.figure.Figure
        Axes and colour bar labelled ``long_name [units]``; the title gives
        the variable and the selected values.

    Raises
    ------
    ValueError
        Unknown variable or dimension, a bad value, or more than two
        dimensions left unselected (the message names them).

    Examples
    --------
    The entropy production of a thermoelectric dot against its level, from
    a small in-memory sweep:

    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.plot import plot_slice
    >>> ds = qd.sweep(qd.single_dot, eps=np.linspace(-2, 2, 5), T={"L": 2.0, "R": 1.0},
    ...               progress=False, scheduler="serial")
    >>> fig = plot_slice(ds, "entropy_production")
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('single-particle level energy [energy]', 'entropy production rate (Schnakenberg) [k_B*rate]')
    >>> fig = plot_slice(ds, "particle_current", lead="L")         # one label of the lead dimension
    """
    from matplotlib.figure import Figure

    ds = _open(ds_or_store)
    if var not in ds.data_vars:
        raise ValueError(f"unknown variable {var!r}; available: {sorted(map(str, ds.data_vars))}")
    da, caption = _select(ds[var], var, selection)
    if da.ndim > 2:
        raise ValueError(f"{var!r} has {da.ndim} dimensions left; select a value (dim=value) for all but two. "
                         f"Unselected dimensions: {list(da.dims)}")
    if da.ndim == 0:
        raise ValueError(f"nothing left to plot: every dimension of {var!r} is selected; leave one or two free")
    da = da.isel({d: slice(None, None, -(-da.sizes[d] // MAX_VALUES_PER_AXIS)) for d in da.dims})
    values = np.asarray(da.values)

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(_label(da, var) if not caption else f"{da.attrs.get('long_name', var)}\n{', '.join(caption)}",
                 fontsize="medium")
    if da.ndim == 1:
        _draw_1d(ax, da, var, values)
    else:
        _draw_2d(fig, ax, da, var, values)
    return fig


def _categories(da: Any) -> tuple[Any, Any, np.ndarray, list[str]] | None:
    """Colour map, norm, codes and names of a categorical (``flag_values``) variable, else None."""
    from qdthermo.plot.palette import regime_colormap

    flags = da.attrs.get("flag_values")
    if flags is None:
        return None
    codes = np.atleast_1d(np.asarray(flags))
    names = str(da.attrs.get("flag_meanings", "")).split() or None
    # a negative code marks invalid points (no steady state): shown only where it occurs
    keep = (codes >= 0) | np.isin(codes, np.asarray(da.values))
    return regime_colormap(codes[keep], None if names is None else [n for n, k in zip(names, keep) if k])


def _signed(values: np.ndarray) -> bool:
    """True when ``values`` take both signs (beyond round-off): a diverging map with a marked zero."""
    from qdthermo.plot.palette import clean_round_off

    v = clean_round_off(values)
    return bool(np.nanmin(v) < 0 < np.nanmax(v)) if np.isfinite(v).any() else False


def _draw_1d(ax: Any, da: Any, var: str, values: np.ndarray) -> None:
    """A line (numbers), bars (labels) or coloured, named categories (regimes) along one dimension."""
    (dim,) = da.dims
    x, ticks = _positions(da[dim])
    cat = _categories(da)
    if cat is not None:
        cmap, norm, codes, names = cat
        ax.step(x, values, where="mid", color="0.7", lw=0.8, zorder=1)
        ax.scatter(x, values, c=values, cmap=cmap, norm=norm, s=18, edgecolors="k", linewidths=0.3, zorder=2)
        ax.set_yticks(codes, names)
        ax.set_ylim(codes[0] - 0.5, codes[-1] + 0.5)
    elif ticks is None:
        ax.plot(x, values, marker="o" if values.size <= 50 else None)
        if _signed(values):
            ax.axhline(0.0, color="k", lw=0.8)
    else:
        ax.bar(x, values)
        ax.axhline(0.0, color="k", lw=0.8)
    if ticks is not None:
        ax.set_xticks(x, ticks)
    ax.set_xlabel(_label(da[dim], str(dim)))
    ax.set_ylabel(_label(da, var) if cat is None else str(da.attrs.get("long_name", var)))


def _draw_2d(fig: Any, ax: Any, da: Any, var: str, values: np.ndarray) -> None:
    """A colour map: named categories (regimes), diverging around a marked zero (signed) or sequential."""
    from qdthermo.plot.palette import DIVERGING, SEQUENTIAL, ZERO_LINE, clean_round_off, signed_norm

    ydim, xdim = da.dims
    x, xticks = _positions(da[xdim])
    y, yticks = _positions(da[ydim])
    cat = _categories(da)
    if cat is not None:  # categorical (regimes): the shared palette, ticks named
        cmap, norm, codes, names = cat
        mesh = ax.pcolormesh(x, y, values, shading="nearest", cmap=cmap, norm=norm)
        cbar = fig.colorbar(mesh, ax=ax, ticks=codes)
        cbar.ax.set_yticklabels(names, fontsize="small")
    elif _signed(values):
        v = clean_round_off(values)
        mesh = ax.pcolormesh(x, y, v, shading="nearest", cmap=DIVERGING, norm=signed_norm(v))
        cbar = fig.colorbar(mesh, ax=ax)
        if min(x.size, y.size) > 1:
            ax.contour(x, y, v, levels=[0.0], **ZERO_LINE)
        cbar.ax.axhline(0.0, color="k", lw=1.0)
    else:
        mesh = ax.pcolormesh(x, y, values, shading="nearest", cmap=SEQUENTIAL)
        cbar = fig.colorbar(mesh, ax=ax)
    cbar.set_label(_label(da, var) + (" (0: black line)" if cat is None and _signed(values) else ""))
    if xticks is not None:
        ax.set_xticks(x, xticks)
    if yticks is not None:
        ax.set_yticks(y, yticks)
    ax.set_xlabel(_label(da[xdim], str(xdim)))
    ax.set_ylabel(_label(da[ydim], str(ydim)))

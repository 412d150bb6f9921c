"""FIG. 5: genuine-ICC regions of J_N and J_E in the (F~_E, F_N) first quadrant.

Both forces positive (parallel): a flux flowing against both is a genuine
inverse coupled current (ICC, PHYSICS.md section 8).  For every x of the
configuration the first-quadrant window [0, fe_max] x [0, fn_max] is solved
and classified with :attr:`qdthermo.SteadyState.regime`.  Expected
(PHYSICS.md section 10, claim 6): ICC regions only for x < 0, separated by
the line x F~_E + F_N = 0 (the affinity A_2 of the cycle through ``|3>-|4>``
changes sign there), never overlapping.
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FormatStrFormatter

import qdthermo as qd
from qdthermo.paper._common import add_caption, caption, currents, fattrs, solve_grid, styled
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.paper.fig3 import regime_attrs
from qdthermo.plot.palette import DIVERGING, clean_round_off

__all__ = ["compute", "plot", "plane_axes"]


def plane_axes(cfg: PaperConfig) -> tuple[np.ndarray, np.ndarray]:
    """The F~_E and F_N axes of the first-quadrant window (both start at 0)."""
    return np.linspace(0.0, cfg.fe_max, cfg.n_plane), np.linspace(0.0, cfg.fn_max, cfg.n_plane)


#: the figures of merit kept for the devices figure (:attr:`qdthermo.SteadyState.performance`)
PERFORMANCE = ("efficiency", "carnot_efficiency", "power", "cop", "carnot_cop", "cooling_power")


def _extract(res: qd.SteadyState, cfg: PaperConfig) -> dict[str, Any]:
    """Currents, regimes and the figures of merit of one solved chunk."""
    perf = res.performance
    return {**currents(res, cfg), **{name: getattr(perf, name) for name in PERFORMANCE}}


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float], xr.Dataset]:
    """Solve the window for every x; return the dataset, the diagnostics and the figures of merit.

    The third dataset (same grid; :data:`PERFORMANCE`) feeds :func:`qdthermo.paper.devices.compute`.
    """
    xs = np.asarray(cfg.x_values, dtype=float)
    fe, fn = plane_axes(cfg)
    a, diag = solve_grid(cfg, fe[None, :, None], fn[None, None, :], xs[:, None, None], extract=_extract)
    dims = ("x", "F_E_scaled", "F_N")
    U_eff, _, _ = interaction(xs, cfg.eps_L)
    JN, JE = a["J_N"], a["J_E"]
    first = (fe[:, None] > 0) & (fn[None, :] > 0)
    icc_N = a["regime_J_N"] == qd.Regime.ICC
    icc_E = a["regime_J_E"] == qd.Regime.ICC
    ds = xr.Dataset(
        {
            "J_N": (dims, JN, fattrs("rate", "particle current J_N = J_N^t")),
            "J_E": (dims, JE, fattrs("energy*rate", "energy current J_E = J_E^t")),
            "regime_J_N": (dims, a["regime_J_N"], regime_attrs("J_N")),
            "regime_J_E": (dims, a["regime_J_E"], regime_attrs("J_E")),
            "entropy_production": (dims, a["entropy_production"],
                                   fattrs("k_B*rate", "entropy production rate (Schnakenberg)")),
            "U_eff": (("x",), U_eff, fattrs("energy", "effective interdot interaction U - J/4")),
            "n_icc_J_N": (("x",), icc_N.sum(axis=(1, 2)), fattrs("1", "number of grid points with ICC in J_N")),
            "n_icc_J_E": (("x",), icc_E.sum(axis=(1, 2)), fattrs("1", "number of grid points with ICC in J_E")),
            "n_overlap": (("x",), (icc_N & icc_E).sum(axis=(1, 2)),
                          fattrs("1", "number of grid points with ICC in both fluxes")),
            "n_first_quadrant": ((), int(first.sum()), fattrs("1", "grid points with F~_E > 0 and F_N > 0")),
        },
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "F_E_scaled": ("F_E_scaled", fe, fattrs("1", "scaled energy force eps_L F_E")),
            "F_N": ("F_N", fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b")),
        },
        attrs={"title": "FIG. 5: genuine ICC regions", "force_tol": cfg.force_tol, "flux_tol": cfg.flux_tol},
    )
    perf = xr.Dataset({name: (dims, a[name]) for name in PERFORMANCE}, coords=ds.coords)
    return ds, diag, perf


#: fill and hatch of the genuine-ICC region of each flux in the region row (red: ICC, as in the regime palette)
REGION_STYLE = {"J_N": ("#d73027", "////"), "J_E": ("#fc8d59", "\\\\\\\\")}
A2_STYLE: dict[str, Any] = {"color": "0.25", "ls": "--", "lw": 1.2}


def _norm(v: np.ndarray) -> tuple[Any, str]:
    """An honest norm for signed data (white = 0) and the words for the colour-bar label.

    Symmetric ``[-m, m]`` when the negative side reaches at least a tenth of the positive one;
    otherwise two linear halves (``TwoSlopeNorm``) with the stretch of the negative half stated.
    Non-negative data: ``[0, max]``, the positive half of the same map.
    """
    from matplotlib.colors import Normalize, TwoSlopeNorm

    lo, hi = float(np.min(v)), float(np.max(v))
    hi = max(hi, 1e-300)
    if lo >= 0:
        return TwoSlopeNorm(0.0, -hi, hi), "white = 0; no value < 0"
    if -lo >= 0.1 * hi:
        m = max(-lo, hi)
        return Normalize(-m, m), "symmetric scale, white = 0"
    return TwoSlopeNorm(0.0, lo, hi), f"two linear scales: < 0 stretched x{hi / -lo:.0f}, white = 0"


def _ticks(norm: Any) -> np.ndarray:
    """Round colour-bar ticks on each side of zero."""
    from matplotlib.ticker import MaxNLocator

    neg = MaxNLocator(3).tick_values(norm.vmin, 0.0) if norm.vmin < 0 else np.zeros(0)
    pos = MaxNLocator(4).tick_values(0.0, norm.vmax)
    t = np.unique(np.r_[neg, pos])
    return t[(t >= norm.vmin - 1e-12 * abs(norm.vmin)) & (t <= norm.vmax * (1 + 1e-12))]


def _flux_panel(fig: Figure, ax: Any, ds: xr.Dataset, k: int, flux: str, scale: float, name: str,
                letter: str, cfg: PaperConfig) -> None:
    """The flux map at one x: diverging colours with white at zero, ICC hatched, the zero line black."""
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    x = float(ds["x"].values[k])
    v = clean_round_off(ds[flux].values[k] / scale)
    norm, words = _norm(v)
    if np.min(v) >= 0:
        norm = Normalize(0.0, norm.vmax)
        cmap: Any = ListedColormap(matplotlib.colormaps[DIVERGING](np.linspace(0.5, 1.0, 128)))
    else:
        cmap = DIVERGING
    im = ax.imshow(v.T, origin="lower", extent=_cell_extent(fe, fn), aspect="auto", cmap=cmap, norm=norm,
                   interpolation="bilinear")
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, ticks=_ticks(norm))
    cb.ax.axhline(0.0, color="k", lw=1.0)
    cb.ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    cb.ax.tick_params(labelsize=8)
    cb.set_label(f"{name}\n({words})", fontsize=8)
    if np.min(v) < 0:
        ax.contourf(fe, fn, v.T, levels=[np.min(v) - 1.0, 0.0], colors="none", hatches=["////"])
        ax.contour(fe, fn, v.T, levels=[0.0], colors="k", linewidths=1.0)
    n_icc = int(ds[f"n_icc_{flux}"].values[k])
    frac = n_icc / int(ds["n_first_quadrant"].values)
    ax.set_title(f"({letter}) {name}; {cfg.x_text(x)}\ngenuine ICC (hatched, {flux} < 0): {n_icc} pts = "
                 f"{100 * frac:.1f}%", fontsize=9)
    _a2_line(ax, x, fe, fn)
    _frame(ax, fe, fn)


def _cell_extent(fe: np.ndarray, fn: np.ndarray) -> tuple[float, float, float, float]:
    """``imshow`` extent that puts each pixel of the image on its grid point (uniform axes).

    Interpolated bilinearly, the image shades the map between grid points as a Gouraud-shaded mesh through
    the points does (the half cell beyond the outer points lies outside the axes limits), at a fraction of its
    cost: a few hundred image pixels instead of ~4 triangles per grid cell.
    """
    hx, hy = (fe[-1] - fe[0]) / (2 * (fe.size - 1)), (fn[-1] - fn[0]) / (2 * (fn.size - 1))
    return float(fe[0] - hx), float(fe[-1] + hx), float(fn[0] - hy), float(fn[-1] + hy)


def _regions_panel(ax: Any, ds: xr.Dataset, k: int, letter: str, cfg: PaperConfig) -> None:
    """Both ICC regions at one x, bounded by the zero lines of the solved currents (no grid steps)."""
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    x = float(ds["x"].values[k])
    ax.set_facecolor("#f7f7f7")
    for flux in ("J_N", "J_E"):
        if int(ds[f"n_icc_{flux}"].values[k]):
            v = clean_round_off(ds[flux].values[k])
            color, hatch = REGION_STYLE[flux]
            ax.contourf(fe, fn, v.T, levels=[np.min(v) - 1.0, 0.0], colors=[color], hatches=[hatch], alpha=0.9)
            ax.contour(fe, fn, v.T, levels=[0.0], colors="k", linewidths=0.8)
    both = (ds["regime_J_N"].values[k] == qd.Regime.ICC) & (ds["regime_J_E"].values[k] == qd.Regime.ICC)
    if both.any():
        ii, jj = np.nonzero(both)
        ax.plot(fe[ii], fn[jj], "ks", ms=3)
    _a2_line(ax, x, fe, fn)
    nN, nE = int(ds["n_icc_J_N"].values[k]), int(ds["n_icc_J_E"].values[k])
    if not (nN or nE):
        ax.text(0.5, 0.5, "no ICC in this window", transform=ax.transAxes, ha="center", va="center",
                fontsize=10, color="0.3")
    ax.set_title(f"({letter}) ICC regions; {cfg.x_text(x)}\nJ_N: {nN} pts, J_E: {nE} pts, "
                 f"overlap: {int(ds['n_overlap'].values[k])} pts", fontsize=9)
    _frame(ax, fe, fn)


def _frame(ax: Any, fe: np.ndarray, fn: np.ndarray) -> None:
    ax.set_xlabel("F~_E = eps_L F_E")
    ax.set_ylabel("F_N")
    ax.set_xlim(fe[0], fe[-1])
    ax.set_ylim(fn[0], fn[-1])


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Rows: J_N map (a1, a2, ...), J_E map (b1, ...), both ICC regions (c1, ...); columns: x values."""
    from matplotlib.patches import Patch

    n = ds.sizes["x"]
    fig = Figure(figsize=(max(4.6 * n, 9.5), 12.5))
    axes = fig.subplots(3, n, squeeze=False)
    for k in range(n):
        _flux_panel(fig, axes[0, k], ds, k, "J_N", cfg.gamma, "J_N / Gamma", f"a{k + 1}", cfg)
        _flux_panel(fig, axes[1, k], ds, k, "J_E", cfg.gamma * cfg.eps_L, "J_E / (Gamma eps_L)", f"b{k + 1}", cfg)
        _regions_panel(axes[2, k], ds, k, f"c{k + 1}", cfg)
    handles = [Patch(facecolor=REGION_STYLE["J_N"][0], hatch=REGION_STYLE["J_N"][1], label="ICC in J_N (engine)"),
               Patch(facecolor=REGION_STYLE["J_E"][0], hatch=REGION_STYLE["J_E"][1],
                     label="ICC in J_E (refrigerator)"),
               Patch(facecolor="#f7f7f7", edgecolor="0.6", label="no ICC"),
               Line2D([], [], color="k", lw=1.0, label="flux = 0"),
               Line2D([], [], **A2_STYLE, label="x F~_E + F_N = 0 (A_2 = 0)")]
    fig.suptitle("FIG. 5: genuine ICC (flux against both positive parallel forces) in the first quadrant\n"
                 f"rows: J_N (a1-a{n}), J_E (b1-b{n}), both regions (c1-c{n})", fontsize=11)
    h = add_caption(fig, caption(cfg, f"Window F~_E in [0, {cfg.fe_max:g}], F_N in [0, {cfg.fn_max:g}], "
                                 f"{ds.sizes['F_E_scaled']} x {ds.sizes['F_N']} grid; percentages of the points with "
                                 "both forces > 0; values below 1e-12 of the largest |value| are drawn as 0."))
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=9, frameon=False, bbox_to_anchor=(0.5, h))
    fig.tight_layout(rect=(0, h + 0.025, 1, 0.96))
    return fig


def _a2_line(ax: Any, x: float, fe: np.ndarray, fn: np.ndarray) -> None:
    """Dashed line x F~_E + F_N = 0, where it crosses the window (x < 0 only)."""
    if x < 0:
        ax.plot(fe, -x * fe, **A2_STYLE)

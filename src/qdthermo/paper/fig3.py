"""FIG. 3: the (F~_E, F_N) force plane, all four quadrants, coloured by the computed regime.

For each x of the configuration the two-force device is solved on a grid
that contains the axes F~_E = 0 and F_N = 0 exactly, and every flux is
classified by :attr:`qdthermo.SteadyState.regime` (PHYSICS.md section 8):
normal, induced, pseudo-ICC (on the axes), genuine ICC (first and third
quadrants, forces parallel) and cross-effect (second and fourth).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import (
    REGIME_COLORS,
    REGIME_LABELS,
    add_caption,
    caption,
    currents,
    fattrs,
    regimes,
    solve_grid,
    styled,
    symmetric_axis,
)
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.plot.palette import regime_colormap

__all__ = ["compute", "plot", "regime_attrs"]


def regime_attrs(flux: str, how: str = "forces") -> dict[str, object]:
    """NetCDF attributes of a regime-code variable."""
    return {
        "units": "1", "long_name": f"response regime of {flux} (classified by {how})",
        "flag_values": [int(r) for r in qd.Regime],
        "flag_meanings": " ".join(r.name for r in qd.Regime),
    }


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """Regimes on the four-quadrant grid for each x; plus the residual diagnostics."""
    xs = np.asarray(cfg.x_values, dtype=float)
    fe = symmetric_axis(cfg.quad_fe, cfg.n_quad)
    fn = symmetric_axis(cfg.quad_fn, cfg.n_quad)
    a, diag = solve_grid(cfg, fe[None, :, None], fn[None, None, :], xs[:, None, None], extract=_extract)
    dims = ("x", "F_E_scaled", "F_N")
    U_eff, _, _ = interaction(xs, cfg.eps_L)
    ds = xr.Dataset(
        {
            "J_N": (dims, a["J_N"], fattrs("rate", "particle current J_N = J_N^t")),
            "J_E": (dims, a["J_E"], fattrs("energy*rate", "energy current J_E = J_E^t")),
            "regime_J_N": (dims, a["regime_J_N"], regime_attrs("J_N")),
            "regime_J_E": (dims, a["regime_J_E"], regime_attrs("J_E")),
            "regime_by_gradients_J_N": (dims, a["gradients_J_N"], regime_attrs("J_N", "gradients dT, dmu")),
            "regime_by_gradients_J_E": (dims, a["gradients_J_E"], regime_attrs("J_E", "gradients dT, dmu")),
            "entropy_production": (dims, a["entropy_production"],
                                   fattrs("k_B*rate", "entropy production rate (Schnakenberg)")),
            "U_eff": (("x",), U_eff, fattrs("energy", "effective interdot interaction U - J/4")),
        },
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "F_E_scaled": ("F_E_scaled", fe, fattrs("1", "scaled energy force eps_L F_E = eps_L (1/T_b - 1/T_t)")),
            "F_N": ("F_N", fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b")),
        },
        attrs={"title": "FIG. 3: regimes in the force plane", "force_tol": cfg.force_tol,
               "flux_tol": cfg.flux_tol},
    )
    return ds, diag


def _extract(res: qd.SteadyState, cfg: PaperConfig) -> dict[str, Any]:
    """Currents and regimes (by forces and by gradients) of one solved chunk."""
    grad = regimes(res, cfg, by="gradients")
    return {**currents(res, cfg), "gradients_J_N": grad["J_N"], "gradients_J_E": grad["J_E"]}


def _edges(v: np.ndarray) -> np.ndarray:
    """Cell edges of a uniform axis (its points are the cell centres)."""
    d = v[1] - v[0]
    return np.r_[v - d / 2, v[-1] + d / 2]


def _panel(ax: Any, ds: xr.Dataset, k: int, flux: str, cfg: PaperConfig) -> None:
    """Regime map of one flux at one x; the axis where its own force vanishes drawn thick."""
    cmap, norm, _, _ = regime_colormap()
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    r = ds[f"regime_{flux}"].values[k]
    ax.pcolormesh(fe, fn, r.T, cmap=cmap, norm=norm, shading="nearest", rasterized=True, antialiased=False)
    ax.contour(fe, fn, ds[flux].values[k].T, levels=[0.0], colors="k", linewidths=0.9)
    # the flux's own force is zero on one axis (F~_E = 0 for J_E, F_N = 0 for J_N): induced or pseudo-ICC there
    if flux == "J_E":
        i0 = int(np.argmin(np.abs(fe)))
        w = max(0.8 * (fe[1] - fe[0]), 0.012 * (fe[-1] - fe[0]))  # visible on any grid
        ax.pcolormesh([-w, w], _edges(fn), r[i0, :, None], cmap=cmap, norm=norm, rasterized=True, zorder=3)
    else:
        j0 = int(np.argmin(np.abs(fn)))
        w = max(0.8 * (fn[1] - fn[0]), 0.012 * (fn[-1] - fn[0]))
        ax.pcolormesh(_edges(fe), [-w, w], r[None, :, j0], cmap=cmap, norm=norm, rasterized=True, zorder=3)
    for qx, qy, name in ((0.97, 0.97, "Q1"), (0.03, 0.97, "Q2"), (0.03, 0.03, "Q3"), (0.97, 0.03, "Q4")):
        ax.text(qx, qy, name, transform=ax.transAxes, ha="right" if qx > 0.5 else "left",
                va="top" if qy > 0.5 else "bottom", fontsize=9, fontweight="bold")
    counts = np.bincount(r.ravel().astype(int), minlength=len(qd.Regime))
    letter = chr(ord("a") + 2 * k + (flux == "J_N"))
    own = "F~_E" if flux == "J_E" else "F_N"
    ax.set_title(f"({letter}) regime of {flux}; {cfg.x_text(float(ds['x'].values[k]))}\n"
                 f"ICC {int(counts[qd.Regime.ICC])}, pseudo-ICC {int(counts[qd.Regime.PSEUDO_ICC])}, cross-effect "
                 f"{int(counts[qd.Regime.CROSS_EFFECT])} of {r.size} pts; thick: {own} = 0",
                 fontsize=9.5)
    ax.set_xlim(_edges(fe)[[0, -1]])
    ax.set_ylim(_edges(fn)[[0, -1]])
    ax.set_xlabel("F~_E = eps_L F_E")
    ax.set_ylabel("F_N")


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Rows: x values; columns: regime of J_E, regime of J_N."""
    from matplotlib.patches import Patch

    n = ds.sizes["x"]
    fig = Figure(figsize=(11, 3.6 * n + 1.5))
    axes = fig.subplots(n, 2, squeeze=False)
    for k in range(n):
        for col, flux in enumerate(("J_E", "J_N")):
            _panel(axes[k, col], ds, k, flux, cfg)
    handles = [Patch(facecolor=REGIME_COLORS[r], edgecolor="0.5", lw=0.5, label=REGIME_LABELS[r]) for r in qd.Regime]
    fig.suptitle("FIG. 3: response regime of each flux in the (F~_E, F_N) force plane, computed from the solved "
                 "currents; black line: the flux is zero\n(thick: the axis where the flux's own force "
                 "vanishes, F~_E = 0 for J_E and F_N = 0 for J_N, where it is induced or pseudo-ICC)", fontsize=11)
    h = add_caption(fig, caption(cfg, f"Grid {ds.sizes['F_E_scaled']} x {ds.sizes['F_N']}; zero "
                                 f"tolerances force_tol = {cfg.force_tol:g}, flux_tol = {cfg.flux_tol:g}."))
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=9, frameon=False, bbox_to_anchor=(0.5, h))
    fig.tight_layout(rect=(0, h + 0.03, 1, 0.95))
    return fig

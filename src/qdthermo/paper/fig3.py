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


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Rows: x values; columns: regime of J_E, regime of J_N."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    regimes = list(qd.Regime)
    cmap = ListedColormap([REGIME_COLORS[r] for r in regimes])
    norm = BoundaryNorm(np.arange(len(regimes) + 1) - 0.5, len(regimes))
    fe = ds["F_E_scaled"].values
    fn = ds["F_N"].values
    n = ds.sizes["x"]
    fig = Figure(figsize=(11, 3.4 * n + 1.4))
    axes = fig.subplots(n, 2, squeeze=False)
    dfe, dfn = fe[1] - fe[0], fn[1] - fn[0]
    extent = (fe[0] - dfe / 2, fe[-1] + dfe / 2, fn[0] - dfn / 2, fn[-1] + dfn / 2)
    i0 = int(np.argmin(np.abs(fe)))
    j0 = int(np.argmin(np.abs(fn)))
    for k in range(n):
        x = float(ds["x"].values[k])
        for col, flux in enumerate(("J_E", "J_N")):
            ax = axes[k, col]
            r = ds[f"regime_{flux}"].values[k]
            ax.imshow(r.T, origin="lower", extent=extent, cmap=cmap, norm=norm, aspect="auto",
                      interpolation="nearest", rasterized=True)
            J = ds[flux].values[k]
            ax.contour(fe, fn, J.T, levels=[0.0], colors="k", linewidths=0.8)
            # the axes themselves (F~_E = 0, F_N = 0): drawn thick so their regime is visible
            ax.scatter(np.zeros_like(fn), fn, c=r[i0, :], cmap=cmap, norm=norm, s=9, marker="s",
                       linewidths=0, zorder=3)
            ax.scatter(fe, np.zeros_like(fe), c=r[:, j0], cmap=cmap, norm=norm, s=9, marker="s",
                       linewidths=0, zorder=3)
            for (qx, qy, name) in ((0.97, 0.97, "Q1"), (0.03, 0.97, "Q2"), (0.03, 0.03, "Q3"),
                                   (0.97, 0.03, "Q4")):
                ax.text(qx, qy, name, transform=ax.transAxes, ha="right" if qx > 0.5 else "left",
                        va="top" if qy > 0.5 else "bottom", fontsize=8, fontweight="bold")
            counts = np.bincount(r.ravel().astype(int), minlength=len(regimes))
            n_icc = int(counts[qd.Regime.ICC])
            n_x = int(counts[qd.Regime.CROSS_EFFECT])
            n_p = int(counts[qd.Regime.PSEUDO_ICC])
            ax.set_title(f"({chr(ord('a') + 2 * k + col)}) regime of {flux}; {cfg.x_text(x)}\n"
                         f"ICC {n_icc}, pseudo-ICC {n_p}, cross-effect {n_x} of {r.size} pts; "
                         f"black line: {flux} = 0", fontsize=8)
            ax.set_xlabel("F~_E = eps_L F_E")
            ax.set_ylabel("F_N")
    handles = [Patch(color=REGIME_COLORS[r], label=REGIME_LABELS[r]) for r in regimes]
    fig.suptitle("FIG. 3: response regime of each flux in the (F~_E, F_N) force plane, computed from the "
                 "solved currents\n(the axes F~_E = 0 and F_N = 0 are drawn thick: induced or pseudo-ICC there)",
                 fontsize=10)
    h = add_caption(fig, caption(cfg, f"Grid {ds.sizes['F_E_scaled']} x {ds.sizes['F_N']}; zero "
                                 f"tolerances force_tol = {cfg.force_tol:g}, flux_tol = {cfg.flux_tol:g}."))
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, h))
    fig.tight_layout(rect=(0, h + 0.03, 1, 0.95))
    return fig


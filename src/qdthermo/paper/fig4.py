"""FIG. 4: currents against one force with the other force zero (pseudo-ICC).

(a) J_N/Gamma against F~_E with F_N = 0 and (b) J_E/(Gamma eps_L) against
F_N with F~_E = 0, for every x of the configuration: the flux against the
only (non-conjugate) force, pseudo-ICC, appears only for x < 0.  Panels
(c), (d) show the conjugate (direct) fluxes on the same cuts, which follow
their force for every x (PHYSICS.md section 10, claims 4 and 5).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from qdthermo.paper._common import (
    add_caption,
    caption,
    fattrs,
    merge_diagnostics,
    solve_grid,
    styled,
)
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.paper.fig3 import regime_attrs

__all__ = ["compute", "plot"]


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """Both cuts for every x; plus the residual diagnostics of both."""
    xs = np.asarray(cfg.x_values, dtype=float)
    fe = np.linspace(0.0, cfg.line_fe_max, cfg.n_line)
    fn = np.linspace(0.0, cfg.line_fn_max, cfg.n_line)
    ra, diag_a = solve_grid(cfg, fe[None, :], 0.0, xs[:, None])  # F_N = 0
    rb, diag_b = solve_grid(cfg, 0.0, fn[None, :], xs[:, None])  # F~_E = 0
    U_eff, _, _ = interaction(xs, cfg.eps_L)
    da, db = ("x", "F_E_scaled"), ("x", "F_N")
    ds = xr.Dataset(
        {
            "J_N_at_FN0": (da, ra["J_N"], fattrs("rate", "particle current J_N^t at F_N = 0")),
            "J_E_at_FN0": (da, ra["J_E"], fattrs("energy*rate", "energy current J_E^t at F_N = 0")),
            "regime_J_N_at_FN0": (da, ra["regime_J_N"], regime_attrs("J_N")),
            "regime_J_E_at_FN0": (da, ra["regime_J_E"], regime_attrs("J_E")),
            "J_N_at_FE0": (db, rb["J_N"], fattrs("rate", "particle current J_N^t at F_E = 0")),
            "J_E_at_FE0": (db, rb["J_E"], fattrs("energy*rate", "energy current J_E^t at F_E = 0")),
            "regime_J_N_at_FE0": (db, rb["regime_J_N"], regime_attrs("J_N")),
            "regime_J_E_at_FE0": (db, rb["regime_J_E"], regime_attrs("J_E")),
            "U_eff": (("x",), U_eff, fattrs("energy", "effective interdot interaction U - J/4")),
        },
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "F_E_scaled": ("F_E_scaled", fe, fattrs("1", "scaled energy force eps_L F_E (cut at F_N = 0)")),
            "F_N": ("F_N", fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b (cut at F_E = 0)")),
        },
        attrs={"title": "FIG. 4: currents with one force zero"},
    )
    return ds, merge_diagnostics([diag_a, diag_b])


def _style(x: float, k: int) -> dict[str, object]:
    colors = ["#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#a6761d"]
    ls = ":" if x > 0 else ("--" if x < 0 else "-.")
    return {"color": colors[k % len(colors)], "ls": ls, "lw": 1.8}


PSEUDO_SHADE = "#f4a582"


def _panel(ax: Any, ds: xr.Dataset, f: np.ndarray, var: str, vals: np.ndarray, xlabel: str, ylabel: str,
           title: str) -> None:
    """One cut: a curve per x, the half-plane flux < 0 shaded where a curve enters it, a zoom if it is thin."""
    induced = var in ("J_N_at_FN0", "J_E_at_FE0")
    lines = []
    for k, x in enumerate(ds["x"].values):
        v = vals[k]
        ax.plot(f, v, **_style(float(x), k))
        against = f", against the force at {int(np.count_nonzero(v[1:] < 0))}/{v.size - 1} pts" if induced else ""
        lines.append(f"x = {x:g}: min {v[1:].min():.2g}{against}")
    lo = min(float(vals[:, 1:].min()), 0.0)  # the force is > 0 from the second point on
    top = float(vals.max())
    neg_curves = [k for k in range(ds.sizes["x"]) if vals[k, 1:].min() < 0]
    zoom = induced and bool(neg_curves) and -lo < 0.2 * (top - lo)
    y0 = min(1.1 * lo, -(0.2 if zoom else 0.08) * top) if lo < 0 else -0.04 * top
    y1 = top + (1.7 if zoom else (0.45 if var != "J_N_at_FE0" else 0.05)) * (top - y0)
    ax.set_ylim(y0, y1)
    if lo < 0:  # the whole half-plane flux < 0 (against the only force): pseudo-ICC
        ax.axhspan(y0, 0, color=PSEUDO_SHADE, alpha=0.45, lw=0)
        title += "\n(shaded: flux < 0, against the only force = pseudo-ICC)"
    ax.axhline(0, color="k", lw=0.7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    corner = (0.02, 0.97, "left", "top") if var != "J_N_at_FE0" else (0.98, 0.45, "right", "center")
    ax.text(corner[0], corner[1], "\n".join(lines) + "\n(min over force > 0)", transform=ax.transAxes,
            ha=corner[2], va=corner[3], fontsize=8,
            bbox={"fc": "white", "ec": "0.7", "alpha": 0.9, "boxstyle": "round,pad=0.3"})
    ax.set_xlim(f[0], f[-1])
    if zoom:
        _zoom(ax, ds, f, vals, neg_curves, xlabel.split()[0], ylabel.split(" /")[0])


def _zoom(ax: Any, ds: xr.Dataset, f: np.ndarray, vals: np.ndarray, curves: list[int], xname: str,
          ylabel: str) -> None:
    """Inset of the curves that go negative, with the negative half shaded and both axes labelled."""
    ins = ax.inset_axes((0.56, 0.42, 0.41, 0.30))
    for k in curves:
        ins.plot(f, vals[k], **_style(float(ds["x"].values[k]), k))
    lo = min(float(vals[k, 1:].min()) for k in curves)
    hi = max(float(vals[k].max()) for k in curves)
    ins.set_ylim(1.25 * lo, max(hi, 0.0) + 0.25 * abs(lo))
    ins.axhspan(1.25 * lo, 0, color=PSEUDO_SHADE, alpha=0.45, lw=0)
    ins.axhline(0, color="k", lw=0.6)
    ins.set_title("zoom on the curves with flux < 0", fontsize=8, loc="right", pad=3)
    ins.set_xlabel(xname, fontsize=8, labelpad=1)
    ins.set_ylabel(ylabel, fontsize=8, labelpad=1)
    ins.tick_params(labelsize=7)
    ins.set_xlim(f[0], f[-1])


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """2 x 2 panels: (a), (b) the paper's FIG. 4; (c), (d) the direct fluxes on the same cuts."""

    fe = ds["F_E_scaled"].values
    fn = ds["F_N"].values
    g, eL = cfg.gamma, cfg.eps_L
    fig = Figure(figsize=(11, 8.2))
    axes = fig.subplots(2, 2)
    panels = [
        (axes[0, 0], fe, "J_N_at_FN0", g, "F~_E = eps_L F_E   (F_N = 0)", "J_N / Gamma",
         "(a) particle current driven only by the energy force"),
        (axes[0, 1], fn, "J_E_at_FE0", g * eL, "F_N   (F~_E = 0)", "J_E / (Gamma eps_L)",
         "(b) energy current driven only by the particle force"),
        (axes[1, 0], fe, "J_E_at_FN0", g * eL, "F~_E = eps_L F_E   (F_N = 0)", "J_E / (Gamma eps_L)",
         "(c) direct: energy current under its own force"),
        (axes[1, 1], fn, "J_N_at_FE0", g, "F_N   (F~_E = 0)", "J_N / Gamma",
         "(d) direct: particle current under its own force"),
    ]
    for ax, f, var, scale, xlabel, ylabel, title in panels:
        _panel(ax, ds, f, var, ds[var].values / scale, xlabel, ylabel, title)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], **_style(float(x), k), label=cfg.x_text(float(x)))  # type: ignore[arg-type]
               for k, x in enumerate(ds["x"].values)]
    fig.suptitle("FIG. 4: one force zero. Pseudo-ICC (flux against the non-conjugate force) only for x < 0 "
                 "(dashed); dotted: x > 0", fontsize=10)
    h = add_caption(fig, caption(cfg, f"{ds.sizes['F_E_scaled']} points per cut."))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, h))
    fig.tight_layout(rect=(0, h + 0.035, 1, 0.96))
    return fig


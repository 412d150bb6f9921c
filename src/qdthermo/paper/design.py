"""Beyond the paper: design of the ICC engine and the ICC refrigerator (maximum power, Pareto fronts).

For the level-swapped device (the run's negative ``x``) and several levels of dot R, over
FIG. 5's force window (F~_E in [0, fe_max], F_N in [0, fn_max]):

* the **ICC engine** (Eq. 56): the power delivered while J_N is in genuine ICC, maximised
  over the window (:func:`qdthermo.optimize` with the constraint ``regime_J_N == ICC``), its
  efficiency at maximum power, and the power-efficiency Pareto front (:func:`qdthermo.pareto`);
* the **ICC refrigerator** (Eq. 58): the cooling power while J_E is in genuine ICC, its COP at
  maximum cooling power, and the cooling-power/COP front.

Where the flux shows no ICC in the window the values are NaN ("no ICC").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from qdthermo.paper._common import add_caption, caption, fattrs, styled
from qdthermo.paper.ahead import EPS_R, FRONT, ROLES, design_results, two_force_device
from qdthermo.paper.config import PaperConfig

__all__ = ["compute", "dataset", "plot", "two_force_device", "ROLES"]


def compute(cfg: PaperConfig) -> xr.Dataset:
    """Maximum power and efficiency at maximum power of the ICC engine and refrigerator, and their fronts."""
    return dataset(cfg, design_results(cfg))


def dataset(cfg: PaperConfig, res: dict[str, Any]) -> xr.Dataset:
    """The dataset of :func:`compute` from the arrays of :func:`qdthermo.paper.ahead.design_results`."""
    dims = ("role", "eps_R")
    fronts = res["front"]
    return xr.Dataset(
        {
            "max_output": (dims, res["max"], fattrs("energy*rate", "maximum power (engine) / cooling power "
                                                                   "(refrigerator) with the flux in ICC")),
            "efficiency_at_max": (dims, res["eff"], fattrs("1", "efficiency (engine) / COP (refrigerator) there")),
            "carnot_at_max": (dims, res["carnot"], fattrs("1", "Carnot efficiency / COP there")),
            "F_E_scaled_at_max": (dims, res["F_E_scaled"], fattrs("1", "F~_E at the maximum")),
            "F_N_at_max": (dims, res["F_N"], fattrs("1", "F_N at the maximum")),
            "front_output": (dims + ("point",), fronts[..., 0], fattrs("energy*rate", "Pareto front: output")),
            "front_efficiency": (dims + ("point",), fronts[..., 1], fattrs("1", "Pareto front: efficiency / COP")),
        },
        coords={"role": ("role", list(ROLES)), "eps_R": ("eps_R", list(EPS_R), fattrs("energy", "level of dot R")),
                "point": ("point", np.arange(FRONT), fattrs("1", "index along the Pareto front"))},
        attrs={"title": "Design of the ICC engine and refrigerator", "x": float(min(cfg.x_values)),
               "window": f"F~_E in [0, {cfg.fe_max:g}], F_N in [0, {cfg.fn_max:g}]"},
    )


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Power-efficiency fronts of the ICC engine and cooling-power/COP fronts of the ICC refrigerator."""
    fig = Figure(figsize=(10.0, 4.6))
    axes = fig.subplots(1, 2)
    labels = {"engine": ("power P", "efficiency eta"), "refrigerator": ("cooling power", "COP")}
    for ax, role in zip(axes, ROLES):
        k = list(ROLES).index(role)
        for j, eps_R in enumerate(ds["eps_R"].values):
            out, eff = ds["front_output"].values[k, j], ds["front_efficiency"].values[k, j]
            ok = np.isfinite(out) & np.isfinite(eff)
            if not ok.any():
                ax.plot([], [], label=f"eps_R = {eps_R:g}: no ICC in {ROLES[role][0]}")
                continue
            line, = ax.plot(out[ok], eff[ok], "o-", ms=3, label=f"eps_R = {eps_R:g}")
            ax.plot(ds["max_output"].values[k, j], ds["efficiency_at_max"].values[k, j], "*", ms=13,
                    color=line.get_color(), mec="k")
        if role == "refrigerator":
            ax.set_yscale("log")  # the COP spans decades: it diverges as F~_E -> 0 (T_t -> T_b)
        ax.set_xlabel(labels[role][0] + " [Gamma eps_L]")
        ax.set_ylabel(labels[role][1])
        ax.set_title(f"ICC {role} ({ROLES[role][0]} in genuine ICC), x = {ds.attrs['x']:g}", fontsize=10)
        ax.legend(fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
    fig.suptitle("Beyond the paper: Pareto fronts of the ICC devices (star: maximum output)", fontsize=11)
    h = add_caption(fig, caption(cfg, f"Optimised over the window {ds.attrs['window']} with the flux constrained "
                                      "to genuine ICC (qd.optimize, qd.pareto).", eps_R=False))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=h + 0.14, wspace=0.28)
    return fig

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

import functools
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.design.problem import run_jointly
from qdthermo.paper._common import add_caption, caption, fattrs, styled
from qdthermo.paper.config import PaperConfig, interaction

__all__ = ["compute", "plot", "two_force_device", "ROLES"]

#: role -> (flux in ICC, objective, its efficiency, the Carnot bound)
ROLES = {"engine": ("J_N", "power", "efficiency", "carnot_efficiency"),
         "refrigerator": ("J_E", "cooling_power", "cop", "carnot_cop")}
#: eps_R values of the design scan
EPS_R = (0.0, 1.0, 2.0)
#: points kept per Pareto front (NaN-padded)
FRONT = 24


def two_force_device(F_E_scaled: Any, F_N: Any, x: float, eps_R: float, eps_L: float, T_b: float,
                     gamma: float) -> qd.Device:
    """The paper's two-force device at F~_E = eps_L F_E, F_N, x = (eps_L + U_eff)/eps_L."""
    _, U, J = interaction(x, eps_L)
    return qd.coupled_transport(np.asarray(F_E_scaled, dtype=float) / eps_L, F_N, eps_L=eps_L, eps_R=eps_R,
                                U=float(U), J=float(J), T_ref=T_b, gamma=gamma)


def _one(cfg: PaperConfig, role: str, eps_R: float, samples: int) -> dict[str, Any]:
    flux, objective, eff, carnot = ROLES[role]
    fixed: dict[str, Any] = dict(x=float(min(cfg.x_values)), eps_R=eps_R, eps_L=cfg.eps_L, T_b=cfg.T_b,
                                 gamma=cfg.gamma)
    vary = {"F_E_scaled": (0.0, cfg.fe_max), "F_N": (0.0, cfg.fn_max)}
    icc = {f"regime_{flux}": (int(qd.Regime.ICC), int(qd.Regime.ICC))}
    out: dict[str, Any] = {k: np.nan for k in ("max", "eff", "carnot", "F_E_scaled", "F_N")}
    out["front"] = np.full((FRONT, 2), np.nan)
    try:
        opt = qd.optimize(two_force_device, maximize=objective, vary=vary, constraints=icc, samples=samples, **fixed)
    except ValueError:  # no point of the window has ICC in this flux
        return out
    out.update({"max": opt.value, "eff": float(getattr(opt.performance, eff)),
                "carnot": float(getattr(opt.performance, carnot)), "F_E_scaled": opt.parameters["F_E_scaled"],
                "F_N": opt.parameters["F_N"]})
    try:
        front = qd.pareto(two_force_device, objectives=(objective, eff), vary=vary, constraints=icc,
                          samples=samples, **fixed)
    except ValueError:
        return out
    keep = np.linspace(0, len(front.values) - 1, min(FRONT, len(front.values))).round().astype(int)
    out["front"][:len(keep)] = front.values[keep]
    return out


def compute(cfg: PaperConfig) -> xr.Dataset:
    """Maximum power and efficiency at maximum power of the ICC engine and refrigerator, and their fronts."""
    samples = 256 if cfg.quick else 1024
    keys = [(r, e) for r in ROLES for e in EPS_R]
    # the searches are independent: they run together, each round's points solved as one batch
    res = dict(zip(keys, run_jointly([functools.partial(_one, cfg, r, e, samples) for r, e in keys])))
    dims = ("role", "eps_R")

    def grid(key: str) -> np.ndarray:
        return np.array([[res[(r, e)][key] for e in EPS_R] for r in ROLES], dtype=float)

    fronts = np.array([[res[(r, e)]["front"] for e in EPS_R] for r in ROLES])
    return xr.Dataset(
        {
            "max_output": (dims, grid("max"), fattrs("energy*rate", "maximum power (engine) / cooling power "
                                                                    "(refrigerator) with the flux in ICC")),
            "efficiency_at_max": (dims, grid("eff"), fattrs("1", "efficiency (engine) / COP (refrigerator) there")),
            "carnot_at_max": (dims, grid("carnot"), fattrs("1", "Carnot efficiency / COP there")),
            "F_E_scaled_at_max": (dims, grid("F_E_scaled"), fattrs("1", "F~_E at the maximum")),
            "F_N_at_max": (dims, grid("F_N"), fattrs("1", "F_N at the maximum")),
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

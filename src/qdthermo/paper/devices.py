"""The ICC engine and refrigerator (the paper's Eq. 56 and 58, PHYSICS.md section 9).

Over the first-quadrant window of FIG. 5 (same solve):

* **engine** where J_N shows genuine ICC: particles are pushed up the
  chemical potential, power ``P = -(mu_t - mu_b) J_N > 0``, efficiency
  ``eta = P / J_Q^t`` against the Carnot bound ``eta_C = 1 - T_b/T_t``;
* **refrigerator** where J_E shows genuine ICC: heat is drawn from the cold
  leads b and r, cooling power ``J_Q^b + J_Q^r``, input power ``-P``,
  ``COP = cooling / (-P)`` against ``COP_C = T_b/(T_t - T_b)``.

The figures of merit come from :attr:`qdthermo.SteadyState.performance`
(its docstring states the definitions); here they are restricted to the ICC
regions (NaN elsewhere) and divided by their Carnot bounds.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import add_caption, caption, fattrs, styled
from qdthermo.paper.config import PaperConfig

__all__ = ["compute", "plot"]


def compute(cfg: PaperConfig, plane: xr.Dataset, perf: xr.Dataset) -> xr.Dataset:
    """Figures of merit over the ICC regions of the FIG. 5 window (x with any ICC only).

    ``plane`` is the FIG. 5 dataset, ``perf`` its figures of merit (the third
    result of :func:`qdthermo.paper.fig5.compute`).
    """
    fom = {str(name): np.asarray(perf[name].values) for name in perf.data_vars}
    icc_N = plane["regime_J_N"].values == qd.Regime.ICC
    icc_E = plane["regime_J_E"].values == qd.Regime.ICC
    keep = np.flatnonzero(icc_N.any(axis=(1, 2)) | icc_E.any(axis=(1, 2)))
    eta = np.where(icc_N, fom["efficiency"], np.nan)
    eta_c = np.broadcast_to(fom["carnot_efficiency"], icc_N.shape)
    cop = np.where(icc_E, fom["cop"], np.nan)
    cop_c = np.broadcast_to(fom["carnot_cop"], icc_E.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta_ratio = np.where(icc_N, eta / np.where(icc_N, eta_c, 1.0), np.nan)
        cop_ratio = np.where(icc_E, cop / np.where(icc_E, cop_c, 1.0), np.nan)
    dims = ("x", "F_E_scaled", "F_N")

    def sel(a: np.ndarray) -> np.ndarray:
        return np.asarray(a)[keep]

    ds = xr.Dataset(
        {
            "efficiency": (dims, sel(eta), fattrs("1", "engine efficiency P/J_Q^t over the J_N-ICC region "
                                                  "(NaN elsewhere)")),
            "efficiency_over_carnot": (dims, sel(eta_ratio), fattrs("1", "eta / (1 - T_b/T_t) over the "
                                                                    "J_N-ICC region")),
            "power": (dims, sel(np.where(icc_N, fom["power"], np.nan)),
                      fattrs("energy*rate", "power -(mu_t - mu_b) J_N over the J_N-ICC region")),
            "cop": (dims, sel(cop), fattrs("1", "refrigerator COP (J_Q^b + J_Q^r)/(-P) over the J_E-ICC region")),
            "cop_over_carnot": (dims, sel(cop_ratio), fattrs("1", "COP / (T_b/(T_t - T_b)) over the "
                                                             "J_E-ICC region")),
            "cooling_power": (dims, sel(np.where(icc_E, fom["cooling_power"], np.nan)),
                              fattrs("energy*rate", "cooling power J_Q^b + J_Q^r over the J_E-ICC region")),
            "n_engine_undefined": (("x",), (icc_N & ~np.isfinite(eta)).sum(axis=(1, 2))[keep],
                                   fattrs("1", "J_N-ICC points where the device is not an engine")),
            "n_fridge_undefined": (("x",), (icc_E & ~np.isfinite(cop)).sum(axis=(1, 2))[keep],
                                   fattrs("1", "J_E-ICC points where the device is not a refrigerator")),
        },
        coords={
            "x": ("x", plane["x"].values[keep], plane["x"].attrs),
            "F_E_scaled": plane["F_E_scaled"],
            "F_N": plane["F_N"],
        },
        attrs={"title": "ICC engine (Eq. 56) and refrigerator (Eq. 58)"},
    )
    return ds


def _masked_map(fig, ax, fe, fn, v, label, cmap):  # type: ignore[no-untyped-def]
    dfe, dfn = fe[1] - fe[0], fn[1] - fn[0]
    extent = (fe[0] - dfe / 2, fe[-1] + dfe / 2, fn[0] - dfn / 2, fn[-1] + dfn / 2)
    ax.set_facecolor("#f0f0f0")
    finite = np.isfinite(v)
    vmax = float(np.nanmax(v)) if finite.any() else 1.0
    im = ax.imshow(np.ma.masked_invalid(v).T, origin="lower", extent=extent, aspect="auto", cmap=cmap,
                   vmin=0.0, vmax=vmax, interpolation="nearest", rasterized=True)
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cb.set_label(label, fontsize=8)
    if finite.any():
        i, j = np.unravel_index(np.nanargmax(v), v.shape)
        ax.plot(fe[i], fn[j], marker="*", color="w", mec="k", ms=13, clip_on=False, zorder=5)
        if finite.sum() > 8:
            ax.contour(fe, fn, np.where(finite, v, np.nan).T, levels=5, colors="k", linewidths=0.5)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("F~_E = eps_L F_E")
    ax.set_ylabel("F_N")


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Rows: x values with ICC; columns: eta/eta_C (engine), COP/COP_C (refrigerator)."""

    n = max(ds.sizes["x"], 1)
    fig = Figure(figsize=(12.5, 4.8 * n + 1.4))
    axes = fig.subplots(n, 2, squeeze=False)
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    if ds.sizes["x"] == 0:
        for ax in axes[0]:
            ax.text(0.5, 0.5, "no ICC region for the configured x values", ha="center", va="center")
            ax.axis("off")
    for k in range(ds.sizes["x"]):
        x = float(ds["x"].values[k])
        for col, (ratio, value, label, cmap, head) in enumerate((
            ("efficiency_over_carnot", "efficiency", "eta / eta_C", "viridis",
             "(a) ICC engine (J_N < 0): eta = P / J_Q^t, eta_C = 1 - T_b/T_t"),
            ("cop_over_carnot", "cop", "COP / COP_C", "magma",
             "(b) ICC refrigerator (J_E < 0): COP = (J_Q^b + J_Q^r) / (-P), COP_C = T_b/(T_t - T_b)"),
        )):
            r = ds[ratio].values[k]
            _masked_map(fig, axes[k, col], fe, fn, r, label, cmap)
            if np.isfinite(r).any():
                i, j = np.unravel_index(np.nanargmax(r), r.shape)
                edge = "; window edge" if i in (0, fe.size - 1) or j in (0, fn.size - 1) else ""
                name = "eta" if value == "efficiency" else "COP"
                best = (f"max {r[i, j]:.3g} at the star (F~_E = {fe[i]:.3g}, F_N = {fn[j]:.3g}{edge}); "
                        f"{name} there = {ds[value].values[k][i, j]:.3g}")
            else:
                best = "no such device in the window"
            axes[k, col].set_title(f"{head}\n{cfg.x_text(x)}\n{best}", fontsize=9)
    fig.suptitle("Devices on the genuine-ICC regions (paper Eq. 56, 58): both stay below their Carnot bounds "
                 "(grey: no ICC)", fontsize=10)
    h = add_caption(fig, caption(cfg, f"Window F~_E in [0, {cfg.fe_max:g}], F_N in [0, {cfg.fn_max:g}] as "
                                 "FIG. 5; thin lines: contours of the ratio; star: its maximum."))
    fig.tight_layout(rect=(0, h, 1, 0.95))
    return fig


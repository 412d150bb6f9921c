"""Beyond the paper: current fluctuations where currents run against their own force.

Over FIG. 5's first-quadrant window, for every ``x`` of the run, the second-order
counting statistics of the two fluxes J_N and J_E (:func:`qdthermo.fluctuations`):

* the TUR ratio ``Sigma_dot C_2 / C_1^2`` (>= 2 for any Markov jump process: Barato and
  Seifert, PRL 114, 158101 (2015));
* the Fano factor ``C_2 / |C_1|``;
* the *own-force* ratio ``F_i C_2 / C_1`` = ``(F_i J_i) C_2 / J_i^2``: the TUR with the flux's
  own share ``F_i J_i`` of the dissipation in place of ``Sigma_dot``.  In the ICC regime
  ``F_i J_i < 0`` (the flux runs against its force), so this ratio is negative: the bound
  needs the whole entropy production, paid by the other flux (``F_j J_j > |F_i J_i|``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import add_caption, caption, fattrs, regimes, solve_grid, styled
from qdthermo.paper.config import PaperConfig
from qdthermo.paper.fig5 import plane_axes
from qdthermo.plot.palette import REGIME_COLORS

__all__ = ["compute", "plot", "FLUXES"]

#: flux -> its own force
FLUXES = {"J_N": "F_N", "J_E": "F_E"}


def _extract(res: qd.SteadyState, cfg: PaperConfig) -> dict[str, Any]:
    """Regimes, entropy production and the second-order statistics of J_N and J_E of one chunk."""
    fl = qd.Fluctuations(res, 2, tuple(FLUXES))
    reg = regimes(res, cfg)
    out: dict[str, Any] = {"entropy_production": res.entropy_production}
    for flux, force in FLUXES.items():
        C1, C2 = fl.cumulant(1, flux), fl.cumulant(2, flux)
        out[f"regime_{flux}"] = reg[flux]
        out[f"C1_{flux}"], out[f"C2_{flux}"] = C1, C2
        out[f"tur_{flux}"], out[f"fano_{flux}"] = fl.tur[flux], fl.fano[flux]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"own_force_tur_{flux}"] = np.where(C1 == 0, np.nan, res.forces[force] * C2 / C1)
    return out


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """Solve the window for every x; the dataset of TUR ratios and Fano factors and the diagnostics."""
    xs = np.asarray(cfg.x_values, dtype=float)
    fe, fn = plane_axes(cfg)
    a, diag = solve_grid(cfg, fe[None, :, None], fn[None, None, :], xs[:, None, None], extract=_extract)
    dims = ("x", "F_E_scaled", "F_N")
    data: dict[str, Any] = {"entropy_production": (dims, a["entropy_production"],
                                                   fattrs("k_B*rate", "entropy production rate"))}
    for flux in FLUXES:
        unit = "rate" if flux == "J_N" else "energy*rate"
        data[f"regime_{flux}"] = (dims, a[f"regime_{flux}"], fattrs("1", f"response regime of {flux}"))
        data[f"C1_{flux}"] = (dims, a[f"C1_{flux}"], fattrs(unit, f"mean current of {flux}"))
        data[f"C2_{flux}"] = (dims, a[f"C2_{flux}"], fattrs(f"({unit.split('*')[0]})^2*rate" if flux == "J_E"
                                                             else "rate", f"zero-frequency noise C2 of {flux}"))
        data[f"tur_{flux}"] = (dims, a[f"tur_{flux}"], fattrs("k_B", f"TUR ratio Sigma_dot C2/C1^2 of {flux}"))
        data[f"fano_{flux}"] = (dims, a[f"fano_{flux}"], fattrs("1" if flux == "J_N" else "energy",
                                                                f"Fano factor C2/|C1| of {flux}"))
        data[f"own_force_tur_{flux}"] = (dims, a[f"own_force_tur_{flux}"],
                                         fattrs("k_B", f"own-force ratio F C2/C1 of {flux}"))
    return xr.Dataset(data, coords={
        "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
        "F_E_scaled": ("F_E_scaled", fe, fattrs("1", "scaled energy force eps_L F_E")),
        "F_N": ("F_N", fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b")),
    }, attrs={"title": "Fluctuations in the ICC regime: TUR ratio and Fano factor"}), diag


def region_stats(ds: xr.Dataset, flux: str, k: int) -> dict[str, float]:
    """Extremes of the TUR ratio, Fano factor and own-force ratio inside and outside the ICC region of ``flux``.

    Only the open first quadrant counts (both forces > 0); NaN where a region is empty.
    """
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    first = (fe[:, None] > 0) & (fn[None, :] > 0)
    icc = (ds[f"regime_{flux}"].values[k] == qd.Regime.ICC) & first
    out: dict[str, float] = {"n_icc": float(icc.sum()), "n_out": float((first & ~icc).sum())}
    for name in ("tur", "fano", "own_force_tur"):
        v = ds[f"{name}_{flux}"].values[k]
        for where, mask in (("icc", icc), ("out", first & ~icc)):
            vals = v[mask & np.isfinite(v)]
            out[f"{name}_{where}_min"] = float(vals.min()) if vals.size else np.nan
            out[f"{name}_{where}_max"] = float(vals.max()) if vals.size else np.nan
    return out


def _panel(fig: Figure, ax: Any, ds: xr.Dataset, flux: str, k: int) -> None:
    fe, fn = ds["F_E_scaled"].values, ds["F_N"].values
    tur = ds[f"tur_{flux}"].values[k].T
    finite = tur[np.isfinite(tur)]
    top = max(float(np.nanpercentile(finite, 99)), 3.0) if finite.size else 10.0
    mesh = ax.pcolormesh(fe, fn, np.clip(tur, 2.0, top), norm=LogNorm(2.0, top), cmap="viridis_r",
                         shading="nearest", rasterized=True)
    icc = (ds[f"regime_{flux}"].values[k] == qd.Regime.ICC).T.astype(float)
    if 0 < icc.sum() < icc.size:
        red = REGIME_COLORS[qd.Regime.ICC]
        ax.contourf(fe, fn, icc, levels=[0.5, 1.5], colors="none", hatches=["////"])
        ax.contour(fe, fn, icc, levels=[0.5], colors=[red], linewidths=1.8)
    C1 = ds[f"C1_{flux}"].values[k].T
    if np.nanmin(C1) < 0 < np.nanmax(C1):
        ax.contour(fe, fn, C1, levels=[0.0], colors=["white"], linewidths=1.0, linestyles="--")
    ax.set_title(f"{flux}, x = {ds['x'].values[k]:g}", fontsize=10)
    ax.set_xlabel(r"$\tilde F_E = \varepsilon_L F_E$")
    ax.set_ylabel(r"$F_N$")
    bar = fig.colorbar(mesh, ax=ax, shrink=0.9)
    ticks = [t for t in ((2, 2.5, 3, 5, 10) if top <= 20 else (2, 10, 100, 1e3, 1e4, 1e5)) if t <= top]
    bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    bar.ax.minorticks_off()
    bar.set_label(r"TUR ratio $\dot\Sigma C_2/C_1^2$ (log scale, $\geq 2$)", fontsize=8)


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """TUR ratio of J_N (top row) and J_E (bottom row) over the window, one column per x; ICC region outlined."""
    nx = ds.sizes["x"]
    fig = Figure(figsize=(3.8 * nx, 7.2))
    axes = fig.subplots(2, nx, squeeze=False)
    for row, flux in enumerate(FLUXES):
        for k in range(nx):
            _panel(fig, axes[row, k], ds, flux, k)
    fig.suptitle("Fluctuations in the ICC regime: TUR ratio (hatched, red edge: genuine ICC; white dashed: C1 = 0)",
                 fontsize=11)
    h = add_caption(fig, caption(cfg, "TUR ratio >= 2 everywhere (Barato-Seifert); it diverges where the flux "
                                      "vanishes, at the edge of the ICC region."))
    fig.subplots_adjust(left=0.06, right=0.93, top=0.91, bottom=h + 0.08, hspace=0.38, wspace=0.55)
    return fig

"""FIG. 5: genuine-ICC regions of J_N and J_E in the (F~_E, F_N) first quadrant.

Both forces positive (parallel): a flux flowing against both is a genuine
inverse coupled current (ICC, PHYSICS.md section 8).  For every x of the
configuration the first-quadrant window [0, fe_max] x [0, fn_max] is solved
and classified with :attr:`qdthermo.SteadyState.regime`.  Expected
(PHYSICS.md section 10, claim 6): ICC regions only for x < 0, separated by
the line x F~_E + F_N = 0 (the affinity A_2 of the cycle through |3>-|4>
changes sign there), never overlapping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import add_caption, caption, currents, fattrs, solve_grid, styled
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.paper.fig3 import regime_attrs

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


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """Rows: J_N map, J_E map, both ICC regions; columns: x values."""
    import matplotlib
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FormatStrFormatter

    fe = ds["F_E_scaled"].values
    fn = ds["F_N"].values
    n = ds.sizes["x"]
    fig = Figure(figsize=(4.3 * n, 11.5))
    axes = fig.subplots(3, n, squeeze=False)
    dfe, dfn = fe[1] - fe[0], fn[1] - fn[0]
    extent = (fe[0] - dfe / 2, fe[-1] + dfe / 2, fn[0] - dfn / 2, fn[-1] + dfn / 2)
    region_cmap = ListedColormap(["#f0f0f0", "#4393c3", "#d6604d", "#000000"])
    for k in range(n):
        x = float(ds["x"].values[k])
        for row, (flux, scale, name) in enumerate((("J_N", cfg.gamma, "J_N / Gamma"),
                                                   ("J_E", cfg.gamma * cfg.eps_L, "J_E / (Gamma eps_L)"))):
            ax = axes[row, k]
            v = ds[flux].values[k] / scale
            vmax = max(float(v.max()), 1e-300)
            cmap: Any
            norm: Any
            if v.min() < 0:
                cmap, norm = "RdBu_r", TwoSlopeNorm(0.0, float(v.min()), vmax)
            else:  # no negative values: the red half of the same colour map
                cmap, norm = ListedColormap(matplotlib.colormaps["RdBu_r"](np.linspace(0.5, 1.0, 128))), None
            im = ax.imshow(v.T, origin="lower", extent=extent, aspect="auto", cmap=cmap, norm=norm,
                           vmin=None if norm else 0.0, vmax=None if norm else vmax,
                           interpolation="nearest", rasterized=True)
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
            if norm is not None:  # two linear halves: label both (the default ticks crowd the larger one)
                vmin = float(v.min())
                cb.set_ticks(np.r_[np.linspace(vmin, 0.0, 3), np.linspace(0.0, vmax, 4)[1:]])
                cb.ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
            cb.set_label(name, fontsize=7)
            cb.ax.tick_params(labelsize=6)
            icc = (ds[f"regime_{flux}"].values[k] == qd.Regime.ICC).astype(float)
            if icc.any():
                ax.contourf(fe, fn, icc.T, levels=[0.5, 1.5], colors="none", hatches=["////"])
            ax.contour(fe, fn, v.T, levels=[0.0], colors="k", linewidths=1.0)
            n_icc = int(ds[f"n_icc_{flux}"].values[k])
            frac = n_icc / int(ds["n_first_quadrant"].values)
            ax.set_title(f"({'a' if flux == 'J_N' else 'b'}) {name}; {cfg.x_text(x)}\n"
                         f"genuine ICC (hatched, {flux} < 0): {n_icc} pts = {100 * frac:.1f}%", fontsize=7.5)
            _a2_line(ax, x, fe, fn)
            ax.set_xlabel("F~_E = eps_L F_E")
            ax.set_ylabel("F_N")
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
        ax = axes[2, k]
        rN = ds["regime_J_N"].values[k] == qd.Regime.ICC
        rE = ds["regime_J_E"].values[k] == qd.Regime.ICC
        code = rN.astype(int) + 2 * rE.astype(int)
        ax.imshow(code.T, origin="lower", extent=extent, aspect="auto", cmap=region_cmap, vmin=-0.5, vmax=3.5,
                  interpolation="nearest", rasterized=True)
        _a2_line(ax, x, fe, fn)
        if not (rN.any() or rE.any()):
            ax.text(0.5, 0.5, "no ICC in this window", transform=ax.transAxes, ha="center", va="center",
                    fontsize=9, color="0.3")
        ax.set_title(f"(c) ICC regions; {cfg.x_text(x)}\nJ_N: {int(rN.sum())} pts, J_E: {int(rE.sum())} pts, "
                     f"overlap: {int(ds['n_overlap'].values[k])} pts", fontsize=7.5)
        ax.set_xlabel("F~_E = eps_L F_E")
        ax.set_ylabel("F_N")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    handles = [Patch(color="#f0f0f0", label="no ICC"), Patch(color="#4393c3", label="ICC in J_N (engine)"),
               Patch(color="#d6604d", label="ICC in J_E (refrigerator)"), Patch(color="#000000", label="both"),
               Line2D([], [], color="#1a9850", ls="--", label="x F~_E + F_N = 0 (A_2 = 0)")]
    fig.suptitle("FIG. 5: genuine ICC (flux against both positive parallel forces) in the first quadrant; "
                 "black line: flux = 0", fontsize=10)
    h = add_caption(fig, caption(cfg, f"Window F~_E in [0, {cfg.fe_max:g}], F_N in [0, {cfg.fn_max:g}], "
                                 f"{ds.sizes['F_E_scaled']} x {ds.sizes['F_N']} grid; percentages of the "
                                 "points with both forces > 0."))
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False, bbox_to_anchor=(0.5, h))
    fig.tight_layout(rect=(0, h + 0.025, 1, 0.97))
    return fig


def _a2_line(ax, x: float, fe: np.ndarray, fn: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Dashed line x F~_E + F_N = 0, where it crosses the window (x < 0 only)."""
    if x < 0:
        ax.plot(fe, -x * fe, color="#1a9850", ls="--", lw=1.2)


"""Necessary and sufficient conditions for ICC: how much of the first quadrant shows it, against x.

Three computations (PHYSICS.md section 10, claims 4-7):

* **fraction scan** - for each eps_R of ``cfg.cond_eps_R`` and each x on
  ``[cond_x_min, cond_x_max]``, the fraction of the FIG. 5 window with both
  forces > 0 (``(n_cond_grid - 1)**2`` points, F~_E in (0, fe_max], F_N in
  (0, fn_max]) where J_N, J_E shows genuine ICC.  Expected: zero for x > 0.
* **threshold map** - on the two FIG. 4 cuts (F_N = 0 and F~_E = 0, forces
  > 0), for every (x, eps_R) of a finer grid, whether the induced flux runs
  against the only force (pseudo-ICC), and the minimum of every flux on the
  cuts.  Its edge ``x*(eps_R)`` (largest x with pseudo-ICC) shows how the
  level swap x < 0 works as a condition: necessary for every eps_R, but at a
  given eps_R ICC needs x below a threshold x* < 0.
* **random scan** - ``n_random`` random parameter points with x > 0 and as
  many with x < 0 (ranges in :data:`RANDOM_RANGES`), both forces > 0; half
  of them with random, unequal lead couplings.  Evidence for necessity, for
  the non-overlap of the two ICC regions and for the Carnot bounds beyond the
  figure grids.
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import (
    add_caption,
    caption,
    currents,
    fattrs,
    merge_diagnostics,
    solve_grid,
    styled,
)
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.paper.fig3 import regime_attrs

__all__ = ["RANDOM_RANGES", "compute", "compute_random", "plot"]

ICC = qd.Regime.ICC
PSEUDO = qd.Regime.PSEUDO_ICC

#: ranges of the random scan (energies in units of eps_L; uniform unless noted)
RANDOM_RANGES: dict[str, str] = {
    "|x|": "(0.001, 4), once with x > 0 and once with x < 0",
    "eps_R / eps_L": "(-6, 6)",
    "T_b / eps_L": "10**(-1 ... 0.7), log-uniform (0.1 ... 5)",
    "F~_E": "(0, 0.999 eps_L/T_b), i.e. any positive energy force with T_t finite",
    "F_N": "(0, 10)",
    "Gamma_t, Gamma_b, Gamma_r / Gamma": "1 for the first half; 10**(-2 ... 2) each, log-uniform, for the second",
    "mu_b = mu_r": "the configured mu_b",
}


#: second force used to step off a FIG. 4 cut when probing for genuine ICC next to pseudo-ICC
PROBE_STEPS = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6])

_OTHER = {"J_N": ("F~_E", "F_N"), "J_E": ("F_N", "F~_E")}
PROBE_ATTRS = {
    "icc": lambda f: ("1", f"1 if genuine ICC in {f} was found next to the strongest pseudo-ICC of this x"),
    "eps_R": lambda f: ("energy", f"eps_R of the strongest pseudo-ICC in {f} for this x (lowest {f} on its cut)"),
    "on": lambda f: ("1", f"{_OTHER[f][0]} there (the conjugate force of the other flux)"),
    "off": lambda f: ("1", f"largest of the steps {_OTHER[f][1]} = 1e-1 ... 1e-6 off the cut that gives "
                           "genuine ICC (NaN: none)"),
    "J": lambda f: ("1", f"{f} at the probe point, in units of Gamma" + (" eps_L" if f == "J_E" else "")),
    "J_cut": lambda f: ("1", f"lowest {f} on the cut for this x, in units of Gamma" + (" eps_L" if f == "J_E" else "")),
}


def x_axis(cfg: PaperConfig) -> np.ndarray:
    """The x values of the scan (rounded so that x = 0 falls on 0 exactly when it is a grid point)."""
    return np.round(np.linspace(cfg.cond_x_min, cfg.cond_x_max, cfg.n_cond_x), 12)


def eps_R_axis(cfg: PaperConfig) -> np.ndarray:
    """eps_R values of the threshold map: a uniform grid plus every value of ``cond_eps_R`` and ``eps_R``."""
    grid = np.linspace(cfg.thr_eps_R_min, cfg.thr_eps_R_max, cfg.n_thr_eps_R)
    return np.unique(np.round(np.r_[grid, cfg.cond_eps_R, cfg.eps_R], 12))


def _window_scan(cfg: PaperConfig, xs: np.ndarray, eRs: np.ndarray) -> tuple[dict[str, Any], dict[str, float]]:
    """ICC counts and minimal fluxes over the first-quadrant window, per (eps_R, x)."""
    fe = np.linspace(0.0, cfg.fe_max, cfg.n_cond_grid)[1:]
    fn = np.linspace(0.0, cfg.fn_max, cfg.n_cond_grid)[1:]
    a, diag = solve_grid(cfg, fe[None, None, :, None], fn[None, None, None, :], xs[None, :, None, None],
                         eRs[:, None, None, None])
    iN, iE = a["regime_J_N"] == ICC, a["regime_J_E"] == ICC
    g, eL = cfg.gamma, cfg.eps_L
    n_win = fe.size * fn.size
    dfrac = ("eps_R", "x")
    out = {
        "icc_fraction_J_N": (dfrac, iN.sum(axis=(2, 3)) / n_win, fattrs(
            "1", "fraction of the first-quadrant window with genuine ICC in J_N")),
        "icc_fraction_J_E": (dfrac, iE.sum(axis=(2, 3)) / n_win, fattrs(
            "1", "fraction of the first-quadrant window with genuine ICC in J_E")),
        "n_icc_J_N": (dfrac, iN.sum(axis=(2, 3)), fattrs("1", "window points with genuine ICC in J_N")),
        "n_icc_J_E": (dfrac, iE.sum(axis=(2, 3)), fattrs("1", "window points with genuine ICC in J_E")),
        "n_icc_both": (dfrac, (iN & iE).sum(axis=(2, 3)), fattrs("1", "window points with ICC in J_N and J_E at once")),
        "min_J_N_window": (dfrac, a["J_N"].min(axis=(2, 3)) / g, fattrs("1", "minimum of J_N/Gamma over the window")),
        "min_J_E_window": (dfrac, a["J_E"].min(axis=(2, 3)) / (g * eL),
                           fattrs("1", "minimum of J_E/(Gamma eps_L) over the window")),
        "n_window": ((), n_win, fattrs("1", "points of the window (both forces > 0)")),
    }
    return out, diag


def _cut_axes(cfg: PaperConfig) -> tuple[np.ndarray, np.ndarray]:
    """The forces > 0 of the two FIG. 4 cuts of the threshold map (F~_E at F_N = 0, F_N at F~_E = 0)."""
    return (np.linspace(0.0, cfg.line_fe_max, cfg.n_cond_line)[1:],
            np.linspace(0.0, cfg.line_fn_max, cfg.n_cond_line)[1:])


def _cut_scan(cfg: PaperConfig, xs: np.ndarray, eR_f: np.ndarray) -> tuple[dict[str, Any], dict[str, np.ndarray],
                                                                           list[dict[str, float]]]:
    """Pseudo-ICC, minima and cross-effects on both cuts per (x, eps_R); also the raw cut arrays."""
    fe_l, fn_l = _cut_axes(cfg)
    ra, da = solve_grid(cfg, fe_l[None, None, :], 0.0, xs[:, None, None], eR_f[None, :, None])  # F_N = 0
    rb, db = solve_grid(cfg, 0.0, fn_l[None, None, :], xs[:, None, None], eR_f[None, :, None])  # F~_E = 0
    g, eL = cfg.gamma, cfg.eps_L
    dmap = ("x", "eps_R_map")
    out = {
        "pseudo_icc_J_N": (dmap, (ra["regime_J_N"] == PSEUDO).sum(axis=-1), fattrs(
            "1", "points of the cut F_N = 0, F~_E > 0 where J_N < 0 (pseudo-ICC)")),
        "pseudo_icc_J_E": (dmap, (rb["regime_J_E"] == PSEUDO).sum(axis=-1), fattrs(
            "1", "points of the cut F~_E = 0, F_N > 0 where J_E < 0 (pseudo-ICC)")),
        "min_J_N_at_FN0": (dmap, ra["J_N"].min(axis=-1) / g, fattrs(
            "1", "minimum of J_N/Gamma on the cut F_N = 0, F~_E > 0")),
        "min_J_E_at_FN0": (dmap, ra["J_E"].min(axis=-1) / (g * eL), fattrs(
            "1", "minimum of J_E/(Gamma eps_L) on the cut F_N = 0, F~_E > 0")),
        "min_J_N_at_FE0": (dmap, rb["J_N"].min(axis=-1) / g, fattrs(
            "1", "minimum of J_N/Gamma on the cut F~_E = 0, F_N > 0")),
        "min_J_E_at_FE0": (dmap, rb["J_E"].min(axis=-1) / (g * eL), fattrs(
            "1", "minimum of J_E/(Gamma eps_L) on the cut F~_E = 0, F_N > 0")),
        "n_cross_effect_on_cuts": (dmap, (ra["regime_J_E"] == qd.Regime.CROSS_EFFECT).sum(axis=-1)
                                   + (rb["regime_J_N"] == qd.Regime.CROSS_EFFECT).sum(axis=-1), fattrs(
            "1", "cut points where the conjugate flux runs against its own force (J_E at F_N = 0, J_N at F~_E = 0)")),
        "n_cut": ((), fe_l.size, fattrs("1", "points per cut (force > 0)")),
    }
    return out, {"J_N": ra["J_N"], "J_E": rb["J_E"]}, [da, db]


def _equilibrium(cfg: PaperConfig, xs: np.ndarray, eR_f: np.ndarray) -> tuple[dict[str, Any], dict[str, float]]:
    """Currents and regimes with both forces zero, per (x, eps_R)."""
    r0, diag = solve_grid(cfg, 0.0, 0.0, xs[:, None], eR_f[None, :])
    dmap = ("x", "eps_R_map")
    return {
        "max_abs_J_N_equilibrium": (dmap, np.abs(r0["J_N"]) / cfg.gamma, fattrs("1", "|J_N|/Gamma at F~_E = F_N = 0")),
        "max_abs_J_E_equilibrium": (dmap, np.abs(r0["J_E"]) / (cfg.gamma * cfg.eps_L), fattrs(
            "1", "|J_E|/(Gamma eps_L) at F~_E = F_N = 0")),
        "regime_equilibrium_J_N": (dmap, r0["regime_J_N"], regime_attrs("J_N")),
        "regime_equilibrium_J_E": (dmap, r0["regime_J_E"], regime_attrs("J_E")),
    }, diag


def _probe(cfg: PaperConfig, xs: np.ndarray, eR_f: np.ndarray, flux: str,
           J_cut: np.ndarray) -> tuple[dict[str, Any], dict[str, float]]:
    """Genuine ICC next to the strongest pseudo-ICC of each x: step off the cut by a small second force."""
    unit = cfg.gamma * (cfg.eps_L if flux == "J_E" else 1.0)
    J = J_cut / unit  # (x, eps_R, force on the cut)
    j_eR, j_f = np.unravel_index(J.reshape(xs.size, -1).argmin(axis=1), J.shape[1:])
    on = _cut_axes(cfg)[0 if flux == "J_N" else 1][j_f]
    off = PROBE_STEPS[None, :] * np.ones((xs.size, 1))
    fe_p, fn_p = (on[:, None], off) if flux == "J_N" else (off, on[:, None])
    rp, diag = solve_grid(cfg, fe_p, fn_p, xs[:, None], eR_f[j_eR][:, None])
    icc = rp[f"regime_{flux}"] == ICC
    first = np.where(icc.any(axis=1), icc.argmax(axis=1), 0)
    values = {"icc": icc.any(axis=1), "eps_R": eR_f[j_eR], "on": on,
              "off": np.where(icc.any(axis=1), PROBE_STEPS[first], np.nan),
              "J": rp[flux][np.arange(xs.size), first] / unit, "J_cut": J.reshape(xs.size, -1).min(axis=1)}
    return {f"probe_{k}_{flux}": (("x",), v, fattrs(*PROBE_ATTRS[k](flux))) for k, v in values.items()}, diag


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """Fraction scan, threshold map, equilibrium check and probes; plus the residual diagnostics."""
    xs = x_axis(cfg)
    eRs = np.asarray(cfg.cond_eps_R, dtype=float)
    eR_f = eps_R_axis(cfg)
    window, d_win = _window_scan(cfg, xs, eRs)
    cuts, J_cut, d_cuts = _cut_scan(cfg, xs, eR_f)
    eq, d_eq = _equilibrium(cfg, xs, eR_f)
    probe_N, d_pN = _probe(cfg, xs, eR_f, "J_N", J_cut["J_N"])
    probe_E, d_pE = _probe(cfg, xs, eR_f, "J_E", J_cut["J_E"])
    n_cut = int(cuts["n_cut"][1])
    ds = xr.Dataset(
        {**window, **cuts, **probe_N, **probe_E, **eq},
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "U_eff": ("x", interaction(xs, cfg.eps_L)[0], fattrs("energy", "effective interdot interaction U - J/4")),
            "eps_R": ("eps_R", eRs, fattrs("energy", "level energy of dot R (fraction scan)")),
            "eps_R_map": ("eps_R_map", eR_f, fattrs("energy", "level energy of dot R (threshold map)")),
        },
        attrs={"title": "ICC conditions: ICC fraction against x; pseudo-ICC threshold map",
               "window": f"F~_E in (0, {cfg.fe_max:g}], F_N in (0, {cfg.fn_max:g}], "
                         f"{cfg.n_cond_grid - 1} x {cfg.n_cond_grid - 1} points",
               "cuts": f"F~_E in (0, {cfg.line_fe_max:g}] at F_N = 0; F_N in (0, {cfg.line_fn_max:g}] at "
                       f"F~_E = 0; {n_cut} points each"},
    )
    return ds, merge_diagnostics([d_win, *d_cuts, d_eq, d_pN, d_pE])


def compute_random(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """The random scan (see :data:`RANDOM_RANGES`): 2 x ``n_random`` points, x > 0 then x < 0."""
    n = cfg.n_random
    rng = np.random.default_rng(cfg.seed)
    ax = rng.uniform(1e-3, 4.0, n)
    x = np.r_[ax, -ax]
    eps_R = np.tile(rng.uniform(-6.0, 6.0, n) * cfg.eps_L, 2)
    T_b = np.tile(10.0 ** rng.uniform(-1.0, 0.7, n) * cfg.eps_L, 2)
    fe = np.tile(rng.uniform(0.0, 0.999, n), 2) * cfg.eps_L / T_b
    fn = np.tile(rng.uniform(0.0, 10.0, n), 2)
    unequal = np.tile(np.arange(n) >= n // 2, 2)
    gam = {lead: np.where(unequal, 10.0 ** np.tile(rng.uniform(-2.0, 2.0, n), 2), 1.0) * cfg.gamma for lead in "tbr"}
    a, diag = solve_grid(cfg, fe, fn, x, eps_R, T_b=T_b, gamma=gam, extract=_random_extract)
    d = ("point",)
    ds = xr.Dataset(
        {
            "eps_R": (d, eps_R, fattrs("energy", "level energy of dot R")),
            "T_b": (d, T_b, fattrs("energy", "temperature of the reference leads b, r")),
            "gamma_t": (d, gam["t"], fattrs("rate", "tunnel coupling of lead t")),
            "gamma_b": (d, gam["b"], fattrs("rate", "tunnel coupling of lead b")),
            "gamma_r": (d, gam["r"], fattrs("rate", "tunnel coupling of lead r")),
            "F_E_scaled": (d, fe, fattrs("1", "scaled energy force eps_L F_E")),
            "F_N": (d, fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b")),
            "J_N": (d, a["J_N"], fattrs("rate", "particle current J_N = J_N^t")),
            "J_E": (d, a["J_E"], fattrs("energy*rate", "energy current J_E = J_E^t")),
            "regime_J_N": (d, a["regime_J_N"], regime_attrs("J_N")),
            "regime_J_E": (d, a["regime_J_E"], regime_attrs("J_E")),
            "entropy_production": (d, a["entropy_production"],
                                   fattrs("k_B*rate", "entropy production rate (Schnakenberg)")),
            "efficiency_over_carnot": (d, a["efficiency_over_carnot"],
                                       fattrs("1", "engine efficiency / Carnot (NaN: not an engine)")),
            "cop_over_carnot": (d, a["cop_over_carnot"],
                                fattrs("1", "refrigerator COP / Carnot COP (NaN: not a refrigerator)")),
        },
        coords={
            "x": (d, x, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "unequal_gamma": (d, unequal.astype(np.int8), fattrs("1", "1 where the three couplings differ")),
        },
        attrs={"title": "random parameter scan (both forces > 0)", "seed": cfg.seed,
               "ranges": "; ".join(f"{k}: {v}" for k, v in RANDOM_RANGES.items())},
    )
    return ds, diag


def _random_extract(res: qd.SteadyState, cfg: PaperConfig) -> dict[str, Any]:
    """Currents, regimes and the ratios of efficiency and COP to their Carnot bounds (NaN: not that device)."""
    perf = res.performance
    with np.errstate(invalid="ignore", divide="ignore"):
        eta_ratio = np.asarray(perf.efficiency) / np.asarray(perf.carnot_efficiency)
        cop_ratio = np.asarray(perf.cop) / np.asarray(perf.carnot_cop)
    return {**currents(res, cfg), "efficiency_over_carnot": eta_ratio, "cop_over_carnot": cop_ratio}


def _thresholds(ds: xr.Dataset, var: str) -> np.ndarray:
    """Largest x with pseudo-ICC (``var`` > 0) for each eps_R of the map (NaN: none)."""
    xs = ds["x"].values
    has = ds[var].values > 0  # (x, eps_R)
    return np.array([xs[has[:, j]].max() if has[:, j].any() else np.nan for j in range(has.shape[1])])


def thresholds(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """x*(eps_R) of the threshold map: ``{"J_N": ..., "J_E": ...}`` over ``eps_R_map``."""
    return {"J_N": _thresholds(ds, "pseudo_icc_J_N"), "J_E": _thresholds(ds, "pseudo_icc_J_E")}


#: colours of the pseudo-ICC map (pseudo-ICC is orange in the regime palette): J_N only, J_E only, both
PSEUDO_COLORS = {1: "#fee0b6", 2: "#e08214", 3: "#fdae61"}
PSEUDO_LABELS = {1: "pseudo-ICC in J_N only (F_N = 0)", 2: "pseudo-ICC in J_E only (F~_E = 0)",
                 3: "pseudo-ICC in both"}


def _share_panel(ax: Any, ds: xr.Dataset, flux: str, letter: str, cfg: PaperConfig) -> None:
    """Share of the window with genuine ICC in ``flux`` against x, one curve per eps_R."""
    xs = ds["x"].values
    frac = ds[f"icc_fraction_{flux}"].values
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, ds.sizes["eps_R"]))
    for k, eR in enumerate(ds["eps_R"].values):
        ax.plot(xs, 100 * frac[k], color=colors[k], lw=1.8, marker="o", ms=3,
                label=f"eps_R = {eR:g}" + (" (figures)" if eR == cfg.eps_R else ""))
    pos = xs > 0
    top = max(100 * float(frac.max()), 1.0) * 1.1
    ax.axvspan(0.0, xs.max(), color="#e0e0e0", lw=0, zorder=0)
    ax.axvline(0.0, color="k", lw=0.8)
    share = 100 * frac[:, pos].max() if pos.any() else 0.0
    ax.text(0.5 * xs.max(), 0.93 * top, f"x > 0:\nmax ICC share = {share:g}%\n({int(pos.sum())} x values\n"
            f"x {ds.sizes['eps_R']} eps_R)", ha="center", va="top", fontsize=9)
    ax.set_ylim(-0.02 * top, top)
    ax.set_xlim(xs.min(), xs.max())
    ax.set_xlabel("x = (eps_L + U_eff) / eps_L")
    ax.set_ylabel(f"share of the window with ICC in {flux} [%]")
    sec = ax.secondary_xaxis("top", functions=(lambda v: (v - 1.0) * cfg.eps_L, lambda u: u / cfg.eps_L + 1.0))
    sec.set_xlabel("U_eff = U - J/4 [energy unit]", fontsize=9)
    sec.tick_params(labelsize=8)
    ax.set_title(f"({letter}) genuine ICC in {flux} against x\n(window F~_E in (0, {cfg.fe_max:g}], F_N in "
                 f"(0, {cfg.fn_max:g}], {int(ds['n_window'])} pts)", fontsize=10)
    ax.legend(fontsize=9, loc="center right", framealpha=0.9)


def _threshold_panel(ax: Any, ds: xr.Dataset, cfg: PaperConfig) -> None:
    """(c) the (x, eps_R) map of pseudo-ICC on the two cuts and its edge x*(eps_R)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    xs, eR = ds["x"].values, ds["eps_R_map"].values
    code = (ds["pseudo_icc_J_N"].values > 0).astype(int) + 2 * (ds["pseudo_icc_J_E"].values > 0).astype(int)
    cmap = ListedColormap(["#f7f7f7", *PSEUDO_COLORS.values()])
    ax.pcolormesh(xs, eR, code.T, cmap=cmap, norm=BoundaryNorm(np.arange(5) - 0.5, 4), shading="nearest",
                  rasterized=True)
    thr = thresholds(ds)
    ax.plot(thr["J_N"], eR, color="#08306b", lw=1.6, label="x*(eps_R) for J_N")
    ax.plot(thr["J_E"], eR, color="k", lw=1.6, ls="--", label="x*(eps_R) for J_E")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.axhline(cfg.eps_R, color="0.3", lw=0.8, ls=":")
    ax.plot(cfg.x_values, [cfg.eps_R] * len(cfg.x_values), marker="*", ms=12, color="gold", mec="k", ls="none",
            clip_on=False, zorder=5, label="the figures' (x, eps_R)")
    present = [c for c in PSEUDO_COLORS if (code == c).any()]  # only what the map shows
    handles = [Patch(facecolor="#f7f7f7", edgecolor="0.6", label="no pseudo-ICC")]
    handles += [Patch(color=PSEUDO_COLORS[c], label=PSEUDO_LABELS[c]) for c in present]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=9, loc="lower right", framealpha=0.9)
    ax.set_xlabel("x = (eps_L + U_eff) / eps_L")
    ax.set_ylabel("eps_R [energy unit]")
    ax.set_title("(c) where the induced flux runs against the only force (pseudo-ICC, the prerequisite of "
                 "genuine ICC): only below x*(eps_R) < 0", fontsize=10)


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """(a), (b) ICC share of J_N, J_E against x; (c) the (x, eps_R) map of where pseudo-ICC occurs."""
    fig = Figure(figsize=(13, 10.5))
    axes = fig.subplot_mosaic([["a", "b"], ["c", "c"]], height_ratios=[1.0, 0.9])
    _share_panel(axes["a"], ds, "J_N", "a", cfg)
    _share_panel(axes["b"], ds, "J_E", "b", cfg)
    _threshold_panel(axes["c"], ds, cfg)
    fig.suptitle("Conditions for ICC: none for x > 0 (repulsive, or attractive without level swap), so the level "
                 "swap x < 0 is necessary;\nat a fixed dot-R level eps_R it is not sufficient: ICC needs "
                 "x < x*(eps_R) < 0, and x* -> 0- as eps_R decreases", fontsize=11)
    h = add_caption(fig, caption(cfg, f"(a), (b): {ds.sizes['x']} x values; (c): cuts F~_E in (0, "
                                 f"{cfg.line_fe_max:g}] at F_N = 0 and F_N in (0, {cfg.line_fn_max:g}] at F~_E = 0, "
                                 f"{int(ds['n_cut'])} pts each. Grey: x > 0.", eps_R=False))
    fig.tight_layout(rect=(0, h, 1, 0.95), w_pad=2.5, h_pad=1.5)
    return fig

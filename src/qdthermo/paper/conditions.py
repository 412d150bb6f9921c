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

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

import qdthermo as qd
from qdthermo.paper._common import (
    add_caption,
    caption,
    diagnostics,
    fattrs,
    merge_diagnostics,
    save_figure,
    write_netcdf,
)
from qdthermo.paper.config import PaperConfig, interaction
from qdthermo.paper.fig3 import regime_attrs

__all__ = ["RANDOM_RANGES", "compute", "compute_random", "plot", "run"]

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


def _solve(cfg: PaperConfig, F_E_scaled: Any, F_N: Any, x: Any, eps_R: Any) -> qd.SteadyState:
    _, U, J = interaction(x, cfg.eps_L)
    return qd.solve(qd.coupled_transport(
        np.asarray(F_E_scaled, dtype=float) / cfg.eps_L, F_N, eps_L=cfg.eps_L, eps_R=eps_R, U=U, J=J,
        T_ref=cfg.T_b, mu_ref=cfg.mu_b, gamma=cfg.gamma))


def compute(cfg: PaperConfig) -> tuple[xr.Dataset, dict[str, float]]:
    """Fraction scan, threshold map and equilibrium check; plus the residual diagnostics."""
    xs = x_axis(cfg)
    eRs = np.asarray(cfg.cond_eps_R, dtype=float)
    fe = np.linspace(0.0, cfg.fe_max, cfg.n_cond_grid)[1:]
    fn = np.linspace(0.0, cfg.fn_max, cfg.n_cond_grid)[1:]
    n_win = fe.size * fn.size
    shape = (eRs.size, xs.size)
    n_N, n_E, n_both = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    min_JN, min_JE = np.zeros(shape), np.zeros(shape)
    diags = []
    for k, eR in enumerate(eRs):  # one eps_R at a time keeps the memory small
        res = _solve(cfg, fe[None, :, None], fn[None, None, :], xs[:, None, None], eR)
        iN = np.asarray(res.regime["J_N"]) == ICC
        iE = np.asarray(res.regime["J_E"]) == ICC
        n_N[k], n_E[k], n_both[k] = iN.sum(axis=(1, 2)), iE.sum(axis=(1, 2)), (iN & iE).sum(axis=(1, 2))
        min_JN[k] = np.asarray(res.fluxes["J_N"]).min(axis=(1, 2))
        min_JE[k] = np.asarray(res.fluxes["J_E"]).min(axis=(1, 2))
        diags.append(diagnostics(res))

    # threshold map on the FIG. 4 cuts (forces > 0 only)
    eR_f = eps_R_axis(cfg)
    fe_l = np.linspace(0.0, cfg.line_fe_max, cfg.n_cond_line)[1:]
    fn_l = np.linspace(0.0, cfg.line_fn_max, cfg.n_cond_line)[1:]
    ra = _solve(cfg, fe_l[None, None, :], 0.0, xs[:, None, None], eR_f[None, :, None])  # F_N = 0
    rb = _solve(cfg, 0.0, fn_l[None, None, :], xs[:, None, None], eR_f[None, :, None])  # F~_E = 0
    diags += [diagnostics(ra), diagnostics(rb)]
    # both forces zero: equilibrium
    r0 = _solve(cfg, 0.0, 0.0, xs[:, None], eR_f[None, :])
    diags.append(diagnostics(r0))
    # genuine ICC next to the strongest pseudo-ICC of each x: step off the cut by a small second force
    probe: dict[str, dict[str, np.ndarray]] = {}
    for flux, res_cut, axis in (("J_N", ra, fe_l), ("J_E", rb, fn_l)):
        unit = cfg.gamma * (cfg.eps_L if flux == "J_E" else 1.0)
        J = np.asarray(res_cut.fluxes[flux]) / unit
        flat = J.reshape(xs.size, -1).argmin(axis=1)
        j_eR, j_f = np.unravel_index(flat, J.shape[1:])
        on = axis[j_f]
        off = PROBE_STEPS[None, :] * np.ones((xs.size, 1))
        fe_p, fn_p = (on[:, None], off) if flux == "J_N" else (off, on[:, None])
        rp = _solve(cfg, fe_p, fn_p, xs[:, None], eR_f[j_eR][:, None])
        diags.append(diagnostics(rp))
        icc = np.asarray(rp.regime[flux]) == ICC
        first = np.where(icc.any(axis=1), icc.argmax(axis=1), 0)
        probe[flux] = {"icc": icc.any(axis=1), "eps_R": eR_f[j_eR], "on": on,
                       "off": np.where(icc.any(axis=1), PROBE_STEPS[first], np.nan),
                       "J": np.asarray(rp.fluxes[flux])[np.arange(xs.size), first] / unit,
                       "J_cut": J.reshape(xs.size, -1).min(axis=1)}
    g, eL = cfg.gamma, cfg.eps_L
    dmap = ("x", "eps_R_map")
    dfrac = ("eps_R", "x")
    ds = xr.Dataset(
        {
            "icc_fraction_J_N": (dfrac, n_N / n_win, fattrs(
                "1", "fraction of the first-quadrant window with genuine ICC in J_N")),
            "icc_fraction_J_E": (dfrac, n_E / n_win, fattrs(
                "1", "fraction of the first-quadrant window with genuine ICC in J_E")),
            "n_icc_J_N": (dfrac, n_N, fattrs("1", "window points with genuine ICC in J_N")),
            "n_icc_J_E": (dfrac, n_E, fattrs("1", "window points with genuine ICC in J_E")),
            "n_icc_both": (dfrac, n_both, fattrs("1", "window points with ICC in J_N and J_E at once")),
            "min_J_N_window": (dfrac, min_JN / g, fattrs("1", "minimum of J_N/Gamma over the window")),
            "min_J_E_window": (dfrac, min_JE / (g * eL), fattrs("1", "minimum of J_E/(Gamma eps_L) over the window")),
            "n_window": ((), n_win, fattrs("1", "points of the window (both forces > 0)")),
            "pseudo_icc_J_N": (dmap, (np.asarray(ra.regime["J_N"]) == PSEUDO).sum(axis=-1), fattrs(
                "1", "points of the cut F_N = 0, F~_E > 0 where J_N < 0 (pseudo-ICC)")),
            "pseudo_icc_J_E": (dmap, (np.asarray(rb.regime["J_E"]) == PSEUDO).sum(axis=-1), fattrs(
                "1", "points of the cut F~_E = 0, F_N > 0 where J_E < 0 (pseudo-ICC)")),
            "min_J_N_at_FN0": (dmap, np.asarray(ra.fluxes["J_N"]).min(axis=-1) / g, fattrs(
                "1", "minimum of J_N/Gamma on the cut F_N = 0, F~_E > 0")),
            "min_J_E_at_FN0": (dmap, np.asarray(ra.fluxes["J_E"]).min(axis=-1) / (g * eL), fattrs(
                "1", "minimum of J_E/(Gamma eps_L) on the cut F_N = 0, F~_E > 0")),
            "min_J_N_at_FE0": (dmap, np.asarray(rb.fluxes["J_N"]).min(axis=-1) / g, fattrs(
                "1", "minimum of J_N/Gamma on the cut F~_E = 0, F_N > 0")),
            "min_J_E_at_FE0": (dmap, np.asarray(rb.fluxes["J_E"]).min(axis=-1) / (g * eL), fattrs(
                "1", "minimum of J_E/(Gamma eps_L) on the cut F~_E = 0, F_N > 0")),
            "n_cross_effect_on_cuts": (dmap, (
                (np.asarray(ra.regime["J_E"]) == qd.Regime.CROSS_EFFECT).sum(axis=-1)
                + (np.asarray(rb.regime["J_N"]) == qd.Regime.CROSS_EFFECT).sum(axis=-1)), fattrs(
                "1", "cut points where the conjugate flux runs against its own force (J_E at F_N = 0, "
                     "J_N at F~_E = 0)")),
            "n_cut": ((), fe_l.size, fattrs("1", "points per cut (force > 0)")),
            **{f"probe_{k}_{flux}": (("x",), v, fattrs(*PROBE_ATTRS[k](flux)))
               for flux, d in probe.items() for k, v in d.items()},
            "max_abs_J_N_equilibrium": (dmap, np.abs(np.asarray(r0.fluxes["J_N"])) / g, fattrs(
                "1", "|J_N|/Gamma at F~_E = F_N = 0")),
            "max_abs_J_E_equilibrium": (dmap, np.abs(np.asarray(r0.fluxes["J_E"])) / (g * eL), fattrs(
                "1", "|J_E|/(Gamma eps_L) at F~_E = F_N = 0")),
            "regime_equilibrium_J_N": (dmap, r0.regime["J_N"], regime_attrs("J_N")),
            "regime_equilibrium_J_E": (dmap, r0.regime["J_E"], regime_attrs("J_E")),
        },
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "U_eff": ("x", interaction(xs, cfg.eps_L)[0], fattrs("energy", "effective interdot interaction U - J/4")),
            "eps_R": ("eps_R", eRs, fattrs("energy", "level energy of dot R (fraction scan)")),
            "eps_R_map": ("eps_R_map", eR_f, fattrs("energy", "level energy of dot R (threshold map)")),
        },
        attrs={"title": "ICC conditions: ICC fraction against x; pseudo-ICC threshold map",
               "window": f"F~_E in (0, {cfg.fe_max:g}], F_N in (0, {cfg.fn_max:g}], "
                         f"{fe.size} x {fn.size} points",
               "cuts": f"F~_E in (0, {cfg.line_fe_max:g}] at F_N = 0; F_N in (0, {cfg.line_fn_max:g}] at "
                       f"F~_E = 0; {fe_l.size} points each"},
    )
    return ds, merge_diagnostics(diags)


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
    _, U, J = interaction(x, cfg.eps_L)
    res = qd.solve(qd.coupled_transport(fe / cfg.eps_L, fn, eps_L=cfg.eps_L, eps_R=eps_R, U=U, J=J,
                                        T_ref=T_b, mu_ref=cfg.mu_b, gamma=gam))
    perf = res.performance
    reg = res.regime
    d = ("point",)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta_ratio = np.asarray(perf.efficiency) / np.asarray(perf.carnot_efficiency)
        cop_ratio = np.asarray(perf.cop) / np.asarray(perf.carnot_cop)
    ds = xr.Dataset(
        {
            "eps_R": (d, eps_R, fattrs("energy", "level energy of dot R")),
            "T_b": (d, T_b, fattrs("energy", "temperature of the reference leads b, r")),
            "gamma_t": (d, gam["t"], fattrs("rate", "tunnel coupling of lead t")),
            "gamma_b": (d, gam["b"], fattrs("rate", "tunnel coupling of lead b")),
            "gamma_r": (d, gam["r"], fattrs("rate", "tunnel coupling of lead r")),
            "F_E_scaled": (d, fe, fattrs("1", "scaled energy force eps_L F_E")),
            "F_N": (d, fn, fattrs("1", "particle force mu_t/T_t - mu_b/T_b")),
            "J_N": (d, res.fluxes["J_N"], fattrs("rate", "particle current J_N = J_N^t")),
            "J_E": (d, res.fluxes["J_E"], fattrs("energy*rate", "energy current J_E = J_E^t")),
            "regime_J_N": (d, reg["J_N"], regime_attrs("J_N")),
            "regime_J_E": (d, reg["J_E"], regime_attrs("J_E")),
            "entropy_production": (d, res.entropy_production,
                                   fattrs("k_B*rate", "entropy production rate (Schnakenberg)")),
            "efficiency_over_carnot": (d, eta_ratio, fattrs("1", "engine efficiency / Carnot (NaN: not an engine)")),
            "cop_over_carnot": (d, cop_ratio, fattrs("1", "refrigerator COP / Carnot COP (NaN: not a refrigerator)")),
        },
        coords={
            "x": (d, x, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "unequal_gamma": (d, unequal.astype(np.int8), fattrs("1", "1 where the three couplings differ")),
        },
        attrs={"title": "random parameter scan (both forces > 0)", "seed": cfg.seed,
               "ranges": "; ".join(f"{k}: {v}" for k, v in RANDOM_RANGES.items())},
    )
    return ds, diagnostics(res)


def _thresholds(ds: xr.Dataset, var: str) -> np.ndarray:
    """Largest x with pseudo-ICC (``var`` > 0) for each eps_R of the map (NaN: none)."""
    xs = ds["x"].values
    has = ds[var].values > 0  # (x, eps_R)
    return np.array([xs[has[:, j]].max() if has[:, j].any() else np.nan for j in range(has.shape[1])])


def thresholds(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """x*(eps_R) of the threshold map: ``{"J_N": ..., "J_E": ...}`` over ``eps_R_map``."""
    return {"J_N": _thresholds(ds, "pseudo_icc_J_N"), "J_E": _thresholds(ds, "pseudo_icc_J_E")}


def plot(ds: xr.Dataset, cfg: PaperConfig):  # type: ignore[no-untyped-def]
    """(a), (b) ICC fraction of J_N, J_E against x; (c) the (x, eps_R) map of where ICC can occur."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    xs = ds["x"].values
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.4))
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, ds.sizes["eps_R"]))
    for ax, flux, letter in ((axes[0], "J_N", "a"), (axes[1], "J_E", "b")):
        frac = ds[f"icc_fraction_{flux}"].values
        for k, eR in enumerate(ds["eps_R"].values):
            has = frac[k] > 0
            when = f"x <= {xs[has].max():.3g}" if has.any() else "none"
            ax.plot(xs, 100 * frac[k], color=colors[k], lw=1.8, marker="o", ms=2.5,
                    label=f"{eR:g}: {when}" + (" (figs)" if eR == cfg.eps_R else ""))
        pos = xs > 0
        top = max(100 * float(frac.max()), 1.0) * 1.08
        ax.axvspan(0.0, xs.max(), color="#e0e0e0", lw=0, zorder=0)
        ax.axvline(0.0, color="k", lw=0.8)
        share = 100 * frac[:, pos].max() if pos.any() else 0.0
        ax.text(0.5 * xs.max(), 0.88 * top, f"x > 0:\nmax ICC share\n= {share:g}%\n({int(pos.sum())} x values\n"
                f"x {ds.sizes['eps_R']} eps_R)", ha="center", va="center", fontsize=8)
        ax.set_ylim(-0.02 * top, top)
        ax.set_xlim(xs.min(), xs.max())
        ax.set_xlabel("x = (eps_L + U_eff) / eps_L")
        ax.set_ylabel(f"share of the window with genuine ICC in {flux} [%]")
        sec = ax.secondary_xaxis("top", functions=(lambda v: (v - 1.0) * cfg.eps_L,
                                                   lambda u: u / cfg.eps_L + 1.0))
        sec.set_xlabel("U_eff = U - J/4 [energy unit]", fontsize=8)
        sec.tick_params(labelsize=7)
        ax.set_title(f"({letter}) ICC in {flux} against x\n(window F~_E in (0, {cfg.fe_max:g}], "
                     f"F_N in (0, {cfg.fn_max:g}], {int(ds['n_window'])} pts)", fontsize=9)
        ax.legend(fontsize=6.5, loc="center right", title="eps_R: ICC for", title_fontsize=6.5, framealpha=0.9)
    # (c) where pseudo-ICC occurs on the cuts
    ax = axes[2]
    code = (ds["pseudo_icc_J_N"].values > 0).astype(int) + 2 * (ds["pseudo_icc_J_E"].values > 0).astype(int)
    eR = ds["eps_R_map"].values
    cmap = ListedColormap(["#f0f0f0", "#4393c3", "#d6604d", "#762a83"])
    ax.pcolormesh(xs, eR, code.T, cmap=cmap, vmin=-0.5, vmax=3.5, shading="nearest", rasterized=True)
    thr = thresholds(ds)
    ax.plot(thr["J_N"], eR, color="#08306b", lw=1.5, label="x*(eps_R) for J_N")
    ax.plot(thr["J_E"], eR, color="#67000d", lw=1.5, ls="--", label="x*(eps_R) for J_E")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.axhline(cfg.eps_R, color="0.3", lw=0.8, ls=":")
    for xv in cfg.x_values:
        ax.plot([xv], [cfg.eps_R], marker="*", ms=11, color="gold", mec="k", ls="none")
    k0 = int(np.argmin(np.abs(eR - cfg.eps_R)))
    ax.text(0.98, 0.98, f"at eps_R = {cfg.eps_R:g} (stars: the figures' x):\npseudo-ICC in J_N for x <= "
            f"{thr['J_N'][k0]:.3g},\nin J_E for x <= {thr['J_E'][k0]:.3g} (grid step "
            f"{xs[1] - xs[0]:.3g})", transform=ax.transAxes, ha="right", va="top", fontsize=7,
            bbox={"fc": "white", "ec": "0.7", "alpha": 0.9})
    from matplotlib.patches import Patch

    handles = [Patch(color="#f0f0f0", label="no pseudo-ICC"), Patch(color="#4393c3", label="J_N < 0 at F_N = 0"),
               Patch(color="#d6604d", label="J_E < 0 at F~_E = 0"), Patch(color="#762a83", label="both")]
    handles += ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="lower right", framealpha=0.9)
    ax.set_xlabel("x = (eps_L + U_eff) / eps_L")
    ax.set_ylabel("eps_R [energy unit]")
    ax.set_title("(c) where the induced flux runs against the only force (pseudo-ICC,\n"
                 "the prerequisite of genuine ICC): only for x < 0, and below x*(eps_R)", fontsize=9)
    fig.suptitle("Conditions for ICC: none for x > 0 (repulsive, or attractive without level swap), so the level "
                 "swap x < 0 is necessary;\nat a fixed dot-R level eps_R it is not sufficient: ICC needs "
                 "x < x*(eps_R) < 0, and x* -> 0- as eps_R decreases", fontsize=10)
    h = add_caption(fig, caption(cfg, f"(a), (b): {ds.sizes['x']} x values; (c): cuts F~_E in (0, "
                                 f"{cfg.line_fe_max:g}] at F_N = 0 and F_N in (0, {cfg.line_fn_max:g}] at F~_E = 0, "
                                 f"{int(ds['n_cut'])} pts each. Grey: x > 0.", eps_R=False))
    fig.tight_layout(rect=(0, h, 1, 0.93))
    return fig


def run(cfg: PaperConfig, out: Path) -> tuple[xr.Dataset, xr.Dataset, dict[str, float], list[Path]]:
    """Compute and write ``conditions.nc``, ``random_scan.nc`` and the figure files."""
    ds, diag = compute(cfg)
    rnd, diag_r = compute_random(cfg)
    paths = [write_netcdf(ds, out / "conditions.nc", cfg), write_netcdf(rnd, out / "random_scan.nc", cfg)]
    paths += save_figure(plot(ds, cfg), out, "conditions", cfg)
    return ds, rnd, merge_diagnostics([diag, diag_r]), paths

"""The paper's claims (PHYSICS.md section 10), each evaluated from the solved data.

Nothing here is asserted by hand: every verdict is computed from the
datasets that the figure modules produced (and wrote to NetCDF) and from the
residual diagnostics of every solved batch.  Each :class:`Claim` carries the
numbers it was decided on.  :func:`evaluate` returns the claims and a list
of notes (observations that are not PASS/FAIL verdicts but that a reader of
the paper should know, e.g. where a literal reading of a claim goes further
than the computation supports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

import qdthermo as qd
from qdthermo.paper._common import merge_diagnostics
from qdthermo.paper.conditions import thresholds
from qdthermo.paper.config import PaperConfig

__all__ = ["Claim", "PaperData", "evaluate"]

R = qd.Regime


@dataclass(frozen=True)
class PaperData:
    """Everything the claims are computed from (the datasets written to ``--out``)."""

    cfg: PaperConfig
    levels: xr.Dataset
    plane: xr.Dataset
    cuts: xr.Dataset
    icc: xr.Dataset
    devices: xr.Dataset
    conditions: xr.Dataset
    random: xr.Dataset
    diagnostics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """One claim with its verdict and the measured evidence."""

    key: str
    statement: str
    passed: bool
    evidence: tuple[str, ...]
    figures: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """``"PASS"`` or ``"FAIL"``."""
        return "PASS" if self.passed else "FAIL"


def _g(v: float) -> str:
    return f"{float(v):.3g}"


def _x_list(xs: np.ndarray) -> str:
    return ", ".join(f"{float(x):g}" for x in xs)


def evaluate(data: PaperData) -> tuple[list[Claim], list[str]]:
    """All claims of PHYSICS.md section 10 (split into checkable parts) and the notes."""
    claims: list[Claim] = []
    notes: list[str] = []
    cfg = data.cfg
    diag = merge_diagnostics(list(data.diagnostics.values()))
    n_pts = int(diag["n_points"])
    sources = ", ".join(f"{k} {int(v['n_points'])}" for k, v in data.diagnostics.items())

    # ------------------------------------------------------------------ claim 1
    claims.append(Claim(
        "1a", "The entropy production rate is non-negative: Sigma_dot >= 0 always.",
        diag["n_sigma_negative"] == 0 and diag["sigma_min"] >= -cfg.tol_sigma,
        (f"{n_pts} solved parameter points ({sources})",
         f"min Sigma_dot = {_g(diag['sigma_min'])} k_B*rate; points with Sigma_dot < 0: "
         f"{int(diag['n_sigma_negative'])}"),
    ))
    claims.append(Claim(
        "1b", "The microscopic (Schnakenberg) and macroscopic (-sum_nu J_Q^nu/T_nu = sum_k F_k J_k) forms of "
              "Sigma_dot agree.",
        diag["sigma_micro_macro"] <= cfg.tol_agree and diag["sigma_forces_fluxes"] <= cfg.tol_agree,
        (f"max |Sigma_micro - Sigma_macro| / (|Sigma| + S_noise) = {_g(diag['sigma_micro_macro'])} "
         f"(tolerance {cfg.tol_agree:g}) over {n_pts} points",
         f"max |Sigma_micro - (F_E J_E + F_R J_R + F_N J_N)| / (|Sigma| + S_noise) = "
         f"{_g(diag['sigma_forces_fluxes'])}",
         "S_noise = sum_c (k+ P_i + k- P_j)(|w| + |mu|)/T: the one-way entropy-flow scale (round-off floor)"),
    ))
    claims.append(Claim(
        "1c", "The microscopic forces (from the cycle affinities) equal the macroscopic forces F_E, F_R, F_N.",
        diag["force_micro_macro"] <= cfg.tol_agree and diag["force_micro_nan"] == 0,
        (f"max |F_micro - F_macro| = {_g(diag['force_micro_macro'])} (F_E, F_R in units of 1/T_min; "
         f"tolerance {cfg.tol_agree:g}) over {n_pts - int(diag['force_micro_skipped'])} points",
         f"{int(diag['force_micro_skipped'])} points with |U_eff| < 1e-3 x energy scale left out (the "
         "inversion divides by U_eff; undefined at U_eff = 0)",
         f"undetermined microscopic forces among the others: {int(diag['force_micro_nan'])}"),
    ))

    # ------------------------------------------------------------------ claim 2
    tol = cfg.tol_conservation
    claims.append(Claim(
        "2", "J_N^r = 0, and energy and particle currents are conserved (sum_nu J_E^nu = 0, "
             "J_N^t + J_N^b = 0).",
        diag["JN_r"] <= tol and diag["energy_residual"] <= tol and diag["particle_residual"] <= tol,
        (f"max |J_N^r| / Gamma = {_g(diag['JN_r'])}",
         f"max |J_E^t + J_E^b + J_E^r| / (Gamma E_scale) = {_g(diag['energy_residual'])}",
         f"max |J_N^t + J_N^b| / Gamma = {_g(diag['particle_residual'])}",
         f"tolerance {tol:g}; {n_pts} points"),
    ))

    # ------------------------------------------------------------------ claim 3
    cond = data.conditions
    pl = data.plane
    i0 = int(np.argmin(np.abs(pl["F_E_scaled"].values)))
    j0 = int(np.argmin(np.abs(pl["F_N"].values)))
    origin_ok = pl["F_E_scaled"].values[i0] == 0 and pl["F_N"].values[j0] == 0
    g, eL = cfg.gamma, cfg.eps_L
    o_JN = np.abs(pl["J_N"].values[:, i0, j0]) / g
    o_JE = np.abs(pl["J_E"].values[:, i0, j0]) / (g * eL)
    eq_N = max(float(cond["max_abs_J_N_equilibrium"].max()), float(o_JN.max()))
    eq_E = max(float(cond["max_abs_J_E_equilibrium"].max()), float(o_JE.max()))
    eq_reg = (np.all(cond["regime_equilibrium_J_N"].values == R.EQUILIBRIUM)
              and np.all(cond["regime_equilibrium_J_E"].values == R.EQUILIBRIUM)
              and np.all(pl["regime_J_N"].values[:, i0, j0] == R.EQUILIBRIUM)
              and np.all(pl["regime_J_E"].values[:, i0, j0] == R.EQUILIBRIUM))
    n_eq = int(cond["max_abs_J_N_equilibrium"].size) + int(o_JN.size)
    claims.append(Claim(
        "3", "F_E = F_N = 0 gives zero currents.",
        bool(origin_ok and eq_reg and eq_N <= tol and eq_E <= tol),
        (f"{n_eq} equilibrium points (every x of the scan x every eps_R of the map, and the origin of FIG. 3)",
         f"max |J_N| / Gamma = {_g(eq_N)}, max |J_E| / (Gamma eps_L) = {_g(eq_E)} (tolerance {tol:g})",
         f"all classified EQUILIBRIUM: {'yes' if eq_reg else 'NO'}"),
        ("fig3_force_plane",),
    ))

    # ------------------------------------------------------------- claims 4, 5
    cuts = data.cuts
    xs_cfg = cuts["x"].values
    xs = cond["x"].values
    thr = thresholds(cond)
    eR_map = cond["eps_R_map"].values
    n_map = f"{xs.size} x values in [{xs.min():g}, {xs.max():g}] x {eR_map.size} eps_R in " \
            f"[{eR_map.min():g}, {eR_map.max():g}], {int(cond['n_cut'])} points per cut"
    for key, direct, induced, cut, force, other, fig in (
        ("4", "J_E", "J_N", "FN0", "F~_E", "F_N", "FIG. 4a"),
        ("5", "J_N", "J_E", "FE0", "F_N", "F~_E", "FIG. 4b"),
    ):
        scale_d = g * eL if direct == "J_E" else g
        scale_i = g * eL if induced == "J_E" else g
        d_cfg = cuts[f"{direct}_at_{cut}"].values[:, 1:] / scale_d  # force > 0
        i_cfg = cuts[f"{induced}_at_{cut}"].values[:, 1:] / scale_i
        reg_i = cuts[f"regime_{induced}_at_{cut}"].values[:, 1:]
        d_map = cond[f"min_{direct}_at_{cut}"].values
        i_map = cond[f"min_{induced}_at_{cut}"].values
        p_map = cond[f"pseudo_icc_{induced}"].values  # (x, eps_R)
        d_min = min(float(d_cfg.min()), float(d_map.min()))
        claims.append(Claim(
            f"{key}a", f"{other} = 0, {force} > 0: the conjugate flux {direct} > 0 always ({fig}).",
            d_min > 0 and int(cond["n_cross_effect_on_cuts"].sum()) == 0,
            (f"min {direct} on the cut = {_g(d_min)} (units Gamma{' eps_L' if direct == 'J_E' else ''}); "
             f"FIG. 4 (x = {_x_list(xs_cfg)}, {d_cfg.shape[1]} pts) and the map ({n_map})",
             f"cut points where a conjugate flux runs against its own force: "
             f"{int(cond['n_cross_effect_on_cuts'].sum())}"),
            ("fig4_one_force", "conditions"),
        ))
        pos_cfg, pos_map = xs_cfg > 0, xs > 0
        vals = [i_map[pos_map].min()] if pos_map.any() else []
        if pos_cfg.any():
            vals.append(i_cfg[pos_cfg].min())
        i_min_pos = float(min(vals)) if vals else np.nan
        n_pseudo_pos = int(p_map[pos_map].sum()) + int((reg_i[pos_cfg] == R.PSEUDO_ICC).sum())
        if key == "4":
            ok_pos = bool(vals) and i_min_pos > 0 and n_pseudo_pos == 0
            rel = "> 0"
        else:
            ok_pos = bool(vals) and i_min_pos >= -tol and n_pseudo_pos == 0
            rel = ">= 0"
        claims.append(Claim(
            f"{key}b", f"{other} = 0, {force} > 0: {induced} {rel} for x > 0 (no pseudo-ICC) ({fig}).",
            ok_pos,
            (f"min {induced} over x > 0 = {_g(i_min_pos)} (units Gamma{' eps_L' if induced == 'J_E' else ''}); "
             f"{int(pos_map.sum())} scanned x > 0 x {eR_map.size} eps_R, and configured x > 0: "
             f"{_x_list(xs_cfg[pos_cfg]) or 'none'}",
             f"pseudo-ICC points at x > 0: {n_pseudo_pos}"),
            ("fig4_one_force", "conditions"),
        ))
        neg_cfg = xs_cfg < 0
        per_x = [f"x = {x:g}: {int((reg_i[k] == R.PSEUDO_ICC).sum())}/{reg_i.shape[1]} pts, min {induced} = "
                 f"{_g(i_cfg[k].min())}" for k, x in enumerate(xs_cfg) if x < 0]
        neg_map = xs < 0
        n_cells = int((p_map[neg_map] > 0).sum())
        x_star = float(np.nanmax(thr[induced])) if np.isfinite(thr[induced]).any() else np.nan
        found = n_cells > 0 or bool((reg_i[neg_cfg] == R.PSEUDO_ICC).any())
        claims.append(Claim(
            f"{key}c", f"{other} = 0, {force} > 0: {induced} can be negative (pseudo-ICC) for x < 0 ({fig}).",
            found,
            ("FIG. 4, configured x < 0: " + ("; ".join(per_x) if per_x else "none configured"),
             f"map: pseudo-ICC in {n_cells} of {int(neg_map.sum()) * eR_map.size} (x < 0, eps_R) cells; "
             f"largest x with pseudo-ICC: {_g(x_star)}; min {induced} = "
             f"{_g(i_map[neg_map].min()) if neg_map.any() else 'n/a (no x < 0 scanned)'}"),
            ("fig4_one_force", "conditions"),
        ))

    # ------------------------------------------------------------------ claim 6
    icc = data.icc
    rnd = data.random
    x5 = icc["x"].values
    frac_N = cond["n_icc_J_N"].values  # (eps_R, x)
    frac_E = cond["n_icc_J_E"].values
    x3 = pl["x"].values
    n3_pos = int(((pl["regime_J_N"].values == R.ICC) | (pl["regime_J_E"].values == R.ICC))[x3 > 0].sum())
    n5_pos = int((icc["n_icc_J_N"].values + icc["n_icc_J_E"].values)[x5 > 0].sum())
    nc_pos = int((frac_N + frac_E)[:, xs > 0].sum())
    rx = rnd["x"].values
    r_icc_N = rnd["regime_J_N"].values == R.ICC
    r_icc_E = rnd["regime_J_E"].values == R.ICC
    nr_pos = int((r_icc_N | r_icc_E)[rx > 0].sum())
    np_pos = int((cond["probe_icc_J_N"].values.astype(bool) | cond["probe_icc_J_E"].values.astype(bool))[xs > 0].sum())
    n_checked = (int((x3 > 0).sum()) * pl.sizes["F_E_scaled"] * pl.sizes["F_N"]
                 + int((x5 > 0).sum()) * int(icc["n_first_quadrant"]) + int((xs > 0).sum()) * frac_N.shape[0]
                 * int(cond["n_window"]) + int((rx > 0).sum()))
    claims.append(Claim(
        "6a", "No genuine ICC for x > 0: the level swap x < 0 is necessary (so an attractive U_eff is necessary, "
              "U_eff < -eps_L).",
        n3_pos + n5_pos + nc_pos + nr_pos + np_pos == 0 and n_checked > 0,
        (f"ICC points at x > 0: FIG. 3 (all quadrants) {n3_pos}, FIG. 5 {n5_pos}, x scan {nc_pos}, random scan "
         f"{nr_pos}, probes next to the cuts {np_pos}; {n_checked} points with x > 0 examined",
         f"x > 0 covered: configured {_x_list(x5[x5 > 0]) or 'none'}; scan {int((xs > 0).sum())} values in "
         f"(0, {xs.max():g}] x eps_R = {_x_list(cond['eps_R'].values)}; random {int((rx > 0).sum())} points "
         "(random eps_R, T_b, forces, half with unequal Gamma_t, Gamma_b, Gamma_r)"),
        ("fig5_icc_regions", "conditions", "fig3_force_plane"),
    ))
    suff = xs <= cfg.suff_x_max
    has_N = (frac_N[:, suff] > 0).any(axis=0)
    has_E = (frac_E[:, suff] > 0).any(axis=0)
    pr_N = cond["probe_icc_J_N"].values.astype(bool)
    pr_E = cond["probe_icc_J_E"].values.astype(bool)
    ok_N = has_N | pr_N[suff]
    ok_E = has_E | pr_E[suff]
    per5 = [f"x = {x:g}: J_N {int(icc['n_icc_J_N'].values[k])}, J_E {int(icc['n_icc_J_E'].values[k])} of "
            f"{int(icc['n_first_quadrant'])} pts" for k, x in enumerate(x5) if x < 0]
    max_x_N = float(xs[(frac_N > 0).any(axis=0) | pr_N].max()) if ((frac_N > 0).any() or pr_N.any()) else np.nan
    max_x_E = float(xs[(frac_E > 0).any(axis=0) | pr_E].max()) if ((frac_E > 0).any() or pr_E.any()) else np.nan
    claims.append(Claim(
        "6b", "With the level swap (x < 0) genuine ICC occurs, in J_N and in J_E (both forces > 0): "
              "x < 0 is sufficient in the sense that every x < 0 has ICC for a suitable dot-R level eps_R.",
        bool(suff.any() and ok_N.all() and ok_E.all()),
        (f"{int(ok_N.sum())}/{int(suff.sum())} scanned x <= {cfg.suff_x_max:g} show genuine ICC in J_N and "
         f"{int(ok_E.sum())}/{int(suff.sum())} in J_E",
         f"found in the first-quadrant window for some eps_R in {{{_x_list(cond['eps_R'].values)}}}: "
         f"{int(has_N.sum())} (J_N), {int(has_E.sum())} (J_E); found next to the strongest pseudo-ICC of the "
         f"(x, eps_R) map, one step (<= 0.1) off the cut: {int(pr_N[suff].sum())} (J_N), {int(pr_E[suff].sum())} (J_E)",
         f"largest x with genuine ICC: {_g(max_x_N)} (J_N), {_g(max_x_E)} (J_E); scan step {xs[1] - xs[0]:.3g}",
         "FIG. 5, configured x < 0: " + ("; ".join(per5) if per5 else "none configured")),
        ("fig5_icc_regions", "conditions"),
    ))
    notes.append(_sufficiency_note(cfg, cond, thr))
    all_N = int((pl["regime_J_N"].values == R.ICC).sum()) + int(icc["n_icc_J_N"].sum()) \
        + int(frac_N.sum()) + int(r_icc_N.sum())
    all_E = int((pl["regime_J_E"].values == R.ICC).sum()) + int(icc["n_icc_J_E"].sum()) \
        + int(frac_E.sum()) + int(r_icc_E.sum())
    ov3 = int(((pl["regime_J_N"].values == R.ICC) & (pl["regime_J_E"].values == R.ICC)).sum())
    ov5 = int(icc["n_overlap"].sum())
    ovc = int(cond["n_icc_both"].sum())
    ovr = int((r_icc_N & r_icc_E).sum())
    claims.append(Claim(
        "6c", "The ICC regions of J_N and of J_E never overlap (second law).",
        ov3 + ov5 + ovc + ovr == 0 and all_N > 0 and all_E > 0,
        (f"points with ICC in both fluxes: FIG. 3 {ov3}, FIG. 5 {ov5}, x scan {ovc}, random scan {ovr}",
         f"out of {all_N} points with ICC in J_N and {all_E} with ICC in J_E"),
        ("fig5_icc_regions", "fig3_force_plane"),
    ))

    # ------------------------------------------------------------------ claim 7
    dev = data.devices
    for key, var, flux, name, bound, eq in (
        ("7a", "efficiency_over_carnot", "J_N", "engine efficiency eta = P / J_Q^t", "eta_C = 1 - T_b/T_t",
         "Eq. 56"),
        ("7b", "cop_over_carnot", "J_E", "refrigerator COP = (J_Q^b + J_Q^r) / (-P)", "COP_C = T_b/(T_t - T_b)",
         "Eq. 58"),
    ):
        v = dev[var].values if dev.sizes.get("x", 0) else np.zeros((0,))
        n_icc_fig = int(icc[f"n_icc_{flux}"].sum())
        v_fin = v[np.isfinite(v)]
        undefined = int(dev["n_engine_undefined" if flux == "J_N" else "n_fridge_undefined"].sum()) \
            if dev.sizes.get("x", 0) else 0
        r_icc = r_icc_N if flux == "J_N" else r_icc_E
        rv = rnd[var].values[r_icc]
        rv_fin = rv[np.isfinite(rv)]
        n_def = v_fin.size + rv_fin.size
        worst = float(max(v_fin.max() if v_fin.size else -np.inf, rv_fin.max() if rv_fin.size else -np.inf))
        claims.append(Claim(
            key, f"The ICC {'engine' if flux == 'J_N' else 'refrigerator'} ({eq}, on the {flux}-ICC region) "
                 f"stays below the Carnot bound: {name} < {bound}.",
            n_def > 0 and worst < 1.0,
            (f"max ratio to Carnot = {f'{worst:.6f}' if n_def else 'n/a'} over {n_def} ICC points where the device "
             f"works as {'an engine' if flux == 'J_N' else 'a refrigerator'}",
             f"FIG. 5 window: {v_fin.size} of {n_icc_fig} {flux}-ICC points, max ratio "
             f"{_g(v_fin.max()) if v_fin.size else 'n/a'}; not {'an engine' if flux == 'J_N' else 'a refrigerator'}"
             f" at {undefined}",
             f"random scan: {rv_fin.size} of {int(r_icc.sum())} {flux}-ICC points, max ratio "
             f"{f'{rv_fin.max():.6f}' if rv_fin.size else 'n/a'}"),
            ("devices",),
        ))
    return claims, notes


def _sufficiency_note(cfg: PaperConfig, cond: xr.Dataset, thr: Mapping[str, np.ndarray]) -> str:
    """How the level swap works as a condition at a fixed eps_R (from the pseudo-ICC threshold map)."""
    xs = cond["x"].values
    eR_map = cond["eps_R_map"].values
    neg = xs < 0
    step = float(xs[1] - xs[0]) if xs.size > 1 else np.nan
    missing = (cond["pseudo_icc_J_N"].values[neg] == 0) | (cond["pseudo_icc_J_E"].values[neg] == 0)  # (x<0, eps_R)
    rows = []
    for eR in cond["eps_R"].values:
        j = int(np.argmin(np.abs(eR_map - eR)))
        rows.append(f"eps_R = {eR:g}: x* = {_g(thr['J_N'][j])} (J_N), {_g(thr['J_E'][j])} (J_E)")
    table = ("Thresholds x*(eps_R) = largest scanned x with pseudo-ICC on the FIG. 4 cuts (NaN: none for x >= "
             f"{xs.min():g}; grid step {step:.3g}): " + "; ".join(rows) + ".")
    if not missing.any():
        return ("Sufficiency of x < 0: every scanned x < 0 shows pseudo-ICC in J_N and J_E for every scanned eps_R. "
                + table)
    k = int(np.argmin(np.abs(eR_map - cfg.eps_R)))
    xN, xE = float(thr["J_N"][k]), float(thr["J_E"][k])
    edge = min(xN, xE)
    if np.isfinite(edge):
        here = (f"At the figures' eps_R = {eR_map[k]:g} pseudo-ICC needs x <= {_g(xN)} (J_N) and x <= {_g(xE)} "
                f"(J_E); none is found for {_g(edge + step)} <= x < 0.")
    else:
        here = f"At the figures' eps_R = {eR_map[k]:g} no scanned x shows pseudo-ICC in both fluxes."
    n_cells = int(missing.any(axis=0).sum())
    return ("Claim 6 (sufficiency) holds in the existence sense only. At a fixed dot-R level eps_R the level swap "
            "x < 0 is NOT sufficient: pseudo-ICC, the prerequisite of genuine ICC, needs x below a threshold "
            f"x*(eps_R) < 0 ({n_cells} of {eR_map.size} scanned eps_R values have x < 0 without it). {here} "
            + table + " x* -> 0- as eps_R decreases (dot R always full: dot L sees only the level w43 = x eps_L "
            "< 0). The paper calls x < 0 'the sufficient condition' without this qualification.")

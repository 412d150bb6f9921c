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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

import qdthermo as qd
from qdthermo.paper._common import merge_diagnostics
from qdthermo.paper.conditions import thresholds
from qdthermo.paper.config import PaperConfig

__all__ = ["CLAIMS", "NOTES", "Claim", "Context", "PaperData", "evaluate"]

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
    fluctuations: xr.Dataset | None = None
    design: xr.Dataset | None = None
    edges: xr.Dataset | None = None


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


@dataclass(frozen=True)
class Context:
    """What several claims share: the data, the merged diagnostics and the pseudo-ICC thresholds."""

    data: PaperData
    diag: Mapping[str, float]
    thr: Mapping[str, np.ndarray]

    @property
    def cfg(self) -> PaperConfig:
        """The run's parameters."""
        return self.data.cfg

    @property
    def n_pts(self) -> int:
        """Number of solved points behind the diagnostics."""
        return int(self.diag["n_points"])

    def sources(self) -> str:
        """``"FIG. 3 1000, FIG. 4 ..."``: the points of each solved batch."""
        return ", ".join(f"{k} {int(v['n_points'])}" for k, v in self.data.diagnostics.items())


def _context(data: PaperData) -> Context:
    return Context(data, merge_diagnostics(list(data.diagnostics.values())), thresholds(data.conditions))


# ---------------------------------------------------------------- claim 1, 2: the thermodynamic identities
def claim_1a(c: Context) -> Claim:
    """Sigma_dot >= 0 at every solved point."""
    d = c.diag
    return Claim(
        "1a", "The entropy production rate is non-negative: Sigma_dot >= 0 always.",
        d["n_sigma_negative"] == 0 and d["sigma_min"] >= -c.cfg.tol_sigma,
        (f"{c.n_pts} solved parameter points ({c.sources()})",
         f"min Sigma_dot = {_g(d['sigma_min'])} k_B*rate; points with Sigma_dot < 0: {int(d['n_sigma_negative'])}"))


def claim_1b(c: Context) -> Claim:
    """The microscopic and macroscopic entropy productions agree."""
    d, tol = c.diag, c.cfg.tol_agree
    return Claim(
        "1b", "The microscopic (Schnakenberg) and macroscopic (-sum_nu J_Q^nu/T_nu = sum_k F_k J_k) forms of "
              "Sigma_dot agree.",
        d["sigma_micro_macro"] <= tol and d["sigma_forces_fluxes"] <= tol,
        (f"max |Sigma_micro - Sigma_macro| / (|Sigma| + S_noise) = {_g(d['sigma_micro_macro'])} "
         f"(tolerance {tol:g}) over {c.n_pts} points",
         f"max |Sigma_micro - (F_E J_E + F_R J_R + F_N J_N)| / (|Sigma| + S_noise) = {_g(d['sigma_forces_fluxes'])}",
         "S_noise = sum_c (k+ P_i + k- P_j)(|w| + |mu|)/T: the one-way entropy-flow scale (round-off floor)"))


def claim_1c(c: Context) -> Claim:
    """The microscopic forces equal the macroscopic ones."""
    d, tol = c.diag, c.cfg.tol_agree
    return Claim(
        "1c", "The microscopic forces (from the cycle affinities) equal the macroscopic forces F_E, F_R, F_N.",
        d["force_micro_macro"] <= tol and d["force_micro_nan"] == 0,
        (f"max |F_micro - F_macro| = {_g(d['force_micro_macro'])} (F_E, F_R in units of 1/T_min; "
         f"tolerance {tol:g}) over {c.n_pts - int(d['force_micro_skipped'])} points",
         f"{int(d['force_micro_skipped'])} points with |U_eff| < 1e-3 x energy scale left out (the "
         "inversion divides by U_eff; undefined at U_eff = 0)",
         f"undetermined microscopic forces among the others: {int(d['force_micro_nan'])}"))


def claim_2(c: Context) -> Claim:
    """J_N^r = 0 and conservation of energy and particles."""
    d, tol = c.diag, c.cfg.tol_conservation
    return Claim(
        "2", "J_N^r = 0, and energy and particle currents are conserved (sum_nu J_E^nu = 0, J_N^t + J_N^b = 0).",
        d["JN_r"] <= tol and d["energy_residual"] <= tol and d["particle_residual"] <= tol,
        (f"max |J_N^r| / Gamma = {_g(d['JN_r'])}",
         f"max |J_E^t + J_E^b + J_E^r| / (Gamma E_scale) = {_g(d['energy_residual'])}",
         f"max |J_N^t + J_N^b| / Gamma = {_g(d['particle_residual'])}",
         f"tolerance {tol:g}; {c.n_pts} points"))


# ---------------------------------------------------------------- claim 3: equilibrium
def claim_3(c: Context) -> Claim:
    """Zero forces give zero currents (the scan's equilibrium points and FIG. 3's origin)."""
    cfg, cond, pl = c.cfg, c.data.conditions, c.data.plane
    tol = cfg.tol_conservation
    i0 = int(np.argmin(np.abs(pl["F_E_scaled"].values)))
    j0 = int(np.argmin(np.abs(pl["F_N"].values)))
    origin_ok = pl["F_E_scaled"].values[i0] == 0 and pl["F_N"].values[j0] == 0
    o_JN = np.abs(pl["J_N"].values[:, i0, j0]) / cfg.gamma
    o_JE = np.abs(pl["J_E"].values[:, i0, j0]) / (cfg.gamma * cfg.eps_L)
    eq_N = max(float(cond["max_abs_J_N_equilibrium"].max()), float(o_JN.max()))
    eq_E = max(float(cond["max_abs_J_E_equilibrium"].max()), float(o_JE.max()))
    eq_reg = all(bool(np.all(v == R.EQUILIBRIUM)) for v in (
        cond["regime_equilibrium_J_N"].values, cond["regime_equilibrium_J_E"].values,
        pl["regime_J_N"].values[:, i0, j0], pl["regime_J_E"].values[:, i0, j0]))
    n_eq = int(cond["max_abs_J_N_equilibrium"].size) + int(o_JN.size)
    return Claim(
        "3", "F_E = F_N = 0 gives zero currents.",
        bool(origin_ok and eq_reg and eq_N <= tol and eq_E <= tol),
        (f"{n_eq} equilibrium points (every x of the scan x every eps_R of the map, and the origin of FIG. 3)",
         f"max |J_N| / Gamma = {_g(eq_N)}, max |J_E| / (Gamma eps_L) = {_g(eq_E)} (tolerance {tol:g})",
         f"all classified EQUILIBRIUM: {'yes' if eq_reg else 'NO'}"),
        ("fig3_force_plane",))


# ---------------------------------------------------------------- claims 4, 5: one force zero (FIG. 4)
@dataclass(frozen=True)
class _Cut:
    """One FIG. 4 cut: claim 4 (F_N = 0, J_N induced) or claim 5 (F~_E = 0, J_E induced)."""

    key: str
    direct: str
    induced: str
    cut: str
    force: str
    other: str
    fig: str


_CUTS = {"4": _Cut("4", "J_E", "J_N", "FN0", "F~_E", "F_N", "FIG. 4a"),
         "5": _Cut("5", "J_N", "J_E", "FE0", "F_N", "F~_E", "FIG. 4b")}


def _unit(flux: str) -> str:
    return "Gamma eps_L" if flux == "J_E" else "Gamma"


def _scaled(c: Context, flux: str, cut: str) -> np.ndarray:
    """A flux of FIG. 4 on a cut, force > 0 only, in units of Gamma (J_N) or Gamma eps_L (J_E)."""
    scale = c.cfg.gamma * (c.cfg.eps_L if flux == "J_E" else 1.0)
    return c.data.cuts[f"{flux}_at_{cut}"].values[:, 1:] / scale


def _map_text(c: Context) -> str:
    cond = c.data.conditions
    xs, eR = cond["x"].values, cond["eps_R_map"].values
    return (f"{xs.size} x values in [{xs.min():g}, {xs.max():g}] x {eR.size} eps_R in [{eR.min():g}, {eR.max():g}], "
            f"{int(cond['n_cut'])} points per cut")


def _conjugate_positive(c: Context, k: _Cut) -> Claim:
    """Claims 4a, 5a: the conjugate flux follows its only force."""
    cond = c.data.conditions
    d_cfg = _scaled(c, k.direct, k.cut)
    d_min = min(float(d_cfg.min()), float(cond[f"min_{k.direct}_at_{k.cut}"].values.min()))
    n_cross = int(cond["n_cross_effect_on_cuts"].sum())
    return Claim(
        f"{k.key}a", f"{k.other} = 0, {k.force} > 0: the conjugate flux {k.direct} > 0 always ({k.fig}).",
        d_min > 0 and n_cross == 0,
        (f"min {k.direct} on the cut = {_g(d_min)} (units {_unit(k.direct)}); FIG. 4 (x = "
         f"{_x_list(c.data.cuts['x'].values)}, {d_cfg.shape[1]} pts) and the map ({_map_text(c)})",
         f"cut points where a conjugate flux runs against its own force: {n_cross}"),
        ("fig4_one_force", "conditions"))


def _no_pseudo_for_positive_x(c: Context, k: _Cut) -> Claim:
    """Claims 4b, 5b: no pseudo-ICC for x > 0 (claim 5 allows J_E = 0 within the tolerance)."""
    cond, xs_cfg = c.data.conditions, c.data.cuts["x"].values
    xs = cond["x"].values
    i_cfg = _scaled(c, k.induced, k.cut)
    reg_i = c.data.cuts[f"regime_{k.induced}_at_{k.cut}"].values[:, 1:]
    i_map = cond[f"min_{k.induced}_at_{k.cut}"].values
    pos_cfg, pos_map = xs_cfg > 0, xs > 0
    vals = ([i_map[pos_map].min()] if pos_map.any() else []) + ([i_cfg[pos_cfg].min()] if pos_cfg.any() else [])
    i_min = float(min(vals)) if vals else np.nan
    n_pseudo = int(cond[f"pseudo_icc_{k.induced}"].values[pos_map].sum()) + int((reg_i[pos_cfg] == R.PSEUDO_ICC).sum())
    bound, rel = (0.0, "> 0") if k.key == "4" else (-c.cfg.tol_conservation, ">= 0")
    ok = bool(vals) and (i_min > bound if k.key == "4" else i_min >= bound) and n_pseudo == 0
    return Claim(
        f"{k.key}b", f"{k.other} = 0, {k.force} > 0: {k.induced} {rel} for x > 0 (no pseudo-ICC) ({k.fig}).", ok,
        (f"min {k.induced} over x > 0 = {_g(i_min)} (units {_unit(k.induced)}); {int(pos_map.sum())} scanned x > 0 x "
         f"{cond['eps_R_map'].size} eps_R, and configured x > 0: {_x_list(xs_cfg[pos_cfg]) or 'none'}",
         f"pseudo-ICC points at x > 0: {n_pseudo}"),
        ("fig4_one_force", "conditions"))


def _pseudo_for_negative_x(c: Context, k: _Cut) -> Claim:
    """Claims 4c, 5c: pseudo-ICC exists for some x < 0."""
    cond, xs_cfg = c.data.conditions, c.data.cuts["x"].values
    i_cfg = _scaled(c, k.induced, k.cut)
    reg_i = c.data.cuts[f"regime_{k.induced}_at_{k.cut}"].values[:, 1:]
    i_map = cond[f"min_{k.induced}_at_{k.cut}"].values
    neg_map = cond["x"].values < 0
    per_x = [f"x = {x:g}: {int((reg_i[j] == R.PSEUDO_ICC).sum())}/{reg_i.shape[1]} pts, min {k.induced} = "
             f"{_g(i_cfg[j].min())}" for j, x in enumerate(xs_cfg) if x < 0]
    n_cells = int((cond[f"pseudo_icc_{k.induced}"].values[neg_map] > 0).sum())
    thr = c.thr[k.induced]
    x_star = float(np.nanmax(thr)) if np.isfinite(thr).any() else np.nan
    found = n_cells > 0 or bool((reg_i[xs_cfg < 0] == R.PSEUDO_ICC).any())
    return Claim(
        f"{k.key}c", f"{k.other} = 0, {k.force} > 0: {k.induced} can be negative (pseudo-ICC) for x < 0 ({k.fig}).",
        found,
        ("FIG. 4, configured x < 0: " + ("; ".join(per_x) if per_x else "none configured"),
         f"map: pseudo-ICC in {n_cells} of {int(neg_map.sum()) * cond['eps_R_map'].size} (x < 0, eps_R) cells; "
         f"largest x with pseudo-ICC: {_g(x_star)}; min {k.induced} = "
         f"{_g(i_map[neg_map].min()) if neg_map.any() else 'n/a (no x < 0 scanned)'}"),
        ("fig4_one_force", "conditions"))


def claim_4a(c: Context) -> Claim:
    """F_N = 0: J_E > 0."""
    return _conjugate_positive(c, _CUTS["4"])


def claim_4b(c: Context) -> Claim:
    """F_N = 0: J_N > 0 for x > 0."""
    return _no_pseudo_for_positive_x(c, _CUTS["4"])


def claim_4c(c: Context) -> Claim:
    """F_N = 0: J_N < 0 somewhere for x < 0."""
    return _pseudo_for_negative_x(c, _CUTS["4"])


def claim_5a(c: Context) -> Claim:
    """F~_E = 0: J_N > 0."""
    return _conjugate_positive(c, _CUTS["5"])


def claim_5b(c: Context) -> Claim:
    """F~_E = 0: J_E >= 0 for x > 0."""
    return _no_pseudo_for_positive_x(c, _CUTS["5"])


def claim_5c(c: Context) -> Claim:
    """F~_E = 0: J_E < 0 somewhere for x < 0."""
    return _pseudo_for_negative_x(c, _CUTS["5"])


# ---------------------------------------------------------------- claim 6: genuine ICC (FIG. 5, conditions)
def _icc(c: Context, flux: str) -> dict[str, np.ndarray]:
    """Where each dataset shows genuine ICC in ``flux`` (boolean arrays; counts for the scans)."""
    d = c.data
    return {"plane": d.plane[f"regime_{flux}"].values == R.ICC, "fig5": d.icc[f"n_icc_{flux}"].values,
            "scan": d.conditions[f"n_icc_{flux}"].values, "random": d.random[f"regime_{flux}"].values == R.ICC,
            "probe": d.conditions[f"probe_icc_{flux}"].values.astype(bool)}


def claim_6a(c: Context) -> Claim:
    """No genuine ICC anywhere at x > 0."""
    d, cond = c.data, c.data.conditions
    N, E = _icc(c, "J_N"), _icc(c, "J_E")
    x3, x5, xs, rx = d.plane["x"].values, d.icc["x"].values, cond["x"].values, d.random["x"].values
    n3 = int((N["plane"] | E["plane"])[x3 > 0].sum())
    n5 = int((N["fig5"] + E["fig5"])[x5 > 0].sum())
    nc = int((N["scan"] + E["scan"])[:, xs > 0].sum())
    nr = int((N["random"] | E["random"])[rx > 0].sum())
    npr = int((N["probe"] | E["probe"])[xs > 0].sum())
    n_checked = (int((x3 > 0).sum()) * d.plane.sizes["F_E_scaled"] * d.plane.sizes["F_N"]
                 + int((x5 > 0).sum()) * int(d.icc["n_first_quadrant"])
                 + int((xs > 0).sum()) * N["scan"].shape[0] * int(cond["n_window"]) + int((rx > 0).sum()))
    return Claim(
        "6a", "No genuine ICC for x > 0: the level swap x < 0 is necessary (so an attractive U_eff is necessary, "
              "U_eff < -eps_L).",
        n3 + n5 + nc + nr + npr == 0 and n_checked > 0,
        (f"ICC points at x > 0: FIG. 3 (all quadrants) {n3}, FIG. 5 {n5}, x scan {nc}, random scan {nr}, probes next "
         f"to the cuts {npr}; {n_checked} points with x > 0 examined",
         f"x > 0 covered: configured {_x_list(x5[x5 > 0]) or 'none'}; scan {int((xs > 0).sum())} values in "
         f"(0, {xs.max():g}] x eps_R = {_x_list(cond['eps_R'].values)}; random {int((rx > 0).sum())} points "
         "(random eps_R, T_b, forces, half with unequal Gamma_t, Gamma_b, Gamma_r)"),
        ("fig5_icc_regions", "conditions", "fig3_force_plane"))


def _edge_check(c: Context, flux: str) -> tuple[bool, list[str], float]:
    """Claim 6b for one flux in Q1: per eps_R one interval x < x* starting at the scan's start, x* >= x0."""
    from qdthermo.paper.edges import interval_text, intervals

    ds, tol = c.data.edges, c.cfg.edge_tol
    assert ds is not None
    lo = float(ds.attrs["x_span"][0])
    ok, parts, best = True, [], -np.inf
    for eR in ds["eps_R_table"].values:
        iv = intervals(ds, flux, "Q1", float(eR))
        x0 = float(ds["x0"].sel(eps_R=eR))
        if iv:
            edge = iv[0][1]
            ok &= len(iv) == 1 and iv[0][0] == lo and edge < 0 and edge >= x0 - tol
            best = max(best, edge)
        else:
            ok &= x0 <= lo + tol
        parts.append(f"eps_R = {eR:g}: {interval_text(iv, lo)} (x0 = {x0:.4f})")
    return ok, parts, best


def claim_6b(c: Context) -> Claim:
    """x < 0 gives ICC below bisected edges x_i*(eps_R) >= x0(eps_R); every x <= suff_x_max for some eps_R."""
    from qdthermo.paper.edges import window_text

    cfg, cond, ds = c.cfg, c.data.conditions, c.data.edges
    statement = ("With the level swap genuine ICC occurs in J_N and in J_E (both forces > 0), but at a fixed dot-R "
                 "level eps_R only below an edge: in the window, ICC of flux i exists exactly for x < x_i*(eps_R) < 0, "
                 "with x_i* >= x0(eps_R), the zero of the Onsager coefficient L_NE (L_NE < 0, i.e. x < x0, is "
                 "sufficient near equilibrium; x_i* > x0 where ICC needs finite forces). So x < 0 is sufficient only "
                 f"in the existence sense: every x <= {cfg.suff_x_max:g} lies below x_i*(eps_R) for some scanned "
                 "eps_R.")
    if ds is None:
        return Claim("6b", statement, False, ("no edge data",))
    ok_N, txt_N, best_N = _edge_check(c, "J_N")
    ok_E, txt_E, best_E = _edge_check(c, "J_E")
    exist = best_N > cfg.suff_x_max and best_E > cfg.suff_x_max
    # cross-check: the grid scan of the conditions figure never finds ICC right of an edge
    xs, tol = cond["x"].values, cfg.edge_tol
    bad = 0
    for k, eR in enumerate(cond["eps_R"].values):
        for flux in ("J_N", "J_E"):
            e = ds["edge"].sel(eps_R=eR, quadrant="Q1", flux=flux).max("k").values
            limit = float(e) if np.isfinite(e) else cfg.cond_x_min
            bad += int(((cond[f"n_icc_{flux}"].values[k] > 0) & (xs > limit + tol)).sum())
    return Claim(
        "6b", statement, bool(ok_N and ok_E and exist and bad == 0),
        ("ICC in J_N, Q1: " + "; ".join(txt_N), "ICC in J_E, Q1: " + "; ".join(txt_E),
         f"largest edge over eps_R: {best_N:.4f} (J_N), {best_E:.4f} (J_E), both > {cfg.suff_x_max:g}: {exist}",
         window_text(ds),
         f"grid scan of the conditions figure ({xs.size} x in [{xs.min():g}, {xs.max():g}]): {bad} points with ICC "
         "right of an edge"),
        ("icc_edges", "conditions", "fig5_icc_regions"))


def claim_6c(c: Context) -> Claim:
    """The ICC regions of J_N and J_E never overlap."""
    d = c.data
    N, E = _icc(c, "J_N"), _icc(c, "J_E")
    all_N = int(N["plane"].sum()) + int(N["fig5"].sum()) + int(N["scan"].sum()) + int(N["random"].sum())
    all_E = int(E["plane"].sum()) + int(E["fig5"].sum()) + int(E["scan"].sum()) + int(E["random"].sum())
    ov3 = int((N["plane"] & E["plane"]).sum())
    ov5 = int(d.icc["n_overlap"].sum())
    ovc = int(d.conditions["n_icc_both"].sum())
    ovr = int((N["random"] & E["random"]).sum())
    return Claim(
        "6c", "The ICC regions of J_N and of J_E never overlap (second law).",
        ov3 + ov5 + ovc + ovr == 0 and all_N > 0 and all_E > 0,
        (f"points with ICC in both fluxes: FIG. 3 {ov3}, FIG. 5 {ov5}, x scan {ovc}, random scan {ovr}",
         f"out of {all_N} points with ICC in J_N and {all_E} with ICC in J_E"),
        ("fig5_icc_regions", "fig3_force_plane"))


# ---------------------------------------------------------------- claim 7: Carnot bounds of the ICC devices
def _carnot(c: Context, key: str, var: str, flux: str, name: str, bound: str, eq: str) -> Claim:
    """Claims 7a, 7b: the ICC engine / refrigerator stays below its Carnot bound."""
    dev, rnd = c.data.devices, c.data.random
    has_x = bool(dev.sizes.get("x", 0))
    device = "an engine" if flux == "J_N" else "a refrigerator"
    v = dev[var].values if has_x else np.zeros((0,))
    v_fin = v[np.isfinite(v)]
    undefined = int(dev["n_engine_undefined" if flux == "J_N" else "n_fridge_undefined"].sum()) if has_x else 0
    r_icc = rnd[f"regime_{flux}"].values == R.ICC
    rv = rnd[var].values[r_icc]
    rv_fin = rv[np.isfinite(rv)]
    n_def = v_fin.size + rv_fin.size
    worst = float(max(v_fin.max() if v_fin.size else -np.inf, rv_fin.max() if rv_fin.size else -np.inf))
    return Claim(
        key, f"The ICC {'engine' if flux == 'J_N' else 'refrigerator'} ({eq}, on the {flux}-ICC region) "
             f"stays below the Carnot bound: {name} < {bound}.",
        n_def > 0 and worst < 1.0,
        (f"max ratio to Carnot = {f'{worst:.6f}' if n_def else 'n/a'} over {n_def} ICC points where the device "
         f"works as {device}",
         f"FIG. 5 window: {v_fin.size} of {int(c.data.icc[f'n_icc_{flux}'].sum())} {flux}-ICC points, max ratio "
         f"{_g(v_fin.max()) if v_fin.size else 'n/a'}; not {device} at {undefined}",
         f"random scan: {rv_fin.size} of {int(r_icc.sum())} {flux}-ICC points, max ratio "
         f"{f'{rv_fin.max():.6f}' if rv_fin.size else 'n/a'}"),
        ("devices",))


def claim_7a(c: Context) -> Claim:
    """The ICC engine (Eq. 56) stays below Carnot."""
    return _carnot(c, "7a", "efficiency_over_carnot", "J_N", "engine efficiency eta = P / J_Q^t",
                   "eta_C = 1 - T_b/T_t", "Eq. 56")


def claim_7b(c: Context) -> Claim:
    """The ICC refrigerator (Eq. 58) stays below Carnot."""
    return _carnot(c, "7b", "cop_over_carnot", "J_E", "refrigerator COP = (J_Q^b + J_Q^r) / (-P)",
                   "COP_C = T_b/(T_t - T_b)", "Eq. 58")


def claim_8(c: Context) -> Claim:
    """Beyond the paper: the TUR holds for J_N and J_E over the whole window, ICC regions included."""
    fl = c.data.fluctuations
    statement = ("Beyond the paper: the thermodynamic uncertainty relation Sigma_dot C2/C1^2 >= 2 holds for J_N "
                 "and J_E at every point of FIG. 5's window, inside the ICC regions too")
    if fl is None:
        return Claim("8", statement, False, ("no fluctuation data",))
    evidence, ok = [], True
    for flux in ("J_N", "J_E"):
        v = fl[f"tur_{flux}"].values
        vals = v[np.isfinite(v)]
        ok &= bool(vals.size and vals.min() >= 2 * (1 - 1e-9))
        icc = (fl[f"regime_{flux}"].values == R.ICC) & np.isfinite(v)
        evidence.append(f"{flux}: min TUR ratio {_g(vals.min()) if vals.size else 'n/a'} over {vals.size} points; "
                        f"inside ICC ({int(icc.sum())} points) min {_g(v[icc].min()) if icc.any() else 'n/a'}")
    return Claim("8", statement, ok, tuple(evidence), ("fluctuations_icc",))


def claim_9(c: Context) -> Claim:
    """Beyond the paper: the optimised ICC engine and refrigerator stay below Carnot."""
    ds = c.data.design
    statement = ("Beyond the paper: at maximum power (engine, J_N in ICC) and maximum cooling power "
                 "(refrigerator, J_E in ICC) the efficiency and the COP stay below Carnot")
    if ds is None:
        return Claim("9", statement, False, ("no design data",))
    eff, car = ds["efficiency_at_max"].values, ds["carnot_at_max"].values
    ok_pts = np.isfinite(eff) & np.isfinite(car)
    passed = bool(ok_pts.any() and np.all(eff[ok_pts] <= car[ok_pts] * (1 + 1e-12)))
    evidence = []
    for k, role in enumerate(ds["role"].values):
        for j, eps_R in enumerate(ds["eps_R"].values):
            m = ds["max_output"].values[k, j]
            evidence.append(f"{role}, eps_R = {eps_R:g}: " + ("no ICC in the window" if not np.isfinite(m) else
                            f"max output {_g(m)} at F~_E = {_g(ds['F_E_scaled_at_max'].values[k, j])}, "
                            f"F_N = {_g(ds['F_N_at_max'].values[k, j])}; efficiency there {_g(eff[k, j])} "
                            f"= {_g(eff[k, j] / car[k, j])} of Carnot"))
    return Claim("9", statement, passed, tuple(evidence), ("design_icc",))


#: every claim of PHYSICS.md section 10, split into checkable parts, in report order
CLAIMS: list[Callable[[Context], Claim]] = [
    claim_1a, claim_1b, claim_1c, claim_2, claim_3, claim_4a, claim_4b, claim_4c, claim_5a, claim_5b, claim_5c,
    claim_6a, claim_6b, claim_6c, claim_7a, claim_7b, claim_8, claim_9,
]


def sufficiency_note(c: Context) -> str:
    """The note on claim 6's sufficiency (see :func:`_sufficiency_note`)."""
    return _sufficiency_note(c.cfg, c.data.edges)


def fluctuation_note(c: Context) -> str:
    """What the fluctuations do in the ICC regime (see :mod:`qdthermo.paper.fluctuations`), from the data."""
    from qdthermo.paper.fluctuations import region_stats

    fl = c.data.fluctuations
    if fl is None:
        return "Fluctuations: not computed."
    parts = []
    for k, x in enumerate(fl["x"].values):
        for flux in ("J_N", "J_E"):
            st = region_stats(fl, flux, k)
            if st["n_icc"] == 0:
                parts.append(f"x = {x:g}, {flux}: no ICC; TUR ratio >= {_g(st['tur_out_min'])}, "
                             f"Fano {_g(st['fano_out_min'])}..{_g(st['fano_out_max'])}")
                continue
            tighter = "tighter" if st["tur_icc_min"] < st["tur_out_min"] else "looser"
            parts.append(
                f"x = {x:g}, {flux}: inside ICC ({int(st['n_icc'])} points) TUR ratio >= {_g(st['tur_icc_min'])} "
                f"against >= {_g(st['tur_out_min'])} outside ({tighter} inside); Fano {_g(st['fano_icc_min'])}.."
                f"{_g(st['fano_icc_max'])} inside, {_g(st['fano_out_min'])}..{_g(st['fano_out_max'])} outside; "
                f"own-force ratio F C2/C1 at most {_g(st['own_force_tur_icc_max'])} inside ICC")
    return ("Fluctuations in the ICC regime (beyond the paper; fluctuations_icc.png). " + "; ".join(parts) + ". "
            "The TUR with the flux's own dissipation F_i J_i in place of Sigma_dot fails in the whole ICC region "
            "(F_i J_i < 0 there, so the own-force ratio is negative): only the total entropy production, paid by "
            "the other flux, bounds the precision. Near the edge of an ICC region the flux vanishes while its noise "
            "does not, so the TUR ratio and the Fano factor diverge there.")


#: observations that are not verdicts, in report order
NOTES: list[Callable[[Context], str]] = [sufficiency_note, fluctuation_note]


def evaluate(data: PaperData) -> tuple[list[Claim], list[str]]:
    """All claims of :data:`CLAIMS` and the notes of :data:`NOTES`, each computed from ``data``."""
    ctx = _context(data)
    return [claim(ctx) for claim in CLAIMS], [note(ctx) for note in NOTES]


def _sufficiency_note(cfg: PaperConfig, ds: xr.Dataset | None) -> str:
    """How the level swap works as a condition at a fixed eps_R, from the bisected edges (``icc_edges.nc``).

    Every edge is a bisected number with its window (never a grid point), so the
    statements for the figures' eps_R and the table cannot contradict each other.
    """
    from qdthermo.paper.edges import interval_text, intervals, window_text

    if ds is None:
        return "Sufficiency of x < 0: no edge data."
    lo = float(ds.attrs["x_span"][0])
    eR = float(cfg.eps_R)
    here = []
    ivs = {f: intervals(ds, f, "Q1", eR) for f in ("J_N", "J_E")}
    for f in ("J_N", "J_E"):
        here.append(f"ICC in {f} for {interval_text(ivs[f], lo)}")
    tops = [iv[-1][1] for iv in ivs.values() if iv and iv[-1][1] < 0]
    none = (f"; neither flux shows ICC for {max(tops):.4f} < x < 0" if len(tops) == 2 else
            "; x < 0 alone never suffices here") if tops else "; no scanned x < 0 shows ICC here"
    x0 = float(ds["x0"].sel(eps_R=eR))
    rows = []
    for e in ds["eps_R_table"].values:
        parts = [f"{f} {q}: {interval_text(intervals(ds, f, q, float(e)), lo)}" for q in ("Q1", "Q3")
                 for f in ("J_N", "J_E")]
        rows.append(f"eps_R = {e:g} (x0 = {float(ds['x0'].sel(eps_R=e)):.4f}): " + ", ".join(parts))
    moving = []
    for e in ds["eps_R_table"].values:
        for q in ("Q1", "Q3"):
            for f in ("J_N", "J_E"):
                big, small = intervals(ds, f, q, float(e)), intervals(ds, f, q, float(e), small=True)
                if big and small and abs(big[-1][1] - small[-1][1]) > 2 * cfg.edge_tol:
                    moving.append(f"{f} {q} at eps_R = {e:g} ({small[-1][1]:.4f} -> {big[-1][1]:.4f})")
    cold = [f"{e:g}" for e, v in zip(ds["eps_R_table"].values, ds["cold_icc_J_N"].values) if v]
    return ("Claim 6 (sufficiency) holds in the existence sense only. At a fixed dot-R level eps_R the level swap "
            "x < 0 is NOT sufficient: genuine ICC needs x below an edge x*(eps_R) < 0. Edges bisected in the "
            f"{window_text(ds)}. At the figures' eps_R = {eR:g} with both forces > 0: " + ", ".join(here) + none
            + f" (x0 = {x0:.4f}). Per eps_R: " + "; ".join(rows) + ". Near equilibrium ICC exists, in both fluxes "
            "and both quadrants, exactly where the Onsager coefficient L_NE < 0, i.e. x < x0(eps_R); an edge right "
            "of x0 is a finite-force effect and moves with the window: "
            + ("; ".join(moving) if moving else "none moves") + " (smaller window -> window). "
            + (f"With both forces < 0 and lead t cold (F~_E = -200 eps_L, F_N = -0.01), J_N shows ICC at x = -0.01 "
               f"for eps_R = {', '.join(cold)}: there the Q3 edge of J_N tends to 0- as the window grows. " if cold
               else "") + "x* -> 0- as eps_R decreases. The paper calls x < 0 'the sufficient condition' without "
            "this qualification.")

"""``report.md`` and ``report.html``: parameters, claims with evidence and verdicts, figures, data files.

Both documents are built from one list of blocks, so they always say the
same thing.  Figure descriptions quote numbers read from the datasets that
were written next to them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

import qdthermo as qd
from qdthermo.paper.claims import Claim, PaperData
from qdthermo.paper.conditions import RANDOM_RANGES, thresholds
from qdthermo.paper.config import PaperConfig


def _describe_design(data: PaperData) -> list[str]:
    ds = data.design
    if ds is None:
        return ["not computed"]
    lines = [f"x = {ds.attrs['x']:g}, window {ds.attrs['window']}; stars: maximum output; lines: Pareto fronts."]
    for k, role in enumerate(ds["role"].values):
        for j, eps_R in enumerate(ds["eps_R"].values):
            m, e, c = (ds[v].values[k, j] for v in ("max_output", "efficiency_at_max", "carnot_at_max"))
            lines.append(f"{role}, eps_R = {eps_R:g}: " + ("no ICC" if not np.isfinite(m) else
                         f"max {_g(m)}, efficiency {_g(e)} ({_g(e / c)} of Carnot)"))
    return lines


def _describe_fluctuations(data: PaperData) -> list[str]:
    fl = data.fluctuations
    if fl is None:
        return ["not computed"]
    lines = ["Rows: J_N, J_E; colour: TUR ratio Sigma_dot C2/C1^2 (log scale from 2); red outline: genuine ICC; "
             "white dashed: the flux's zero line."]
    for k, x in enumerate(fl["x"].values):
        for flux in ("J_N", "J_E"):
            v = fl[f"tur_{flux}"].values[k]
            lines.append(f"x = {x:g}, {flux}: TUR ratio from {_g(np.nanmin(v))} to {_g(np.nanmax(v))}")
    return lines


__all__ = ["DESCRIBE", "FIGURES", "TABLES", "describe_figures", "edge_table", "panel_map", "write"]

R = qd.Regime

#: figure stem -> (title, NetCDF file with its data)
FIGURES: dict[str, tuple[str, str]] = {
    "fig1_levels": ("FIG. 1: level diagrams and allowed transitions, x > 0 and x < 0", "fig1_levels.nc"),
    "fig3_force_plane": ("FIG. 3: regimes of J_E and J_N in the (F~_E, F_N) force plane", "fig3_force_plane.nc"),
    "fig4_one_force": ("FIG. 4a/4b: one force zero, pseudo-ICC", "fig4_one_force.nc"),
    "fig5_icc_regions": ("FIG. 5a/5b: genuine-ICC regions in the first quadrant", "fig5_icc_regions.nc"),
    "devices": ("Eq. 56/58: ICC engine efficiency and refrigerator COP against Carnot", "devices.nc"),
    "conditions": ("Necessary and sufficient conditions: ICC share of the first quadrant against x",
                   "conditions.nc"),
    "icc_edges": ("Exact conditions for ICC: sign of L_NE over (x, eps_R), x0(eps_R) and the bisected edges",
                  "icc_edges.nc"),
    "fluctuations_icc": ("Beyond the paper: TUR ratio of J_N and J_E over FIG. 5's window, ICC regions outlined",
                         "fluctuations_icc.nc"),
    "design_icc": ("Beyond the paper: maximum power and Pareto fronts of the ICC engine and refrigerator",
                   "design_icc.nc"),
}


def _g(v: float) -> str:
    return f"{float(v):.3g}"


def _describe_fig1(data: PaperData) -> list[str]:
    cfg, lv = data.cfg, data.levels
    lines = ["Columns: dot R empty (|1>, |2>) and full (|3>, |4>); vertical arrows fill dot L (leads t, b), "
             "slanted arrows fill dot R (lead r)."]
    for k, x in enumerate(lv["x"].values):
        E = lv["energy"].values[k]
        w = dict(zip(lv["transition_paper"].values.tolist(), lv["transition_energy"].values[k]))
        swap = bool(lv["level_swap"].values[k])
        lines.append(f"{cfg.x_text(float(x))}: E_1..E_4 = {', '.join(_g(e) for e in E)}; w43 = {_g(w['3->4'])}, "
                     f"w42 = {_g(w['2->4'])}; " + ("level swap E_4 < E_3" if swap else "no level swap"))
    return lines


def _fig3_line(pl: xr.Dataset, k: int, quad: Mapping[str, np.ndarray]) -> str:
    parts = []
    for flux in ("J_N", "J_E"):
        r = pl[f"regime_{flux}"].values[k]
        n_icc = {q: int((r[m] == R.ICC).sum()) for q, m in quad.items()}
        cross = {q: int((r[m] == R.CROSS_EFFECT).sum()) for q, m in quad.items()}
        parts.append(f"{flux}: ICC Q1 {n_icc['Q1']}, Q3 {n_icc['Q3']} (Q2, Q4: {n_icc['Q2'] + n_icc['Q4']}); "
                     f"cross-effect Q2 {cross['Q2']}, Q4 {cross['Q4']} (Q1, Q3: {cross['Q1'] + cross['Q3']}); "
                     f"pseudo-ICC on the axes {int((r == R.PSEUDO_ICC).sum())}")
    return f"x = {pl['x'].values[k]:g}: " + "; ".join(parts)


def _describe_fig3(data: PaperData) -> list[str]:
    pl = data.plane
    fe, fn = pl["F_E_scaled"].values, pl["F_N"].values
    quad = {"Q1": (fe[:, None] > 0) & (fn[None, :] > 0), "Q3": (fe[:, None] < 0) & (fn[None, :] < 0),
            "Q2": (fe[:, None] < 0) & (fn[None, :] > 0), "Q4": (fe[:, None] > 0) & (fn[None, :] < 0)}
    head = (f"{fe.size} x {fn.size} grid on F~_E in [{fe.min():g}, {fe.max():g}], F_N in [{fn.min():g}, "
            f"{fn.max():g}]; points counted per regime. ICC can only occur where the forces are parallel (Q1, Q3), "
            "cross-effects where they oppose (Q2, Q4).")
    return [head] + [_fig3_line(pl, k, quad) for k in range(pl.sizes["x"])]


def _describe_fig4(data: PaperData) -> list[str]:
    cfg, cuts = data.cfg, data.cuts
    lines = ["(a) J_N against F~_E at F_N = 0 and (b) J_E against F_N at F~_E = 0 (the induced fluxes); (c), (d) "
             "the conjugate fluxes on the same cuts."]
    for k, x in enumerate(cuts["x"].values):
        jn = cuts["J_N_at_FN0"].values[k, 1:] / cfg.gamma
        je = cuts["J_E_at_FE0"].values[k, 1:] / (cfg.gamma * cfg.eps_L)
        lines.append(f"x = {x:g}: (a) J_N/Gamma from {_g(jn.min())} to {_g(jn.max())}, negative at "
                     f"{int((jn < 0).sum())}/{jn.size} pts; (b) J_E/(Gamma eps_L) from {_g(je.min())} to "
                     f"{_g(je.max())}, negative at {int((je < 0).sum())}/{je.size} pts")
    return lines


def _describe_fig5(data: PaperData) -> list[str]:
    cfg, reg = data.cfg, data.icc
    n1 = int(reg["n_first_quadrant"])
    lines = [f"Window F~_E in [0, {cfg.fe_max:g}], F_N in [0, {cfg.fn_max:g}]; rows: J_N map, J_E map (hatched: "
             "genuine ICC), both ICC regions."]
    for k, x in enumerate(reg["x"].values):
        nN, nE = int(reg["n_icc_J_N"].values[k]), int(reg["n_icc_J_E"].values[k])
        lines.append(f"x = {x:g}: ICC in J_N at {nN} ({100 * nN / n1:.1f}%), in J_E at {nE} ({100 * nE / n1:.1f}%), "
                     f"overlap {int(reg['n_overlap'].values[k])} of {n1} points")
    return lines


def _device_line(dev: xr.Dataset, k: int, var: str, name: str) -> str:
    x = dev["x"].values[k]
    v = dev[var].values[k]
    if not np.isfinite(v).any():
        return f"x = {x:g}: no {name} (no such device in the window)"
    i, j = np.unravel_index(np.nanargmax(v), v.shape)
    if var == "efficiency_over_carnot":
        extra = f", eta = {_g(dev['efficiency'].values[k][i, j])}, power {_g(dev['power'].values[k][i, j])}"
    else:
        extra = f", COP = {_g(dev['cop'].values[k][i, j])}, cooling power {_g(dev['cooling_power'].values[k][i, j])}"
    return (f"x = {x:g}: max {name} = {_g(v[i, j])} at F~_E = {_g(dev['F_E_scaled'].values[i])}, "
            f"F_N = {_g(dev['F_N'].values[j])}{extra}")


def _describe_devices(data: PaperData) -> list[str]:
    dev = data.devices
    lines = [_device_line(dev, k, var, name) for k in range(dev.sizes.get("x", 0))
             for var, name in (("efficiency_over_carnot", "eta/eta_C"), ("cop_over_carnot", "COP/COP_C"))]
    return ["Efficiency / Carnot over the J_N-ICC region (engine) and COP / Carnot COP over the J_E-ICC region "
            "(refrigerator); grey: no ICC."] + (lines or ["no ICC region for the configured x"])


def _describe_conditions(data: PaperData) -> list[str]:
    cfg, cond = data.cfg, data.conditions
    xs = cond["x"].values
    thr = thresholds(cond)
    eR_map = cond["eps_R_map"].values
    lines = [f"(a), (b) share of the window (F~_E in (0, {cfg.fe_max:g}], F_N in (0, {cfg.fn_max:g}], "
             f"{int(cond['n_window'])} pts) with ICC against x in [{xs.min():g}, {xs.max():g}]; (c) where pseudo-ICC "
             "occurs in the (x, eps_R) plane."]
    for k, eR in enumerate(cond["eps_R"].values):
        fN, fE = cond["icc_fraction_J_N"].values[k], cond["icc_fraction_J_E"].values[k]
        pos = xs > 0
        jm = int(np.argmin(np.abs(eR_map - eR)))
        lines.append(f"eps_R = {eR:g}: max ICC share {100 * fN.max():.1f}% (J_N), {100 * fE.max():.1f}% (J_E); "
                     f"share at x > 0: {100 * fN[pos].max() if pos.any() else 0:g}%, "
                     f"{100 * fE[pos].max() if pos.any() else 0:g}%; pseudo-ICC threshold x* = "
                     f"{_g(thr['J_N'][jm])} (J_N), {_g(thr['J_E'][jm])} (J_E)")
    return lines


def _describe_edges(data: PaperData) -> list[str]:
    from qdthermo.paper.edges import window_text

    ds = data.edges
    if ds is None:
        return ["no edge data"]
    return [f"Blue: L_NE < 0 (exact, qd.linear_response); black: x0(eps_R) where L_NE changes sign; lines: the "
            f"edges of genuine ICC with both forces > 0, below which ICC exists; crosses: the same in the smaller "
            f"window. {window_text(ds)}.",
            "Table below: per eps_R, flux and quadrant (Q1: both forces > 0, Q3: both < 0) the x range with "
            "genuine ICC (edges bisected), next to x0; 'where ICC appears' is the force point of the deepest "
            "ICC next to the edge, on the closed window (F_N = 0 or F~_E = 0 there means: genuine ICC at that force "
            "-> 0 with the sign of the quadrant; F -> 0: L_NE changes sign there, a linear-response edge that no "
            "window moves)."]


def edge_table(data: PaperData) -> tuple[list[str], list[list[str]]]:
    """The table of exact edges (head, rows) of ``icc_edges.nc``."""
    from qdthermo.paper.edges import TABLE_HEAD, table_rows

    return (TABLE_HEAD, table_rows(data.edges)) if data.edges is not None else ([], [])


#: figure stem -> (head, rows) of a table printed under its description
TABLES: dict[str, Callable[[PaperData], tuple[list[str], list[list[str]]]]] = {"icc_edges": edge_table}


#: figure stem -> the function that describes it from the data
DESCRIBE: dict[str, Callable[[PaperData], list[str]]] = {
    "fig1_levels": _describe_fig1, "fig3_force_plane": _describe_fig3, "fig4_one_force": _describe_fig4,
    "fig5_icc_regions": _describe_fig5, "devices": _describe_devices, "conditions": _describe_conditions,
    "icc_edges": _describe_edges, "fluctuations_icc": _describe_fluctuations,
}


def describe_figures(data: PaperData) -> dict[str, list[str]]:
    """What each figure shows, with numbers read from its dataset."""
    return {stem: describe(data) for stem, describe in DESCRIBE.items()}


def panel_map(data: PaperData) -> list[list[str]]:
    """Rows (figure, qdthermo panel, the paper's panel, what it shows) mapping our panels to the paper's."""
    cfg = data.cfg
    rows = [["FIG. 1", "(a)", "FIG. 1(a)", "the three-terminal device"]]
    for k, x in enumerate(data.levels["x"].values):
        paper = "FIG. 1(c)" if x < 0 else ("FIG. 1(b)" if x > 0 else "(none: x = 0)")
        rows.append(["FIG. 1", f"({chr(ord('b') + k)})", paper, f"levels at {cfg.x_text(float(x))}"])
    n = data.plane.sizes["x"]
    rows.append(["FIG. 3", f"(a)-({chr(ord('a') + 2 * n - 1)})", "FIG. 3",
                 "regimes of J_E, J_N in the force plane, one row per x (the paper draws the quadrant scheme)"])
    rows += [["FIG. 4", "(a)", "FIG. 4(a)", "J_N against F~_E at F_N = 0"],
             ["FIG. 4", "(b)", "FIG. 4(b)", "J_E against F_N at F~_E = 0"],
             ["FIG. 4", "(c), (d)", "(not in the paper)", "the conjugate fluxes on the same cuts"]]
    m = data.icc.sizes["x"]
    rows += [["FIG. 5", f"(a{i + 1})", "FIG. 5(a)", f"J_N map, x = {x:g}"] for i, x in enumerate(data.icc["x"].values)]
    rows += [["FIG. 5", f"(b{i + 1})", "FIG. 5(b)", f"J_E map, x = {x:g}"] for i, x in enumerate(data.icc["x"].values)]
    rows += [["FIG. 5", f"(c1)-(c{m})", "FIG. 5(a) + 5(b)", "both ICC regions, no overlap"],
             ["devices", "(a), (b)", "Eq. 56, 58 (no figure)", "engine efficiency and COP against Carnot"],
             ["conditions", "(a)-(c)", "(not in the paper)", "ICC share against x; pseudo-ICC threshold map"],
             ["icc_edges", "(one panel) + table", "(not in the paper)",
              "sign of L_NE over (x, eps_R), x0(eps_R), bisected edges of ICC per flux and quadrant"],
             ["fluctuations_icc", "rows J_N, J_E", "(not in the paper)", "TUR ratio over FIG. 5's window"],
             ["design_icc", "engine, refrigerator", "(not in the paper)", "maximum power, Pareto fronts"]]
    return rows


# ------------------------------------------------------------------ blocks
@dataclass(frozen=True)
class _Block:
    """One element of the report: heading, paragraph, list, table or image."""

    kind: str  # "h1", "h2", "h3", "p", "ul", "table", "img"
    text: str = ""  # headings, paragraphs; the image source
    items: tuple[str, ...] = ()  # list items; the image alt text as items[0]
    head: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _h(level: int, text: str) -> _Block:
    return _Block(f"h{level}", text)


def _p(text: str) -> _Block:
    return _Block("p", text)


def _ul(items: Sequence[str]) -> _Block:
    return _Block("ul", items=tuple(items))


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> _Block:
    return _Block("table", head=tuple(head), rows=tuple(tuple(str(v) for v in r) for r in rows))


def _img(src: str, alt: str) -> _Block:
    return _Block("img", src, (alt,))


def _esc(text: str) -> str:
    """``text`` with the Markdown characters that would change its meaning escaped (``10**(-1 ... 0.7)``)."""
    import re

    for ch in ("\\", "*", "`", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)  # "<" only where it could open an HTML tag


def _head_blocks(cfg: PaperConfig, claims: Sequence[Claim], timings: Mapping[str, float],
                 command: str) -> list[_Block]:
    n_pass = sum(c.passed for c in claims)
    verdict = "ALL CLAIMS PASS" if n_pass == len(claims) else f"{len(claims) - n_pass} CLAIM(S) FAIL"
    return [
        _h(1, "Inverse current in coupled transport: reproduction report"),
        _p("Reproduction of Ghosh, Gupt & Ghosh, *Inverse Current in Coupled Transport* "
           "(arXiv:2405.01295). The model, equations and conventions are those of qdthermo's "
           "`docs/physics.md`; the claims checked below are the paper's. Every number "
           "below is computed from the solved master equation; nothing is drawn or asserted by hand."),
        _p(f"**{verdict}: {n_pass}/{len(claims)} PASS.** Mode: "
           f"{'quick (coarse grids)' if cfg.quick else 'full'}; run time {sum(timings.values()):.1f} s; "
           f"qdthermo {qd.__version__}. Command: `{command}`"),
        _h(2, "Parameters"),
        _p("Units k_B = hbar = e = 1: energies, temperatures and chemical potentials in one energy unit, "
           "Gamma in the rate unit. The paper's two-force setup (docs/physics.md): T_r = T_b (so F_R = 0), "
           "mu_r = mu_b, and lead t from the forces: 1/T_t = 1/T_b - F_E, mu_t = T_t (F_N + mu_b/T_b). "
           "Scaled forces F~_E = eps_L F_E and F_N; currents J_N/Gamma, J_E/(Gamma eps_L). An interaction "
           "x = (eps_L + U_eff)/eps_L is realised as U = max(U_eff, 0), J = max(-4 U_eff, 0) "
           "(U_eff = U - J/4). Override any value with `--set NAME=VALUE` or `--config FILE.toml` "
           "(`config.toml` in this folder reproduces this run)."),
        _table(["parameter", "value", "meaning"], _param_rows(cfg)),
    ]


def _claim_blocks(claims: Sequence[Claim], notes: Sequence[str]) -> list[_Block]:
    b = [_h(2, "Claims"), _table(["claim", "verdict", "statement"], [[c.key, c.status, c.statement] for c in claims])]
    for c in claims:
        b.append(_h(3, f"Claim {c.key}: {c.status}"))
        b.append(_p(_esc(c.statement)))
        b.append(_ul(list(c.evidence) + ([f"figures: {', '.join(c.figures)}"] if c.figures else [])))
    if notes:
        b += [_h(2, "Notes"), _ul(list(notes))]
    return b


def _figure_blocks(cfg: PaperConfig, data: PaperData, files: Sequence[Path]) -> list[_Block]:
    b = [_h(2, "Figures"), _p("How the panels of this report map to the paper's figures:"),
         _table(["figure", "panel here", "paper", "shows"], panel_map(data))]
    desc = describe_figures(data)
    names = {p.name for p in files}
    for stem, (title, nc) in FIGURES.items():
        b += [_h(3, title), _ul(desc.get(stem, []))]
        if stem in TABLES:
            head, rows = TABLES[stem](data)
            if rows:
                b.append(_table(head, rows))
        links = [f for f in (f"{stem}.png", f"{stem}.{cfg.vector_format}", nc) if f in names]
        b.append(_p("Files: " + ", ".join(f"[{f}]({f})" for f in links)))
        if f"{stem}.png" in names:
            b.append(_img(f"{stem}.png", title))
    return b


def _data_blocks(files: Sequence[Path], timings: Mapping[str, float]) -> list[_Block]:
    rows = []
    for p in files:
        if p.suffix == ".nc":
            with xr.open_dataset(p) as ds:
                for name, var in ds.data_vars.items():
                    rows.append([p.name, str(name), ", ".join(f"{d}={ds.sizes[d]}" for d in var.dims) or "scalar",
                                 str(var.attrs.get("units", "")), str(var.attrs.get("long_name", ""))])
    return [
        _h(2, "Data files"),
        _p("NetCDF (xarray: `xr.open_dataset(path)`); every data variable has `units` and `long_name` "
           "attributes; the run's parameters are global attributes `config_*`. Random scan ranges: "
           + _esc("; ".join(f"{k}: {v}" for k, v in RANDOM_RANGES.items())) + "."),
        _table(["file", "variable", "dims", "units", "meaning"], rows),
        _h(2, "Timings"),
        _table(["step", "seconds"], [[k, f"{v:.2f}"] for k, v in timings.items()]),
    ]


def _blocks(cfg: PaperConfig, claims: Sequence[Claim], notes: Sequence[str], data: PaperData,
            files: Sequence[Path], timings: Mapping[str, float], command: str) -> list[_Block]:
    return (_head_blocks(cfg, claims, timings, command) + _claim_blocks(claims, notes)
            + _figure_blocks(cfg, data, files) + _data_blocks(files, timings))


def _param_rows(cfg: PaperConfig) -> list[list[str]]:
    doc = {
        "eps_L": "level of dot L (> 0)", "eps_R": "level of dot R (FIG. 1-5, devices)",
        "gamma": "tunnel coupling of every lead", "T_b": "temperature of the reference leads b, r",
        "mu_b": "chemical potential of b, r", "x_values": "x = (eps_L + U_eff)/eps_L of the figures",
        "fe_max": "FIG. 5 / devices: F~_E window", "fn_max": "FIG. 5 / devices: F_N window",
        "n_plane": "FIG. 5 grid points per axis", "quad_fe": "FIG. 3 half-width in F~_E",
        "quad_fn": "FIG. 3 half-width in F_N", "n_quad": "FIG. 3 grid points per axis",
        "line_fe_max": "FIG. 4a F~_E range", "line_fn_max": "FIG. 4b F_N range", "n_line": "FIG. 4 points per cut",
        "cond_x_min": "conditions: x from", "cond_x_max": "conditions: x to", "n_cond_x": "conditions: x points",
        "cond_eps_R": "conditions: eps_R of the share curves", "n_cond_grid": "conditions: window points per axis",
        "thr_eps_R_min": "threshold map: eps_R from", "thr_eps_R_max": "threshold map: eps_R to",
        "n_thr_eps_R": "threshold map: eps_R points", "n_cond_line": "threshold map: points per cut",
        "suff_x_max": "claim 6b: x <= this must show ICC for some eps_R",
        "n_edge_scan": "exact edges: x points of the scan", "n_edge_grid": "exact edges: window points per axis",
        "n_edge_eps_R": "exact edges: eps_R points of the curves", "edge_tol": "exact edges: bisection tolerance",
        "edge_small": "exact edges: the second window as a fraction of the first",
        "n_random": "random scan points (x > 0, and as many x < 0)", "seed": "random seed",
        "force_tol": "regime: relative zero tolerance of forces",
        "flux_tol": "regime: relative zero tolerance of fluxes",
        "tol_sigma": "claim 1a: Sigma >= -tol", "tol_agree": "claims 1b, 1c: agreement tolerance",
        "tol_conservation": "claims 2, 3: current tolerance", "dpi": "PNG resolution",
        "vector_format": "vector figure format", "quick": "coarse grids (--quick)",
    }
    return [[k, ", ".join(f"{x:g}" for x in v) if isinstance(v, list) else str(v), doc.get(k, "")]
            for k, v in cfg.as_dict().items()]


# ---------------------------------------------------------------- renderers
def _md(blocks: Sequence[_Block]) -> str:
    """The blocks as Markdown (list items and table cells escaped: they hold data text, not markup)."""
    out: list[str] = []
    for blk in blocks:
        if blk.kind in ("h1", "h2", "h3"):
            out.append("#" * int(blk.kind[1]) + " " + blk.text)
        elif blk.kind == "p":
            out.append(blk.text)
        elif blk.kind == "ul":
            out.append("\n".join(f"- {_esc(item)}" for item in blk.items))
        elif blk.kind == "table":
            lines = ["| " + " | ".join(blk.head) + " |", "|" + "---|" * len(blk.head)]
            lines += ["| " + " | ".join(_esc(v).replace("|", "\\|") for v in r) + " |" for r in blk.rows]
            out.append("\n".join(lines))
        elif blk.kind == "img":
            out.append(f"![{blk.items[0]}]({blk.text})")
        out.append("")
    return "\n".join(out)


CSS = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.45}"
       "table{border-collapse:collapse;margin:0.5em 0;font-size:0.9em}td,th{border:1px solid #ccc;"
       "padding:3px 8px;vertical-align:top;text-align:left}th{background:#f0f0f0}"
       ".PASS{color:#fff;background:#1a7f37;font-weight:bold}.FAIL{color:#fff;background:#cf222e;"
       "font-weight:bold}img{max-width:100%;border:1px solid #ddd}code{background:#f4f4f4;padding:0 3px}")


def _html(markdown: str, title: str) -> str:
    """``report.md`` rendered by markdown-it-py (CommonMark + tables, raw HTML off); verdicts coloured."""
    import re

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    body = re.sub(r"<td>(PASS|FAIL)</td>", r'<td class="\1">\1</td>', body)
    body = re.sub(r"(<h3>Claim [^<]*: )(PASS|FAIL)</h3>", r'\1<span class="\2">&nbsp;\2&nbsp;</span></h3>', body)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n{body}</body></html>\n")


def write(out: Path, cfg: PaperConfig, claims: Sequence[Claim], notes: Sequence[str], data: PaperData,
          files: Sequence[Path], timings: Mapping[str, float], command: str) -> list[Path]:
    """Write ``report.md`` and ``report.html`` (the same Markdown, rendered) into ``out``; return their paths."""
    markdown = _md(_blocks(cfg, claims, notes, data, files, timings, command))
    md, page = out / "report.md", out / "report.html"
    md.write_text(markdown, encoding="utf-8")
    page.write_text(_html(markdown, "qdthermo paper: reproduction report"), encoding="utf-8")
    return [md, page]

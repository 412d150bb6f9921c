"""Exact conditions for ICC (issue 11, section 2): the sign of L_NE and the bisected edges of ICC.

Beyond the paper's figures.  For each dot-R level eps_R:

* x0(eps_R): where the exact cross-coefficient L_NE = L_EN changes sign
  (:func:`qdthermo.design.conditions.onsager_sign_edge`; L_NE < 0 for x < x0):
  near equilibrium ICC exists, in both quadrants and both fluxes, exactly where
  L_NE < 0.
* the nonlinear edges (:func:`qdthermo.design.conditions.icc_edges`): along x in
  [cond_x_min, 0], where genuine ICC of J_N or J_E exists in the force window
  F~_E in s [0, fe_max], F_N in s [0, fn_max] (Q1: s = +1; Q3: s = -1),
  bisected to ``edge_tol``; and the same in a window scaled by ``edge_small``,
  to show which edges move with the window.

Every number of the table, claim 6b and the sufficiency note is read from the
dataset written here (``icc_edges.nc``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.design.conditions import IccEdges, icc_edges, onsager_sign_edge, paper_device
from qdthermo.paper._common import add_caption, caption, fattrs, styled
from qdthermo.paper.config import PaperConfig

__all__ = ["compute", "intervals", "plot", "table_rows"]

FLUXES = ("J_N", "J_E")
QUADRANTS = ("Q1", "Q3")
#: the Q3 probe with lead t cold: x close to 0-, F_E = COLD_FE (in units of 1/eps_L), F_N = COLD_FN
COLD_X, COLD_FE, COLD_FN = -0.01, -200.0, -0.01
#: at most this many edges are kept per (eps_R, flux, quadrant) (NaN padded)
MAX_EDGES = 3


def _table_eps_R(cfg: PaperConfig) -> np.ndarray:
    return np.unique(np.array([*cfg.cond_eps_R, cfg.eps_R], dtype=float))


def _edge_arrays(r: IccEdges, n: int) -> dict[str, Any]:
    """Edges of :func:`icc_edges` as arrays (eps_R, flux, quadrant, edge), NaN/False padded."""
    shape = (n, len(FLUXES), len(QUADRANTS), MAX_EDGES)
    out = {"value": np.full(shape, np.nan), "present_below": np.zeros(shape, bool),
           "near_equilibrium": np.zeros(shape, bool), "F_E_scaled": np.full(shape, np.nan),
           "F_N": np.full(shape, np.nan), "depth": np.full(shape, np.nan),
           "n_edges": np.zeros(shape[:3], np.int64), "present_at_start": np.zeros(shape[:3], bool)}
    for i, f in enumerate(FLUXES):
        for q, quad in enumerate(QUADRANTS):
            out["present_at_start"][:, i, q] = r.present[(f, quad)][:, 0]
            for b in range(n):
                es = r.find(f, quad, b)
                out["n_edges"][b, i, q] = len(es)
                for k, e in enumerate(es[:MAX_EDGES]):
                    for name in ("value", "present_below", "near_equilibrium", "F_E_scaled", "F_N", "depth"):
                        out[name][b, i, q, k] = getattr(e, name)
    return out


def compute(cfg: PaperConfig) -> xr.Dataset:
    """x0(eps_R), the sign map of L_NE over (x, eps_R), and the edges in two windows."""
    fixed: dict[str, Any] = {"eps_L": cfg.eps_L, "T_ref": cfg.T_b, "mu_ref": cfg.mu_b, "gamma": cfg.gamma}
    eR_table = _table_eps_R(cfg)
    eR = np.unique(np.concatenate([np.linspace(cfg.thr_eps_R_min, cfg.thr_eps_R_max, cfg.n_edge_eps_R), eR_table]))
    span = (cfg.cond_x_min, 0.0)
    num: dict[str, Any] = {"n_scan": cfg.n_edge_scan, "n_grid": cfg.n_edge_grid, "tol": cfg.edge_tol}
    main = icc_edges(span, eps_R=eR, fe_max=cfg.fe_max, fn_max=cfg.fn_max, **num, **fixed)
    small = icc_edges(span, eps_R=eR_table, fe_max=cfg.edge_small * cfg.fe_max, fn_max=cfg.edge_small * cfg.fn_max,
                      **num, **fixed)
    x0 = onsager_sign_edge(eR, **fixed)
    # the sign map of L_NE: exact, from the generator
    xs = np.linspace(cfg.cond_x_min, cfg.cond_x_max, 2 * cfg.n_cond_x - 1)
    eR_map = np.linspace(cfg.thr_eps_R_min, cfg.thr_eps_R_max, 2 * cfg.n_thr_eps_R - 1)
    lr = qd.linear_response(paper_device(0.0, 0.0, x=xs[:, None], eps_R=eR_map[None, :], **fixed))
    L_NE = np.asarray(lr.coefficient("J_N", "F_E"))
    # Q3 with lead t cold: J_N against both forces at x = COLD_X close to 0?
    cold = qd.solve(paper_device(COLD_FE * cfg.eps_L, COLD_FN, x=COLD_X, eps_R=eR_table, **fixed))
    cold_icc = cold.classify(force_tol=cfg.force_tol, flux_tol=cfg.flux_tol)["J_N"] == qd.Regime.ICC
    a, s = _edge_arrays(main, eR.size), _edge_arrays(small, eR_table.size)
    dims, dims_t = ("eps_R", "flux", "quadrant", "k"), ("eps_R_table", "flux", "quadrant", "k")
    data: dict[str, Any] = {
        "x0": (("eps_R",), x0, fattrs("1", "linear-response edge x0: L_NE < 0 for x < x0")),
        "cold_icc_J_N": (("eps_R_table",), np.asarray(cold_icc, dtype=np.int8),
                         fattrs("1", f"1: genuine ICC in J_N at x = {COLD_X:g}, F~_E = {COLD_FE:g} eps_L, "
                                     f"F_N = {COLD_FN:g} (Q3, lead t cold)")),
        "L_NE": (("x_map", "eps_R_map"), L_NE, fattrs("rate unit x energy unit", "Onsager coefficient L_NE = L_EN")),
    }
    for prefix, arr, d in (("", a, dims), ("small_", s, dims_t)):
        data[f"{prefix}edge"] = (d, arr["value"], fattrs("1", "edge in x of genuine ICC (bisected)"))
        data[f"{prefix}present_below"] = (d, arr["present_below"].astype(np.int8),
                                          fattrs("1", "1: ICC exists just below the edge"))
        data[f"{prefix}near_equilibrium"] = (d, arr["near_equilibrium"].astype(np.int8),
                                             fattrs("1", "1: L_NE changes sign at the edge (linear-response edge)"))
        data[f"{prefix}edge_F_E_scaled"] = (d, arr["F_E_scaled"], fattrs("1", "F~_E where ICC first appears"))
        data[f"{prefix}edge_F_N"] = (d, arr["F_N"], fattrs("1", "F_N where ICC first appears"))
        data[f"{prefix}edge_depth"] = (d, arr["depth"], fattrs("Gamma (J_N), Gamma eps_L (J_E)",
                                                               "min s J over the window next to the edge"))
        data[f"{prefix}n_edges"] = (d[:3], arr["n_edges"], fattrs("1", "number of edges found"))
        data[f"{prefix}present_at_start"] = (d[:3], arr["present_at_start"].astype(np.int8),
                                             fattrs("1", "1: ICC at x = cond_x_min"))
    ds = xr.Dataset(data, coords={
        "eps_R": ("eps_R", eR, fattrs("energy unit", "level of dot R")),
        "eps_R_table": ("eps_R_table", eR_table, fattrs("energy unit", "level of dot R (table)")),
        "flux": ("flux", list(FLUXES)), "quadrant": ("quadrant", list(QUADRANTS)),
        "k": ("k", np.arange(MAX_EDGES), fattrs("1", "index of the edge along x (increasing)")),
        "x_map": ("x_map", xs, fattrs("1", "x = (eps_L + U_eff)/eps_L")),
        "eps_R_map": ("eps_R_map", eR_map, fattrs("energy unit", "level of dot R")),
    })
    ds.attrs.update({"title": "Exact ICC conditions: x0(eps_R), the sign of L_NE, the bisected edges",
                     "x_span": [float(span[0]), float(span[1])], "edge_tol": cfg.edge_tol,
                     "window_fe_max": cfg.fe_max, "window_fn_max": cfg.fn_max,
                     "small_fe_max": cfg.edge_small * cfg.fe_max, "small_fn_max": cfg.edge_small * cfg.fn_max,
                     "method": "qdthermo.design.conditions.icc_edges (grid min + zoom refinement, or L_ij < 0; "
                               "bisection) and onsager_sign_edge (bisection of the exact L_NE)"})
    return ds


def intervals(ds: xr.Dataset, flux: str, quadrant: str, eps_R: float, small: bool = False) -> list[tuple[float, float]]:
    """The x intervals of [x_min, 0] with genuine ICC of ``flux`` in ``quadrant`` at ``eps_R`` (from the edges)."""
    p, dim = ("small_", "eps_R_table") if small else ("", "eps_R")
    sel = {dim: eps_R, "flux": flux, "quadrant": quadrant}
    lo, hi = (float(v) for v in ds.attrs["x_span"])
    edges = [float(v) for v in ds[f"{p}edge"].sel(sel).values if np.isfinite(v)]
    inside = bool(ds[f"{p}present_at_start"].sel(sel))
    out, start = [], lo
    for e in edges:
        if inside:
            out.append((start, e))
        start, inside = e, not inside
    if inside:
        out.append((start, hi))
    return out


def _fmt(v: float) -> str:
    return f"{v:.4f}"


def interval_text(iv: list[tuple[float, float]], lo: float) -> str:
    """``x < -1.7502`` / ``none`` / ``-2 < x < -1`` for the intervals of :func:`intervals`."""
    if not iv:
        return "none"
    parts = []
    for a, b in iv:
        parts.append(f"x < {_fmt(b)}" if a == lo else f"{_fmt(a)} < x < {_fmt(b)}")
    return " or ".join(parts)


def table_rows(ds: xr.Dataset) -> list[list[str]]:
    """Rows (eps_R, flux, quadrant, ICC for, x0, edge in the smaller window, where ICC appears, kind)."""
    lo = float(ds.attrs["x_span"][0])
    rows = []
    for eR in ds["eps_R_table"].values:
        x0 = float(ds["x0"].sel(eps_R=eR))
        for f in FLUXES:
            for q in QUADRANTS:
                iv = intervals(ds, f, q, float(eR))
                ivs = intervals(ds, f, q, float(eR), small=True)
                sel = {"eps_R": eR, "flux": f, "quadrant": q, "k": 0}
                if np.isfinite(float(ds["edge"].sel(sel))):
                    near = bool(ds["near_equilibrium"].sel(sel))
                    where = ("F -> 0 (L_NE sign change)" if near else
                             f"F~_E = {float(ds['edge_F_E_scaled'].sel(sel)) + 0.0:.3g}, "
                             f"F_N = {float(ds['edge_F_N'].sel(sel)) + 0.0:.3g}")
                else:
                    where = "-"
                rows.append([f"{eR:g}", f, q, interval_text(iv, lo), _fmt(x0), interval_text(ivs, lo), where])
    return rows


TABLE_HEAD = ["eps_R", "flux", "quadrant", "ICC in the window for", "x0 (L_NE = 0)", "ICC in the smaller window for",
              "where ICC appears at the edge"]


def window_text(ds: xr.Dataset) -> str:
    """The two windows searched, in words."""
    a = ds.attrs
    lo, hi = (float(v) for v in a["x_span"])
    return (f"window |F~_E| <= {a['window_fe_max']:g}, |F_N| <= {a['window_fn_max']:g} (Q1: both forces >= 0; Q3: "
            f"both <= 0), smaller window |F~_E| <= {a['small_fe_max']:g}, |F_N| <= {a['small_fn_max']:g}; x scanned "
            f"on [{lo:g}, {hi:g}], edges bisected to {float(a['edge_tol']):.0e}")


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """The sign of L_NE over (x, eps_R) with x0(eps_R) and the nonlinear first-quadrant edges of J_N and J_E."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    fig = Figure(figsize=(11, 8))
    ax = fig.add_subplot()
    xs, eRm = ds["x_map"].values, ds["eps_R_map"].values
    neg = (ds["L_NE"].values < 0).astype(int)
    ax.pcolormesh(xs, eRm, neg.T, cmap=ListedColormap(["#f0f0f0", "#9ecae1"]), vmin=0, vmax=1, shading="nearest",
                  rasterized=True)
    eR = ds["eps_R"].values
    ax.plot(ds["x0"].values, eR, color="k", lw=2.0, label="x0(eps_R): L_NE = 0 (linear-response edge)")
    styles = {"J_N": dict(color="#b2182b", ls="-", marker="o"), "J_E": dict(color="#e08214", ls="--", marker="s")}
    for f in FLUXES:
        e = ds["edge"].sel(flux=f, quadrant="Q1")
        top = e.max("k").values  # the largest edge: ICC below it down to the scan's start
        ax.plot(top, eR, ms=4, lw=1.6, label=f"edge of ICC in {f}, Q1 (window F~_E <= {cfg.fe_max:g}, "
                                              f"F_N <= {cfg.fn_max:g})", **styles[f])  # type: ignore[arg-type]
        es = ds["small_edge"].sel(flux=f, quadrant="Q1").max("k").values
        ax.plot(es, ds["eps_R_table"].values, ls="none", marker="x", ms=9, mew=2, color=styles[f]["color"],
                label=f"edge of ICC in {f}, Q1, window x {cfg.edge_small:g}")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.axhline(cfg.eps_R, color="0.3", lw=0.8, ls=":")
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(eRm.min(), eRm.max())
    ax.set_xlabel("x = (eps_L + U_eff) / eps_L")
    ax.set_ylabel("eps_R [energy unit]")
    handles = [Patch(color="#9ecae1", label="L_NE < 0: ICC near equilibrium (both quadrants, both fluxes)"),
               Patch(facecolor="#f0f0f0", edgecolor="0.6", label="L_NE > 0")]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=9, loc="lower left", framealpha=0.92)
    ax.set_title("Exact conditions for ICC: sign of the Onsager cross-coefficient L_NE and the bisected edges of ICC "
                 "with both forces > 0.\nL_NE < 0 is sufficient (near equilibrium) but not necessary: where an edge "
                 "lies right of x0, ICC needs finite forces", fontsize=10.5)
    h = add_caption(fig, caption(cfg, "L_NE exact (qd.linear_response) on a "
                                 f"{xs.size} x {eRm.size} grid; x0 and the edges by bisection; "
                                 + window_text(ds) + ".", eps_R=False))
    fig.tight_layout(rect=(0, h, 1, 1))
    return fig

"""FIG. 1: the device and its four-level diagrams with the allowed transitions.

The levels are the device's own many-body energies
(``three_terminal(...).finalized().energies``) and the transitions its own
channels (``system.channel_labels``, ``system.channel_energy``): for each
x of the configuration one diagram; for x < 0 the levels ``|3>`` and ``|4>`` swap
(E_4 < E_3, PHYSICS.md section 1).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

import qdthermo as qd
from qdthermo.paper._common import add_caption, caption, fattrs, styled
from qdthermo.paper.config import PaperConfig, interaction

__all__ = ["compute", "plot"]

#: occupation label -> paper ket
KETS = {"00": "|1>", "10": "|2>", "01": "|3>", "11": "|4>"}
#: diagram column of each state: dot R empty (left) or full (right), so that the transitions of dot L
#: (leads t, b) are vertical and those of dot R (lead r) run between the columns
XPOS = {"00": 0.0, "10": 0.0, "01": 1.6, "11": 1.6}
HALF = 0.24


def compute(cfg: PaperConfig) -> xr.Dataset:
    """Energies and transitions of the device for each x of ``cfg.x_values``."""
    xs = np.asarray(cfg.x_values, dtype=float)
    U_eff, U, J = interaction(xs, cfg.eps_L)
    dev = qd.three_terminal(cfg.eps_L, cfg.eps_R, U, J, T=cfg.T_b, mu=cfg.mu_b, gamma=cfg.gamma)
    system = dev.finalized()
    states = list(system.state_labels)
    # group channels of all leads by transition i->j
    groups: dict[str, list[int]] = defaultdict(list)
    for c, label in enumerate(system.channel_labels):
        groups[label.split(":", 1)[1]].append(c)
    transitions = list(groups)
    leads = [",".join(system.lead_names[system.channel_lead[c]] for c in groups[t]) for t in transitions]
    w = np.stack([system.channel_energy[..., groups[t][0]] for t in transitions], axis=-1)
    paper_names = []
    for t in transitions:
        i, j = t.split("->")
        paper_names.append(f"{KETS[i][1]}->{KETS[j][1]}")
    ds = xr.Dataset(
        {
            "energy": (("x", "state"), np.asarray(system.energies), fattrs("energy", "many-body state energy")),
            "transition_energy": (("x", "transition"), np.asarray(w),
                                  fattrs("energy", "transition energy w = E_j - E_i")),
            "U_eff": (("x",), U_eff, fattrs("energy", "effective interdot interaction U - J/4")),
            "U": (("x",), U, fattrs("energy", "interdot Coulomb interaction")),
            "J": (("x",), J, fattrs("energy", "interdot spin exchange")),
            "level_swap": (("x",), (system.energies[..., 3] < system.energies[..., 2]).astype(np.int8),
                           fattrs("1", "1 where E_4 < E_3 (level swap)")),
        },
        coords={
            "x": ("x", xs, fattrs("1", "scaled system parameter (eps_L + U_eff)/eps_L")),
            "state": ("state", states, {"long_name": "many-body state (occupations of L, R)",
                                        "paper_label": " ".join(KETS[s] for s in states)}),
            "transition": ("transition", transitions, {"long_name": "excitation i->j (occupations)"}),
            "transition_paper": ("transition", paper_names, {"long_name": "excitation in the paper's labels"}),
            "transition_leads": ("transition", leads, {"long_name": "leads through which it occurs"}),
        },
        attrs={"title": "FIG. 1: level diagrams", "eps_L": cfg.eps_L, "eps_R": cfg.eps_R,
               "mu_b": cfg.mu_b},
    )
    return ds


def _schematic(ax) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.patches import Circle, FancyBboxPatch

    ax.set_xlim(0, 1.2)
    ax.set_ylim(0, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    for (cx, name, spin, where) in ((0.4, "L", "spin\ndown", (0.27, 0.6, "right", "center")),
                                    (0.8, "R", "spin up", (0.8, 0.47, "center", "top"))):
        ax.add_patch(Circle((cx, 0.6), 0.1, fc="#c6dbef" if name == "L" else "#c7e9c0", ec="k"))
        ax.text(cx, 0.6, name, ha="center", va="center", fontsize=9, fontweight="bold")
        ax.text(where[0], where[1], spin, ha=where[2], va=where[3], fontsize=6.5, linespacing=0.95)
    for (x0, y0, w, h, label) in ((0.22, 1.0, 0.36, 0.12, "lead t\n(T_t, mu_t)"),
                                  (0.22, 0.08, 0.36, 0.12, "lead b\n(T_b, mu_b)"),
                                  (0.96, 0.54, 0.22, 0.12, "lead r\n(T_r, mu_r)")):
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.01", fc="#fee0b6", ec="k"))
        ax.text(x0 + w / 2, y0 + h / 2, label, ha="center", va="center", fontsize=6)
    ax.plot([0.4, 0.4], [0.7, 0.99], "k-", lw=1.5)
    ax.plot([0.4, 0.4], [0.21, 0.5], "k-", lw=1.5)
    ax.plot([0.9, 0.95], [0.6, 0.6], "k-", lw=1.5)
    ax.plot([0.5, 0.7], [0.6, 0.6], "k--", lw=1)
    ax.text(0.6, 0.64, "U_eff", ha="center", fontsize=6.5)
    ax.set_title("(a) three-terminal device", fontsize=9)


def _label_height(e_from: float, e_to: float, mu: float, span: float) -> float:
    """Height of a vertical arrow's label: its middle, or 70 % of the way when the middle is on the mu line."""
    mid = 0.5 * (e_from + e_to)
    return mid if abs(mid - mu) > 0.08 * span else e_from + 0.7 * (e_to - e_from)


BOX = {"fc": "white", "ec": "none", "alpha": 0.9, "pad": 0.3}


def _arrow(ax: Any, i: str, j: str, E: dict[str, float], mu: float, span: float) -> str:
    """Draw the excitation i -> j with its label; return its colour (blue: dot L, green: dot R)."""
    wname = f"w{KETS[j][1]}{KETS[i][1]}"
    style = {"arrowstyle": "-|>", "shrinkA": 1, "shrinkB": 1, "mutation_scale": 10}
    if XPOS[i] == XPOS[j]:  # dot L: vertical, inside its column; label on the inner side
        color, xc = "#2166ac", XPOS[i]
        ax.annotate("", xy=(xc, E[j]), xytext=(xc, E[i]), arrowprops={**style, "color": color, "lw": 1.6})
        ax.text(xc + (0.06 if xc < 0.8 else -0.06), _label_height(E[i], E[j], mu, span), wname, fontsize=7.5,
                color=color, ha="left" if xc < 0.8 else "right", va="center", bbox=BOX)
        return color
    color = "#1b7837"  # dot R: between the columns
    xi, xj = XPOS[i] + HALF, XPOS[j] - HALF
    ax.annotate("", xy=(xj, E[j]), xytext=(xi, E[i]), arrowprops={**style, "color": color, "lw": 1.4})
    f = 0.75 if i == "00" else 0.62  # away from the crossing (at 1/3 when the levels swap) and from each other
    ax.text(xi + f * (xj - xi), E[i] + f * (E[j] - E[i]), wname, fontsize=7.5, color=color, ha="center",
            va="center", bbox=BOX)
    return color


def _levels_panel(ax: Any, ds: xr.Dataset, k: int, cfg: PaperConfig, lo: float, hi: float) -> None:
    """The four levels at one x, the allowed excitations as arrows and their table below."""
    pad = 0.12 * (hi - lo + 1e-9)
    E = dict(zip(ds["state"].values.tolist(), ds["energy"].values[k]))
    for s, e in E.items():
        x0, left = XPOS[s], XPOS[s] < 0.8
        ax.plot([x0 - HALF, x0 + HALF], [e, e], "k-", lw=2.5, solid_capstyle="butt")
        ax.text(x0 - HALF - 0.05 if left else x0 + HALF + 0.05, e, f"{KETS[s]} {s}\nE = {e:.3g}",
                ha="right" if left else "left", va="center", fontsize=7, linespacing=0.95)
    ax.axhline(cfg.mu_b, color="0.6", ls=":", lw=1, zorder=0)
    ax.text(2.58, cfg.mu_b, "mu_b = mu_r ", fontsize=6, color="0.4", va="top", ha="right")
    for col, head in ((XPOS["00"], "dot R empty"), (XPOS["01"], "dot R full")):
        ax.text(col, hi + 0.6 * pad, head, ha="center", va="center", fontsize=7.5, style="italic")
    for row, (t, leads, w) in enumerate(zip(ds["transition"].values.tolist(), ds["transition_leads"].values.tolist(),
                                            ds["transition_energy"].values[k])):
        i, j = t.split("->")
        color = _arrow(ax, i, j, E, cfg.mu_b, hi - lo)
        ax.text(0.0, -0.03 - 0.055 * row, f"w{KETS[j][1]}{KETS[i][1]} = {w:.3g}: {KETS[i]} -> {KETS[j]} via lead "
                f"{leads.replace(',', ', ')}", transform=ax.transAxes, fontsize=7, color=color, va="top")
    if bool(ds["level_swap"].values[k]):
        rel = "E_4 < E_3: level swap; L fills (3->4)\nwhile the energy drops (w43 < 0)"
    else:
        rel = "E_4 > E_3: filling L always\nraises the energy (w21, w43 > 0)"
    ax.set_title(f"({chr(ord('b') + k)}) {cfg.x_text(float(ds['x'].values[k]))}\n{rel}", fontsize=8)
    ax.set_xlim(-1.0, 2.6)
    ax.set_ylim(lo - pad, hi + 1.2 * pad)
    ax.set_xticks([])
    ax.set_ylabel("many-body energy [energy unit]", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


@styled
def plot(ds: xr.Dataset, cfg: PaperConfig) -> Figure:
    """The figure: schematic plus one level diagram per x."""
    n = ds.sizes["x"]
    fig = Figure(figsize=(3.5 * (n + 1), 5.6))
    axes = fig.subplots(1, n + 1, gridspec_kw={"width_ratios": [0.8] + [1] * n})
    _schematic(axes[0])
    E_all = ds["energy"].values
    lo, hi = min(E_all.min(), cfg.mu_b), max(E_all.max(), cfg.mu_b)
    for k in range(n):
        _levels_panel(axes[k + 1], ds, k, cfg, lo, hi)
    fig.suptitle("FIG. 1: the device and its four many-body levels with the allowed transitions "
                 "(arrows: excitation direction; blue: dot L via leads t, b; green: dot R via lead r)",
                 fontsize=9.5)
    h = add_caption(fig, caption(cfg, "Levels and transition energies are the device's own "
                                 "(qdthermo.three_terminal(...).finalized())."))
    fig.tight_layout(rect=(0, h, 1, 0.95))
    fig.subplots_adjust(bottom=h + 0.2)
    return fig

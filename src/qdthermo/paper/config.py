"""Parameters of ``qdthermo paper``: defaults, ``--quick`` overrides, TOML files, ``--set``.

The paper (Ghosh, Gupt, Ghosh, arXiv:2405.01295) does not print its plotting
parameters.  The defaults below follow PHYSICS.md section 10: eps_L = 1,
eps_R = 1, Gamma = 1 (all leads), T_b = T_r = 1, mu_b = mu_r = 0, and three
interaction strengths x = (eps_L + U_eff)/eps_L in {2, 0.5, -2}: repulsive
(x = 2, U_eff = +1), attractive without level swap (x = 0.5, U_eff = -0.5)
and attractive with level swap (x = -2, U_eff = -3).  Every figure and the
report state the parameters they used.

An interaction U_eff = U - J/4 is realised with the non-negative couplings
``U = max(U_eff, 0)`` and ``J = max(-4 U_eff, 0)`` (see :func:`interaction`).

Units: k_B = hbar = e = 1; energies in the energy unit, Gamma in the rate
unit; forces F~_E = eps_L F_E and F_N are dimensionless.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["PaperConfig", "QUICK", "interaction", "load_toml", "parse_set"]


@dataclass(frozen=True)
class PaperConfig:
    """All parameters of the paper reproduction (defaults = the full run).

    **Physical parameters** (energy unit, rate unit; k_B = 1)::

        eps_L, eps_R : level energies of dots L and R (eps_L > 0).
        gamma : tunnel coupling of every lead (the paper: all equal).
        T_b, mu_b : temperature and chemical potential of the reference leads b and r
            (T_r = T_b, so the non-parallel force F_R vanishes).
        x_values : the scaled interaction x = (eps_L + U_eff)/eps_L of the figures.

    **Force windows** (dimensionless F~_E = eps_L F_E, F_N; F~_E < eps_L/T_b)::

        fe_max, fn_max, n_plane : first-quadrant window and grid of FIG. 5 / devices.
        quad_fe, quad_fn, n_quad : half-widths and grid of FIG. 3 (all four quadrants).
        line_fe_max, line_fn_max, n_line : the two cuts of FIG. 4.
        cond_x_min, cond_x_max, n_cond_x, cond_eps_R, n_cond_grid : the x scan of
            the ICC-condition figure: fraction of the FIG. 5 window (both forces
            > 0, ``(n_cond_grid - 1)**2`` points) showing ICC, for each eps_R of
            ``cond_eps_R``.
        thr_eps_R_min, thr_eps_R_max, n_thr_eps_R, n_cond_line : the (x, eps_R)
            map of where pseudo-ICC occurs on the two FIG. 4 cuts
            (``n_cond_line - 1`` points per cut, forces > 0).
        suff_x_max : sufficiency check: every scanned x <= suff_x_max (< 0) must
            show ICC for at least one eps_R of ``cond_eps_R``.
        n_edge_scan, n_edge_grid, n_edge_eps_R, edge_tol, edge_small : the exact
            ICC edges (:func:`qdthermo.design.conditions.icc_edges`): x points of the
            scan on [cond_x_min, 0], window points per axis, eps_R points of the
            edge curves (on [thr_eps_R_min, thr_eps_R_max], plus ``cond_eps_R`` and
            ``eps_R``), bisection tolerance in x, and the fraction of the window of
            the second, smaller window (to show which edges move with the window).
        n_random, seed : random-parameter scan (necessity of x < 0, non-overlap,
            Carnot bounds): ``n_random`` points with x > 0 and as many with x < 0.

    **Numerics**::

        force_tol, flux_tol : relative tolerances of "zero" in the regime
            classification (:meth:`qdthermo.SteadyState.classify`).
        tol_sigma, tol_agree, tol_conservation : thresholds of the claim checks.
        dpi, vector_format : figure output.
    """

    # physics
    eps_L: float = 1.0
    eps_R: float = 1.0
    gamma: float = 1.0
    T_b: float = 1.0
    mu_b: float = 0.0
    x_values: tuple[float, ...] = (2.0, 0.5, -2.0)
    # FIG. 5 / devices window
    fe_max: float = 0.9
    fn_max: float = 2.0
    n_plane: int = 201
    # FIG. 3 window (four quadrants)
    quad_fe: float = 0.9
    quad_fn: float = 2.0
    n_quad: int = 161
    # FIG. 4 cuts
    line_fe_max: float = 0.95
    line_fn_max: float = 6.0
    n_line: int = 301
    # conditions scan
    cond_x_min: float = -4.0
    cond_x_max: float = 3.0
    n_cond_x: int = 141
    cond_eps_R: tuple[float, ...] = (-4.0, -2.0, 0.0, 1.0, 2.0)
    n_cond_grid: int = 51
    thr_eps_R_min: float = -4.0
    thr_eps_R_max: float = 3.0
    n_thr_eps_R: int = 57
    n_cond_line: int = 61
    suff_x_max: float = -0.1
    # exact edges
    n_edge_scan: int = 41
    n_edge_grid: int = 21
    n_edge_eps_R: int = 29
    edge_tol: float = 1e-5
    edge_small: float = 0.5
    # random scan
    n_random: int = 20000
    seed: int = 0
    # numerics
    force_tol: float = 1e-9
    flux_tol: float = 1e-9
    tol_sigma: float = 1e-12
    tol_agree: float = 1e-9
    tol_conservation: float = 1e-12
    # output
    dpi: int = 120
    vector_format: str = "svg"
    quick: bool = field(default=False)

    def __post_init__(self) -> None:
        problems = []
        if not self.eps_L > 0:
            problems.append(f"eps_L must be > 0 (the paper's convention), got {self.eps_L!r}")
        if not self.gamma > 0:
            problems.append(f"gamma must be > 0, got {self.gamma!r}")
        if not self.T_b > 0:
            problems.append(f"T_b must be > 0, got {self.T_b!r}")
        limit = self.eps_L / self.T_b
        for name in ("fe_max", "quad_fe", "line_fe_max"):
            v = getattr(self, name)
            if not 0 < v < limit:
                problems.append(f"{name} must lie in (0, eps_L/T_b = {limit:g}) (F~_E < eps_L/T_b keeps "
                                f"T_t positive), got {v!r}")
        for name in ("fn_max", "quad_fn", "line_fn_max"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.edge_tol <= 1e-4:
            problems.append(f"edge_tol must lie in (0, 1e-4], got {self.edge_tol!r}")
        if not 0 < self.edge_small < 1:
            problems.append(f"edge_small must lie in (0, 1), got {self.edge_small!r}")
        for name in ("n_plane", "n_quad", "n_line", "n_cond_x", "n_cond_grid", "n_thr_eps_R", "n_cond_line",
                     "n_edge_scan", "n_edge_grid", "n_edge_eps_R"):
            if getattr(self, name) < 5:
                problems.append(f"{name} must be >= 5, got {getattr(self, name)!r}")
        if self.n_random < 0:
            problems.append(f"n_random must be >= 0, got {self.n_random!r}")
        if not self.x_values:
            problems.append("x_values must name at least one x")
        if not self.cond_x_min < self.cond_x_max:
            problems.append(f"cond_x_min < cond_x_max required, got {self.cond_x_min!r}, {self.cond_x_max!r}")
        if not self.cond_eps_R:
            problems.append("cond_eps_R must name at least one eps_R")
        if not self.thr_eps_R_min < self.thr_eps_R_max:
            problems.append(f"thr_eps_R_min < thr_eps_R_max required, got {self.thr_eps_R_min!r}, "
                            f"{self.thr_eps_R_max!r}")
        if not self.suff_x_max < 0:
            problems.append(f"suff_x_max must be < 0, got {self.suff_x_max!r}")
        for name in ("force_tol", "flux_tol", "tol_sigma", "tol_agree", "tol_conservation"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                problems.append(f"{name} must be finite and >= 0, got {v!r}")
        if self.dpi < 20:
            problems.append(f"dpi must be >= 20, got {self.dpi!r}")
        if self.vector_format not in ("svg", "pdf"):
            problems.append(f"vector_format must be 'svg' or 'pdf', got {self.vector_format!r}")
        for name in ("x_values", "cond_eps_R"):
            if not all(math.isfinite(v) for v in getattr(self, name)):
                problems.append(f"{name} must hold finite numbers, got {list(getattr(self, name))!r}")
        for name in ("eps_L", "eps_R", "gamma", "T_b", "mu_b", "fe_max", "fn_max", "quad_fe", "quad_fn",
                     "line_fe_max", "line_fn_max", "cond_x_min", "cond_x_max", "suff_x_max",
                     "thr_eps_R_min", "thr_eps_R_max"):
            if not math.isfinite(getattr(self, name)):
                problems.append(f"{name} must be finite, got {getattr(self, name)!r}")
        if problems:
            raise ValueError("invalid paper configuration: " + "; ".join(problems))

    # ------------------------------------------------------------- derived
    def replace(self, **changes: Any) -> "PaperConfig":
        """A copy with ``changes`` applied (validated and type-coerced)."""
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    def as_dict(self) -> dict[str, Any]:
        """Every parameter by name (tuples as lists)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}

    def to_toml(self) -> str:
        """The configuration as a TOML document that ``--config`` reads back."""
        lines = ["# qdthermo paper configuration (reload with: qdthermo paper --config FILE)"]
        for k, v in self.as_dict().items():
            lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"

    def base_text(self, *, eps_R: bool = True) -> str:
        """One line stating the fixed parameters (for figure captions); ``eps_R=False`` leaves eps_R out."""
        e_R = f"eps_R = {self.eps_R:g}, " if eps_R else ""
        return (f"eps_L = {self.eps_L:g}, {e_R}Gamma = {self.gamma:g} (all leads), "
                f"T_b = T_r = {self.T_b:g}, mu_b = mu_r = {self.mu_b:g}, F_R = 0; k_B = hbar = e = 1")

    def x_text(self, x: float) -> str:
        """``x = .. (U_eff = ..; U = .., J = ..)`` for one x."""
        U_eff, U, J = (float(v) for v in interaction(x, self.eps_L))
        return f"x = {x:g} (U_eff = {U_eff:g}; U = {U:g}, J = {J:g})"


#: overrides of ``--quick`` (CI): small grids, same physics
QUICK: Mapping[str, Any] = {
    "n_plane": 41, "n_quad": 41, "n_line": 61, "n_cond_x": 29, "n_cond_grid": 25,
    "n_thr_eps_R": 15, "n_cond_line": 25, "n_random": 2000, "n_edge_scan": 21, "n_edge_grid": 9,
    "n_edge_eps_R": 8, "edge_tol": 1e-4, "dpi": 80, "quick": True,
}


def interaction(x: ArrayLike, eps_L: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """``(U_eff, U, J)`` realising ``x = (eps_L + U_eff)/eps_L`` with ``U, J >= 0``.

    ``U_eff = (x - 1) eps_L``; repulsive interactions use the Coulomb term
    (``U = U_eff, J = 0``), attractive ones the exchange (``U = 0, J = -4 U_eff``,
    since U_eff = U - J/4).
    """
    x_arr = np.asarray(x, dtype=float)
    U_eff = (x_arr - 1.0) * np.asarray(eps_L, dtype=float)
    U = np.where(U_eff >= 0, U_eff, 0.0)
    J = np.where(U_eff < 0, -4.0 * U_eff, 0.0)
    return U_eff, U, J


# ---------------------------------------------------------------- parsing
def _field_types() -> dict[str, Any]:
    return {f.name: f.default for f in fields(PaperConfig)}


def _coerce(name: str, value: Any) -> Any:
    defaults = _field_types()
    if name not in defaults:
        raise ValueError(f"unknown parameter {name!r}; allowed: {', '.join(sorted(defaults))}")
    default = defaults[name]
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes"):
                    return True
                if value.lower() in ("false", "0", "no"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, tuple):
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(float(v) for v in items)
        if isinstance(default, int):
            f = float(value)
            if f != int(f):
                raise ValueError(value)
            return int(f)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        kind = "list of numbers" if isinstance(default, tuple) else type(default).__name__
        raise ValueError(f"parameter {name!r} needs a {kind}, got {value!r}") from None


def parse_set(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``--set NAME=VALUE`` strings with the parameter language of qdthermo.

    Values in TOML syntax (``x_values=[2,-2]``) or plain numbers
    (:func:`qdthermo.model.parameters.parse_text_value`); each value is
    checked on its own (finite; the physical parameters against the ranges
    of the coupled-transport preset), so an error names only what was set.
    """
    from qdthermo.model.parameters import parse_assignments

    return {name: _checked(name, value) for name, value in parse_assignments(items, "--set")}


def load_toml(path: str | Path) -> dict[str, Any]:
    """Parameters from a TOML file: top-level keys or a ``[paper]`` table (checked as in :func:`parse_set`)."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    if "paper" in data and isinstance(data["paper"], dict):
        data = data["paper"]
    return {k: _checked(k, v) for k, v in data.items()}


#: physical parameters of the paper -> the coupled-transport preset parameter whose range they obey
_PRESET_PARAMETER = {"eps_L": "eps_L", "eps_R": "eps_R", "gamma": "gamma", "T_b": "T_ref", "mu_b": "mu_ref"}


def _checked(name: str, value: Any) -> Any:
    """``value`` coerced to the field's type, finite, and within the preset's range for physical parameters."""
    from qdthermo.model.registry import REGISTRY, format_value

    coerced = _coerce(name, value)
    items = coerced if isinstance(coerced, tuple) else (coerced,)
    for v in items:
        if isinstance(v, float) and not math.isfinite(v):
            shown = format_value(list(items)) if isinstance(coerced, tuple) else format_value(v)
            raise ValueError(f"{name} = {shown}: must be a finite number")
    if name in _PRESET_PARAMETER:
        REGISTRY["coupled_transport"][_PRESET_PARAMETER[name]].check(coerced, name)
    return coerced


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, int):
        return str(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

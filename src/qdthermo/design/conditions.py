"""Exact conditions for inverse current in coupled transport: Onsager sign edges and ICC edges.

Two questions about the two-force device of :func:`qdthermo.coupled_transport`
(fluxes J_N, J_E of lead t; forces F_N, F_E), answered along one parameter
(by default the scaled interaction ``x = (eps_L + U_eff)/eps_L``):

* :func:`onsager_sign_edge` -- where an Onsager coefficient (by default the
  cross-coefficient L_NE = L_EN) changes sign: the *linear-response* edge.
* :func:`icc_edges` -- where genuine ICC (or pseudo-ICC) of a flux appears or
  disappears inside a given *finite* force window, per quadrant
  (Q1: both forces > 0; Q3: both forces < 0): the *nonlinear* edges.

The linear-response edge (PHYSICS.md section 8, docs/physics.md)
-----------------------------------------------------------------
Near equilibrium ``J_i = L_ii F_i + L_ij F_j``.  With both forces of one sign
s (``F_i = s a``, ``F_j = s b``, a, b >= 0) the flux runs against its own
force (``s J_i < 0``) for some small (a, b) if and only if ``L_ij < 0``
(take a -> 0, b > 0; ``L_ii >= 0`` by the second law).  So near equilibrium
ICC of J_N and of J_E, in Q1 and in Q3 alike, exists exactly where
``L_NE < 0``.  For the paper's device with Gamma_t = Gamma_b

    L_NE = (phi_12 w_12 + phi_34 w_34) / 2 = eps_L (phi_12 + x phi_34) / 2,

where phi_12 = k^+_t(w_12) P_00 and phi_34 = k^+_t(w_34) P_01 are the
equilibrium one-way fluxes of lead t on dot L's two transitions (dot R empty:
w_12 = eps_L; dot R full: w_34 = x eps_L); see :func:`cross_coefficient_closed_form`.
L_NE changes sign at the root x0 of ``x = -phi_12(x)/phi_34(x)``.  With the
Gibbs populations at equilibrium, ``P_01/P_00 = exp(-(eps_R - mu)/T)`` does
not depend on x, and with k^+_t(w) = Gamma_t f((w - mu)/T) the edge solves

    x f((x eps_L - mu)/T) = -exp((eps_R - mu)/T) f((eps_L - mu)/T),

whose left side increases monotonically for x < 0: one root, x0 < 0 always.

Why L_NE < 0 is sufficient but not necessary
--------------------------------------------
Far from equilibrium the flux is not linear in the forces:
``J_i = L_ii F_i + L_ij F_j + (1/2) sum_kl M_ikl F_k F_l + ...``.  The
second-order terms come from the force dependence of the Fermi factors of lead
t (its temperature and chemical potential move with the forces) and from the
steady populations that follow them.  Where ``L_NE > 0`` but small, a
second-order term ``M_ijj F_j^2 / 2`` of the opposite sign outweighs
``L_ij F_j`` once ``|F_j| > 2 L_ij / |M_ijj|``: ICC appears at finite forces
only.  Example (tested): at eps_R = 2, x = -2 (eps_L = T = Gamma = 1, mu = 0)
``L_NE = 0.0061 > 0`` (x0(2) = -2.2061 < x) but ``M = d^2 J_N / dF_E^2 = -0.050``
at F = 0, so J_N(F_E, F_N = 0) turns negative near ``F_E = -2 L_NE / M = 0.24``
(measured there: as T_t grows both Fermi factors of lead t tend to 1/2, the one of the
transition w_34 = -2 falls further (0.88 -> 0.5) than the one of w_12 = +1 rises
(0.27 -> 0.5), and P_01 grows (0.054 at F~_E = 0, 0.10 at 0.9) while P_00 falls: the
outflow into lead t through w_34 outgrows the inflow through w_12); with a small
F_N > 0 that is genuine ICC.  Such an edge moves with the window (at eps_R = 2 the J_N edge in
Q1 moves with the upper limit of F~_E), while an edge where L_NE changes sign
(eps_R <= 1 in Q1) does not.

Units: k_B = hbar = e = 1; F~_E = eps_L F_E and F_N are dimensionless; fluxes
are compared in units of Gamma (J_N) and Gamma eps_L (J_E).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo.model.presets import coupled_transport
from qdthermo.thermo.onsager import linear_response
from qdthermo.thermo.solver import solve

__all__ = ["Edge", "IccEdges", "cross_coefficient_closed_form", "icc_edges", "onsager_sign_edge",
           "onsager_sign_edge_closed_form", "paper_device"]

Array = NDArray[np.float64]

#: the parameters of :func:`paper_device` (one may be the ``along`` parameter of the edge finders)
PARAMETERS = ("x", "eps_R", "eps_L", "T_ref", "mu_ref", "gamma")


def paper_device(F_E_scaled: ArrayLike = 0.0, F_N: ArrayLike = 0.0, *, x: ArrayLike = -2.0, eps_R: ArrayLike = 1.0,
                 eps_L: ArrayLike = 1.0, T_ref: ArrayLike = 1.0, mu_ref: ArrayLike = 0.0,
                 gamma: ArrayLike = 1.0) -> Any:
    """The paper's two-force device at scaled forces: F~_E = eps_L F_E, F_N, and x = (eps_L + U_eff)/eps_L.

    ``U_eff = (x - 1) eps_L`` is realised with ``U = max(U_eff, 0)``, ``J = max(-4 U_eff, 0)``
    (U_eff = U - J/4); every lead has coupling ``gamma``.  All arguments broadcast.

    Parameters
    ----------
    F_E_scaled
        Scaled energy force F~_E = eps_L F_E [1].
    F_N
        Particle force [1].
    x
        Scaled interaction [1].
    eps_R, eps_L
        Levels of dots R and L [energy].
    T_ref, mu_ref
        Temperature and chemical potential of the reference leads b and r [energy].
    gamma
        Tunnel coupling of every lead [rate].

    Returns
    -------
    Device
        The :func:`qdthermo.coupled_transport` device.
    """
    eL = np.asarray(eps_L, dtype=float)
    U_eff = (np.asarray(x, dtype=float) - 1.0) * eL
    return coupled_transport(np.asarray(F_E_scaled, dtype=float) / eL, F_N, eps_L=eL, eps_R=eps_R,
                             U=np.where(U_eff >= 0, U_eff, 0.0), J=np.where(U_eff < 0, -4.0 * U_eff, 0.0),
                             T_ref=T_ref, mu_ref=mu_ref, gamma=gamma)


def _params(fixed: Mapping[str, ArrayLike]) -> dict[str, Any]:
    unknown = set(fixed) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; allowed: {', '.join(PARAMETERS)}")
    return dict(fixed)


# ---------------------------------------------------------------- linear response
def cross_coefficient_closed_form(x: ArrayLike, eps_R: ArrayLike = 1.0, *, eps_L: ArrayLike = 1.0,
                                  T_ref: ArrayLike = 1.0, mu_ref: ArrayLike = 0.0,
                                  gamma: ArrayLike = 1.0) -> tuple[Array, Array, Array]:
    """``(L_NE, phi_12, phi_34)`` from the equilibrium one-way fluxes of lead t (Gamma_t = Gamma_b).

    ``phi_12 = k^+_t(eps_L) P_00`` (dot R empty), ``phi_34 = k^+_t(x eps_L) P_01`` (dot R full),
    read from :func:`qdthermo.solve` of the device with both forces zero, and
    ``L_NE = eps_L (phi_12 + x phi_34) / 2``.  Batch-shaped like the broadcast inputs.

    Parameters
    ----------
    x
        Scaled interaction ``(eps_L + U_eff)/eps_L`` [1].
    eps_R, eps_L
        Levels of dots R and L [energy].
    T_ref, mu_ref
        Temperature and chemical potential of every lead at equilibrium [energy].
    gamma
        Tunnel coupling of every lead [rate].

    Returns
    -------
    tuple of numpy.ndarray
        ``L_NE`` [rate x energy], ``phi_12`` and ``phi_34`` [rate].
    """
    res = solve(paper_device(0.0, 0.0, x=x, eps_R=eps_R, eps_L=eps_L, T_ref=T_ref, mu_ref=mu_ref, gamma=gamma))
    s, P = res.system, res.populations
    labels = list(s.state_labels)
    on_t = s.channel_lead == s.lead_names.index("t")
    phi = {}
    for (i, j), name in (((labels.index("00"), labels.index("10")), "12"),
                         ((labels.index("01"), labels.index("11")), "34")):
        c = np.flatnonzero(on_t & (s.channel_initial == i) & (s.channel_final == j))
        phi[name] = np.asarray(res.rates.plus[..., c[0]] * P[..., i])
    eL = np.asarray(eps_L, dtype=float)
    L = 0.5 * eL * (phi["12"] + np.asarray(x, dtype=float) * phi["34"])
    return np.asarray(L), phi["12"], phi["34"]


def _fermi(z: Array) -> Array:
    return np.asarray(0.5 * (1.0 - np.tanh(0.5 * z)))


def onsager_sign_edge_closed_form(eps_R: ArrayLike = 1.0, *, eps_L: ArrayLike = 1.0, T_ref: ArrayLike = 1.0,
                                  mu_ref: ArrayLike = 0.0, tol: float = 1e-12) -> Array:
    """x0 from ``x f((x eps_L - mu)/T) = -exp((eps_R - mu)/T) f((eps_L - mu)/T)`` (vectorised bisection).

    The closed form of ``x0 = -phi_12/phi_34`` with Gibbs populations
    (``P_01/P_00 = exp(-(eps_R - mu)/T)``) and ``k^+_t(w) = Gamma f((w - mu)/T)``
    (f the Fermi function).  The left side increases monotonically on x < 0 and
    vanishes at x = 0, so the root is unique and negative; the bracket
    ``[lo, 0]`` starts at ``lo = 2 rhs - 1`` and is doubled until it holds the root.

    Parameters
    ----------
    eps_R, eps_L
        Levels of dots R and L [energy].
    T_ref, mu_ref
        Temperature and chemical potential of every lead at equilibrium [energy].
    tol
        Bisection tolerance in x.

    Returns
    -------
    numpy.ndarray
        x0 < 0, of the broadcast shape of the inputs.
    """
    eR, eL, T, mu = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (eps_R, eps_L, T_ref, mu_ref)))
    rhs = -np.exp((eR - mu) / T) * _fermi((eL - mu) / T)

    def g(x: Array) -> Array:
        return np.asarray(x * _fermi((x * eL - mu) / T) - rhs)

    lo = 2.0 * rhs - 1.0
    while np.any(bad := g(lo) > 0):
        lo = np.where(bad, 2.0 * lo, lo)
    hi = np.zeros_like(lo)
    return _bisect(g, lo, hi, tol)


def _bisect(g: Any, lo: Array, hi: Array, tol: float) -> Array:
    """Vectorised bisection of ``g`` on brackets with ``g(lo) <= 0 < g(hi)`` or the reverse; to ``tol`` (abs/rel)."""
    g_lo = g(lo)
    while True:
        width = np.abs(hi - lo)
        if np.all(width <= tol * np.maximum(1.0, np.abs(lo))):
            return np.asarray(0.5 * (lo + hi))
        mid = 0.5 * (lo + hi)
        g_mid = g(mid)
        same = np.sign(g_mid) == np.sign(g_lo)
        lo, g_lo = np.where(same, mid, lo), np.where(same, g_mid, g_lo)
        hi = np.where(same, hi, mid)


def onsager_sign_edge(eps_R: ArrayLike = 1.0, *, flux: str = "J_N", force: str = "F_E", along: str = "x",
                      bracket: tuple[ArrayLike, ArrayLike] | None = None, tol: float = 1e-10,
                      **fixed: ArrayLike) -> Array:
    """Where the exact Onsager coefficient ``L[flux, force]`` changes sign along one parameter.

    Parameters
    ----------
    eps_R
        Level of dot R; an array gives one edge per value (batch).
    flux, force
        The coefficient, labels of :func:`qdthermo.linear_response` (default the cross-coefficient L_NE).
    along
        The parameter that varies (one of ``x, eps_R, eps_L, T_ref, mu_ref, gamma``; default ``x``).
    bracket
        ``(lo, hi)`` with a sign change of the coefficient between them (broadcast with the batch).
        Default for ``along="x"`` and L_NE: ``(lo, 0)`` with lo from the closed-form bound
        (L_NE(0) = eps_L phi_12 / 2 > 0); otherwise required.
    tol
        Absolute (relative above 1) width of the final bracket; the edge is its midpoint.
    **fixed
        The other parameters of :func:`paper_device` (scalars or arrays broadcasting with ``eps_R``).

    Returns
    -------
    ndarray
        The edge per batch point; NaN where the bracket holds no sign change.

    Notes
    -----
    Each step of the vectorised bisection evaluates the coefficient exactly
    (:func:`qdthermo.linear_response`, from the generator) for the whole batch in
    one call.  For L_NE along x the result equals the root of the closed form
    (:func:`onsager_sign_edge_closed_form`) to the tolerance.
    """
    params = _params({"eps_R": eps_R, **fixed})
    if along not in PARAMETERS:
        raise ValueError(f"along must be one of {', '.join(PARAMETERS)}, got {along!r}")
    params.pop(along, None)
    if bracket is None:
        if along != "x" or (flux, force) not in (("J_N", "F_E"), ("J_E", "F_N")):
            raise ValueError("bracket is required unless the edge of L_NE is sought along x")
        x0 = onsager_sign_edge_closed_form(params["eps_R"], eps_L=params.get("eps_L", 1.0),
                                           T_ref=params.get("T_ref", 1.0), mu_ref=params.get("mu_ref", 0.0))
        bracket = (np.minimum(2.0 * x0 - 1.0, -1.0), np.zeros_like(x0))
    lo, hi = np.broadcast_arrays(*(np.asarray(b, dtype=float) for b in bracket), *(
        np.asarray(v, dtype=float) for v in params.values()))[:2]

    def g(v: Array) -> Array:
        lr = linear_response(paper_device(0.0, 0.0, **{along: v}, **params))
        return np.broadcast_to(np.asarray(lr.coefficient(flux, force)), v.shape)

    g_lo, g_hi = g(lo), g(hi)
    ok = np.sign(g_lo) * np.sign(g_hi) < 0
    edge = _bisect(g, lo, hi, tol)
    return np.asarray(np.where(ok, edge, np.nan))


# ---------------------------------------------------------------- nonlinear edges in a force window
@dataclass(frozen=True)
class Edge:
    """One edge: ICC (or pseudo-ICC) of ``flux`` in ``quadrant`` appears on one side of ``value``.

    Attributes
    ----------
    batch
        Index of the batch point (of the broadcast fixed parameters).
    flux, quadrant, kind
        ``"J_N"``/``"J_E"``, ``"Q1"``/``"Q3"``, ``"icc"``/``"pseudo"``.
    value
        The edge along the parameter (midpoint of the final bracket, width <= tol).
    present_below
        True when the effect exists just below ``value`` (and not just above).
    F_E_scaled, F_N
        Where in the window the sign-normalised flux is most negative on the side
        with the effect, at the end of the bisection: where the effect first appears.
    depth
        That minimum of ``s J`` (units Gamma or Gamma eps_L); NaN where the grid saw none
        (the effect then exists only at forces below the grid's resolution, L_ij < 0).
    near_equilibrium
        True when the cross-coefficient L_ij changes sign inside the final bracket: the edge
        is the linear-response edge (the effect closes onto the origin of the force plane)
        and does not depend on the window.
    """

    batch: int
    flux: str
    quadrant: str
    kind: str
    value: float
    present_below: bool
    F_E_scaled: float
    F_N: float
    depth: float
    near_equilibrium: bool


@dataclass(frozen=True)
class IccEdges:
    """Result of :func:`icc_edges`: the edges found, the scan behind them and the window searched."""

    along: str
    edges: list[Edge]
    scan: Array
    present: Mapping[tuple[str, str], NDArray[np.bool_]]
    window: Mapping[str, tuple[float, float]]
    kind: str
    tol: float
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def find(self, flux: str, quadrant: str, batch: int = 0) -> list[Edge]:
        """The edges of one flux and quadrant (one batch point), in increasing order."""
        return sorted((e for e in self.edges if e.flux == flux and e.quadrant == quadrant and e.batch == batch),
                      key=lambda e: e.value)


_SIGN = {"Q1": 1.0, "Q3": -1.0}
_UNIT = {"J_N": "Gamma", "J_E": "Gamma eps_L"}


def _cross(values: Array, params: Mapping[str, Array], along: str, fluxes: Sequence[str]) -> dict[str, Array]:
    """The exact cross-coefficient L_ij of each flux (L_NE for J_N, L_EN for J_E) at the points ``values``."""
    p = {k: np.asarray(v) for k, v in params.items()}
    p[along] = values
    lr = linear_response(paper_device(0.0, 0.0, **p))
    return {f: np.broadcast_to(np.asarray(lr.coefficient(f, "F_E" if f == "J_N" else "F_N")), values.shape)
            for f in fluxes}


def _zoom_min(values: Array, params: Mapping[str, Array], along: str, flux: str, quad: str, fe_max: float,
              fn_max: float, n_grid: int, kind: str, refine: int, stop_below: float | None = None,
              first: Array | None = None) -> tuple[Array, Array, Array]:
    """Minimum of s J over the window per point by grid + ``refine`` zoom steps: ``(min, a, b)`` (a, b in [0, 1]).

    With ``stop_below``, a point whose minimum so far is below it leaves the
    zoom (every later step only lowers the minimum, so the point is decided:
    its minimum is below ``stop_below``); its entries are then the minimum so
    far, not the refined one.  Without it every point is refined fully.
    ``first``: the ``(m, n_grid**2)`` values on the first grid, if already
    solved (:func:`_first_grids`: one solve gives both fluxes there).
    """
    m = values.shape[0]
    s = _SIGN[quad]
    u = np.linspace(0.0, 1.0, n_grid)
    if kind == "icc":
        uu, vv = np.meshgrid(u, u, indexing="ij")
        a, b = np.broadcast_to(uu.ravel(), (m, n_grid * n_grid)), np.broadcast_to(vv.ravel(), (m, n_grid ** 2))
    elif flux == "J_N":  # own force F_N = 0: the line in F~_E
        a, b = np.broadcast_to(u, (m, n_grid)), np.zeros((m, n_grid))
    else:
        a, b = np.zeros((m, n_grid)), np.broadcast_to(u, (m, n_grid))
    a, b = np.array(a), np.array(b)
    best_a, best_b, best = np.zeros(m), np.zeros(m), np.full(m, np.inf)
    live = np.arange(m)  # the points still refined
    h_a = h_b = 1.0 / (n_grid - 1)
    for step in range(refine + 1):
        val = first if step == 0 and first is not None else _fluxes(
            values[live], {k: np.asarray(v)[live] for k, v in params.items()}, along, s * fe_max * a,
            s * fn_max * b, (flux,), s)[flux]
        k = np.argmin(val, axis=1)
        rows = np.arange(live.size)
        best_a[live], best_b[live], best[live] = a[rows, k], b[rows, k], val[rows, k]
        if step == refine:
            break
        keep = np.ones(live.size, dtype=bool) if stop_below is None else ~(best[live] < stop_below)
        live = live[keep]
        if live.size == 0:
            break
        # zoom: n_grid points (per free direction) over +-1 cell of the best point, clipped to the window
        loc = np.linspace(-1.0, 1.0, n_grid)
        da = loc * h_a if (kind == "icc" or flux == "J_N") else np.zeros(1)
        db = loc * h_b if (kind == "icc" or flux == "J_E") else np.zeros(1)
        A, B = np.meshgrid(da, db, indexing="ij")
        a = np.clip(best_a[live][:, None] + A.ravel()[None, :], 0.0, 1.0)
        b = np.clip(best_b[live][:, None] + B.ravel()[None, :], 0.0, 1.0)
        h_a, h_b = 2 * h_a / (n_grid - 1), 2 * h_b / (n_grid - 1)
    return best, best_a, best_b


def _min_flux(values: Array, params: Mapping[str, Array], along: str, fluxes: Sequence[str], quadrants: Sequence[str],
              fe_max: float, fn_max: float, n_grid: int, kind: str, refine: int
              ) -> dict[tuple[str, str], tuple[Array, Array, Array, Array]]:
    """Minimum of s J over the window per point: ``{(flux, quad): (min, F~_E, F_N, L_ij)}``.

    ``values`` and every entry of ``params`` have one shape (m,).  The grid
    covers the closed window ``s [0, fe_max] x s [0, fn_max]`` (kind "icc") or
    the face where the flux's own force vanishes (kind "pseudo"); then
    ``refine`` zoom steps re-grid ``n_grid`` points over +-1 cell around the best point.
    L_ij is the exact cross-coefficient of the flux (L_NE for J_N, L_EN for J_E).
    """
    out: dict[tuple[str, str], tuple[Array, Array, Array, Array]] = {}
    cross = _cross(values, params, along, fluxes)
    everywhere = {f: np.arange(values.shape[0]) for f in fluxes}
    for quad in quadrants:
        s = _SIGN[quad]
        first = _first_grids(values, params, along, fluxes, quad, fe_max, fn_max, n_grid, kind, everywhere)
        for flux in fluxes:
            best, best_a, best_b = _zoom_min(values, params, along, flux, quad, fe_max, fn_max, n_grid, kind, refine,
                                             first=first.get(flux))
            out[(flux, quad)] = (best, s * fe_max * best_a, s * fn_max * best_b, np.asarray(cross[flux]))
    return out


def _first_grids(values: Array, params: Mapping[str, Array], along: str, fluxes: Sequence[str], quad: str,
                 fe_max: float, fn_max: float, n_grid: int, kind: str,
                 todo: Mapping[str, NDArray[np.intp]]) -> dict[str, Array]:
    """The first (whole-window) grid of kind "icc" for every flux, from ONE solve: ``{flux: (len(todo[flux]), n)}``.

    The fluxes share that grid (only the zoom steps follow each flux's own minimum), so it is
    solved once over the union of the points ``todo[flux]`` each flux needs; empty for kind
    "pseudo" (each flux has its own face) or a single flux.
    """
    if kind != "icc" or len(fluxes) < 2:
        return {}
    union = np.unique(np.concatenate([todo[f] for f in fluxes]))
    if union.size == 0:
        return {}
    s = _SIGN[quad]
    u = np.linspace(0.0, 1.0, n_grid)
    uu, vv = np.meshgrid(u, u, indexing="ij")
    a = np.broadcast_to(uu.ravel(), (union.size, n_grid * n_grid))
    b = np.broadcast_to(vv.ravel(), (union.size, n_grid * n_grid))
    vals = _fluxes(values[union], {k: np.asarray(v)[union] for k, v in params.items()}, along, s * fe_max * a,
                   s * fn_max * b, fluxes, s)
    return {f: vals[f][np.searchsorted(union, todo[f])] for f in fluxes}


def _exists(values: Array, params: Mapping[str, Array], along: str, fluxes: Sequence[str], quadrants: Sequence[str],
            fe_max: float, fn_max: float, n_grid: int, kind: str, refine: int, flux_tol: float,
            cross: Mapping[str, Array] | None = None) -> dict[tuple[str, str], NDArray[np.bool_]]:
    """Whether the effect exists per point: ``min s J < -flux_tol or L_ij < 0`` (the minimum of :func:`_min_flux`).

    Decided with as few solves as possible, to the same answer: a point with
    L_ij < 0 needs no grid, and a point whose grid minimum is already below
    ``-flux_tol`` skips the remaining zoom steps (they only lower the minimum).
    ``cross``: the :func:`_cross` coefficients at these points, if known.
    """
    if cross is None:
        cross = _cross(values, params, along, fluxes)
    todo = {f: np.flatnonzero(~(cross[f] < 0)) for f in fluxes}
    out: dict[tuple[str, str], NDArray[np.bool_]] = {}
    for quad in quadrants:
        first = _first_grids(values, params, along, fluxes, quad, fe_max, fn_max, n_grid, kind, todo)
        for flux in fluxes:
            has = np.asarray(cross[flux] < 0).copy()
            rows = todo[flux]
            if rows.size:
                sub = {k: np.asarray(v)[rows] for k, v in params.items()}
                best = _zoom_min(values[rows], sub, along, flux, quad, fe_max, fn_max, n_grid, kind, refine,
                                 stop_below=-flux_tol, first=first.get(flux))[0]
                has[rows] = best < -flux_tol
            out[(flux, quad)] = has
    return out


def _fluxes(values: Array, params: Mapping[str, Array], along: str, fe: Array, fn: Array, fluxes: Sequence[str],
            s: float) -> dict[str, Array]:
    """``s J`` of lead t on the (m, n) force points (J_N / Gamma, J_E / (Gamma eps_L)), each flux of one solve."""
    p = {k: np.asarray(v)[:, None] for k, v in params.items()}
    p[along] = values[:, None]
    res = solve(paper_device(fe, fn, **p))
    g = np.broadcast_to(np.asarray(p.get("gamma", 1.0), dtype=float), fe.shape)
    out = {}
    for flux in fluxes:
        if flux == "J_N":
            J = np.asarray(res.particle_current["t"]) / g
        else:
            J = np.asarray(res.energy_current["t"]) / (g * np.abs(np.broadcast_to(p.get("eps_L", 1.0), fe.shape)))
        out[flux] = np.asarray(s * J)
    return out


def icc_edges(span: tuple[float, float] = (-4.0, 0.0), *, along: str = "x", fluxes: Sequence[str] = ("J_N", "J_E"),
              quadrants: Sequence[str] = ("Q1", "Q3"), kind: str = "icc", fe_max: float = 0.9, fn_max: float = 2.0,
              n_scan: int = 41, n_grid: int = 21, refine: int = 2, tol: float = 1e-4, flux_tol: float = 1e-12,
              **fixed: ArrayLike) -> IccEdges:
    """Edges along one parameter where ICC (or pseudo-ICC) of a flux exists in a force window, per quadrant.

    Notes
    -----
    What is computed, exactly:
    For each batch point, flux i in ``fluxes`` and quadrant (sign s = +1 for Q1,
    -1 for Q3) let ``m(p) = min s J_i`` over the closed window
    ``F~_E in s [0, fe_max], F_N in s [0, fn_max]`` (kind ``"icc"``) or over the face
    where the flux's own force vanishes (kind ``"pseudo"``: F_N = 0 for J_N, F_E = 0
    for J_E), at parameter value p.  J_i is the flux of lead t in units of Gamma
    (J_N) or Gamma eps_L (J_E).  The effect *exists* at p when ``m(p) < -flux_tol``.
    Because J_i is continuous and vanishes at the origin, a negative minimum on the
    closed window means ``s J_i < 0`` at points with both forces nonzero nearby:
    genuine ICC in the open quadrant (PHYSICS.md section 8); on the face it is
    pseudo-ICC.  The effect also exists (at arbitrarily small forces, in both
    quadrants) where the exact cross-coefficient L_ij < 0 (:func:`onsager_sign_edge`):
    near the linear-response edge the region closes onto the origin of the force
    plane, below any grid's resolution, so existence is decided by
    ``m(p) < -flux_tol or L_ij(p) < 0``.  m is found on an ``n_grid`` (x ``n_grid``) batched grid, then
    refined by ``refine`` zoom steps (a new ``n_grid`` grid over +-1 cell of the
    best point, each step shrinking the cell by (n_grid - 1)/2).  Existence is
    scanned on ``n_scan`` points of ``span``; each change is bisected (all
    brackets batched in one solve per step) until the bracket is narrower than
    ``tol``.  Limits: an interval of the parameter with (or without) the effect
    that is shorter than one scan step can be missed, and an ICC pocket narrower
    than the refined grid inside the window is not seen unless L_ij < 0.

    Parameters
    ----------
    span
        ``(lo, hi)`` of the parameter ``along``.
    along
        One of ``x, eps_R, eps_L, T_ref, mu_ref, gamma``.
    fluxes, quadrants, kind
        Which fluxes (``"J_N"``, ``"J_E"``), quadrants (``"Q1"``, ``"Q3"``) and effect (``"icc"``, ``"pseudo"``).
    fe_max, fn_max
        Half-window: ``|F~_E| <= fe_max`` (F~_E = eps_L F_E; in Q1 it must stay below
        eps_L / T_ref so that T_t > 0), ``|F_N| <= fn_max``.
    n_scan, n_grid, refine, tol, flux_tol
        Numerics (see above).
    **fixed
        The other parameters of :func:`paper_device`, scalars or 1-D arrays of one
        length (the batch).

    Returns
    -------
    IccEdges
        ``edges`` (list of :class:`Edge`), the ``scan`` values and the existence
        ``present[(flux, quadrant)]`` (batch, n_scan), the ``window`` searched.

    Examples
    --------
    >>> r = icc_edges((-4, 0), eps_R=2.0, quadrants=("Q1",), fluxes=("J_N",))   # doctest: +SKIP
    >>> [(e.value, e.F_E_scaled, e.F_N) for e in r.find("J_N", "Q1")]           # doctest: +SKIP
    """
    if along not in PARAMETERS:
        raise ValueError(f"along must be one of {', '.join(PARAMETERS)}, got {along!r}")
    if kind not in ("icc", "pseudo"):
        raise ValueError(f"kind must be 'icc' or 'pseudo', got {kind!r}")
    for q in quadrants:
        if q not in _SIGN:
            raise ValueError(f"quadrants must be 'Q1' or 'Q3', got {q!r}")
    for f in fluxes:
        if f not in _UNIT:
            raise ValueError(f"fluxes must be 'J_N' or 'J_E', got {f!r}")
    if not (fe_max > 0 and fn_max > 0 and n_scan >= 2 and n_grid >= 3 and tol > 0):
        raise ValueError("fe_max, fn_max, tol must be > 0, n_scan >= 2, n_grid >= 3")
    params = _params(fixed)
    params.pop(along, None)
    arrays = [np.atleast_1d(np.asarray(v, dtype=float)) for v in params.values()]
    nb = int(np.broadcast_shapes(*(a.shape for a in arrays))[0]) if arrays else 1
    batch = {k: np.broadcast_to(a, (nb,)) for k, a in zip(params, arrays)}
    scan = np.linspace(float(span[0]), float(span[1]), n_scan)

    bi = np.repeat(np.arange(nb), n_scan)
    grid = (fe_max, fn_max, n_grid, kind, refine)
    exists = _exists(np.tile(scan, nb), {k: v[bi] for k, v in batch.items()}, along, fluxes, quadrants, *grid,
                     flux_tol)
    present = {key: v.reshape(nb, n_scan) for key, v in exists.items()}
    # every change of existence between neighbouring scan points: one bracket
    brackets = [(key, b, j) for key, pr in present.items() for b in range(nb) for j in range(n_scan - 1)
                if pr[b, j] != pr[b, j + 1]]
    edges: list[Edge] = []
    if brackets:
        lo = np.array([scan[j] for _, _, j in brackets])
        hi = np.array([scan[j + 1] for _, _, j in brackets])
        below = np.array([present[key][b, j] for key, b, j in brackets])
        idx = np.array([b for _, b, _ in brackets])
        # the side with the effect: where its minimum is taken (the last midpoint with the effect, else the
        # scan point on that side); the minima themselves are computed once, at the end
        side = np.array([scan[j] if below[k] else scan[j + 1] for k, (_, _, j) in enumerate(brackets)])
        while np.max(hi - lo) > tol:
            mid = 0.5 * (lo + hi)
            has = np.zeros(len(brackets), dtype=bool)
            cross = _cross(mid, {k: a[idx] for k, a in batch.items()}, along, fluxes)  # one solve for all
            for key in {key for key, _, _ in brackets}:  # one batched decision per (flux, quadrant)
                ks = np.array([k for k, (kk, _, _) in enumerate(brackets) if kk == key])
                sub = {k: v[idx[ks]] for k, v in batch.items()}
                has[ks] = _exists(mid[ks], sub, along, (key[0],), (key[1],), *grid, flux_tol,
                                  cross={key[0]: cross[key[0]][ks]})[key]
            side = np.where(has, mid, side)
            move_lo = has == below  # the midpoint is on the side of lo
            lo, hi = np.where(move_lo, mid, lo), np.where(move_lo, hi, mid)
        best: list[tuple[float, float, float]] = [(np.nan, 0.0, 0.0)] * len(brackets)
        for key in {key for key, _, _ in brackets}:
            ks = np.array([k for k, (kk, _, _) in enumerate(brackets) if kk == key])
            sub = {k: v[idx[ks]] for k, v in batch.items()}
            m_k, fe_k, fn_k, _ = _min_flux(side[ks], sub, along, (key[0],), (key[1],), *grid)[key]
            for i, k in enumerate(ks):
                best[k] = (float(m_k[i]), float(fe_k[i]), float(fn_k[i]))
        # does the cross-coefficient change sign inside the final bracket (the linear-response edge)?
        ends = [_cross(v, {k: a[idx] for k, a in batch.items()}, along, fluxes) for v in (lo, hi)]
        for k, (key, b, _) in enumerate(brackets):
            if not best[k][0] < -flux_tol:  # seen only through L_ij < 0: below the grid's resolution
                best[k] = (np.nan, 0.0, 0.0)
            lin = bool(np.sign(ends[0][key[0]][k]) != np.sign(ends[1][key[0]][k]))
            edges.append(Edge(int(b), key[0], key[1], kind, float(0.5 * (lo[k] + hi[k])), bool(below[k]),
                              best[k][1], best[k][2], best[k][0], lin))
    window = {"F_E_scaled": (0.0, fe_max), "F_N": (0.0, fn_max)}
    return IccEdges(along, edges, scan, present, window, kind, tol, dict(batch))

"""Fused compiled kernels: the steady state and every built-in observable in one pass per point.

For a route with a fused kernel (registered with :func:`register_fused`;
built in: ``"compiled"``), :func:`qdthermo.solve` does not build the rates,
the generator and the observables array by array: one compiled loop over
the points reads the system's per-point parameters (transition energies,
lead temperatures, chemical potentials, couplings), forms the rates, solves
the steady state (the GTH elimination of :mod:`qdthermo.kinetics.compiled`)
and computes, in the same pass, the channel fluxes, the per-lead particle,
energy and heat currents, the entropy production and flow, forces and
conjugate fluxes, both regimes, the performance figures and the current
resolution, with the same formulas (and the same masking of invalid points)
as the NumPy functions of this layer, so both routes agree to round-off.
No ``n_points x n_channels`` temporary is formed; the outputs are the only
large arrays.

The result is an ordinary :class:`~qdthermo.thermo.result.SteadyState`
whose cached properties are seeded with the kernel's arrays; anything else
(rates, rate matrix, cycles, residual, ...) is computed on first access by
the NumPy functions, from rates built lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel, prange
from qdthermo._special import expit
from qdthermo.kinetics.compiled import BLOCK, LazyPauliGenerator, gth_point
from qdthermo.kinetics.network import Network, network
from qdthermo.kinetics.rates import Rates, fermi_argument, rates
from qdthermo.kinetics.steady import Method, _log_gth, _normalise, choose_route, log_rate_matrix
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo.forces import force_basis
from qdthermo.thermo.performance import _X_UNDERFLOW, RESOLUTION_MARGIN, Performance
from qdthermo.thermo.result import SteadyState

__all__ = ["FUSED", "register_fused", "solve_fused", "fused_observables"]

Array = NDArray[np.float64]
Fused = Callable[[Device, System, Network, str], "SteadyState | None"]

#: route name -> ``(device, system, network, route) -> SteadyState`` (None: not applicable, use the NumPy path)
FUSED: dict[str, Fused] = {}

_FI = np.finfo(np.float64)
_EPS, _TINY, _SUB = float(_FI.eps), float(_FI.tiny), float(_FI.smallest_subnormal)
_NEGLIGIBLE = 1e-290  # as thermo.entropy._NEGLIGIBLE
_TOL = 1e-9  # default force_tol = flux_tol of SteadyState.classify

#: rows of the kernel's scalar output, in order
SCALARS = ("entropy_production", "entropy_flow", "power", "heat_input", "efficiency", "carnot_efficiency",
           "cooling_power", "cop", "carnot_cop", "current_resolution")


def register_fused(name: str) -> Callable[[Fused], Fused]:
    """Register a fused solve for the steady-state route ``name`` (used by ``qd.solve(..., method=name)``)."""
    def deco(func: Fused) -> Fused:
        FUSED[name] = func
        return func
    return deco


@kernel(error_model="numpy", inline="always")
def _rates_point(p: int, w: Array, mu: Array, T: Array, g: Array, kp: Array, km: Array,
                 lr: Array) -> None:  # pragma: no cover - compiled
    """``k^+ = Gamma expit(-x)``, ``k^- = Gamma expit(x)``, ``ln(k^+/k^-) = -x``, ``x = (w - mu)/T``.

    ``expit(x) = 1/(1 + exp(-x))``, as SciPy evaluates it.
    """
    for c in range(w.shape[1]):
        x = (w[p, c] - mu[p, c]) / T[p, c]
        kp[c] = g[p, c] * (1.0 / (1.0 + np.exp(x)))
        km[c] = g[p, c] * (1.0 / (1.0 + np.exp(-x)))
        lr[c] = -x


@kernel(error_model="numpy", inline="always")
def _classify(J: float, Fi: float, Fj: float, jz: bool, iz: bool, jfz: bool) -> int:  # pragma: no cover
    """:func:`~qdthermo.thermo.regimes.classify` of one point."""
    sJ = 0.0 if jz else np.sign(J)
    si = 0.0 if iz else np.sign(Fi)
    sj = 0.0 if jfz else np.sign(Fj)
    if si == 0 and sj == 0:
        return 0  # EQUILIBRIUM
    if sJ == 0:
        return 1
    if sj == 0 and si != 0:
        return 5 if sJ != si else 1  # CROSS_EFFECT
    if si == 0 and sj != 0:
        return 2 if sJ == sj else 3  # INDUCED, PSEUDO_ICC
    if si * sj > 0:
        return 4 if sJ != si else 1  # ICC
    if si * sj < 0:
        return 5 if sJ == sj else 1
    return 1


@kernel(error_model="numpy", inline="always")
def _performance_point(p: int, cur: Array, TL: Array, muL: Array, atol: float,
                       S: Array) -> None:  # pragma: no cover - compiled
    """:func:`~qdthermo.thermo.performance.performance` of point ``p`` into ``S[2:9, p]``."""
    nl = TL.shape[1]
    power = 0.0
    Tmax = TL[p, 0]
    Tmin = TL[p, 0]
    for ell in range(nl):
        power += muL[p, ell] * cur[0, p, ell]
        Tmax = max(Tmax, TL[p, ell])
        Tmin = min(Tmin, TL[p, ell])
    power = -power
    hot = 0.0
    mid = 0.0
    cooling = 0.0
    T2 = np.inf
    warm_absorbs = False
    for ell in range(nl):
        h = cur[2, p, ell]
        T = TL[p, ell]
        if T == Tmax:
            hot += h
        if T > Tmin and T < Tmax:
            mid += max(h, 0.0)
        if T == Tmin:
            cooling += h
        else:
            T2 = min(T2, T)
            warm_absorbs = warm_absorbs or h > 0
    Q_in = hot + mid
    gradient = Tmax > Tmin
    carnot_eff = 1.0 - Tmin / Tmax
    carnot_cop = Tmin / (T2 - Tmin) if gradient else np.nan
    eff = power / Q_in if gradient and power > atol and Q_in > atol else np.nan
    cop = cooling / (-power) if gradient and power < -atol and cooling > atol and not warm_absorbs else np.nan
    S[2, p] = power
    S[3, p] = Q_in
    S[4, p] = eff if eff <= carnot_eff else np.nan
    S[5, p] = carnot_eff
    S[6, p] = cooling
    S[7, p] = cop if cop <= carnot_cop else np.nan
    S[8, p] = carnot_cop


@kernel(error_model="numpy", inline="always")
def _observables_point(p: int, P: Array, valid: bool, w: Array, muc: Array, Tc: Array, g: Array, TL: Array,
                       muL: Array, kp: Array, km: Array, lr: Array, initial: NDArray[np.intp],
                       final: NDArray[np.intp], lead: NDArray[np.intp], f_lead: NDArray[np.intp],
                       f_ref: NDArray[np.intp], f_energy: NDArray[np.bool_], pair: NDArray[np.intp],
                       logP: Array, flux: Array, cur: Array, F: Array, JF: Array, S: Array,
                       regime: NDArray[np.int8]) -> None:  # pragma: no cover - compiled
    """Every observable of point ``p`` from its populations ``P`` and rates (see the module docstring)."""
    n_ch = w.shape[1]
    nl = TL.shape[1]
    nan = np.nan
    fill = 1.0 / P.shape[1]
    for ell in range(nl):
        cur[0, p, ell] = 0.0
        cur[1, p, ell] = 0.0
    sigma = 0.0
    kmax = 0.0
    for c in range(n_ch):
        kmax = max(kmax, kp[c] + km[c])
    x_sum = 0.0
    EF = 0.0
    EK = 0.0
    for i in range(P.shape[1]):  # ln P once per state (not twice per channel)
        logP[i] = np.log(P[p, i] if valid else fill)
    for c in range(n_ch):
        Pi = P[p, initial[c]] if valid else fill
        Pj = P[p, final[c]] if valid else fill
        a = Pi * kp[c]
        b = Pj * km[c]
        J = a - b
        flux[p, c] = J if valid else nan
        cur[0, p, lead[c]] += J
        cur[1, p, lead[c]] += J * w[p, c]
        if not (max(a, b) < _NEGLIGIBLE * kmax or a == b):
            term = J * ((logP[initial[c]] - logP[final[c]]) + lr[c])
            sigma += max(np.inf if term != term else term, 0.0)
        E = abs(w[p, c]) + abs(muc[p, c])
        x = min(abs(w[p, c] - muc[p, c]) / Tc[p, c], _X_UNDERFLOW)
        x_sum += _X_UNDERFLOW if x != x else x
        EF += E * (a + b)
        EK += E * (kp[c] + km[c])
    rho = _EPS * (16.0 + n_ch + x_sum)
    S[9, p] = RESOLUTION_MARGIN * (rho * EF + _TINY * EK + n_ch * _SUB)
    flow = 0.0
    for ell in range(nl):
        cur[2, p, ell] = cur[1, p, ell] - muL[p, ell] * cur[0, p, ell]
        flow += cur[2, p, ell] / TL[p, ell]
    _performance_point(p, cur, TL, muL, S[9, p], S)
    S[0, p] = sigma
    S[1, p] = flow
    for k in range(f_lead.shape[0]):
        i, r = f_lead[k], f_ref[k]
        if f_energy[k]:
            F[p, k] = 1.0 / TL[p, r] - 1.0 / TL[p, i]
            JF[p, k] = cur[1, p, i]
        else:
            F[p, k] = muL[p, i] * (1.0 / TL[p, i]) - muL[p, r] * (1.0 / TL[p, r])
            JF[p, k] = cur[0, p, i]
    if pair[0] >= 0:
        _regimes_point(p, w, g, TL, muL, F, JF, f_energy, pair, regime)
    if not valid:
        for ell in range(nl):
            cur[0, p, ell] = nan
            cur[1, p, ell] = nan
            cur[2, p, ell] = nan
        for k in range(f_lead.shape[0]):
            JF[p, k] = nan
        for r in range(9):
            S[r, p] = nan
        regime[0, p] = -1
        regime[1, p] = -1


@kernel(error_model="numpy", inline="always")
def _regimes_point(p: int, w: Array, g: Array, TL: Array, muL: Array, F: Array, JF: Array,
                   f_energy: NDArray[np.bool_], pair: NDArray[np.intp],
                   regime: NDArray[np.int8]) -> None:  # pragma: no cover - compiled
    """Regimes (by forces, default tolerances) of the parallel pair's fluxes: ``SteadyState.classify``."""
    Tmin = TL[p, 0]
    Tmax = TL[p, 0]
    mu_max = abs(muL[p, 0])
    for ell in range(TL.shape[1]):
        Tmin = min(Tmin, TL[p, ell])
        Tmax = max(Tmax, TL[p, ell])
        mu_max = max(mu_max, abs(muL[p, ell]))
    g_max = g[p, 0]
    w_max = abs(w[p, 0])
    for c in range(w.shape[1]):
        g_max = max(g_max, g[p, c])
        w_max = max(w_max, abs(w[p, c]))
    e_scale = max(w_max, Tmax)
    for q in range(2):
        i, j = pair[q], pair[1 - q]
        fi_scale = 1.0 / Tmin if f_energy[i] else 1.0 + mu_max / Tmin
        fj_scale = 1.0 / Tmin if f_energy[j] else 1.0 + mu_max / Tmin
        j_scale = g_max * e_scale if f_energy[i] else g_max
        regime[q, p] = _classify(JF[p, i], F[p, i], F[p, j], abs(JF[p, i]) <= _TOL * j_scale,
                                 abs(F[p, i]) <= _TOL * fi_scale, abs(F[p, j]) <= _TOL * fj_scale)


@kernel(error_model="numpy")
def _fused_kernel(start: int, stop: int, idx: NDArray[np.intp], solve: bool, w: Array, muc: Array, Tc: Array,
                  g: Array, TL: Array, muL: Array, initial: NDArray[np.intp], final: NDArray[np.intp],
                  lead: NDArray[np.intp], f_lead: NDArray[np.intp], f_ref: NDArray[np.intp],
                  f_energy: NDArray[np.bool_], pair: NDArray[np.intp], P: Array, fragile: NDArray[np.bool_],
                  ok: NDArray[np.bool_], flux: Array, cur: Array, F: Array, JF: Array, S: Array,
                  regime: NDArray[np.int8]) -> None:  # pragma: no cover - compiled
    """Steady state (``solve``) and observables of the points ``idx[start:stop]`` (``start:stop`` if ``idx`` is empty).

    Serial: :func:`_fused_blocks` runs blocks of points in parallel.
    """
    n = P.shape[1]
    n_ch = w.shape[1]
    Q = np.empty((n, n))
    pivot = np.empty(n)
    kp = np.empty(n_ch)
    km = np.empty(n_ch)
    lr = np.empty(n_ch)
    logP = np.empty(n)
    for q in range(start, stop):
        p = idx[q] if idx.shape[0] > 0 else q
        _rates_point(p, w, muc, Tc, g, kp, km, lr)
        if solve:
            fragile[p] = gth_point(kp, km, g, p, initial, final, Q, pivot, P)
        valid = True
        for i in range(n):
            valid = valid and np.isfinite(P[p, i])
        ok[p] = valid
        _observables_point(p, P, valid, w, muc, Tc, g, TL, muL, kp, km, lr, initial,
                           final, lead, f_lead, f_ref, f_energy, pair, logP, flux, cur, F, JF, S, regime)


@kernel(parallel=True, error_model="numpy")
def _fused_blocks(N: int, idx: NDArray[np.intp], solve: bool, w: Array, muc: Array, Tc: Array, g: Array,
                  TL: Array, muL: Array, initial: NDArray[np.intp], final: NDArray[np.intp], lead: NDArray[np.intp],
                  f_lead: NDArray[np.intp], f_ref: NDArray[np.intp], f_energy: NDArray[np.bool_],
                  pair: NDArray[np.intp], P: Array, fragile: NDArray[np.bool_], ok: NDArray[np.bool_], flux: Array,
                  cur: Array, F: Array, JF: Array, S: Array, regime: NDArray[np.int8]) -> None:  # pragma: no cover
    """:func:`_fused_kernel` over blocks of :data:`BLOCK` points in parallel (a loop body of one call: cheap to
    compile, unlike a ``prange`` loop with the whole kernel inlined in its body)."""
    for blk in prange((N + BLOCK - 1) // BLOCK):
        _fused_kernel(blk * BLOCK, min(N, (blk + 1) * BLOCK), idx, solve, w, muc, Tc, g, TL, muL, initial, final,
                      lead, f_lead, f_ref, f_energy, pair, P, fragile, ok, flux, cur, F, JF, S, regime)


def _flat(a: Array, width: int) -> Array:
    return np.ascontiguousarray(a).reshape(-1, width)


def fused_observables(system: System, net: Network) -> dict[str, Any]:
    """Populations, ``valid`` and every built-in observable of ``system`` by the fused kernel.

    Returns a mapping of flat ``(N, ...)`` arrays: ``populations``, ``valid``, ``channel_flux``,
    ``currents`` ``(3, N, n_leads)`` (particle, energy, heat), ``force_array``, ``flux_array``,
    ``regime`` ``(2, N)`` (the parallel pair's fluxes, in pair order) and the rows of
    :data:`SCALARS`.  Requires :func:`qdthermo._compiled.available`.
    """
    n, n_ch, nl = net.n_states, net.n_channels, len(system.lead_names)
    w, muc, Tc, g = (_flat(a, n_ch) for a in (system.channel_energy, system.channel_chemical_potential,
                                                system.channel_temperature, system.channel_coupling))
    TL, muL = _flat(system.lead_temperature, nl), _flat(system.lead_chemical_potential, nl)
    basis = force_basis(system)
    nf = len(basis.keys)
    pair = np.array([-1, -1], dtype=np.intp)
    if system.parallel_pair is not None:
        pair[:] = [basis.index(system.parallel_pair[0]), basis.index(system.parallel_pair[1])]
    N = w.shape[0]
    P, fragile, valid = np.empty((N, n)), np.zeros(N, dtype=np.bool_), np.empty(N, dtype=np.bool_)
    flux, cur = np.empty((N, n_ch)), np.empty((3, N, nl))
    F, JF, S = np.empty((N, nf)), np.empty((N, nf)), np.empty((len(SCALARS), N))
    regime = np.zeros((2, N), dtype=np.int8)
    structure: tuple[Any, ...] = (net.initial, net.final, net.lead, np.ascontiguousarray(basis.lead, dtype=np.intp),
                 np.ascontiguousarray(basis.reference, dtype=np.intp),
                 np.array([k == "E" for k in basis.kind], dtype=np.bool_), pair)
    outputs: tuple[Any, ...] = (P, fragile, valid, flux, cur, F, JF, S, regime)
    _fused_blocks(N, np.empty(0, dtype=np.intp), True, w, muc, Tc, g, TL, muL, *structure, *outputs)
    if np.any(fragile):  # the NumPy log-space elimination, as on the linear route; then their observables again
        idx = np.flatnonzero(fragile)
        x = fermi_argument(w[idx], muc[idx], Tc[idx])
        sub = Rates(g[idx] * expit(-x), g[idx] * expit(x), -x, g[idx])  # as kinetics.rates.rates
        P[idx] = _normalise(_log_gth(log_rate_matrix(net, sub, np.arange(len(idx)))))
        _fused_blocks(len(idx), idx, False, w, muc, Tc, g, TL, muL, *structure, *outputs)
    return {"populations": P, "valid": valid, "channel_flux": flux, "currents": cur, "force_array": F,
            "flux_array": JF, "regime": regime, **dict(zip(SCALARS, S))}


def _ro(a: NDArray[Any], shape: tuple[int, ...]) -> NDArray[Any]:
    a = a.reshape(shape)
    a.setflags(write=False)
    return a


def _seed(system: System, out: dict[str, Any]) -> tuple[Array, NDArray[np.bool_], dict[str, Any]]:
    """The kernel's flat arrays as ``SteadyState`` cache entries (batch shape, read-only)."""
    shape = system.shape
    P, valid = _ro(out["populations"], shape + (system.n_states,)), _ro(out["valid"], shape)
    all_valid = bool(np.all(valid))
    cur = out["currents"]
    seed: dict[str, Any] = {
        "_all_valid": all_valid,
        "channel_flux": _ro(out["channel_flux"], shape + (system.n_channels,)),
        "_currents": tuple(_ro(cur[k], shape + (cur.shape[-1],)) for k in range(3)),
        "force_array": _ro(out["force_array"], shape + (out["force_array"].shape[-1],)),
        "flux_array": _ro(out["flux_array"], shape + (out["flux_array"].shape[-1],)),
        "current_resolution": _ro(out["current_resolution"], shape),
        "entropy_production": _ro(out["entropy_production"], shape),
        "entropy_flow": _ro(out["entropy_flow"], shape),
        "performance": Performance(*(_ro(out[name], shape) for name in (
            "power", "heat_input", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"))),
    }
    if all_valid:
        seed["_flux"] = seed["channel_flux"]
    if system.parallel_pair is not None:
        basis = force_basis(system)
        a, b = (basis.index(name) for name in system.parallel_pair)
        seed["regime"] = MappingProxyType({basis.flux_names[a]: _ro(out["regime"][0], shape),
                                           basis.flux_names[b]: _ro(out["regime"][1], shape)})
    return P, valid, seed


@register_fused("compiled")
def _solve_compiled(device: Device, system: System, net: Network, route: str) -> SteadyState | None:
    """The fused compiled solve (None where Numba is unavailable: the NumPy path is taken)."""
    if not _compiled.available() or net.n_states == 1:
        return None
    P, valid, seed = _seed(system, fused_observables(system, net))
    generator = LazyPauliGenerator(net, lambda: rates(system))
    return SteadyState(device=device, system=system, generator=generator, populations=P, valid=valid,
                       route=route, precomputed=seed)


def solve_fused(device: Device, system: System, method: Method | str) -> SteadyState | None:
    """The result by the fused kernel of the route ``method`` selects, or None if it has none."""
    net = network(system)
    name = Method.parse(method)
    if name == "auto":
        name = choose_route(net, int(np.prod(system.shape)) if system.shape else 1)
    fused = FUSED.get(name)
    return None if fused is None else fused(device, system, net, name)


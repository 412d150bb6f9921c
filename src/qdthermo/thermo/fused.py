"""Fused compiled kernels: the steady state and every built-in observable in one pass over the points.

For a route with a fused kernel (registered with :func:`register_fused`;
built in: ``"compiled"``), :func:`qdthermo.solve` does not build the rates,
the generator and the observables array by array: one compiled pass
(:mod:`qdthermo.thermo._fused_kernels`, blocks of points in parallel, each
block laid out point-last so the loops vectorise) reads the system's
per-point parameters (many-body energies, lead temperatures, chemical
potentials, couplings), forms the rates, solves the steady state (the GTH
elimination of :mod:`qdthermo.kinetics.compiled`) and computes, in the same
pass, the channel fluxes, the per-lead particle,
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

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo._special import expit
from qdthermo.kinetics import counting_compiled
from qdthermo.kinetics.compiled import LazyPauliGenerator
from qdthermo.kinetics.network import Network, network
from qdthermo.kinetics.rates import Rates, fermi_argument, rates
from qdthermo.kinetics.steady import Method, _log_gth, _normalise, choose_route, log_rate_matrix
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo._fused_kernels import SCALARS, fused_blocks, fused_counting_range
from qdthermo.thermo.forces import force_basis, is_energy
from qdthermo.thermo.performance import Performance
from qdthermo.thermo.result import SteadyState

__all__ = ["FUSED", "FUSED_COUNTING", "register_fused", "register_fused_counting", "solve_fused",
           "fused_observables", "CountingRequest", "FusedCumulants", "fused_counting"]

Array = NDArray[np.float64]
Fused = Callable[[Device, System, Network, str, bool], "SteadyState | None"]

#: route name -> ``(device, system, network, route, full) -> SteadyState`` (None: not applicable, use the NumPy
#: path; ``full=False``: populations, energies and entropy production suffice)
FUSED: dict[str, Fused] = {}


@dataclass(frozen=True, eq=False)
class CountingRequest:
    """Second-order counting statistics for a fused pass to compute with the steady state.

    Attributes
    ----------
    key
        What the counting statistics recognise their request by (e.g. the quantities and the order).
    coef : ndarray, shape (q, n_jumps)
        Constant factor of each quantity's increments.
    base_of : ndarray of int, shape (q,)
        Index into ``base_kind`` of each quantity's per-channel factor, -1 for none.
    base_kind : ndarray of int
        The per-channel factor of each base (an index into
        :data:`~qdthermo.kinetics.counting_compiled.BASES`).
    order : int
        Highest cumulant (1 ... :data:`~qdthermo.kinetics.counting_compiled.MAX_ORDER`).
    round_off : float
        ``C_k`` with ``|C_k| <= round_off M_k`` are set to 0
        (:mod:`~qdthermo.kinetics.counting_compiled`).
    """

    key: Hashable
    coef: Array
    base_of: NDArray[np.intp]
    base_kind: NDArray[np.intp]
    order: int
    round_off: float


@dataclass(frozen=True, eq=False)
class FusedCumulants:
    """The counting statistics a fused pass computed (seeded into the result as ``_fused_cumulants``).

    Attributes
    ----------
    key
        The request's :attr:`CountingRequest.key`.
    cumulants : ndarray, shape (N, q, order)
        Cleaned ``C_1`` (``C_2``) of the flat points (a view of point-last storage); NaN where not valid
        and at ``fallback``.
    fallback : ndarray of int
        Flat points whose elimination needs pivoting: to be computed by the NumPy engine.
    """

    key: Hashable
    cumulants: Array
    fallback: NDArray[np.intp]


#: a fused solve that also computes counting statistics: ``(device, system, network, route, request) ->
#: SteadyState`` (None: not applicable; the request returns None where the counting statistics are not fused)
FusedCounting = Callable[[Device, System, Network, str, Callable[[System, Network], "CountingRequest | None"]],
                         "SteadyState | None"]

#: route name -> its fused solve with counting statistics (:func:`register_fused_counting`)
FUSED_COUNTING: dict[str, FusedCounting] = {}


def register_fused(name: str) -> Callable[[Fused], Fused]:
    """Register a fused solve for the steady-state route ``name`` (used by ``qd.solve(..., method=name)``)."""
    def deco(func: Fused) -> Fused:
        FUSED[name] = func
        return func
    return deco


def register_fused_counting(name: str) -> Callable[[FusedCounting], FusedCounting]:
    """Register a fused solve with counting statistics for the steady-state route ``name``
    (used by ``qd.fluctuations(..., method=name)``)."""
    def deco(func: FusedCounting) -> FusedCounting:
        FUSED_COUNTING[name] = func
        return func
    return deco


def _flat(a: Array, width: int) -> Array:
    """``a`` ``(*shape, width)`` as ``(points, width)`` (a view where the layout allows; ``width`` may be 0)."""
    return a.reshape(-1, width) if a.size else np.empty((int(np.prod(a.shape[:-1])), width))


def _lanes(a: Array, width: int) -> Array:
    """``a`` ``(*shape, width)`` as a C-contiguous point-last ``(width, points)`` array (no copy where ``a`` is
    stored point-last, as :class:`~qdthermo.model.system.System` stores its parameters)."""
    a = np.ascontiguousarray(np.moveaxis(a, -1, 0))
    return a.reshape(width, int(np.prod(a.shape[1:])))


def kernel_inputs(system: System) -> tuple[Any, ...]:
    """What :func:`~qdthermo.kinetics.compiled.block_gather` reads, point-last: levels, pair energies,
    occupations of dots and pairs, couplings and the column of each channel, lead temperatures and chemical
    potentials."""
    occ, pd, nl = system.occupations, system.pair_dots, len(system.lead_names)
    return (_lanes(system.dot_levels, occ.shape[1]), _lanes(system.pair_energies, len(pd)), occ.astype(np.float64),
            (occ[:, pd[:, 0]] & occ[:, pd[:, 1]]).astype(np.float64),
            _lanes(system.coupling, system.coupling.shape[-1]),
            np.ascontiguousarray(system.coupling_column, dtype=np.intp),
            _lanes(system.lead_temperature, nl), _lanes(system.lead_chemical_potential, nl))


def fused_observables(system: System, net: Network, *, full: bool = True) -> dict[str, Any]:
    """Populations, ``valid`` and every built-in observable of ``system`` by the fused kernel.

    Returns a mapping of flat ``(N, ...)`` arrays (views of point-last arrays: each state's, channel's,
    lead's... values are a contiguous run): ``populations``, ``valid``, ``energies``, ``channel_flux``,
    ``currents`` ``(3, N, n_leads)`` (particle, energy, heat), ``force_array``, ``flux_array``,
    ``regime`` ``(2, N)`` (the parallel pair's fluxes, in pair order) and the rows of
    :data:`SCALARS`; not ``full``: only ``populations``, ``valid``, ``energies`` and
    ``entropy_production`` (what the counting statistics read).  Requires :func:`qdthermo._compiled.available`.
    """
    n, n_ch, nl = net.n_states, net.n_channels, len(system.lead_names)
    inputs = kernel_inputs(system)
    basis = force_basis(system)
    nf = len(basis.keys)
    pair = np.array([-1, -1], dtype=np.intp)
    if system.parallel_pair is not None:
        pair[:] = [basis.index(system.parallel_pair[0]), basis.index(system.parallel_pair[1])]
    N = int(np.prod(system.shape)) if system.shape else 1
    M = N if full else 0  # points of the outputs a minimal pass does not write
    P, fragile, valid, E = np.empty((n, N)), np.zeros(N, dtype=np.bool_), np.empty(N, dtype=np.bool_), np.empty((n, N))
    flux, cur = np.empty((n_ch, M)), np.empty((3, nl, M))
    F, JF, S = np.empty((nf, M)), np.empty((nf, M)), np.empty((len(SCALARS) if full else 1, N))
    regime = np.zeros((2, M), dtype=np.int8)
    structure: tuple[Any, ...] = (net.initial, net.final, net.lead, np.ascontiguousarray(basis.lead, dtype=np.intp),
                 np.ascontiguousarray(basis.reference, dtype=np.intp),
                 is_energy(basis), pair)
    outputs: tuple[Any, ...] = (P, fragile, valid, E, flux, cur, F, JF, S, regime)
    fused_blocks(N, np.empty(0, dtype=np.intp), True, full, *inputs, *structure, *outputs)
    if np.any(fragile):  # the NumPy log-space elimination, as on the linear route; then their observables again
        idx = np.flatnonzero(fragile)
        P[:, idx] = _normalise(_log_gth(log_rate_matrix(net, _rates_at(system, net, idx), np.arange(len(idx))))).T
        fused_blocks(len(idx), idx, False, full, *inputs, *structure, *outputs)
    out = {"populations": P.T, "valid": valid, "energies": E.T, **dict(zip(SCALARS, S))}
    if full:
        out.update({"channel_flux": flux.T, "currents": cur.transpose(0, 2, 1), "force_array": F.T,
                    "flux_array": JF.T, "regime": regime})
    return out


def fused_counting(system: System, net: Network, request: CountingRequest) -> tuple[dict[str, Any], FusedCumulants]:
    """Populations, ``valid``, energies, entropy production and the counting statistics in one compiled pass.

    What :func:`fused_observables` computes with ``full=False``, and the cleaned ``C_1`` (``C_2``) of the
    request's quantities as :func:`~qdthermo.kinetics.counting_compiled.second_order_device` computes them
    from those populations, bit for bit: the kernel
    (:func:`~qdthermo.thermo._fused_kernels.fused_counting_range`) gathers the parameters and forms the
    rates once per chunk of points.  Fragile points (the steady state of the log-space elimination) are
    redone as :func:`fused_observables` redoes them, their counting statistics with them.  Requires
    :func:`qdthermo._compiled.available`; at most
    :data:`~qdthermo.kinetics.counting_compiled.MAX_STATES` states.

    Returns
    -------
    observables : dict
        As :func:`fused_observables` with ``full=False``.
    cumulants : FusedCumulants
        The cumulants ``(N, q, order)`` and the points left to the NumPy engine.
    """
    n, order = net.n_states, int(request.order)
    if not 1 <= order <= counting_compiled.MAX_ORDER:
        raise ValueError(f"order must be between 1 and {counting_compiled.MAX_ORDER} on the compiled route, "
                         f"got {order!r}")
    if not 1 <= n <= counting_compiled.MAX_STATES:
        raise ValueError(f"n must be between 1 and {counting_compiled.MAX_STATES} on the compiled route, got {n!r}")
    inputs = kernel_inputs(system)
    N = int(np.prod(system.shape)) if system.shape else 1
    coef = np.ascontiguousarray(request.coef, dtype=np.float64).reshape(-1, net.n_jumps)
    base_of = np.ascontiguousarray(request.base_of, dtype=np.intp)
    rows = {(coef[a].tobytes(), int(base_of[a])): a for a in range(len(coef) - 1, -1, -1)}  # first of each
    first = sorted(set(rows.values()))
    of = np.array([first.index(rows[(coef[a].tobytes(), int(base_of[a]))]) for a in range(len(coef))], dtype=np.intp)
    quantities = (np.ascontiguousarray(coef[first]), np.ascontiguousarray(base_of[first]),
                  np.ascontiguousarray(request.base_kind, dtype=np.intp), of, order, float(request.round_off))
    P, fragile, valid, E = np.empty((n, N)), np.zeros(N, dtype=np.bool_), np.empty(N, dtype=np.bool_), np.empty((n, N))
    S, C, fallback = np.empty((1, N)), np.empty((len(coef), order, N)), np.empty(N, dtype=np.bool_)
    structure = (net.initial, net.final, net.lead, np.ascontiguousarray(net.source, dtype=np.intp),
                 np.ascontiguousarray(net.target, dtype=np.intp))
    outputs = (P, fragile, valid, E, S, C, fallback)
    chunk = counting_compiled._chunk_size(n)
    _compiled.run_blocks(fused_counting_range, -(-N // chunk), np.empty(0, dtype=np.intp), True, chunk, *inputs,
                         *structure, *quantities, *outputs, block=1)
    if np.any(fragile):  # the NumPy log-space elimination, as fused_observables; then their statistics again
        idx = np.flatnonzero(fragile)
        P[:, idx] = _normalise(_log_gth(log_rate_matrix(net, _rates_at(system, net, idx), np.arange(len(idx))))).T
        _compiled.run_blocks(fused_counting_range, -(-len(idx) // chunk), idx, False, chunk, *inputs, *structure,
                             *quantities, *outputs, block=1)
    out = {"populations": P.T, "valid": valid, "energies": E.T, "entropy_production": S[0]}
    return out, FusedCumulants(request.key, C.transpose(2, 0, 1), np.flatnonzero(fallback))


def _rates_at(system: System, net: Network, idx: NDArray[np.intp]) -> Rates:
    """The rates of the flat points ``idx``, as :func:`~qdthermo.kinetics.rates.rates` forms them."""
    occ, nl = system.occupations, len(system.lead_names)
    levels, pairs = _flat(system.dot_levels, occ.shape[1])[idx], _flat(system.pair_energies, len(system.pair_dots))[idx]
    E = np.zeros((len(idx), net.n_states))  # as System.energies: the same sums in the same order
    for d in range(occ.shape[1]):
        E += levels[:, d, None] * occ[:, d]
    for k, (a, b) in enumerate(system.pair_dots):
        E += pairs[:, k, None] * (occ[:, a] & occ[:, b])
    w = E[:, net.final] - E[:, net.initial]
    TL, muL = _flat(system.lead_temperature, nl)[idx], _flat(system.lead_chemical_potential, nl)[idx]
    g = _flat(system.coupling, system.coupling.shape[-1])[idx][:, system.coupling_column]
    x = fermi_argument(w, muL[:, net.lead], TL[:, net.lead])
    return Rates(g * expit(-x), g * expit(x), -x, g)


def _ro(a: NDArray[Any], shape: tuple[int, ...]) -> NDArray[Any]:
    a = a.reshape(shape)
    a.setflags(write=False)
    return a


def _seed(system: System, out: dict[str, Any]) -> tuple[Array, NDArray[np.bool_], dict[str, Any]]:
    """The kernel's flat arrays as ``SteadyState`` cache entries (batch shape, read-only)."""
    shape = system.shape
    P, valid = _ro(out["populations"], shape + (system.n_states,)), _ro(out["valid"], shape)
    all_valid = bool(np.all(valid))
    seed: dict[str, Any] = {"_all_valid": all_valid, "energies": _ro(out["energies"], shape + (system.n_states,)),
                            "entropy_production": _ro(out["entropy_production"], shape)}
    if "currents" not in out:  # a minimal pass: everything else is computed on first use
        return P, valid, seed
    cur = out["currents"]
    seed.update({
        "channel_flux": _ro(out["channel_flux"], shape + (system.n_channels,)),
        "_currents": tuple(_ro(cur[k], shape + (cur.shape[-1],)) for k in range(3)),
        "force_array": _ro(out["force_array"], shape + (out["force_array"].shape[-1],)),
        "flux_array": _ro(out["flux_array"], shape + (out["flux_array"].shape[-1],)),
        "current_resolution": _ro(out["current_resolution"], shape),
        "entropy_flow": _ro(out["entropy_flow"], shape),
        "performance": Performance(*(_ro(out[name], shape) for name in (
            "power", "heat_input", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"))),
    })
    if all_valid:
        seed["_flux"] = seed["channel_flux"]
    if system.parallel_pair is not None:
        basis = force_basis(system)
        a, b = (basis.index(name) for name in system.parallel_pair)
        seed["regime"] = MappingProxyType({basis.flux_names[a]: _ro(out["regime"][0], shape),
                                           basis.flux_names[b]: _ro(out["regime"][1], shape)})
    return P, valid, seed


@register_fused("compiled")
def _solve_compiled(device: Device, system: System, net: Network, route: str, full: bool) -> SteadyState | None:
    """The fused compiled solve (None where Numba is unavailable: the NumPy path is taken)."""
    if not _compiled.available() or net.n_states == 1:
        return None
    P, valid, seed = _seed(system, fused_observables(system, net, full=full))
    generator = LazyPauliGenerator(net, lambda: rates(system))
    return SteadyState(device=device, system=system, generator=generator, populations=P, valid=valid,
                       route=route, precomputed=seed)


@register_fused_counting("compiled")
def _solve_compiled_counting(device: Device, system: System, net: Network, route: str,
                             request: Callable[[System, Network], CountingRequest | None]) -> SteadyState | None:
    """The fused compiled solve with the counting statistics (None: not applicable, or nothing to count)."""
    if not _compiled.available() or net.n_states == 1 or net.n_states > counting_compiled.MAX_STATES:
        return None
    wanted = request(system, net)
    if wanted is None:
        return None
    observables, cumulants = fused_counting(system, net, wanted)
    P, valid, seed = _seed(system, observables)
    seed["_fused_cumulants"] = cumulants
    generator = LazyPauliGenerator(net, lambda: rates(system))
    return SteadyState(device=device, system=system, generator=generator, populations=P, valid=valid,
                       route=route, precomputed=seed)


def solve_fused(device: Device, system: System, method: Method | str, *, full: bool = True,
                counting: Callable[[System, Network], CountingRequest | None] | None = None) -> SteadyState | None:
    """The result by the fused kernel of the route ``method`` selects, or None if it has none.

    ``full=False``: the kernel computes the populations, energies and entropy production only (for the
    counting statistics); the other observables of the result are computed on first use.  ``counting``:
    where the route has a fused solve with counting statistics (:data:`FUSED_COUNTING`) and ``counting``
    returns a :class:`CountingRequest` for the system, its cumulants are computed in the same pass and seeded
    as ``_fused_cumulants`` (a :class:`FusedCumulants`), with what ``full=False`` computes.
    """
    net = network(system)
    name = Method.parse(method)
    if name == "auto":
        name = choose_route(net, int(np.prod(system.shape)) if system.shape else 1)
    with_counting = FUSED_COUNTING.get(name) if counting is not None else None
    if with_counting is not None:
        result = with_counting(device, system, net, name, counting)  # type: ignore[arg-type]
        if result is not None:
            return result
    fused = FUSED.get(name)
    return None if fused is None else fused(device, system, net, name, full)

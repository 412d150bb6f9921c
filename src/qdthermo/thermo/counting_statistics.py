"""Full counting statistics: cumulants, noise, Fano factors and the thermodynamic uncertainty relation.

``qd.fluctuations(device, order=3)`` solves the device and returns a frozen
:class:`Fluctuations`.  Counted quantities (transferred **from each lead into the
system**, the sign of the mean currents):

* ``N_<lead>``: particles [1]; ``E_<lead>``: energy [energy]; ``Q_<lead>``: heat
  ``E - mu N`` [energy];
* the fluxes of the force basis (``J_E``, ``J_R``, ``J_N`` for the paper's device; the
  names of ``result.fluxes``): the particle or energy transfer of their lead;
* ``entropy``: the entropy delivered to the reservoirs, ``-sum_nu Q_nu / T_nu`` [k_B]
  (each jump contributes ``ln(k_forward / k_backward)``), whose mean rate is the entropy
  production.

Conventions: ``C_k = d^k lambda / d(i chi)^k`` at ``chi = 0``, the long-time scaled
cumulants of the counted transfer, where ``lambda(chi)`` is the dominant eigenvalue of the
tilted generator (jump terms times ``exp(i chi . d)``) [quantity^k x rate].  ``C_1`` is
the mean current, ``C_2`` the zero-frequency noise **without a factor 2**.  Fano factor
``C_2 / |C_1|``; TUR ratio ``Sigma_dot C_2 / C_1^2 >= 2`` (Barato-Seifert).

The numerical engine is :mod:`qdthermo.kinetics.counting` (group-inverse recursion of
Flindt, Novotny, Braggio and Jauho), batch-first.  ``qd.fluctuations(device,
approach="global" | "local")`` counts on the tilted Liouvillian of that master equation
instead (:class:`~qdthermo.thermo.coherent_counting.CoherentFluctuations`, the same API:
:class:`~qdthermo.thermo.counting_api.CountingAPI`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo.kinetics import counting, counting_compiled, noise_compiled
from qdthermo.kinetics.network import Network
from qdthermo.kinetics.sparse import drazin_apply_sparse
from qdthermo.kinetics.steady import Method
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo import entropy as _entropy
from qdthermo.thermo.coherent import CoherentState
from qdthermo.thermo.coherent_counting import CoherentFluctuations, coherent_counted_quantities
from qdthermo.thermo.counting_api import ROUND_OFF, CountingAPI
from qdthermo.thermo.forces import ForceBasis, force_basis
from qdthermo.thermo.fused import CountingRequest, FusedCumulants, kernel_inputs
from qdthermo.thermo.registry import OBSERVABLES, observable, unregister
from qdthermo.thermo.result import SteadyState
from qdthermo.thermo.solver import solve_for

__all__ = ["Fluctuations", "fluctuations", "counted_quantities", "register_observables", "unregister_observables"]

Array = NDArray[np.float64]


#: networks with more states than this use sparse group-inverse solves (cumulants up to order 2)
SPARSE_MIN_STATES = 256

def counted_quantities(result: SteadyState) -> tuple[str, ...]:
    """Names of every quantity that can be counted for this result (see the module docstring)."""
    return _counted(result.lead_names, result.force_basis)


def _counted(leads: Sequence[str], basis: ForceBasis) -> tuple[str, ...]:
    """:func:`counted_quantities` from the lead names and the force basis."""
    return (*(f"N_{lead}" for lead in leads), *(f"E_{lead}" for lead in leads), *(f"Q_{lead}" for lead in leads),
            *basis.flux_names, "entropy")


def _factor_kind(net: Network, basis: ForceBasis, leads: Sequence[str], name: str) -> tuple[Array, str | None]:
    """``coef`` ``(n_jumps,)`` and the kind of per-channel factor of ``name`` (one of
    :data:`~qdthermo.kinetics.counting_compiled.BASES`, or None for none)."""
    known = _counted(leads, basis)
    if name not in known:
        raise ValueError(f"unknown counted quantity {name!r}; allowed: {list(known)}")
    sign = net.jump_sign
    if name == "entropy":
        return sign, "log_ratio"
    if name in basis.flux_names:
        k = basis.flux_names.index(name)
        lead = leads[int(basis.lead[k])]
        name = f"{'E' if basis.kind[k] == 'E' else 'N'}_{lead}"
    kind, lead = name.split("_", 1)
    on = (net.jump_lead == list(leads).index(lead)) * sign
    if kind == "N":
        return on.astype(float), None
    return on, "heat" if kind == "Q" else "energy"


def _factored(net: Network, basis: ForceBasis, leads: Sequence[str],
              names: Sequence[str]) -> tuple[Array, list[int], list[int]]:
    """The increments of ``names`` factored for the compiled device route: ``coef`` ``(q, n_jumps)``, the base
    of each quantity (-1: none) and the kind of each base (indices into
    :data:`~qdthermo.kinetics.counting_compiled.BASES`)."""
    kinds: list[str] = []
    coefs, base_of = [], []
    for q in names:
        coef, kind = _factor_kind(net, basis, leads, q)
        if kind is not None and kind not in kinds:
            kinds.append(kind)
        coefs.append(np.broadcast_to(coef, (net.n_jumps,)))
        base_of.append(-1 if kind is None else kinds.index(kind))
    return np.stack(coefs), base_of, [counting_compiled.BASES.index(k) for k in kinds]


#: ``engine="auto"`` takes the compiled counting statistics from this many points (its one-off cost, importing
#: Numba and loading the kernel, 0.6-1 s, is then below the NumPy engine's time, ~5.5 us a point on the
#: paper's device against ~1 us compiled: benchmarks/fluctuations_sizes.py) ...
COMPILED_MIN_POINTS = 200_000
#: ... and from this many once a compiled kernel has run in the process (~0.05 s left to pay); both engines give
#: the same cumulants bit for bit, so the choice changes only the time
COMPILED_WARM_MIN_POINTS = 10_000


def _counting_route(n_states: int, n_points: int, engine: str, order: int) -> str:
    """:attr:`Fluctuations.route` of a network of ``n_states`` states at ``n_points`` points.

    From order 3 the engines differ in round-off, so ``"auto"`` decides by the batch size alone
    (:data:`COMPILED_MIN_POINTS`), never by what ran before in the process.
    """
    if n_states > SPARSE_MIN_STATES:
        return "sparse"
    warm = order <= 2 and _compiled.warm()  # orders 1, 2: the engines are equal bit for bit
    large = n_points >= (COMPILED_WARM_MIN_POINTS if warm else COMPILED_MIN_POINTS)
    usable = order <= counting_compiled.MAX_ORDER and counting_compiled.available()
    if (engine == "compiled" or (engine == "auto" and large)) and usable:
        return "compiled"
    return "numpy"


#: ``engine="auto"`` takes the compiled noise spectrum from this many (point, frequency) pairs: the NumPy
#: route's time there (~1.7 s, 0.6 M pairs/s) is above the first compiled call of a process (0.8-1.1 s,
#: importing Numba and loading the kernel), which then does them at 8.6 M pairs/s
#: (``benchmarks/results/noise_spectrum.json``)
SPECTRUM_COMPILED_MIN_PAIRS = 1_000_000


def _spectrum_route(n_states: int, n_pairs: int, engine: str) -> str:
    """The route of :meth:`Fluctuations.noise_spectrum` for ``n_pairs`` (point, frequency) pairs.

    The compiled kernel (:mod:`qdthermo.kinetics.noise_compiled`) and the NumPy route differ in round-off:
    ``"auto"`` decides by the number of pairs alone (:data:`SPECTRUM_COMPILED_MIN_PAIRS`).
    """
    usable = n_states <= noise_compiled.MAX_STATES and noise_compiled.available()
    if usable and (engine == "compiled" or (engine == "auto" and n_pairs >= SPECTRUM_COMPILED_MIN_PAIRS)):
        return "compiled"
    return "numpy"


@dataclass(frozen=True, eq=False)
class Fluctuations(CountingAPI):
    """Counting statistics of a solved device (read-only; see the module docstring).

    Attributes
    ----------
    result
        The steady state (populations, rates, force basis).
    order
        Highest cumulant order computed for every counted quantity.
    counting
        The counted quantities.
    engine
        ``"auto"``, ``"compiled"`` or ``"numpy"`` (see :func:`fluctuations`); :attr:`route` says
        which engine computes the cumulants.

    Examples
    --------
    >>> import qdthermo as qd
    >>> fl = qd.fluctuations(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> fl.counting
    ('N_L', 'N_R', 'E_L', 'E_R', 'Q_L', 'Q_R', 'J_E', 'J_N', 'entropy')
    >>> round(float(fl.cumulant(1, "N_L")), 4), round(float(fl.cumulant(2, "N_L")), 4)   # mean, noise
    (0.0301, 0.2415)
    >>> bool(fl.tur["N_L"] >= 2)                  # thermodynamic uncertainty relation
    True
    """

    result: SteadyState
    order: int
    counting: tuple[str, ...]
    engine: str = "auto"

    # ------------------------------------------------------------ increments
    def increments(self, name: str) -> Array:
        """``(*shape, n_jumps)`` amount of ``name`` transferred by each directed jump (lead -> system)."""
        coef, base = self._factors(name)
        if base is None:
            return coef
        return coef * np.concatenate([base, base], axis=-1)  # type: ignore[no-any-return]

    def _factors(self, name: str) -> tuple[Array, Array | None]:
        """The increments of ``name`` as ``coef * [base, base]``: ``coef`` ``(n_jumps,)`` and a per-channel
        ``base`` ``(*shape, n_channels)`` (None: 1), so that the compiled route never builds them per jump."""
        coef, kind = self._factor_kind(name)
        res, s = self.result, self.result.system
        if kind is None:
            return coef, None
        if kind == "log_ratio":
            return coef, res.rates.log_ratio
        if kind == "heat":
            return coef, s.channel_energy - s.channel_chemical_potential
        return coef, s.channel_energy

    def _factor_kind(self, name: str) -> tuple[Array, str | None]:
        """``coef`` ``(n_jumps,)`` and the kind of per-channel factor of ``name`` (one of
        :data:`~qdthermo.kinetics.counting_compiled.BASES`, or None for none)."""
        res = self.result
        return _factor_kind(res.generator.network, res.force_basis, res.lead_names, name)

    def _jumps(self) -> tuple[int, Any, Any, Array, Array]:
        res = self.result
        net = res.generator.network
        return net.n_states, net.source, net.target, res.generator.jump_rates, res._P

    # ------------------------------------------------------------- cumulants
    def _clean(self, C: Array, d: Array) -> Array:
        """Cumulants below round-off set to exactly 0 (see :data:`ROUND_OFF`), failed points masked.

        ``C`` is ``(*shape, q, K)``, ``d`` the increments ``(*shape, n_jumps, q)``.  The scale of
        ``C_k`` is the absolute moment ``M_k = sum_j rate_j P_src(j) |d_j|^k`` (the Schottky-like
        sum of one-way transfers); ``|C_k| <= ROUND_OFF M_k`` is not resolved in double precision.
        """
        g = self._one_way_fluxes()
        a = np.abs(d)
        M = np.stack([np.einsum("...j,...jq->...q", g, a**k) for k in range(1, C.shape[-1] + 1)], axis=-1)
        return self._below_round_off(C, M)

    def _one_way_fluxes(self) -> Array:
        """``(*shape, n_jumps)`` one-way jump fluxes ``rate_j P_src(j)``, the scale of round-off."""
        _, src, _, rate, P = self._jumps()
        return np.asarray(rate * P[..., src])

    def _below_round_off(self, C: Array, M: Array) -> Array:
        """``C`` with the entries ``|C| <= ROUND_OFF M`` exactly 0 and failed points masked (trailing 2 axes)."""
        return self.result._masked(np.where(np.abs(C) <= ROUND_OFF * M, 0.0, C), 2)

    @property
    def route(self) -> str:
        """The engine of :attr:`order` cumulants: ``"compiled"``, ``"numpy"`` or ``"sparse"`` (large networks)."""
        return _counting_route(self.result.generator.network.n_states, int(np.prod(self.result.shape)), self.engine,
                               self.order)

    @cached_property
    def _cumulants(self) -> Array:
        """``(*shape, n_counted, order)`` for the counted quantities (one engine call)."""
        route = self.route
        if route == "compiled":
            return self._compiled_cumulants()
        n, src, dst, rate, P = self._jumps()
        d = np.stack(np.broadcast_arrays(*(self.increments(q) for q in self.counting)), axis=-1)
        if route == "sparse":
            return self._clean(self._sparse_cumulants(d), d)
        return self._clean(counting.scaled_cumulants(n, src, dst, rate, d, P, self.order), d)

    def _compiled_cumulants(self) -> Array:
        """``C_1``, ``C_2`` by the compiled kernel from the factored increments (same cleaning and masking)."""
        res = self.result
        if res.precomputed is not None:  # a fused solve: rates and factors formed in the kernel, chunk by chunk
            return self._device_cumulants()
        n, src, dst, rate, P = self._jumps()
        factors = [self._factors(q) for q in self.counting]
        bases: list[Array] = []
        base_of = []
        for _, base in factors:
            found = next((i for i, b in enumerate(bases) if b is base), None) if base is not None else -1
            if found is None:
                bases.append(base)  # type: ignore[arg-type]
                found = len(bases) - 1
            base_of.append(found)
        coef = np.stack([np.broadcast_to(c, (len(src),)) for c, _ in factors])
        column = np.arange(len(src)) % res.generator.network.n_channels
        C, sigma = counting_compiled.second_order_factored(
            n, src, dst, rate, P, coef, base_of, bases, column, order=self.order,
            valid=None if res._all_valid else res.valid, round_off=ROUND_OFF,
            log_ratio=res.rates.log_ratio if self.order > 1 else None, negligible=_entropy._NEGLIGIBLE)
        C.setflags(write=False)
        if sigma is not None:
            sigma.setflags(write=False)
            self.__dict__["_entropy_production"] = sigma
        return C

    def _device_cumulants(self) -> Array:
        """``C_1``, ``C_2`` by :func:`~qdthermo.kinetics.counting_compiled.second_order_device`: the rates and
        per-channel factors are formed in the kernel from the parameters, never as ``(points, jumps)`` arrays."""
        res = self.result
        net = res.generator.network
        shape = res.shape
        fused: FusedCumulants | None = res.__dict__.get("_fused_cumulants")
        if fused is not None and fused.key == (self.counting, self.order):  # computed in the solve's pass
            C, fallback = fused.cumulants, fused.fallback
            if not C.flags.writeable:  # resolved by a first reader
                return C.reshape(shape + C.shape[1:])
        else:
            coef, base_of, kinds = _factored(net, res.force_basis, res.lead_names, self.counting)
            P = np.asarray(res._P).reshape(-1, net.n_states)
            C, fallback = counting_compiled.second_order_device(
                net.n_states, net.source, net.target, kernel_inputs(res.system), (net.initial, net.final, net.lead),
                P, coef, base_of, kinds, order=self.order, valid=None if res._all_valid else res.valid,
                round_off=ROUND_OFF)
        if len(fallback):  # points whose elimination needs pivoting: the NumPy engine
            C[fallback] = self._numpy_cumulants_at(fallback)
        C.setflags(write=False)
        return C.reshape(shape + C.shape[1:])

    def _numpy_cumulants_at(self, points: NDArray[np.intp]) -> Array:
        """The cleaned cumulants of the flat ``points`` by the NumPy engine."""
        n, src, dst, rate, P = self._jumps()
        d = np.stack(np.broadcast_arrays(*(self.increments(q) for q in self.counting)), axis=-1)
        shape = self.result.shape

        def at(a: Array, tail: int) -> Array:
            trailing = a.shape[a.ndim - tail:]
            return np.broadcast_to(a, shape + trailing).reshape((-1,) + trailing)[points]

        rate_p, d_p, P_p = at(rate, 1), at(d, 2), at(P, 1)
        C = counting.scaled_cumulants(n, src, dst, rate_p, d_p, P_p, self.order)
        g = rate_p * P_p[:, src]
        M = np.stack([np.einsum("pj,pjq->pq", g, np.abs(d_p) ** k) for k in range(1, self.order + 1)], axis=-1)
        return np.where(np.abs(C) <= ROUND_OFF * M, 0.0, C)

    @cached_property
    def _entropy_production(self) -> Array:
        """``result.entropy_production`` (the compiled route computes it with the cumulants)."""
        if self.route == "compiled" and self.order > 1:
            self._cumulants  # noqa: B018  (computes it)
            if "_entropy_production" in self.__dict__:
                return self.__dict__["_entropy_production"]  # type: ignore[no-any-return]
        return self.result.entropy_production

    def _sparse_cumulants(self, d: Array) -> Array:
        """``C_1`` and ``C_2`` of large networks by sparse group-inverse solves, point by point.

        ``C_2 = 1^T W^(2) P0 - 2 1^T W^(1) W^D (W^(1) P0 - C_1 P0)`` (:mod:`qdthermo.kinetics.counting`).
        """
        if self.order > 2:
            raise ValueError(f"networks of more than {SPARSE_MIN_STATES} states: cumulants up to order 2 only, "
                             f"got order={self.order}")
        n, src, dst, rate, P = self._jumps()
        net = self.result.generator.network
        shape, q = self.result.shape, d.shape[-1]
        rate_f = np.broadcast_to(rate, shape + rate.shape[-1:]).reshape(-1, rate.shape[-1])
        P_f = P.reshape(-1, n)
        d_f = np.broadcast_to(d, shape + d.shape[-2:]).reshape(-1, *d.shape[-2:])
        C = np.full((len(P_f), q, self.order), np.nan)
        for p in range(len(P_f)):
            if not np.all(np.isfinite(P_f[p])):
                continue
            g = rate_f[p] * P_f[p][src]  # one-way jump fluxes
            C1 = g @ d_f[p]
            C[p, :, 0] = C1
            if self.order == 2:
                v = np.stack([np.bincount(dst, weights=g * d_f[p][:, a], minlength=n) for a in range(q)], axis=-1)
                x = drazin_apply_sparse(net, rate_f[p], P_f[p], v - P_f[p][:, None] * C1[None, :])
                C[p, :, 1] = g @ d_f[p] ** 2 - 2 * np.einsum("j,ja,ja->a", rate_f[p], d_f[p], x[src])
        return C.reshape(shape + (q, self.order))

    def cumulant(self, k: int, name: str) -> Array:
        """``C_k`` of the counted quantity ``name`` [quantity^k x rate], batch-shaped.

        Orders above :attr:`order` (or quantities outside :attr:`counting`) are computed on demand.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"cumulant order k must be an integer >= 1, got {k!r}")
        if name in self.counting and k <= self.order:
            return self._cumulants[..., self.counting.index(name), k - 1]  # type: ignore[no-any-return]
        n, src, dst, rate, P = self._jumps()
        d = self.increments(name)[..., None]
        return self._clean(counting.scaled_cumulants(n, src, dst, rate, d, P, int(k)), d)[..., 0, k - 1]

    def covariance(self, a: str, b: str) -> Array:
        """Zero-frequency cross-covariance rate ``d^2 lambda / d(i chi_a) d(i chi_b)`` [unit_a unit_b x rate]."""
        n, src, dst, rate, P = self._jumps()
        return self.result._masked(counting.covariance(n, src, dst, rate, self.increments(a),
                                                       self.increments(b), P))

    def covariance_matrix(self, names: Sequence[str] | None = None) -> Array:
        """``(*shape, k, k)`` covariance rates of ``names`` (default: :attr:`counting`).

        Entries below round-off are exactly 0, as for the cumulants (:meth:`_clean`): the scale of
        ``C_ab`` is ``sum_j rate_j P_src(j) |d_a,j d_b,j|``.  The diagonal equals ``cumulant(2, name)`` to
        round-off (another route).
        """
        names = tuple(self.counting if names is None else names)
        n, src, dst, rate, P = self._jumps()
        d = np.stack(np.broadcast_arrays(*(self.increments(q) for q in names)), axis=-1)
        a = np.abs(d)
        M = np.einsum("...j,...ja,...jb->...ab", self._one_way_fluxes(), a, a)
        return self._below_round_off(counting.covariance_matrix(n, src, dst, rate, d, P), M)

    # ----------------------------------------------------------------- hooks
    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return self.result.shape

    def _masked(self, x: Array, trailing: int = 0) -> Array:
        return self.result._masked(x, trailing)

    def _sigma(self) -> Array:
        return self._entropy_production

    def _known(self) -> tuple[str, ...]:
        return counted_quantities(self.result)

    def _spectrum(self, a: str, b: str, omega: NDArray[np.float64]) -> Array:
        n, src, dst, rate, P = self._jumps()
        pairs = int(np.prod(self.shape)) * int(omega.size)
        compiled = _spectrum_route(n, pairs, self.engine) == "compiled"
        spectrum = noise_compiled.noise_spectrum if compiled else counting.noise_spectrum
        return spectrum(n, src, dst, rate, self.increments(a), self.increments(b), P, omega)

    def _cgf(self, names: list[str], fields: NDArray[Any]) -> NDArray[np.complex128]:
        n, src, dst, rate, P = self._jumps()
        d = np.stack(np.broadcast_arrays(*(self.increments(q) for q in names)), axis=-1)
        return counting.cgf(n, src, dst, rate, d, fields)  # type: ignore[no-any-return]

#: the engines of :func:`fluctuations` (``engine=``)
ENGINES = ("auto", "compiled", "numpy")


def fluctuations(device: Device, *, order: int = 2, counting: str | Sequence[str] = "all",
                 method: Method | str = Method.AUTO, engine: str = "auto",
                 approach: str | None = None) -> Fluctuations | CoherentFluctuations:
    """Counting statistics of ``device`` at every parameter point (see the module docstring).

    Parameters
    ----------
    device
        The device description (batch-first).
    order
        Highest cumulant order computed for every counted quantity (>= 1).
    counting
        ``"all"`` or the counted quantities (``N_<lead>``, ``E_<lead>``, ``Q_<lead>``, flux
        names, ``"entropy"``).
    method
        Steady-state route (as for :func:`qdthermo.solve`).
    engine
        Counting-statistics engine: ``"auto"`` (default: the compiled per-point kernel of
        :mod:`qdthermo.kinetics.counting_compiled` for ``order <= 8`` on dense-size networks
        when Numba is available and the batch has at least 200 000 points
        (``counting_statistics.COMPILED_MIN_POINTS``), or, for ``order <= 2``, 10 000 once a
        compiled kernel has run in the process (``COMPILED_WARM_MIN_POINTS``), so that small calls
        never compile; else NumPy: both give the same cumulants, bit for bit up to order 2, to
        round-off above), ``"compiled"`` (the same at any batch size; it falls back to NumPy
        where it does not apply: ``order > 8``, no Numba or ``QDTHERMO_NO_NUMBA=1``) or
        ``"numpy"`` (the reference engine, :func:`qdthermo.kinetics.counting.scaled_cumulants`).
        Networks of more than ``SPARSE_MIN_STATES`` (256) states use sparse solves whatever
        the engine.  :attr:`Fluctuations.route` tells which one ran.  The engine also computes the
        finite-frequency noise (``noise_spectrum``): compiled (:mod:`qdthermo.kinetics.noise_compiled`,
        equal to NumPy's to round-off) for ``"compiled"``, and for ``"auto"`` from 10^6
        (point, frequency) pairs (``SPECTRUM_COMPILED_MIN_PAIRS``), on networks of up to 256 states.
    approach
        ``None`` or ``"pauli"`` (the rate equation), ``"global"``, ``"local"`` or ``"unified"`` (the tilted
        Liouvillian of that Lindblad equation: a
        :class:`~qdthermo.thermo.coherent_counting.CoherentFluctuations` with the same API;
        docs/coherent.md; ``engine`` applies to the rate equation only).

    Returns
    -------
    Fluctuations or CoherentFluctuations

    Raises
    ------
    ValueError
        For ``order < 1``, an unknown ``engine`` or an unknown counted quantity (the message lists
        the allowed ones).

    Examples
    --------
    Mean current (the first cumulant) and Fano factor of the particles from
    the hot lead:

    >>> import numpy as np, qdthermo as qd
    >>> dev = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0})
    >>> fl = qd.fluctuations(dev, order=3, counting=["N_L", "entropy"])
    >>> bool(np.isclose(fl.cumulant(1, "N_L"), qd.solve(dev).particle_current["L"]))
    True
    >>> round(float(fl.fano["N_L"]), 2)
    8.01
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be an integer >= 1 (allowed range 1 <= order), got {order!r}")
    result = solve_for(device, method=method, approach=approach, full=False,
                       counting=_request(counting, int(order), engine))
    known = (coherent_counted_quantities(result) if isinstance(result, CoherentState)
             else counted_quantities(result))
    names = known if isinstance(counting, str) and counting == "all" else tuple(
        [counting] if isinstance(counting, str) else counting)
    unknown = [q for q in names if q not in known]
    if unknown or not names:
        raise ValueError(f"counting: unknown counted quantity {unknown or names!r}; allowed: 'all' or {list(known)}")
    if isinstance(result, CoherentState):
        return CoherentFluctuations(result, int(order), tuple(names))
    return Fluctuations(result, int(order), tuple(names), engine)


def _request(counting: str | Sequence[str], order: int,
             engine: str) -> Callable[[System, Network], CountingRequest | None]:
    """What :func:`fluctuations` asks a fused solve to count in its pass: the :class:`Fluctuations` of the
    result would compute these cumulants by the compiled route (None where it would not, or the quantities
    are not known: the solve alone is fused, and the usual checks follow)."""
    def request(system: System, net: Network) -> CountingRequest | None:
        if _counting_route(net.n_states, int(np.prod(system.shape)), engine, order) != "compiled":
            return None
        basis = force_basis(system)
        known = _counted(system.lead_names, basis)
        names = known if isinstance(counting, str) and counting == "all" else tuple(
            [counting] if isinstance(counting, str) else counting)
        if not names or any(q not in known for q in names):
            return None
        coef, base_of, kinds = _factored(net, basis, system.lead_names, names)
        return CountingRequest((tuple(names), order), coef, np.asarray(base_of, dtype=np.intp),
                               np.asarray(kinds, dtype=np.intp), order, ROUND_OFF)
    return request


_OBSERVABLE_NAMES = ("noise", "fano", "tur")


def register_observables(counting: Sequence[str] | None = None) -> tuple[str, ...]:
    """Register the second-order statistics as observables, so results and sweeps export them.

    Adds ``noise_<q>`` (``C_2`` [quantity^2 x rate]), ``fano_<q>`` and ``tur_<q>`` for every
    counted quantity ``q`` (default: all of each device) to the observable registry; call it in
    a module that sweep workers import when using a process pool or Dask.  Undo with
    :func:`unregister_observables`.

    Returns
    -------
    tuple of str
        The registered observable names.
    """
    def stats(result: SteadyState) -> Fluctuations:
        names = tuple(counting) if counting is not None else counted_quantities(result)
        cache = result.__dict__.setdefault("_fluctuations_cache", {})
        if names not in cache:
            cache[names] = Fluctuations(result, 2, names)
        return cache[names]  # type: ignore[no-any-return]

    def noise(result: SteadyState) -> Mapping[str, Array]:
        fl = stats(result)
        return {q: fl.cumulant(2, q) for q in fl.counting}

    observable("noise", units="quantity^2*rate", long_name="zero-frequency noise C2 of",
               replace=True)(noise)
    observable("fano", units="quantity", long_name="Fano factor C2/|C1| of",
               replace=True)(lambda result: dict(stats(result).fano))
    observable("tur", units="k_B", long_name="TUR ratio Sigma_dot C2/C1^2 (>= 2) of",
               replace=True)(lambda result: dict(stats(result).tur))
    return _OBSERVABLE_NAMES


def unregister_observables() -> None:
    """Remove the observables added by :func:`register_observables`."""
    for name in _OBSERVABLE_NAMES:
        if name in OBSERVABLES:
            unregister(name)

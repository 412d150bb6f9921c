"""The finalized many-body system of a device.

States are occupation patterns of the dots; state ``s`` has dot ``d``
occupied when bit ``d`` of ``s`` is set, so for dots (L, R) the order is
``"00", "10", "01", "11"`` = the paper's |1>, |2>, |3>, |4>.  A *channel*
is one dot changing occupation through one lead: excitation ``i -> j``
(an electron enters dot ``d`` from the lead) at transition energy
``w = E_j - E_i``, together with its reverse.

All parameter-dependent arrays have the device's batch shape as leading
axes: ``energies`` is ``(*shape, n_states)``, channel arrays are
``(*shape, n_channels)``.  Units: energies, temperatures, chemical potentials
in the energy unit; couplings in the rate unit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._validate import check_finite, check_nonnegative

__all__ = ["System"]

Array = NDArray[np.float64]


def _ro(arr: NDArray) -> NDArray:  # type: ignore[type-arg]
    arr = np.array(arr, copy=None, order="C")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class System:
    """Many-body states and channels of a :class:`~qdthermo.model.device.Device`.

    Built by :meth:`Device.finalized() <qdthermo.model.device.Device.finalized>`;
    it holds no reference to the device (it is a value, not a view).

    Attributes
    ----------
    name
        The device's name.
    dot_names, lead_names
        Names of the dots (state-label order) and of the leads.
    lead_dots
        The dot each lead is attached to (by name), in lead order.
    reference_lead
        Reference lead of the force-flux basis.
    aliases
        Generic force key -> alias (``{"E:t": "E", ...}``), see the device.
    parallel_pair
        The parallel force pair used for regimes, or None.
    shape
        Batch shape.
    state_labels
        Occupation strings, one character per dot in device order.
    occupations
        ``(n_states, n_dots)`` integer array of occupations.
    dot_levels
        ``(*shape, n_dots)`` single-particle levels [energy unit].
    pair_dots, pair_energies
        ``(n_pairs, 2)`` the two dots of each interaction, and ``(*shape, n_pairs)``
        its energy ``U + s_a s_b J`` when both are occupied [energy unit].
    energies
        ``(*shape, n_states)`` many-body energies [energy unit] (formed on first use).
    channel_lead, channel_dot, channel_initial, channel_final
        ``(n_channels,)`` integer arrays: lead index, dot index, and the
        states ``i`` (dot empty) and ``j`` (dot filled) of each channel.
    channel_energy
        ``(*shape, n_channels)`` transition energies ``w = E_j - E_i``.
    channel_temperature, channel_chemical_potential, channel_coupling
        ``(*shape, n_channels)`` lead temperature, chemical potential and
        tunnel coupling seen by each channel (formed on first use).
    coupling, coupling_column
        The couplings without repetition: ``(*shape, n_columns)`` values [rate unit] and the
        column of each channel (one column per lead, or per channel where a coupling depends
        on energy or transition); ``channel_coupling = coupling[..., coupling_column]``.
    lead_temperature, lead_chemical_potential
        ``(*shape, n_leads)``.

    Examples
    --------
    The paper's device has four states and six channels; the many-body
    energies carry the batch shape of the parameters:

    >>> import qdthermo as qd
    >>> system = qd.three_terminal(eps_L=1.0, eps_R=[0.5, 1.0, 2.0], U=0.5).finalized()
    >>> system.state_labels, system.shape, system.energies.shape
    (('00', '10', '01', '11'), (3,), (3, 4))
    >>> system.channel_labels
    ('t:00->10', 't:01->11', 'b:00->10', 'b:01->11', 'r:00->01', 'r:10->11')
    >>> system.energies[0].tolist()                      # 0, eps_L, eps_R, eps_L + eps_R + U
    [0.0, 1.0, 0.5, 2.0]
    """

    name: str
    dot_names: tuple[str, ...]
    lead_names: tuple[str, ...]
    lead_dots: tuple[str, ...]
    reference_lead: str
    aliases: Mapping[str, str]
    parallel_pair: tuple[str, str] | None
    shape: tuple[int, ...]
    occupations: NDArray[np.int8]
    dot_levels: Array
    pair_dots: NDArray[np.intp]
    pair_energies: Array
    channel_lead: NDArray[np.int64]
    channel_dot: NDArray[np.int64]
    channel_initial: NDArray[np.int64]
    channel_final: NDArray[np.int64]
    coupling: Array
    coupling_column: NDArray[np.intp]
    lead_temperature: Array
    lead_chemical_potential: Array

    # ------------------------------------------------------------------ build
    @classmethod
    def from_device(cls, device: Any) -> "System":
        """Enumerate states and channels of ``device`` and evaluate all arrays."""
        shape = device.shape
        dots = device.dots
        n_dots = len(dots)
        n_states = 2**n_dots
        index = {d.name: k for k, d in enumerate(dots)}
        check_memory(n_dots, len(device.leads), shape)
        occ = ((np.arange(n_states)[:, None] >> np.arange(n_dots)[None, :]) & 1).astype(np.int8)
        levels = _stack([dot.level for dot in dots], shape)
        pair_dots = np.array([[index[i.dots[0]], index[i.dots[1]]] for i in device.interactions],
                             dtype=np.intp).reshape(-1, 2)
        pairs = _stack([np.asarray(i.coulomb) + dots[a].spin_z * dots[b].spin_z * np.asarray(i.exchange)
                        for i, (a, b) in zip(device.interactions, pair_dots)], shape)
        # channels, lead by lead (contiguous blocks): every state with the lead's dot empty
        blocks = [np.flatnonzero(occ[:, index[lead.dot]] == 0) for lead in device.leads]
        ci = np.concatenate(blocks).astype(np.intp)
        cd = np.repeat([index[lead.dot] for lead in device.leads], [len(b) for b in blocks]).astype(np.intp)
        cj = ci | (1 << cd)
        cl = np.repeat(np.arange(len(device.leads)), [len(b) for b in blocks]).astype(np.intp)
        gather = _Gather(n_states, ci, cj, cl, len(device.leads))
        T = _stack([lead.temperature for lead in device.leads], shape)
        mu = _stack([lead.chemical_potential for lead in device.leads], shape)
        system = cls(
            name=device.name, dot_names=tuple(device.dot_names), lead_names=tuple(device.lead_names),
            lead_dots=tuple(lead.dot for lead in device.leads), reference_lead=str(device.reference_lead),
            aliases=dict(device.aliases), parallel_pair=device.parallel_pair, shape=shape,
            occupations=_ro(occ), dot_levels=_ro(levels), pair_dots=_ro(pair_dots), pair_energies=_ro(pairs),
            channel_lead=_ro(cl), channel_dot=_ro(cd), channel_initial=_ro(ci), channel_final=_ro(cj),
            coupling=_ro(np.empty(shape + (0,))), coupling_column=_ro(cl),
            lead_temperature=_ro(T), lead_chemical_potential=_ro(mu),
        )
        g, column = _couplings(device.leads, occ, gather, system)
        object.__setattr__(system, "coupling", _ro(g))
        object.__setattr__(system, "coupling_column", _ro(column))
        return system

    # ------------------------------------------- arrays formed on first use
    @cached_property
    def energies(self) -> Array:
        """``(*shape, n_states)`` many-body energies [energy unit]: levels of the occupied dots plus the pair terms."""
        occ = self.occupations
        levels, pairs = self.dot_levels, self.pair_energies
        if (math.prod(self.shape) >= _BY_STATE_MIN_POINTS and np.isfinite(levels).all()
                and np.isfinite(pairs).all()):
            return _ro(self._energies_by_state())
        energies = np.zeros(self.shape + (self.n_states,))
        term = np.empty_like(energies)  # one scratch array: no temporary per term
        for k in range(occ.shape[1]):
            energies += np.multiply(levels[..., k, None], occ[:, k], out=term)
        for k, (a, b) in enumerate(self.pair_dots):
            energies += np.multiply(pairs[..., k, None], occ[:, a] & occ[:, b], out=term)
        return _ro(energies)

    def _energies_by_state(self) -> Array:
        """:attr:`energies` state by state, adding only the terms of the occupied dots and pairs.

        Bit for bit the sum above where every level and pair energy is finite: there, each
        term is ``value * 1`` (exact) or ``value * 0`` (a zero, which leaves a sum started at
        ``+0.0`` unchanged), added in the same order; about 3x faster on large batches (one
        pass per term present instead of a multiply and an add over every state per term).
        """
        occ = self.occupations
        out = np.empty(self.shape + (self.n_states,))
        for s in range(self.n_states):
            terms = [self.dot_levels[..., k] for k in range(occ.shape[1]) if occ[s, k]]
            terms += [self.pair_energies[..., k] for k, (a, b) in enumerate(self.pair_dots) if occ[s, a] & occ[s, b]]
            if not terms:
                out[..., s] = 0.0
                continue
            acc = terms[0] + 0.0  # 0.0 + t: -0.0 becomes +0.0, as in the sum started at zero
            for t in terms[1:]:
                acc += t
            out[..., s] = acc
        return out

    @cached_property
    def channel_coupling(self) -> Array:
        """``(*shape, n_channels)`` tunnel coupling of each channel [rate unit]."""
        return _ro(np.take(self.coupling, self.coupling_column, axis=-1))

    @cached_property
    def channel_energy(self) -> Array:
        """``(*shape, n_channels)`` transition energies ``w = E_j - E_i`` [energy unit]."""
        return _ro(self._gather.difference(self.energies))

    @cached_property
    def channel_temperature(self) -> Array:
        """``(*shape, n_channels)`` temperature of each channel's lead [energy unit]."""
        return _ro(self._gather.by_lead(self.lead_temperature))

    @cached_property
    def channel_chemical_potential(self) -> Array:
        """``(*shape, n_channels)`` chemical potential of each channel's lead [energy unit]."""
        return _ro(self._gather.by_lead(self.lead_chemical_potential))

    @cached_property
    def state_labels(self) -> tuple[str, ...]:
        """Occupation strings, one character per dot in device order (``"10"``: first dot occupied)."""
        chars = np.array(["0", "1"])[self.occupations]
        return tuple("".join(row) for row in chars)

    @cached_property
    def _gather(self) -> "_Gather":
        return _Gather(self.n_states, self.channel_initial, self.channel_final, self.channel_lead,
                       len(self.lead_names))

    # -------------------------------------------------------------- structure
    @property
    def n_states(self) -> int:
        """Number of many-body states."""
        return len(self.occupations)

    @property
    def n_channels(self) -> int:
        """Number of tunnelling channels (lead, i -> j)."""
        return len(self.channel_lead)

    @property
    def channel_labels(self) -> tuple[str, ...]:
        """Labels ``"lead:i->j"`` of the channels, e.g. ``"t:00->10"``."""
        return tuple(
            f"{self.lead_names[ell]}:{self.state_labels[i]}->{self.state_labels[j]}"
            for ell, i, j in zip(self.channel_lead, self.channel_initial, self.channel_final)
        )

    @property
    def lead_incidence(self) -> Array:
        """``(n_channels, n_leads)`` 0/1 matrix: channel c belongs to lead l (small networks)."""
        m = np.zeros((self.n_channels, len(self.lead_names)))
        m[np.arange(self.n_channels), self.channel_lead] = 1.0
        return m

    def on_channels(self, P: Array) -> tuple[Array, Array]:
        """``(P_i, P_j)`` of every channel ``i -> j``: shape ``(..., n_channels)`` each.

        ``P`` is ``(..., n_states)`` (extra leading axes allowed).  Exact gathers:
        products with 0/1 selection matrices for small networks (C-ordered, much
        faster than fancy indexing along the last axis), index gathers for large ones.
        """
        return self._gather.initial_final(P)

    def lead_sum(self, a: Array) -> Array:
        """Sum a channel array ``(..., n_channels)`` over each lead's channels: ``(..., n_leads)``."""
        return self._gather.lead_sum(a)

    @property
    def particle_number(self) -> NDArray[np.int64]:
        """``(n_states,)`` total number of electrons in each state."""
        return self.occupations.sum(axis=1)


#: networks with at most this many (states x channels) sum channels over leads by dense 0/1 products
_DENSE_GATHER = 1 << 16


@dataclass(frozen=True, eq=False)
class _Gather:
    """Exact gathers between states, channels and leads (index gathers; lead sums by 0/1 products when small)."""

    n_states: int
    ci: NDArray[np.intp]
    cj: NDArray[np.intp]
    cl: NDArray[np.intp]
    n_leads: int

    @property
    def dense(self) -> bool:
        return self.n_states * len(self.ci) <= _DENSE_GATHER

    @cached_property
    def _starts(self) -> NDArray[np.intp]:
        return np.searchsorted(self.cl, np.arange(self.n_leads)).astype(np.intp)

    def lead_slice(self, ell: int) -> slice:
        """The channels of lead ``ell`` (a contiguous block)."""
        stop = self._starts[ell + 1] if ell + 1 < self.n_leads else len(self.cl)
        return slice(int(self._starts[ell]), int(stop))

    def initial_final(self, P: Array) -> tuple[Array, Array]:
        # index gathers: exact, and faster than products with 0/1 matrices (which also spread a NaN
        # of one state onto every channel) at any batch size
        return np.take(P, self.ci, axis=-1), np.take(P, self.cj, axis=-1)

    def difference(self, E: Array) -> Array:
        Ei, Ej = self.initial_final(E)
        Ej -= Ei
        return Ej

    def by_lead(self, a: Array) -> Array:
        """A per-lead array ``(..., n_leads)`` spread onto the channels."""
        return np.take(a, self.cl, axis=-1)

    def lead_sum(self, a: Array) -> Array:
        if self.dense:
            m = np.zeros((len(self.cl), self.n_leads))
            m[np.arange(len(self.cl)), self.cl] = 1.0
            return a @ m  # type: ignore[no-any-return]
        return np.add.reduceat(a, self._starts, axis=-1)  # type: ignore[no-any-return]


def check_memory(n_dots: int, n_leads: int, shape: tuple[int, ...]) -> None:
    """Refuse, before allocating, a system that would not fit in this machine's memory.

    Raises
    ------
    MemoryError
        Naming the estimated need and the memory available.
    """
    n_states = 2**n_dots
    n_points = int(np.prod(shape)) if shape else 1
    n_channels = n_leads * n_states // 2
    need = n_points * (8.0 * 4 * n_states + 8.0 * 12 * n_channels) + 8.0 * 8 * n_channels
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return
    if need > 0.8 * total:
        raise MemoryError(f"a device of {n_dots} dots and {n_leads} leads at {n_points} parameter point(s) "
                          f"needs about {need / 2**30:.1f} GiB ({n_states} states, {n_channels} channels); "
                          f"this machine has {total / 2**30:.1f} GiB: use fewer dots or fewer points per call")


#: batches from this many points form :attr:`System.energies` state by state (fewer: one pass per term)
_BY_STATE_MIN_POINTS = 4096


def _stack(values: list[Any], shape: tuple[int, ...]) -> Array:
    """Per-point values (each broadcastable to ``shape``) stacked on a last axis: ``(*shape, len(values))``."""
    out = np.empty(shape + (len(values),))
    for k, v in enumerate(values):
        out[..., k] = v
    return out


def _couplings(leads: Any, occ: NDArray[np.int8], gather: "_Gather",
               system: "System") -> tuple[Array, NDArray[np.intp]]:
    """The couplings as ``(values (*shape, n_columns), column of each channel)``.

    One column per lead where every lead's coupling is a number or an array (the common case); one
    per channel where any depends on energy or transition.
    """
    shape = system.shape
    if not any(callable(lead.coupling) or isinstance(lead.coupling, Mapping) for lead in leads):
        return _stack([lead.coupling for lead in leads], shape), system.channel_lead
    ci, cj = system.channel_initial, system.channel_final
    w = system.channel_energy if any(callable(lead.coupling) for lead in leads) else None
    gamma = np.empty(shape + (len(ci),))
    for ell, lead in enumerate(leads):
        sel = gather.lead_slice(ell)
        gamma[..., sel] = _coupling(lead, occ, ci[sel], cj[sel], None if w is None else w[..., sel],
                                    gamma[..., sel].shape)
    return gamma, np.arange(len(ci), dtype=np.intp)


def _coupling(lead, occ, ci, cj, w, shape):  # type: ignore[no-untyped-def]
    """Evaluate a lead's tunnel coupling on its channels, of ``shape`` (``w``: their energies, or None
    where no coupling of the device depends on energy)."""
    c = lead.coupling
    pname = f"gamma[{lead.name!r}]"
    if callable(c):
        with np.errstate(all="ignore"):
            g = np.asarray(c(w), dtype=np.float64)
        try:
            g = np.broadcast_to(g, shape)
        except ValueError:
            raise ValueError(f"{pname}: the coupling function returned shape {g.shape}, "
                             f"expected a shape broadcastable to {shape}") from None
        check_finite(f"{pname} (energy-dependent coupling)", g)
        check_nonnegative(f"{pname} (energy-dependent coupling)", g)
        return g
    if isinstance(c, Mapping):
        chars = np.array(["0", "1"])
        labels_i = ["".join(chars[occ[i]]) for i in ci]
        labels_j = ["".join(chars[occ[j]]) for j in cj]
        cols = []
        for a, b, i, j in zip(labels_i, labels_j, ci, cj):
            keys = (f"{a}->{b}", f"{i + 1}->{j + 1}")
            found = [k for k in keys if k in c]
            if not found:
                allowed = [f"{x}->{y}" for x, y in zip(labels_i, labels_j)]
                raise ValueError(
                    f"{pname}: no coupling given for transition {keys[0]!r} "
                    f"(also accepted as {keys[1]!r}); this lead's transitions are {allowed}"
                )
            cols.append(np.broadcast_to(np.asarray(c[found[0]]), shape[:-1]))
        known = {f"{a}->{b}" for a, b in zip(labels_i, labels_j)} | {
            f"{i + 1}->{j + 1}" for i, j in zip(ci, cj)}
        extra = sorted(set(c) - known)
        if extra:
            allowed = [f"{x}->{y}" for x, y in zip(labels_i, labels_j)]
            raise ValueError(f"{pname}: unknown transition(s) {extra}; this lead's transitions are {allowed}")
        return np.stack(cols, axis=-1)
    return np.broadcast_to(np.asarray(c)[..., None], shape)

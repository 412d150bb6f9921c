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

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
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
    energies
        ``(*shape, n_states)`` many-body energies [energy unit].
    channel_lead, channel_dot, channel_initial, channel_final
        ``(n_channels,)`` integer arrays: lead index, dot index, and the
        states ``i`` (dot empty) and ``j`` (dot filled) of each channel.
    channel_energy
        ``(*shape, n_channels)`` transition energies ``w = E_j - E_i``.
    channel_temperature, channel_chemical_potential, channel_coupling
        ``(*shape, n_channels)`` lead temperature, chemical potential and
        tunnel coupling seen by each channel.
    lead_temperature, lead_chemical_potential
        ``(*shape, n_leads)``.
    """

    name: str
    dot_names: tuple[str, ...]
    lead_names: tuple[str, ...]
    lead_dots: tuple[str, ...]
    reference_lead: str
    aliases: Mapping[str, str]
    parallel_pair: tuple[str, str] | None
    shape: tuple[int, ...]
    state_labels: tuple[str, ...]
    occupations: NDArray[np.int64]
    energies: Array
    channel_lead: NDArray[np.int64]
    channel_dot: NDArray[np.int64]
    channel_initial: NDArray[np.int64]
    channel_final: NDArray[np.int64]
    channel_energy: Array
    channel_temperature: Array
    channel_chemical_potential: Array
    channel_coupling: Array
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
        occ = ((np.arange(n_states)[:, None] >> np.arange(n_dots)[None, :]) & 1).astype(np.int64)
        labels = tuple("".join(str(b) for b in row) for row in occ)
        index = {d.name: k for k, d in enumerate(dots)}

        energies = np.zeros(shape + (n_states,))
        for k, dot in enumerate(dots):
            energies += np.asarray(dot.level)[..., None] * occ[:, k]
        for inter in device.interactions:
            a, b = index[inter.dots[0]], index[inter.dots[1]]
            sz = dots[a].spin_z * dots[b].spin_z
            pair = np.asarray(inter.coulomb) + sz * np.asarray(inter.exchange)
            energies += pair[..., None] * (occ[:, a] * occ[:, b])

        c_lead, c_dot, c_i, c_j = [], [], [], []
        for ell, lead in enumerate(device.leads):
            d = index[lead.dot]
            for i in range(n_states):
                if occ[i, d] == 0:
                    c_lead.append(ell)
                    c_dot.append(d)
                    c_i.append(i)
                    c_j.append(i | (1 << d))
        ci, cj = np.array(c_i), np.array(c_j)
        n_ch = len(ci)
        # gathers onto the channels as products with 0/1 (and -1) matrices: exact, C-ordered, fast
        difference = np.zeros((n_states, n_ch))
        difference[cj, np.arange(n_ch)] += 1.0
        difference[ci, np.arange(n_ch)] -= 1.0
        w = energies @ difference
        bshape = w.shape

        T = np.stack([np.broadcast_to(lead.temperature, shape) for lead in device.leads], axis=-1)
        mu = np.stack([np.broadcast_to(lead.chemical_potential, shape) for lead in device.leads], axis=-1)
        cl = np.array(c_lead)
        on_lead = np.zeros((len(device.leads), n_ch))
        on_lead[cl, np.arange(n_ch)] = 1.0
        gamma = np.empty(bshape)
        for ell, lead in enumerate(device.leads):
            sel = np.flatnonzero(cl == ell)
            gamma[..., sel] = _coupling(lead, [labels[i] for i in ci[sel]], [labels[j] for j in cj[sel]],
                                        ci[sel], cj[sel], w[..., sel])
        return cls(
            name=device.name,
            dot_names=tuple(device.dot_names),
            lead_names=tuple(device.lead_names),
            lead_dots=tuple(lead.dot for lead in device.leads),
            reference_lead=str(device.reference_lead),
            aliases=dict(device.aliases),
            parallel_pair=device.parallel_pair,
            shape=shape,
            state_labels=labels,
            occupations=_ro(occ),
            energies=_ro(energies),
            channel_lead=_ro(cl),
            channel_dot=_ro(np.array(c_dot)),
            channel_initial=_ro(ci),
            channel_final=_ro(cj),
            channel_energy=_ro(w),
            channel_temperature=_ro(T @ on_lead),
            channel_chemical_potential=_ro(mu @ on_lead),
            channel_coupling=_ro(gamma),
            lead_temperature=_ro(T),
            lead_chemical_potential=_ro(mu),
        )

    # -------------------------------------------------------------- structure
    @property
    def n_states(self) -> int:
        """Number of many-body states."""
        return len(self.state_labels)

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
        """``(n_channels, n_leads)`` 0/1 matrix: channel c belongs to lead l."""
        m = np.zeros((self.n_channels, len(self.lead_names)))
        m[np.arange(self.n_channels), self.channel_lead] = 1.0
        return m

    def on_channels(self, P: Array) -> tuple[Array, Array]:
        """``(P_i, P_j)`` of every channel ``i -> j``: shape ``(..., n_channels)`` each.

        ``P`` is ``(..., n_states)`` (extra leading axes allowed).  Gathered as
        products with 0/1 selection matrices: exact for finite ``P``, C-ordered,
        and much faster than fancy indexing along the last axis.
        """
        select = _selectors(self.n_states, tuple(int(i) for i in self.channel_initial),
                            tuple(int(j) for j in self.channel_final))
        return P @ select[0], P @ select[1]

    @property
    def particle_number(self) -> NDArray[np.int64]:
        """``(n_states,)`` total number of electrons in each state."""
        return self.occupations.sum(axis=1)


@lru_cache(maxsize=64)
def _selectors(n: int, initial: tuple[int, ...], final: tuple[int, ...]) -> Array:
    """``(2, n, n_channels)`` 0/1 matrices picking the initial and final state of each channel."""
    select = np.zeros((2, n, len(initial)))
    select[0, list(initial), np.arange(len(initial))] = 1.0
    select[1, list(final), np.arange(len(final))] = 1.0
    select.setflags(write=False)
    return select


def _coupling(lead, labels_i, labels_j, ci, cj, w):  # type: ignore[no-untyped-def]
    """Evaluate a lead's tunnel coupling on its channels, shape of ``w``."""
    c = lead.coupling
    pname = f"gamma[{lead.name!r}]"
    if callable(c):
        with np.errstate(all="ignore"):
            g = np.asarray(c(w), dtype=np.float64)
        try:
            g = np.broadcast_to(g, w.shape)
        except ValueError:
            raise ValueError(f"{pname}: the coupling function returned shape {g.shape}, "
                             f"expected a shape broadcastable to {w.shape}") from None
        check_finite(f"{pname} (energy-dependent coupling)", g)
        check_nonnegative(f"{pname} (energy-dependent coupling)", g)
        return g
    if isinstance(c, Mapping):
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
            cols.append(np.broadcast_to(np.asarray(c[found[0]]), w.shape[:-1]))
        known = {f"{a}->{b}" for a, b in zip(labels_i, labels_j)} | {
            f"{i + 1}->{j + 1}" for i, j in zip(ci, cj)}
        extra = sorted(set(c) - known)
        if extra:
            allowed = [f"{x}->{y}" for x, y in zip(labels_i, labels_j)]
            raise ValueError(f"{pname}: unknown transition(s) {extra}; this lead's transitions are {allowed}")
        return np.stack(cols, axis=-1)
    return np.broadcast_to(np.asarray(c)[..., None], w.shape)

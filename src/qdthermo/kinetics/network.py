"""The structure of a Pauli generator: states, channels and directed jumps.

A :class:`Network` is the part of a master equation that does not depend on
the parameter values: the number of many-body states, and for every
tunnelling *channel* ``c`` (one lead, one dot, excitation ``i -> j``) its
initial state, final state and lead.  Every channel gives two *directed
jumps*: ``i -> j`` with rate ``k^+_c`` (an electron enters from the lead,
jump index ``c``) and ``j -> i`` with rate ``k^-_c`` (it leaves, jump index
``n_channels + c``).

Networks are hashable values, built once per network structure and cached
(:func:`network`); the *values* (rates, energies) are batch-first arrays
that live elsewhere (:class:`~qdthermo.kinetics.rates.Rates`).

Counting weights: a jump of channel ``c`` transfers ``+1`` particle (``k^+``)
or ``-1`` (``k^-``) from the lead into the system, and the energy ``+w_c`` or
``-w_c``; :attr:`Network.jump_sign` holds these signs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Network", "network"]

IntArray = NDArray[np.intp]


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Network:
    """Structure of a Pauli master equation (hashable by content; see the module docstring).

    Index arrays only (memory proportional to the number of channels), so the
    same structure serves small dense networks and large sparse ones.

    Attributes
    ----------
    n_states
        Number of many-body states.
    initial, final
        ``(n_channels,)`` per channel: the state with the dot empty (``i``) and filled (``j``).
    lead
        ``(n_channels,)`` per channel: the lead index.
    n_leads
        Number of leads.

    Examples
    --------
    A single dot between two leads: two channels (one per lead), four jumps.

    >>> import qdthermo as qd
    >>> from qdthermo.kinetics.network import network
    >>> net = network(qd.single_dot(eps=0.5).finalized())
    >>> net.n_states, net.n_channels, net.n_jumps, net.lead.tolist()
    (2, 2, 4, [0, 1])
    """

    n_states: int
    initial: IntArray
    final: IntArray
    lead: IntArray
    n_leads: int

    def __post_init__(self) -> None:
        for name in ("initial", "final", "lead"):
            a = getattr(self, name)  # no copy of an index array that is already read-only intp
            if not (isinstance(a, np.ndarray) and a.dtype == np.intp and not a.flags.writeable):
                a = _ro(np.array(a, dtype=np.intp))
            object.__setattr__(self, name, a)

    @cached_property
    def key(self) -> tuple[int, int, str]:
        """Content key: ``(n_states, n_leads, digest of the index arrays)``."""
        digest = hashlib.blake2b(digest_size=16)
        for a in (self.initial, self.final, self.lead):
            digest.update(np.ascontiguousarray(a).tobytes())
        return (self.n_states, self.n_leads, digest.hexdigest())

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Network) and self.key == other.key

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.initial)

    @property
    def n_jumps(self) -> int:
        """Number of directed jumps (two per channel)."""
        return 2 * len(self.initial)

    @cached_property
    def source(self) -> IntArray:
        """``(n_jumps,)`` source state of each directed jump (``k^+`` jumps first)."""
        return _ro(np.concatenate([self.initial, self.final]))

    @cached_property
    def target(self) -> IntArray:
        """``(n_jumps,)`` target state of each directed jump."""
        return _ro(np.concatenate([self.final, self.initial]))

    @cached_property
    def jump_sign(self) -> NDArray[np.float64]:
        """``(n_jumps,)`` particles transferred from the lead into the system: +1 (``k^+``), -1 (``k^-``)."""
        n = self.n_channels
        return _ro(np.concatenate([np.ones(n), -np.ones(n)]))

    @cached_property
    def jump_lead(self) -> IntArray:
        """``(n_jumps,)`` lead of each directed jump."""
        return _ro(np.concatenate([self.lead, self.lead]))

    @cached_property
    def channel_group(self) -> tuple[IntArray, int]:
        """``(group of each channel, number of groups)``: channels that change the same dot share a group.

        States are occupation bit patterns, so ``final - initial`` is the bit of
        the channel's dot; per group, probability conservation gives zero net
        particle flux at steady state (the dot's charge is conserved).
        """
        # every lead is attached to one dot: one key per lead (a scatter), no sort over the channels
        per_lead = np.full(self.n_leads, -1, dtype=np.intp)
        per_lead[self.lead] = self.final - self.initial
        keys, inverse = np.unique(per_lead, return_inverse=True)
        group = inverse.astype(np.intp).ravel()[self.lead]
        if np.any((self.final - self.initial) != keys[group]):  # not one dot per lead: group channel by channel
            keys, inverse = np.unique(self.final - self.initial, return_inverse=True)
            group = inverse.astype(np.intp).ravel()
        return _ro(group), len(keys)

    @cached_property
    def undirected_edges(self) -> tuple[tuple[int, int], ...]:
        """Sorted state pairs ``(a, b)``, ``a < b``, joined by at least one channel."""
        return tuple(sorted({(int(min(i, j)), int(max(i, j))) for i, j in zip(self.initial, self.final)}))


def network(system: Any) -> Network:
    """The :class:`Network` of a finalized system (cached on the system).

    Parameters
    ----------
    system
        A :class:`~qdthermo.model.system.System` (anything with ``n_states``,
        ``channel_initial``, ``channel_final``, ``channel_lead`` and ``lead_names``).
    """
    return Network(int(system.n_states), system.channel_initial, system.channel_final, system.channel_lead,
                   len(system.lead_names))

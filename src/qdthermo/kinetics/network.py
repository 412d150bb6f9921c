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

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Network", "network"]

IntArray = NDArray[np.intp]


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Network:
    """Structure of a Pauli master equation (hashable; see the module docstring).

    Attributes
    ----------
    n_states
        Number of many-body states.
    initial, final
        Per channel: the state with the dot empty (``i``) and filled (``j``).
    lead
        Per channel: the lead index.
    n_leads
        Number of leads.
    """

    n_states: int
    initial: tuple[int, ...]
    final: tuple[int, ...]
    lead: tuple[int, ...]
    n_leads: int

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
        return _ro(np.array(self.initial + self.final, dtype=np.intp))

    @cached_property
    def target(self) -> IntArray:
        """``(n_jumps,)`` target state of each directed jump."""
        return _ro(np.array(self.final + self.initial, dtype=np.intp))

    @cached_property
    def jump_sign(self) -> NDArray[np.float64]:
        """``(n_jumps,)`` particles transferred from the lead into the system: +1 (``k^+``), -1 (``k^-``)."""
        n = self.n_channels
        return _ro(np.concatenate([np.ones(n), -np.ones(n)]))

    @cached_property
    def jump_lead(self) -> IntArray:
        """``(n_jumps,)`` lead of each directed jump."""
        return _ro(np.array(self.lead + self.lead, dtype=np.intp))

    @cached_property
    def undirected_edges(self) -> tuple[tuple[int, int], ...]:
        """Sorted state pairs ``(a, b)``, ``a < b``, joined by at least one channel."""
        return tuple(sorted({(min(i, j), max(i, j)) for i, j in zip(self.initial, self.final)}))


@lru_cache(maxsize=128)
def _cached(n_states: int, initial: tuple[int, ...], final: tuple[int, ...], lead: tuple[int, ...],
            n_leads: int) -> Network:
    return Network(n_states, initial, final, lead, n_leads)


def network(system: Any) -> Network:
    """The (cached) :class:`Network` of a finalized system.

    Parameters
    ----------
    system
        A :class:`~qdthermo.model.system.System` (anything with ``n_states``,
        ``channel_initial``, ``channel_final``, ``channel_lead`` and ``lead_names``).
    """
    return _cached(int(system.n_states), tuple(int(i) for i in system.channel_initial),
                   tuple(int(j) for j in system.channel_final), tuple(int(x) for x in system.channel_lead),
                   len(system.lead_names))

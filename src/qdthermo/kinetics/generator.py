"""The Pauli generator: structure (:class:`~qdthermo.kinetics.network.Network`) plus values (rates).

``dP/dt = W P`` with ``W_ji`` = total rate ``i -> j`` (i != j) and
``W_ii = -sum_j W_ji`` [rate unit]: columns sum to zero, probability is
conserved.  :class:`PauliGenerator` is the one object every analysis asks
for the operations it needs: the dense matrix, its action on populations,
the steady state (any registered route), the solution of ``W x = b`` on the
complement of the steady state (the group inverse), the tilted generator
with counting fields and the time evolution.  Everything is batch-first:
the rates carry any leading batch shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo.kinetics.counting import tilted_generator
from qdthermo.kinetics.dense import rate_matrix
from qdthermo.kinetics.evolve import propagate
from qdthermo.kinetics.group_inverse import drazin_apply
from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates
from qdthermo.kinetics.sparse import DIRECT_MAX_STATES, balance_residual, drazin_apply_sparse
from qdthermo.kinetics.steady import steady_state

__all__ = ["PauliGenerator", "Stationary"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Stationary:
    """A steady state and how it was obtained (read-only).

    Attributes
    ----------
    populations
        ``(*shape, n_states)`` probabilities; NaN rows where ``valid`` is False.
    valid
        ``(*shape)`` bool: the point has a unique steady state that the route computed.
    route
        Name of the route (see :data:`~qdthermo.kinetics.steady.STEADY_STATE_ROUTES`).
    generator
        The generator that was solved (for :attr:`residual`), or None.

    Examples
    --------
    >>> import qdthermo as qd
    >>> from qdthermo.kinetics import PauliGenerator
    >>> from qdthermo.kinetics.network import network
    >>> from qdthermo.kinetics.rates import rates
    >>> system = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}).finalized()
    >>> st = PauliGenerator(network(system), rates(system)).steady_state(method="linear")
    >>> st.route, bool(st.valid), bool(st.residual < 1e-12)
    ('linear', True, True)
    """

    populations: Array
    valid: NDArray[np.bool_]
    route: str
    generator: "PauliGenerator | None" = None

    @cached_property
    def residual(self) -> Array:
        """``(*shape)`` relative residual of the populations, whatever the route (computed on first access).

        The larger of ``||W P||_1 / sum_i |W_ii| P_i`` and, per dot, the net
        particle flux into the dot relative to the one-way fluxes through it
        (:func:`~qdthermo.kinetics.sparse.balance_residual`; from the jump
        rates, no matrix).  NaN where ``valid`` is False.
        """
        if self.generator is None:
            raise ValueError("this Stationary was built without its generator; no residual is available")
        return self.generator.residual(self.populations)


@dataclass(frozen=True, eq=False)
class PauliGenerator:
    """The generator of a Pauli master equation: network structure plus batched rates.

    Attributes
    ----------
    network
        The structure (states, channels, jumps).
    rates
        The channel rates ``k^+``, ``k^-`` [rate unit], batch shape leading.

    Examples
    --------
    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.kinetics import PauliGenerator
    >>> from qdthermo.kinetics.network import network
    >>> from qdthermo.kinetics.rates import rates
    >>> system = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}).finalized()
    >>> W = PauliGenerator(network(system), rates(system))
    >>> W.matrix.shape, bool(np.allclose(W.matrix.sum(axis=0), 0))       # columns conserve probability
    ((2, 2), True)
    >>> np.round(W.steady_state().populations, 4)
    array([0.5923, 0.4077])
    """

    network: Network
    rates: Rates

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return self.rates.shape

    @property
    def n_states(self) -> int:
        """Number of states."""
        return self.network.n_states

    @cached_property
    def jump_rates(self) -> Array:
        """``(*shape, n_jumps)`` rates of the directed jumps (``k^+`` then ``k^-``, see the network)."""
        out = np.concatenate([self.rates.plus, self.rates.minus], axis=-1)
        out.setflags(write=False)
        return out

    @cached_property
    def matrix(self) -> Array:
        """Dense ``(*shape, n, n)`` generator ``W`` [rate unit]."""
        W = rate_matrix(self.network, self.rates)
        W.setflags(write=False)
        return W

    def apply(self, P: ArrayLike) -> Array:
        """``W P`` for populations (or any vectors) ``P`` of shape ``(..., n)``."""
        return np.einsum("...ij,...j->...i", self.matrix, np.asarray(P, dtype=float))

    def steady_state(self, *, method: str = "auto") -> Stationary:
        """The steady state by a registered route (``"auto"`` chooses; see :mod:`~qdthermo.kinetics.steady`)."""
        P, route = steady_state(self.network, self.rates, method=method)
        valid = np.all(np.isfinite(P), axis=-1)
        P.setflags(write=False)
        valid.setflags(write=False)
        return Stationary(P, valid, route, self)

    def residual(self, P: ArrayLike) -> Array:
        """``(*shape)`` relative residual of populations ``P`` (:func:`~qdthermo.kinetics.sparse.balance_residual`)."""
        r = balance_residual(self.network, self.jump_rates, np.asarray(P, dtype=float))
        r.setflags(write=False)
        return r

    def drazin_apply(self, P0: ArrayLike, b: ArrayLike) -> Array:
        """``W^D b``: solve ``W x = b`` on the complement of the steady state ``P0`` (``1^T x = 0``).

        Dense batched for small networks (:func:`~qdthermo.kinetics.group_inverse.drazin_apply`),
        sparse solves point by point for large ones
        (:func:`~qdthermo.kinetics.sparse.drazin_apply_sparse`); ``b`` is ``(*shape, n)`` or
        ``(*shape, n, m)`` with zero column sums.
        """
        P0, b = np.asarray(P0, dtype=float), np.asarray(b, dtype=float)
        if self.n_states <= DIRECT_MAX_STATES:
            # P0 of the exact chain: states emptied by underflowing rates are cut off, not singular
            return drazin_apply(self.matrix, P0, b, cut_unoccupied=True)  # type: ignore[no-any-return]
        shape = self.shape
        rates = np.broadcast_to(self.jump_rates, shape + (self.network.n_jumps,)).reshape(-1, self.network.n_jumps)
        P = np.broadcast_to(P0, shape + (self.n_states,)).reshape(-1, self.n_states)
        bb = np.broadcast_to(b, shape + b.shape[len(shape):]).reshape((len(P),) + b.shape[len(shape):])
        out = np.stack([drazin_apply_sparse(self.network, rates[p], P[p], bb[p]) for p in range(len(P))])
        return out.reshape(shape + b.shape[len(shape):])

    def tilted(self, increments: ArrayLike, chi: ArrayLike) -> NDArray[np.complex128]:
        """The tilted generator ``W(chi)``: jump terms times ``exp(i chi . d)`` (dense, ``(*shape, n, n)``).

        ``increments`` is ``(*shape, n_jumps, n_counted)`` (what each directed jump transfers),
        ``chi`` is ``(*shape, n_counted)``; see :func:`~qdthermo.kinetics.counting.tilted_generator`.
        """
        net = self.network
        return tilted_generator(net.n_states, net.source, net.target, self.jump_rates,  # type: ignore[no-any-return]
                                increments, chi)

    def evolve(self, times: Array, P0: Array) -> Array:
        """``expm(W t) P0`` at every time, ``(*shape, n_times, n)`` (:func:`~qdthermo.kinetics.evolve.propagate`)."""
        return propagate(self.matrix, times, P0, conserved=np.ones(self.network.n_states))  # 1^T W = 0

    def __getstate__(self) -> dict[str, Any]:  # cached arrays are not pickled
        return {"network": self.network, "rates": self.rates}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "network", state["network"])
        object.__setattr__(self, "rates", state["rates"])

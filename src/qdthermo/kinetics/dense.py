"""Dense batched storage of the Pauli generator: ``(*shape, n, n)`` rate matrices (small networks)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates

__all__ = ["rate_matrix", "incidence"]

Array = NDArray[np.float64]


def incidence(net: Network) -> tuple[Array, Array]:
    """``(n_channels, n_states**2)`` maps from ``k^+`` and ``k^-`` to flattened ``W``.

    Row-major flattening: ``W[j, i]`` is element ``j * n + i``.
    """
    n = net.n_states
    c = np.arange(net.n_channels)
    i, j = net.initial, net.final
    A_plus = np.zeros((net.n_channels, n * n))
    A_minus = np.zeros((net.n_channels, n * n))
    np.add.at(A_plus, (c, j * n + i), 1.0)  # i -> j with k+
    np.add.at(A_plus, (c, i * n + i), -1.0)
    np.add.at(A_minus, (c, i * n + j), 1.0)  # j -> i with k-
    np.add.at(A_minus, (c, j * n + j), -1.0)
    return A_plus, A_minus


#: networks with at most this many (channels x states^2) build W by a product with the incidence matrices
_INCIDENCE_MAX = 1 << 18


def rate_matrix(net: Network, k: Rates) -> Array:
    """Rate matrix ``W`` of shape ``(*shape, n_states, n_states)`` [rate unit].

    Columns sum to zero: probability is conserved.  Small networks: a product
    with fixed incidence matrices (fast for large batches); larger ones: a
    scatter of the jump rates (memory ``n^2`` per point, no incidence matrix).
    """
    n = net.n_states
    if net.n_channels * n * n <= _INCIDENCE_MAX:
        A_plus, A_minus = incidence(net)
        W = k.plus @ A_plus + k.minus @ A_minus
        return W.reshape(W.shape[:-1] + (n, n))
    shape = k.shape
    rate = np.concatenate([np.broadcast_to(k.plus, shape + (net.n_channels,)),
                           np.broadcast_to(k.minus, shape + (net.n_channels,))], axis=-1).reshape(-1, net.n_jumps)
    W = np.zeros((rate.shape[0], n * n))
    np.add.at(W, (slice(None), net.target * n + net.source), rate)  # type: ignore[arg-type]
    np.add.at(W, (slice(None), net.source * n + net.source), -rate)  # type: ignore[arg-type]
    return W.reshape(shape + (n, n))

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
    i, j = np.array(net.initial, dtype=np.intp), np.array(net.final, dtype=np.intp)
    A_plus = np.zeros((net.n_channels, n * n))
    A_minus = np.zeros((net.n_channels, n * n))
    np.add.at(A_plus, (c, j * n + i), 1.0)  # i -> j with k+
    np.add.at(A_plus, (c, i * n + i), -1.0)
    np.add.at(A_minus, (c, i * n + j), 1.0)  # j -> i with k-
    np.add.at(A_minus, (c, j * n + j), -1.0)
    return A_plus, A_minus


def rate_matrix(net: Network, k: Rates) -> Array:
    """Rate matrix ``W`` of shape ``(*shape, n_states, n_states)`` [rate unit].

    Columns sum to zero: probability is conserved.
    """
    A_plus, A_minus = incidence(net)
    n = net.n_states
    W = k.plus @ A_plus + k.minus @ A_minus
    return W.reshape(W.shape[:-1] + (n, n))

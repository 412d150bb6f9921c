"""The Pauli rate matrix of the master equation (PHYSICS.md section 3).

``dP/dt = W P`` with ``W_ji`` = total rate ``i -> j`` (i != j) and
``W_ii = -sum_j W_ji``.  Built for the whole batch at once as a matrix
product of the channel rates with a fixed incidence matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qdthermo.model.system import System
from qdthermo.solve.rates import Rates

__all__ = ["rate_matrix", "incidence"]

Array = NDArray[np.float64]


def incidence(system: System) -> tuple[Array, Array]:
    """``(n_channels, n_states**2)`` maps from ``k^+`` and ``k^-`` to flattened ``W``.

    Row-major flattening: ``W[j, i]`` is element ``j * n + i``.
    """
    n = system.n_states
    c = np.arange(system.n_channels)
    i, j = system.channel_initial, system.channel_final
    A_plus = np.zeros((system.n_channels, n * n))
    A_minus = np.zeros((system.n_channels, n * n))
    A_plus[c, j * n + i] += 1.0  # i -> j with k+
    A_plus[c, i * n + i] -= 1.0
    A_minus[c, i * n + j] += 1.0  # j -> i with k-
    A_minus[c, j * n + j] -= 1.0
    return A_plus, A_minus


def rate_matrix(system: System, k: Rates) -> Array:
    """Rate matrix ``W`` of shape ``(*shape, n_states, n_states)`` [rate unit].

    Columns sum to zero: probability is conserved.
    """
    A_plus, A_minus = incidence(system)
    n = system.n_states
    W = k.plus @ A_plus + k.minus @ A_minus
    return W.reshape(W.shape[:-1] + (n, n))

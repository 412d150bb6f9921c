"""The Lindblad superoperator of the sequential-tunnelling master equation (density-matrix generator).

Jump operators ``L_c = |j><i|`` with the channel rates, Hamiltonian ``H_S``
diagonal in the occupation basis: its populations obey the Pauli equation
and its coherences decay.  Stands beside
:class:`~qdthermo.kinetics.generator.PauliGenerator` with the same
operations (evolution by :func:`~qdthermo.kinetics.evolve.propagate`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates

__all__ = ["liouvillian"]


def liouvillian(net: Network, energies: NDArray[np.float64], k: Rates) -> NDArray[np.complex128]:
    """Lindblad superoperator ``(*shape, n^2, n^2)`` acting on row-major ``vec(rho)``.

    ``d rho/dt = -i[H, rho] + sum_c k_c (L_c rho L_c^+ - {L_c^+ L_c, rho}/2)``
    with ``L_c = |j><i|`` for every excitation (rate ``k^+``) and
    de-excitation (rate ``k^-``) channel; H = diag(E).
    """
    n = net.n_states
    E = energies
    # Hamiltonian part: d rho_ab/dt = -i (E_a - E_b) rho_ab
    diag = (-1j * (E[..., :, None] - E[..., None, :])).reshape(E.shape[:-1] + (n * n,))
    L = diag[..., :, None] * np.eye(n * n)
    ones = np.ones(E.shape[:-1])
    for c in range(net.n_channels):
        i, j = net.initial[c], net.final[c]
        for src, dst, rate in ((i, j, k.plus[..., c]), (j, i, k.minus[..., c])):
            # L rho L^+ : rho_src,src -> dst,dst
            L[..., dst * n + dst, src * n + src] += rate
            # -1/2 {|src><src|, rho}: rho_ab decays if a == src or b == src
            for b in range(n):
                L[..., src * n + b, src * n + b] -= 0.5 * rate * ones
                L[..., b * n + src, b * n + src] -= 0.5 * rate * ones
    return L  # type: ignore[return-value]

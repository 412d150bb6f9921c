"""The many-body Hamiltonian of the dots in the occupation basis, with fermionic signs.

States are the occupation bit patterns of :class:`~qdthermo.model.system.System`
(bit ``d`` of state ``s`` set: dot ``d`` occupied).  Fermionic operators
follow the Jordan-Wigner order = dot order:

``c_d |s> = (-1)^(number of occupied dots k < d) |s - 2^d>`` when dot ``d`` is occupied,

so that ``{c_a, c_b^+} = delta_ab`` and ``{c_a, c_b} = 0`` hold exactly.

``H = sum_d eps_d n_d + sum_(a,b) (U_ab n_a n_b + J_ab S^z_a S^z_b) + sum_tunnels t_ab (c_a^+ c_b + c_b^+ c_a)``

is real symmetric, batch-first ``(*shape, n, n)`` [energy unit]; its
diagonal is ``System.energies``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.model.system import System

__all__ = ["annihilators", "number_operator", "hamiltonian"]

Array = NDArray[np.float64]


@lru_cache(maxsize=32)
def annihilators(n_dots: int) -> Array:
    """``(n_dots, n, n)`` real matrices of ``c_d`` in the occupation basis (Jordan-Wigner signs, read-only)."""
    n = 2**n_dots
    states = np.arange(n)
    c = np.zeros((n_dots, n, n))
    for d in range(n_dots):
        occupied = (states >> d) & 1 == 1
        s = states[occupied]
        below = np.array([bin(int(x) & ((1 << d) - 1)).count("1") for x in s], dtype=np.int64)
        c[d, s ^ (1 << d), s] = (-1.0) ** below
    c.setflags(write=False)
    return c


def number_operator(n_dots: int) -> Array:
    """``(n, n)`` diagonal total particle number ``N = sum_d n_d``."""
    n = 2**n_dots
    counts = np.array([bin(s).count("1") for s in range(n)], dtype=float)
    return np.diag(counts)


def hamiltonian(device: Any, system: System | None = None) -> Array:
    """``(*shape, n, n)`` many-body Hamiltonian of ``device`` (real symmetric) [energy unit].

    Parameters
    ----------
    device
        A :class:`~qdthermo.model.device.Device` (its ``tunnels`` add the hopping terms).
    system
        ``device.finalized()`` if already built (its energies are the diagonal).
    """
    system = device.finalized() if system is None else system
    n = system.n_states
    E = system.energies
    H = np.zeros(E.shape[:-1] + (n, n))
    idx = np.arange(n)
    H[..., idx, idx] = E
    index = {name: k for k, name in enumerate(system.dot_names)}
    c = annihilators(len(system.dot_names))
    for tun in getattr(device, "tunnels", ()):
        a, b = index[tun.dots[0]], index[tun.dots[1]]
        hop = c[a].T @ c[b]
        hop = hop + hop.T
        H = H + np.asarray(tun.amplitude)[..., None, None] * hop
    return H  # type: ignore[no-any-return]

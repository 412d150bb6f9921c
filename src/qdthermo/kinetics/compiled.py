"""The compiled steady-state route ``"compiled"``: GTH elimination per point, in machine code.

The same algorithm as the NumPy route ``"linear"``
(:func:`~qdthermo.kinetics.steady.steady_state_linear`): the rates ``i -> j``
are scaled by the point's largest rate and the states are eliminated by the
subtraction-free Grassmann-Taksar-Heyman (GTH) form of Gaussian elimination,
so both routes agree to round-off.  The batch is split into blocks that run
in parallel (a ``prange`` loop whose body is one call of the serial kernel
with its helpers inlined: cheap to compile); each block allocates its ``n x n``
work matrix once, so no ``n_points x n_channels`` temporary is ever formed.

Points the linear route would send to log space (a rate below 1e-140 of the
point's largest, or a failed elimination) are flagged by the kernel and
redone by the same NumPy log-space elimination
(:func:`~qdthermo.kinetics.steady._log_gth`), so the two routes agree there
exactly; points without a unique steady state are NaN rows, as on every route.

Compiled lazily (:mod:`qdthermo._compiled`): importing this module imports
no Numba.  Where Numba is unavailable (or ``QDTHERMO_NO_NUMBA=1``) the route
falls back to ``"linear"``.

Examples
--------
The compiled route agrees with the NumPy route (with or without Numba):

>>> import numpy as np, qdthermo as qd
>>> from qdthermo.kinetics.compiled import steady_state_compiled
>>> from qdthermo.kinetics.network import network
>>> from qdthermo.kinetics.rates import rates
>>> from qdthermo.kinetics.steady import steady_state_linear
>>> system = qd.single_dot(eps=np.linspace(-1, 1, 4), T={"L": 2.0, "R": 1.0}).finalized()
>>> P = steady_state_compiled(network(system), rates(system))
>>> P.shape, bool(np.allclose(P, steady_state_linear(network(system), rates(system))))
((4, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel, prange
from qdthermo.kinetics.generator import PauliGenerator
from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates
from qdthermo.kinetics.steady import (
    _TINY_RATE,
    _flat_channels,
    _log_gth,
    _normalise,
    log_rate_matrix,
    register_route,
    steady_state_linear,
)

__all__ = ["gth_point", "steady_state_compiled", "BLOCK", "LazyPauliGenerator"]

Array = NDArray[np.float64]

#: points per parallel block of the compiled kernels (each block allocates its work arrays once)
BLOCK = 4096


@kernel(error_model="numpy", inline="always")
def gth_point(kp: Array, km: Array, g: Array, p: int, initial: NDArray[np.intp], final: NDArray[np.intp],
              Q: Array, pivot: Array, P: Array) -> bool:  # pragma: no cover - compiled
    """Steady state of point ``p`` into ``P[p]`` (normalised); True if the point needs log space.

    ``kp``, ``km`` are the point's ``(n_channels,)`` rates, ``g`` the ``(N, n_channels)`` couplings;
    ``Q`` (``n x n``) and ``pivot`` (``n``) are work arrays.  Same steps and flags as the NumPy
    linear route.  (Rows are indexed, never sliced: no array views in the inner loop.)
    """
    n = P.shape[1]
    n_ch = kp.shape[0]
    for a in range(n):
        for b in range(n):
            Q[a, b] = 0.0
    for c in range(n_ch):  # Q[i, j] = rate i -> j
        Q[initial[c], final[c]] += kp[c]
    for c in range(n_ch):
        Q[final[c], initial[c]] += km[c]
    kmax = 0.0
    for c in range(n_ch):
        kmax = max(kmax, kp[c], km[c])
    fragile = False
    for c in range(n_ch):
        if g[p, c] > 0 and not (min(kp[c], km[c]) >= _TINY_RATE * kmax):
            fragile = True
    qmax = Q[0, 0]
    for a in range(n):
        for b in range(n):
            if Q[a, b] > qmax or Q[a, b] != Q[a, b]:
                qmax = Q[a, b]
    for a in range(n):
        for b in range(n):
            Q[a, b] /= qmax
    for m in range(n - 1, 0, -1):
        s = 0.0
        for j in range(m):
            s += Q[m, j]
        pivot[m] = s
        for i in range(m):
            f = Q[i, m]
            for j in range(m):
                Q[i, j] += f * (Q[m, j] / s)
    P[p, 0] = 1.0
    for m in range(1, n):
        s = 0.0
        for i in range(m):
            s += P[p, i] * Q[i, m]
        P[p, m] = s / pivot[m]
    Z = 0.0
    for i in range(n):
        Z += P[p, i]
    ok = Z > 0 and np.isfinite(Z)
    for i in range(n):
        P[p, i] = P[p, i] / Z if ok else np.nan
        if not np.isfinite(P[p, i]):
            fragile = True
    return fragile


@kernel(error_model="numpy")
def _steady_kernel(start: int, stop: int, kp: Array, km: Array, g: Array, initial: NDArray[np.intp],
                   final: NDArray[np.intp], P: Array, fragile: NDArray[np.bool_]) -> None:  # pragma: no cover
    """``P[p]`` and ``fragile[p]`` of the points ``start:stop`` (serial; :func:`_steady_blocks` runs blocks
    of :data:`BLOCK` points in parallel)."""
    n = P.shape[1]
    n_ch = kp.shape[1]
    Q = np.empty((n, n))
    pivot = np.empty(n)
    kp_p = np.empty(n_ch)
    km_p = np.empty(n_ch)
    for p in range(start, stop):
        for c in range(n_ch):
            kp_p[c] = kp[p, c]
            km_p[c] = km[p, c]
        fragile[p] = gth_point(kp_p, km_p, g, p, initial, final, Q, pivot, P)


@kernel(parallel=True, error_model="numpy")
def _steady_blocks(kp: Array, km: Array, g: Array, initial: NDArray[np.intp], final: NDArray[np.intp], P: Array,
                   fragile: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """:func:`_steady_kernel` over blocks of :data:`BLOCK` points in parallel (a loop body of one call)."""
    N = P.shape[0]
    for blk in prange((N + BLOCK - 1) // BLOCK):
        _steady_kernel(blk * BLOCK, min(N, (blk + 1) * BLOCK), kp, km, g, initial, final, P, fragile)


def log_space(net: Network, k: Rates, P: Array, fragile: NDArray[np.bool_]) -> None:
    """Redo the flagged points of the flat ``(N, n)`` populations ``P`` by NumPy's log-space GTH, in place."""
    if np.any(fragile):
        idx = np.flatnonzero(fragile)
        P[idx] = _normalise(_log_gth(log_rate_matrix(net, k, idx)))  # as the linear route normalises


@register_route("compiled")
def steady_state_compiled(net: Network, k: Rates) -> Array:
    """Steady state by the compiled GTH kernel, shape ``(*shape, n_states)`` (``"linear"`` without Numba).

    Parameters
    ----------
    net
        The network structure.
    k
        Channel rates [rate unit].
    """
    n = net.n_states
    if not _compiled.available() or n == 1:
        return steady_state_linear(net, k)
    shape = k.shape
    kp, km, g = (np.ascontiguousarray(_flat_channels(k, a)) for a in (k.plus, k.minus, k.coupling))
    P = np.empty((kp.shape[0], n))
    fragile = np.empty(kp.shape[0], dtype=np.bool_)
    _steady_blocks(kp, km, g, net.initial, net.final, P, fragile)
    log_space(net, k, P, fragile)
    out: Array = P.reshape(shape + (n,))
    out.setflags(write=False)
    return out


class LazyPauliGenerator(PauliGenerator):
    """A :class:`~qdthermo.kinetics.generator.PauliGenerator` whose rates are built on first access.

    Used by the fused routes, which never need the ``(*shape, n_channels)`` rate arrays
    unless an observable outside their kernel asks for them.
    """

    def __init__(self, network: Network, build_rates: Callable[[], Rates]) -> None:
        object.__setattr__(self, "network", network)
        object.__setattr__(self, "_build_rates", build_rates)

    @cached_property
    def rates(self) -> Rates:  # type: ignore[override]
        """Channel rates (built on first access) [rate unit]."""
        build: Callable[[], Rates] = self.__dict__["_build_rates"]
        return build()

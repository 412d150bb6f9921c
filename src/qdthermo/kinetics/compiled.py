"""The compiled steady-state route ``"compiled"``: GTH elimination per point, in machine code.

The same algorithm as the NumPy route ``"linear"``
(:func:`~qdthermo.kinetics.steady.steady_state_linear`): the rates ``i -> j``
are scaled by the point's largest rate and the states are eliminated by the
subtraction-free Grassmann-Taksar-Heyman (GTH) form of Gaussian elimination,
so both routes agree to round-off.  The batch is split into ranges of points
that a serial ``nogil`` kernel handles on every core
(:func:`qdthermo._compiled.run_blocks`: a thread pool and a work queue, no
parallel kernel to compile); each range allocates its ``n x n`` work matrix
once, so no ``n_points x n_channels`` temporary is ever formed.

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
from qdthermo._compiled import kernel
from qdthermo._libm import exp_row
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

__all__ = ["block_gather", "block_rates", "block_gth", "lanes", "steady_state_compiled", "BLOCK", "LazyPauliGenerator"]

Array = NDArray[np.float64]

#: points per parallel block of the compiled kernels (each block allocates its work arrays once)
BLOCK = 4096


@kernel(inline="always")
def lanes(n: int) -> int:  # pragma: no cover - compiled
    """Points per batch-last sub-block for ``n`` states: the ``n x n x lanes`` work matrix stays in cache."""
    return max(8, min(256, 32768 // (n * n)))


@kernel(error_model="numpy")
def block_gather(pts: NDArray[np.intp], m: int, levels: Array, pairs: Array, occ: Array, pocc: Array, TL: Array,
                 muL: Array, g: Array, gcol: NDArray[np.intp], initial: NDArray[np.intp], final: NDArray[np.intp],
                 Eb: Array, w: Array, Tl: Array, Ml: Array, gb: Array) -> None:  # pragma: no cover - compiled
    """The inputs of the points ``pts[:m]``, batch-last (point index last, so the loops over points vectorise).

    From point-last ``levels`` ``(n_dots, N)``, ``pairs`` ``(n_pairs, N)`` (interaction energies),
    ``TL``, ``muL`` ``(n_leads, N)`` and ``g`` ``(n_columns, N)`` with the column ``gcol`` of each channel;
    ``occ`` ``(n, n_dots)`` and ``pocc`` ``(n, n_pairs)`` the 0/1 occupations of dots and pairs.  Forms the
    many-body energies ``Eb`` (as :attr:`~qdthermo.model.system.System.energies`, same order of sums), the
    channel energies ``w = E_j - E_i`` and copies ``Tl``, ``Ml``, ``gb``.
    """
    q = pts[0]
    if pts[m - 1] - q == m - 1:  # consecutive points (the usual case): read contiguous runs
        _gather_run(q, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, Eb, w, Tl, Ml, gb)
        return
    for i in range(Eb.shape[0]):
        for b in range(m):
            Eb[i, b] = 0.0
        for d in range(occ.shape[1]):
            for b in range(m):
                Eb[i, b] += levels[d, pts[b]] * occ[i, d]
        for k in range(pocc.shape[1]):
            for b in range(m):
                Eb[i, b] += pairs[k, pts[b]] * pocc[i, k]
    for c in range(w.shape[0]):
        for b in range(m):
            gb[c, b] = g[gcol[c], pts[b]]
            w[c, b] = Eb[final[c], b] - Eb[initial[c], b]
    for ell in range(TL.shape[0]):
        for b in range(m):
            Tl[ell, b] = TL[ell, pts[b]]
            Ml[ell, b] = muL[ell, pts[b]]


@kernel(error_model="numpy")
def _gather_run(q: int, m: int, levels: Array, pairs: Array, occ: Array, pocc: Array, TL: Array, muL: Array, g: Array,
                gcol: NDArray[np.intp], initial: NDArray[np.intp], final: NDArray[np.intp], Eb: Array, w: Array,
                Tl: Array, Ml: Array, gb: Array) -> None:  # pragma: no cover - compiled
    """:func:`block_gather` of the consecutive points ``q ... q + m - 1`` (the same sums in the same order)."""
    for i in range(Eb.shape[0]):
        for b in range(m):
            Eb[i, b] = 0.0
        for d in range(occ.shape[1]):
            o = occ[i, d]
            for b in range(m):
                Eb[i, b] += levels[d, q + b] * o
        for k in range(pocc.shape[1]):
            o = pocc[i, k]
            for b in range(m):
                Eb[i, b] += pairs[k, q + b] * o
    for c in range(w.shape[0]):
        col, f, i = gcol[c], final[c], initial[c]
        for b in range(m):
            gb[c, b] = g[col, q + b]
            w[c, b] = Eb[f, b] - Eb[i, b]
    for ell in range(TL.shape[0]):
        for b in range(m):
            Tl[ell, b] = TL[ell, q + b]
            Ml[ell, b] = muL[ell, q + b]


@kernel(error_model="numpy")
def block_rates(m: int, w: Array, Tl: Array, Ml: Array, gb: Array, lead: NDArray[np.intp], x: Array, kp: Array,
                km: Array) -> None:  # pragma: no cover - compiled
    """``x = (w - mu)/T``, ``k^+ = Gamma expit(-x)``, ``k^- = Gamma expit(x)`` of a batch-last block.

    ``expit(x) = 1/(1 + exp(-x))`` evaluated as :func:`qdthermo._special.expit` evaluates it, with the C
    library's ``exp`` evaluated lane-parallel (:func:`qdthermo._libm.exp_row`, bit for bit the library's), so
    the rates are bit for bit those of :func:`~qdthermo.kinetics.rates.rates`.  ``ln(k^+/k^-) = -x``.
    """
    for c in range(w.shape[0]):
        ell = lead[c]
        for b in range(m):
            x[c, b] = (w[c, b] - Ml[ell, b]) / Tl[ell, b]
        exp_row(m, x[c], kp[c], 1.0)
        exp_row(m, x[c], km[c], -1.0)
        for b in range(m):
            kp[c, b] = gb[c, b] * (1.0 / (1.0 + kp[c, b]))
            km[c, b] = gb[c, b] * (1.0 / (1.0 + km[c, b]))


@kernel(error_model="numpy")
def block_gth(m: int, kp: Array, km: Array, gb: Array, initial: NDArray[np.intp], final: NDArray[np.intp],
              Q: Array, piv: Array, P: Array, fragile: NDArray[np.bool_], t: Array) -> None:  # pragma: no cover
    """Steady states of a batch-last block by GTH elimination, normalised, into ``P`` ``(n, lanes)``.

    The algorithm of the NumPy route ``"linear"``: rates ``i -> j`` scaled by the point's largest,
    subtraction-free pivots, back substitution, normalisation; ``fragile[b]`` is True where that route
    goes to log space (a rate below 1e-140 of the point's largest, or a failed elimination).  ``Q``
    ``(n, n, lanes)``, ``piv`` ``(n, lanes)`` and ``t`` ``(2, lanes)`` are work arrays.
    """
    n = P.shape[0]
    for a in range(n):
        for c in range(n):
            for b in range(m):
                Q[a, c, b] = 0.0
    kmax, s = t[0], t[1]
    for b in range(m):
        kmax[b] = 0.0
        fragile[b] = False
    for c in range(kp.shape[0]):
        i, j = initial[c], final[c]
        for b in range(m):
            Q[i, j, b] += kp[c, b]
            Q[j, i, b] += km[c, b]
            kmax[b] = max(kmax[b], kp[c, b], km[c, b])
    for c in range(kp.shape[0]):
        for b in range(m):
            tiny = not (min(kp[c, b], km[c, b]) >= _TINY_RATE * kmax[b])
            fragile[b] = fragile[b] | ((gb[c, b] > 0) & tiny)  # | and &: no branches
    for b in range(m):
        s[b] = Q[0, 0, b]
    for a in range(n):
        for c in range(n):
            for b in range(m):
                q = Q[a, c, b]
                s[b] = q if ((q > s[b]) | (q != q)) else s[b]
    for b in range(m):
        s[b] = 1.0 / s[b]
    for a in range(n):
        for c in range(n):
            for b in range(m):
                Q[a, c, b] *= s[b]
    for k in range(n - 1, 0, -1):
        for b in range(m):
            s[b] = 0.0
        for j in range(k):
            for b in range(m):
                s[b] += Q[k, j, b]
        for b in range(m):
            piv[k, b] = s[b]
            s[b] = 1.0 / s[b]
        for j in range(k):
            for b in range(m):
                Q[k, j, b] *= s[b]
        for i in range(k):
            for j in range(k):
                for b in range(m):
                    Q[i, j, b] += Q[i, k, b] * Q[k, j, b]
    for b in range(m):
        P[0, b] = 1.0
    for k in range(1, n):
        for b in range(m):
            s[b] = 0.0
        for i in range(k):
            for b in range(m):
                s[b] += P[i, b] * Q[i, k, b]
        for b in range(m):
            P[k, b] = s[b] / piv[k, b]
    for b in range(m):
        s[b] = 0.0
    for i in range(n):
        for b in range(m):
            s[b] += P[i, b]
    for b in range(m):
        Z = s[b]
        s[b] = 1.0 / Z if ((Z > 0) & np.isfinite(Z)) else np.nan
    for i in range(n):
        for b in range(m):
            P[i, b] *= s[b]
            fragile[b] = fragile[b] | (not np.isfinite(P[i, b]))


@kernel(error_model="numpy")
def _steady_kernel(start: int, stop: int, kp: Array, km: Array, g: Array, initial: NDArray[np.intp],
                   final: NDArray[np.intp], P: Array, fragile: NDArray[np.bool_]) -> None:  # pragma: no cover
    """``P[p]`` and ``fragile[p]`` of the points ``start:stop`` from their rates (serial, ``nogil``:
    :func:`steady_state_compiled` runs ranges of points on every core with :func:`qdthermo._compiled.run_blocks`)."""
    n = P.shape[1]
    n_ch = kp.shape[1]
    L = min(lanes(n), max(stop - start, 1))
    Q = np.empty((n, n, L))
    piv = np.empty((n, L))
    Pb = np.empty((n, L))
    t = np.empty((2, L))
    kb = np.empty((3, n_ch, L))
    fr = np.empty(L, dtype=np.bool_)
    for q0 in range(start, stop, L):
        m = min(L, stop - q0)
        for c in range(n_ch):
            for b in range(m):
                kb[0, c, b] = kp[q0 + b, c]
                kb[1, c, b] = km[q0 + b, c]
                kb[2, c, b] = g[q0 + b, c]
        block_gth(m, kb[0], kb[1], kb[2], initial, final, Q, piv, Pb, fr, t)
        for b in range(m):
            fragile[q0 + b] = fr[b]
            for i in range(n):
                P[q0 + b, i] = Pb[i, b]


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
    _compiled.run_blocks(_steady_kernel, kp.shape[0], kp, km, g, net.initial, net.final, P, fragile, block=BLOCK)
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

r"""Compiled counting statistics: ``C_1``, ``C_2`` (and higher cumulants) point by point (Numba).

The same quantities, conventions and numerics as the order-2 path of
:func:`qdthermo.kinetics.counting.scaled_cumulants` (the NumPy reference route):

.. math::

    C_1 = 1^T W^{(1)} P0, \qquad
    C_2 = 1^T W^{(2)} P0 - 2\, 1^T W^{(1)} W^D W^{(1)} P0 ,

``C_k = d^k lambda / d(i chi)^k`` at 0, no factor 2; ``W^D`` the group inverse, applied by
Gaussian elimination of ``W`` without pivoting with subtraction-free pivots (GTH), the states
taken in ascending order of ``P0`` point by point, then ``x = 0`` at the most probable state, back
substitution and the projection ``x <- x - P0 (1^T x)``; unoccupied states that cannot be left
(underflowing rates) are cut off (:mod:`qdthermo.kinetics.group_inverse`, ``cut_unoccupied``).
One kernel call does every point, in parallel chunks of up to 256 points: it builds the small
generators of the chunk, factorises them once, and for every counted quantity forms ``W^(1) P0``,
applies ``W^D`` and contracts. The scratch (the chunk's ``n x n`` factors and a few ``n``-vectors,
stored batch-last so that the inner loops run over the chunk's points and vectorise) is allocated
once per chunk, never per point, and nothing of shape ``(points, jumps, quantities)`` is ever built.
With the channel structure (jumps ``c`` and ``c + n_channels`` are the two directions of channel
``c``) the kernel also returns the Schnakenberg entropy production, for the TUR ratios.

Orders 3 to :data:`MAX_ORDER` follow the recursion of :func:`qdthermo.kinetics.counting.recursion`
(``order - 1`` applications of ``W^D`` per quantity, from the same factors): equal to the NumPy engine
to round-off.  ``C_1`` and ``C_2`` are the order-2 ones whatever the order asked (the NumPy engine's bits
at order 2; its recursion's differ from those in round-off).

Factored increments
-------------------
Counted quantities of a device are a per-jump constant times one of a few per-point
arrays (the particle number of a lead: ``sign_j [lead_j = lead]``; its energy: the same
times the channel energy; the entropy: ``sign_j`` times ``ln(k^+/k^-)``).  The kernel takes

* ``coef`` ``(q, n_jumps)``: the constant factor of each quantity and jump;
* ``base_of`` ``(q,)``: which per-point array multiplies it (-1: none, the factor is 1);
* ``bases`` ``(n_bases, n_columns, points)`` (point-last, so the kernel's loops over points read
  contiguous runs) and ``column`` ``(n_jumps,)``: the per-point arrays and the column each jump
  reads (e.g. its channel),

so that ``d[p, j, a] = coef[a, j] * bases[base_of[a], column[j], p]``.

Round-off cleaning and failures
-------------------------------
``C_k`` is set to exactly 0 where ``|C_k| <= round_off * M_k`` with the absolute moment
``M_k = sum_j rate_j P0[src_j] |d_j|^k`` (as ``Fluctuations`` does on the NumPy route;
``M_2`` is the Schottky term ``1^T W^(2) P0``), and
to NaN at points marked not ``valid``.  Points whose elimination meets a pivot that is not
positive and finite (the chain has several closed classes, or a sum overflows) are
recomputed by the NumPy engine (NaN, or its rank-one route).

Use :func:`available` before calling: without Numba (or with ``QDTHERMO_NO_NUMBA=1``) use
:func:`qdthermo.kinetics.counting.scaled_cumulants`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel
from qdthermo.kinetics import counting
from qdthermo.kinetics.compiled import block_gather, block_rates
from qdthermo.kinetics.group_inverse import _UNOCCUPIED as UNOCCUPIED

__all__ = ["available", "MAX_STATES", "MAX_ORDER", "BASES", "second_order", "second_order_factored",
           "second_order_device"]

Array = NDArray[np.float64]

#: largest network (states) for the compiled route: dense ``n x n`` scratch per thread
MAX_STATES = 256
#: highest cumulant order of the compiled route
MAX_ORDER = 8


def available() -> bool:
    """True if the compiled route can run (Numba importable and not disabled)."""
    return _compiled.available()


def _chunk_size(n: int) -> int:
    """Points per chunk: the ``(n, n, chunk)`` factors stay in cache."""
    return int(max(8, min(256, (1 << 15) // (n * n))))


@kernel(error_model="numpy")
def _second_order_kernel(first, last, n, src, dst, rate, P0, valid, coef, base_of, bases, column, order, round_off,
                         log_ratio, negligible, chunk, out, sigma, fallback):  # pragma: no cover - compiled
    """Fill ``out`` ``(points, q, order)``, ``sigma`` ``(points)`` (if ``log_ratio`` has columns) and
    ``fallback`` (points for the NumPy engine) of the chunks ``first:last``, one after the other
    (serial and ``nogil``: :func:`qdthermo._compiled.run_blocks` runs ranges of chunks on several threads)."""
    n_points, n_jumps = rate.shape
    for c in range(first, last):
        start = c * chunk
        m = min(chunk, n_points - start)
        r = np.empty((n_jumps, m))  # batch-last scratch: every inner loop runs over the chunk's points
        p = np.empty((n, m))
        A = np.empty((n, n, m))
        piv = np.empty((n, m))
        pos, pp = np.empty((n, m), dtype=np.int64), np.empty((n, m))  # the elimination order
        ok = np.empty(m, dtype=np.bool_)
        work = np.empty((5, max(n, 3), m))  # log P; kd, W^(1) P0, W^D W^(1) P0, sums
        for b in range(m):
            ok[b] = valid[start + b]
            for j in range(n_jumps):
                r[j, b] = rate[start + b, j]
            for s in range(n):
                p[s, b] = P0[start + b, s]
        if log_ratio.shape[1]:
            _schnakenberg(src, r, p, log_ratio, negligible, start, ok, sigma, work[0])
        if order > 1:
            _factor(src, dst, r, p, A, piv, pos, pp, ok, fallback, start, work[0, 0])
        for a in range(coef.shape[0]):
            _quantity(src, dst, r, p, coef[a], base_of[a], bases, column, start, A, piv, pos, order, round_off,
                      work, out[start:start + m, a])
        for b in range(m):
            if not valid[start + b]:
                out[start + b] = np.nan


@kernel(error_model="numpy")
def _schnakenberg(src, r, p, log_ratio, negligible, start, valid, sigma, log_p):  # pragma: no cover - compiled
    """Schnakenberg entropy production ``sum_c (a - b) ln(a / b)``, ``a = k^+ P_i``, ``b = k^- P_j``, of a chunk.

    Jumps ``c`` and ``c + n_channels`` are the two directions of channel ``c``; the terms are evaluated as in
    :func:`qdthermo.thermo.entropy.schnakenberg_terms` (same operations, order and zero rules).
    """
    nc = log_ratio.shape[1]
    m = r.shape[1]
    for s in range(p.shape[0]):
        for b in range(m):
            log_p[s, b] = np.log(p[s, b])
    for b in range(m):
        kmax = r[0, b] + r[nc, b]
        for c in range(1, nc):
            kmax = max(kmax, r[c, b] + r[c + nc, b])
        total = 0.0
        for c in range(nc):
            i, f = src[c], src[c + nc]
            fw = r[c, b] * p[i, b]
            bw = r[c + nc, b] * p[f, b]
            if max(fw, bw) < negligible * kmax or fw == bw:
                t = 0.0
            else:
                lr = log_p[i, b] - log_p[f, b]
                lr += log_ratio[start + b, c]
                t = (fw - bw) * lr
                t = np.inf if np.isnan(t) else max(t, 0.0)
            total = t if c == 0 else total + t
        sigma[start + b] = total if valid[b] else np.nan


@kernel(error_model="numpy")
def _factor(src, dst, r, p, A, piv, pos, pp, ok, fallback, start, s):  # pragma: no cover - compiled
    """GTH elimination of a chunk of generators into ``A`` (multipliers / U) and ``piv``, the states taken in
    :func:`~qdthermo.kinetics.group_inverse.elimination_order` (ascending ``P0``, ties by index).

    ``pos[s, b]`` is ``place * m + b``, with ``place`` the place of state ``s`` in point ``b``'s order: its
    offset in a C-contiguous point-last ``(n, m)`` array (``pp``, the populations in that order, and
    :func:`_drazin`'s work vector), so the scatters read one precomputed index (the three-index form does
    not vectorise and costs ~4x more); ``A`` and ``piv`` are in that order too.  Pivots follow
    :func:`~qdthermo.kinetics.group_inverse._pivot` with ``cut``: a state with no escape that the steady
    state does not occupy is cut off (``piv = inf``); points with any other pivot that is not positive
    and finite are flagged in ``fallback`` (the NumPy engine: NaN, or its rank-one route).
    """
    n, m = A.shape[0], A.shape[2]
    pos[:, :m] = 0
    for i in range(n):  # the rank of state i: the states before it in the stable ascending sort (branch-free)
        for j in range(i):
            for b in range(m):
                pos[i, b] += p[j, b] <= p[i, b]
        for j in range(i + 1, n):
            for b in range(m):
                pos[i, b] += p[j, b] < p[i, b]
    for i in range(n):
        for b in range(m):
            pos[i, b] = pos[i, b] * m + b
    flat_p, flat_A, at = pp.reshape(n * m), A.reshape(n * n * m), np.empty(m, dtype=np.int64)
    for i in range(n):
        for b in range(m):
            flat_p[pos[i, b]] = p[i, b]
    flat_A[:] = 0.0
    for j in range(src.shape[0]):
        d, f = src[j], dst[j]
        if d != f:
            for b in range(m):  # A[place of f, place of d, b], computed apart from the scatter (vectorises)
                at[b] = n * (pos[f, b] - b) + pos[d, b]
            for b in range(m):
                flat_A[at[b]] += r[j, b]
    for k in range(n - 1):
        s[:m] = 0.0
        for i in range(k + 1, n):
            for b in range(m):
                s[b] += A[i, k, b]  # minus the pivot, subtraction-free
        bad = False
        for b in range(m):  # branch-free (vectorises); the rare failed points are marked below
            cut = (s[b] == 0.0) & (pp[k, b] < UNOCCUPIED)  # cut off: no multipliers, x = 0 there
            fails = (not cut) & (not ((s[b] > 0.0) & (s[b] < np.inf)))  # several closed classes, or overflow
            piv[k, b] = np.inf if cut else (1.0 if fails else s[b])
            bad |= fails
        if bad:
            for b in range(m):
                if not (piv[k, b] == np.inf or (s[b] > 0.0 and s[b] < np.inf)):
                    fallback[start + b] = ok[b]
                    ok[b] = False
        for i in range(k + 1, n):
            for b in range(m):
                A[i, k, b] = A[i, k, b] / piv[k, b]
            for j in range(k + 1, n):
                if j != i:  # the diagonal is never read
                    for b in range(m):
                        A[i, j, b] += A[i, k, b] * A[k, j, b]


@kernel(error_model="numpy")
def _quantity(src, dst, r, p, coef, base, bases, column, start, A, piv, pos, order, round_off, work,
              res):  # pragma: no cover - compiled
    """``C_1`` (and ``C_2``) of one quantity on a chunk, cleaned of round-off, into ``res`` ``(m, order)``.

    ``A``, ``piv`` and ``pos`` come from :func:`_factor` (the elimination order); the sums run
    over the states in their natural order.  From ``order`` 3, :func:`_quantity_high` adds ``C_3 ...``
    (``C_1``, ``C_2`` stay these, the same bits whatever the order).
    """
    n, m = p.shape
    kd, v, x, acc = work[1], work[2], work[3], work[4]
    kd[:, :] = 0.0
    v[:, :] = 0.0
    acc[:, :] = 0.0  # acc[0]: schottky (= M_2), acc[1]: M_1
    for j in range(src.shape[0]):
        if coef[j] == 0.0:  # adds exactly nothing
            continue
        i, f, col = src[j], dst[j], column[j]
        # one store stream per loop (the same values, recomputed): each loop vectorises
        for b in range(m):
            dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
            kd[i, b] += r[j, b] * dj  # sum over the jumps leaving each state of rate d
        for b in range(m):
            dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
            v[f, b] += r[j, b] * dj * p[i, b]  # W^(1) P0
        for b in range(m):
            dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
            acc[0, b] += r[j, b] * dj * p[i, b] * dj  # 1^T W^(2) P0
        for b in range(m):
            dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
            acc[1, b] += r[j, b] * p[i, b] * abs(dj)
    c1 = x[0]  # x is free until _drazin: the sums over states, point by point in the same order
    c1[:] = 0.0
    for s in range(n):
        for b in range(m):
            c1[b] += kd[s, b] * p[s, b]
    for b in range(m):
        res[b, 0] = 0.0 if abs(c1[b]) <= round_off * acc[1, b] else c1[b]
    if order > 1:
        _drazin(A, piv, p, pos, v, work[0], x, acc[2])
        cross = acc[2]  # free again
        cross[:] = 0.0
        for s in range(n):
            for b in range(m):
                cross[b] += kd[s, b] * x[s, b]
        for b in range(m):
            c2 = acc[0, b] - 2.0 * cross[b]
            res[b, 1] = 0.0 if abs(c2) <= round_off * acc[0, b] else c2
    if order > 2:  # x = W^D W^(1) P0 = -rho_1 of the recursion
        _quantity_high(src, dst, r, p, coef, base, bases, column, start, A, piv, pos, order, round_off, x, res)


@kernel(error_model="numpy")
def _quantity_high(src, dst, r, p, coef, base, bases, column, start, A, piv, pos, order, round_off, x1,
                   res):  # pragma: no cover - compiled
    """``C_3 ... C_order`` of one quantity on a chunk, cleaned of round-off, into ``res[:, 2:]``.

    The recursion of :func:`qdthermo.kinetics.counting.recursion` (Flindt et al.), in the form of
    :func:`qdthermo.kinetics.counting.scaled_cumulants`: ``C_k = sum_m binom(k, m) 1^T W^(m) rho_{k-m}``
    with ``1^T W^(m) x = sum_s KD_m[s] x_s`` (``KD_m[s]``: ``rate_j d_j^m`` summed over the jumps leaving
    ``s``), ``rho_k = -W^D sum_m binom(k, m) (W^(m) - C_m) rho_{k-m}`` (the ``m = k`` term without
    ``C_k``), ``rho_0 = P0``; ``W^D`` by :func:`_drazin` from the factors of :func:`_factor`.  ``C_1`` and
    ``C_2`` enter the recursion as formed here (:func:`_quantity` writes its own); ``x1 = W^D W^(1) P0``, which
    :func:`_quantity` has solved for ``C_2``, is ``-rho_1``.  Cleaned with
    ``M_k = sum_j rate_j P0_src(j) |d_j|^k``.  Equal to the NumPy engine to round-off.
    """
    n, m = p.shape
    J = src.shape[0]
    kd = np.zeros((order + 1, J, m))  # rate_j d_j^k, by repeated products as the NumPy engine
    KD = np.zeros((order + 1, n, m))
    rho = np.empty((order, n, m))
    acc, y, x = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
    C, M, t = np.zeros((order, m)), np.zeros((order, m)), np.empty(m)
    binom = np.zeros((order + 2, order + 2))  # Pascal's triangle
    for i in range(order + 2):
        binom[i, 0] = 1.0
        for k in range(1, i + 1):
            binom[i, k] = binom[i - 1, k - 1] + binom[i - 1, k]
    for j in range(J):
        if coef[j] == 0.0:  # adds exactly nothing
            continue
        i, col = src[j], column[j]
        for b in range(m):
            dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
            kd[1, j, b] = r[j, b] * dj
            KD[1, i, b] += kd[1, j, b]
            a = abs(dj)
            w = r[j, b] * p[i, b]
            for k in range(order):
                w *= a
                M[k, b] += w
        for k in range(2, order + 1):
            for b in range(m):
                dj = coef[j] if base < 0 else coef[j] * bases[base, col, start + b]
                kd[k, j, b] = kd[k - 1, j, b] * dj
                KD[k, i, b] += kd[k, j, b]
    for s in range(n):
        for b in range(m):
            rho[0, s, b] = p[s, b]
            C[0, b] += KD[1, s, b] * p[s, b]
    for kk in range(1, order):
        if kk == 1:  # rho_1 = -W^D W^(1) P0, already solved
            for s in range(n):
                for b in range(m):
                    rho[1, s, b] = -x1[s, b]
        else:
            _next_rho(src, dst, coef, kd, C, binom, kk, A, piv, p, pos, rho, acc, y, x, t)
        for mm in range(1, kk + 2):  # C_{kk+1} = sum_mm binom(kk + 1, mm) 1^T W^(mm) rho_{kk+1-mm}
            xr, c = rho[kk + 1 - mm], binom[kk + 1, mm]
            t[:] = 0.0
            for s in range(n):
                for b in range(m):
                    t[b] += KD[mm, s, b] * xr[s, b]
            for b in range(m):
                C[kk, b] += c * t[b]
    for k in range(2, order):
        for b in range(m):
            res[b, k] = 0.0 if abs(C[k, b]) <= round_off * M[k, b] else C[k, b]


@kernel(error_model="numpy")
def _next_rho(src, dst, coef, kd, C, binom, kk, A, piv, p, pos, rho, acc, y, x, t):  # pragma: no cover - compiled
    """``rho_kk = -W^D sum_m binom(kk, m) (W^(m) - C_m) rho_{kk-m}`` of :func:`_quantity_high`."""
    n, m = p.shape
    acc[:, :] = 0.0
    for mm in range(1, kk + 1):
        xr, c = rho[kk - mm], binom[kk, mm]
        for j in range(src.shape[0]):  # binom W^(mm) rho_{kk-mm}
            if coef[j] != 0.0:
                i, f = src[j], dst[j]
                for b in range(m):
                    acc[f, b] += c * (kd[mm, j, b] * xr[i, b])
        if mm < kk:
            for s in range(n):
                for b in range(m):
                    acc[s, b] -= c * C[mm - 1, b] * xr[s, b]
    _drazin(A, piv, p, pos, acc, y, x, t)
    for s in range(n):
        for b in range(m):
            rho[kk, s, b] = -x[s, b]


@kernel(error_model="numpy")
def _drazin(A, piv, p, pos, v, y, x, t):  # pragma: no cover - compiled
    """``x = W^D v`` for a chunk, from the GTH factors in the elimination order ``pos`` (``v`` is overwritten,
    ``y`` and ``t`` are scratch).

    ``v``, ``x`` and the populations ``p`` are in the natural order of the states; the projections sum over
    the states in that order and the substitutions run in the elimination order, the operations of
    :meth:`qdthermo.kinetics.group_inverse.DrazinSolver.apply` in the same order."""
    n, m = p.shape
    t[:m] = 0.0
    for s in range(n):
        for b in range(m):
            t[b] += v[s, b]
    for s in range(n):
        for b in range(m):
            v[s, b] -= p[s, b] * t[b]  # Q v, in the range of W
    flat_y = y.reshape(y.shape[0] * m)  # y is (rows, m), C-contiguous: pos is an offset into it
    for s in range(n):
        for b in range(m):
            flat_y[pos[s, b]] = v[s, b]
    for k in range(n - 1):
        for i in range(k + 1, n):
            for b in range(m):
                y[i, b] += A[i, k, b] * y[k, b]
    y[n - 1, :m] = 0.0  # the reference state; the solution overwrites y from the last state back
    for k in range(n - 2, -1, -1):
        for b in range(m):
            t[b] = y[k, b]
        for j in range(k + 1, n - 1):
            for b in range(m):
                t[b] -= A[k, j, b] * y[j, b]
        for b in range(m):
            y[k, b] = t[b] / -piv[k, b]
    for s in range(n):
        for b in range(m):
            x[s, b] = flat_y[pos[s, b]]
    t[:m] = 0.0
    for s in range(n):
        for b in range(m):
            t[b] += x[s, b]
    for s in range(n):
        for b in range(m):
            x[s, b] -= p[s, b] * t[b]


#: per-channel factors the device route forms itself, by ``base_kind``: transition energy ``w``,
#: ``w - mu`` (heat) and ``ln(k^+/k^-) = -(w - mu)/T`` (entropy)
BASES = ("energy", "heat", "log_ratio")


@kernel(error_model="numpy")
def block_bases(base_kind, w, x, Ml, lead, bases):  # pragma: no cover - compiled
    """The per-channel factors ``bases`` ``(n_bases, n_channels, m)`` of a batch-last chunk, by ``base_kind``
    (:data:`BASES`): the transition energy ``w``, ``w - mu`` of the channel's lead, or ``ln(k^+/k^-) = -x``."""
    m = bases.shape[2]
    for a in range(base_kind.shape[0]):
        kind = base_kind[a]
        for ch in range(w.shape[0]):
            for b in range(m):
                v = w[ch, b]
                if kind == 1:
                    v = w[ch, b] - Ml[lead[ch], b]
                elif kind == 2:
                    v = -x[ch, b]
                bases[a, ch, b] = v


@kernel(error_model="numpy")
def chunk_rates(start, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, lead, P0, valid, Eb, w, Tl, Ml,
                gb, x, kp, km, r, p, ok):  # pragma: no cover - compiled
    """The points ``start:start + m`` gathered point-last, their rates formed
    (:func:`~qdthermo.kinetics.compiled.block_gather`, :func:`~qdthermo.kinetics.compiled.block_rates`), the
    jumps' rates ``r`` (``k^+`` of the channels, then ``k^-``), populations ``p`` ``(n, m)`` from the
    point-first ``P0`` and ``ok`` from ``valid``: what a chunk of a device kernel starts with."""
    n_ch = initial.shape[0]
    pts = np.arange(start, start + m)
    for b in range(m):
        ok[b] = valid[start + b]
    block_gather(pts, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, Eb, w, Tl, Ml, gb)
    block_rates(m, w, Tl, Ml, gb, lead, x, kp, km)
    for ch in range(n_ch):
        for b in range(m):
            r[ch, b] = kp[ch, b]
            r[ch + n_ch, b] = km[ch, b]
    for s in range(p.shape[0]):
        for b in range(m):
            p[s, b] = P0[start + b, s]


@kernel(error_model="numpy")
def _device_kernel(first, last, n, src, dst, levels, pairs, occ, pocc, g, gcol, TL, muL, initial, final, lead,
                   P0, valid, coef, base_of, base_kind, order, round_off, chunk, out,
                   fallback):  # pragma: no cover - compiled
    """:func:`_second_order_kernel` with the rates and per-channel factors formed chunk by chunk from the
    device's parameters (:func:`~qdthermo.kinetics.compiled.block_gather`,
    :func:`~qdthermo.kinetics.compiled.block_rates`): no ``(points, jumps)`` array is ever built."""
    n_points = P0.shape[0]
    n_ch = initial.shape[0]
    nl = TL.shape[0]
    column = np.empty(2 * n_ch, dtype=np.int64)
    for j in range(2 * n_ch):
        column[j] = j % n_ch
    for c in range(first, last):
        start = c * chunk
        m = min(chunk, n_points - start)
        Eb = np.empty((n, m))
        w, x, kp, km, gb = np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), \
            np.empty((n_ch, m))
        Tl, Ml = np.empty((nl, m)), np.empty((nl, m))
        r = np.empty((2 * n_ch, m))  # batch-last scratch, as in _second_order_kernel
        p = np.empty((n, m))
        bases = np.empty((max(base_kind.shape[0], 1), n_ch, m))
        A = np.empty((n, n, m))
        piv = np.empty((n, m))
        pos, pp = np.empty((n, m), dtype=np.int64), np.empty((n, m))  # the elimination order
        ok = np.empty(m, dtype=np.bool_)
        work = np.empty((5, max(n, 3), m))
        chunk_rates(start, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, lead, P0, valid, Eb, w,
                    Tl, Ml, gb, x, kp, km, r, p, ok)
        block_bases(base_kind, w, x, Ml, lead, bases)
        if order > 1:
            _factor(src, dst, r, p, A, piv, pos, pp, ok, fallback, start, work[0, 0])
        for a in range(coef.shape[0]):
            _quantity(src, dst, r, p, coef[a], base_of[a], bases, column, 0, A, piv, pos, order, round_off, work,
                      out[start:start + m, a])
        for b in range(m):
            if not valid[start + b]:
                out[start + b] = np.nan


def second_order_device(n: int, src: ArrayLike, dst: ArrayLike, inputs: Sequence[NDArray[Any]],
                        structure: Sequence[NDArray[Any]],
                        P0: Array, coef: ArrayLike, base_of: ArrayLike, base_kind: ArrayLike, *, order: int = 2,
                        valid: ArrayLike | None = None, round_off: float = 0.0) -> tuple[Array, NDArray[np.intp]]:
    """Cleaned ``C_1`` (and ``C_2``) of ``q`` factored quantities, rates formed from the device's parameters.

    Parameters
    ----------
    n, src, dst
        States and the directed jumps (``k^+`` jumps of the channels first, then ``k^-``).
    inputs
        The parameters :func:`~qdthermo.kinetics.compiled.block_gather` reads, point-last (levels, pair
        energies, couplings, lead temperatures and chemical potentials ``(width, points)``; occupations of
        dots and pairs and the coupling column of each channel), as
        :func:`~qdthermo.thermo.fused.kernel_inputs` gives them.
    structure
        ``(initial, final, lead)`` of each channel.
    P0 : ndarray, shape (points, n)
        Steady states (placeholders at invalid points).
    coef, base_of
        As :func:`second_order_factored`; ``base_of`` indexes ``base_kind``.
    base_kind : array_like of int
        The per-channel factor of each base: an index into :data:`BASES`.
    order, valid, round_off
        As :func:`second_order_factored`.

    Returns
    -------
    C : ndarray, shape (points, q, order)
        [quantity^k / time]; rows of points in ``fallback`` are to be recomputed (NaN here).
    fallback : ndarray of int
        Points whose elimination needs pivoting: compute them with the NumPy engine.
    """
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be between 1 and {MAX_ORDER} on the compiled route, got {order!r}")
    if not 1 <= n <= MAX_STATES:
        raise ValueError(f"n must be between 1 and {MAX_STATES} on the compiled route, got {n!r}")
    N = P0.shape[0]
    src_, dst_ = np.ascontiguousarray(src, dtype=np.int64), np.ascontiguousarray(dst, dtype=np.int64)
    coef_ = np.ascontiguousarray(coef, dtype=float).reshape(-1, src_.shape[0])
    kinds = np.ascontiguousarray(base_kind, dtype=np.int64)
    valid_f = np.ones(N, dtype=bool) if valid is None else np.ascontiguousarray(valid, dtype=bool).reshape(-1)
    out = np.empty((N, coef_.shape[0], order))
    fallback = np.zeros(N, dtype=bool)
    chunk = _chunk_size(n)
    ro = _readonly
    _compiled.run_blocks(_device_kernel, -(-N // chunk), n, ro(src_), ro(dst_), *map(ro, inputs), *map(ro, structure),
                         ro(np.ascontiguousarray(P0)), ro(valid_f), ro(coef_),
                         ro(np.ascontiguousarray(base_of, dtype=np.int64)), ro(kinds), order, float(round_off), chunk,
                         out, fallback, block=1)
    idx = np.flatnonzero(fallback)
    out[idx] = np.nan
    return out, idx


def _readonly(a: NDArray[np.generic]) -> NDArray[np.generic]:
    """A read-only view: one compiled signature whether the caller's arrays are writable or not."""
    v = a.view()
    v.flags.writeable = False
    return v


def _flat(a: ArrayLike, shape: tuple[int, ...], tail: tuple[int, ...]) -> Array:
    """``a`` broadcast to ``shape + tail`` and flattened to ``(points, *tail)``, C-contiguous float64."""
    b = np.broadcast_to(np.asarray(a, dtype=float), shape + tail)
    return np.ascontiguousarray(b.reshape((-1,) + tail))


def second_order_factored(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, P0: ArrayLike,
                          coef: ArrayLike, base_of: ArrayLike, bases: Sequence[ArrayLike], column: ArrayLike, *,
                          order: int = 2, valid: ArrayLike | None = None, round_off: float = 0.0,
                          log_ratio: ArrayLike | None = None, negligible: float = 0.0) -> tuple[Array, Array | None]:
    """Cleaned ``C_1`` (and ``C_2``) of ``q`` factored quantities, and the entropy production if asked.

    Parameters
    ----------
    n : int
        Number of states (at most :data:`MAX_STATES`).
    src, dst : array_like of int, shape (n_jumps,)
        Initial and final state of each jump.
    rate : array_like, shape (*shape, n_jumps)
        Jump rates [1/time], finite and >= 0 (not checked here: validated upstream).
    P0 : array_like, shape (*shape, n)
        Steady states (finite; placeholders at invalid points).
    coef : array_like, shape (q, n_jumps)
        Constant factor of each quantity's increments.
    base_of : array_like of int, shape (q,)
        Index into ``bases`` of each quantity's per-point factor, -1 for none.
    bases : list of array_like, each of shape (*shape, n_columns)
        Per-point factors (broadcast against the batch).
    column : array_like of int, shape (n_jumps,)
        The column of ``bases`` that each jump reads.
    order : int
        Highest cumulant, 1 ... :data:`MAX_ORDER`.
    valid : array_like of bool, shape (*shape), optional
        Points to compute; the others are NaN.
    round_off : float
        ``C_k`` with ``|C_k| <= round_off M_k`` are set to 0 (module docstring).
    log_ratio : array_like, shape (*shape, n_channels), optional
        ``ln(k^+/k^-)`` of each channel, when jumps ``c`` and ``c + n_channels`` are the two directions of
        channel ``c``: the Schnakenberg entropy production is computed too.
    negligible : float
        One-way fluxes below this times the point's largest ``k^+ + k^-`` give no entropy term.

    Returns
    -------
    C : ndarray, shape (*shape, q, order)
        [quantity^k / time].
    sigma : ndarray, shape (*shape), or None
        Entropy production [k_B / time] (None without ``log_ratio``); NaN at invalid points.
    """
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be between 1 and {MAX_ORDER} on the compiled route, got {order!r}")
    if not 1 <= n <= MAX_STATES:
        raise ValueError(f"n must be between 1 and {MAX_STATES} on the compiled route, got {n!r}")
    src_ = np.ascontiguousarray(src, dtype=np.int64)
    dst_ = np.ascontiguousarray(dst, dtype=np.int64)
    J = src_.shape[0]
    coef_ = np.ascontiguousarray(coef, dtype=float).reshape(-1, J)
    base_of_ = np.ascontiguousarray(base_of, dtype=np.int64)
    extra = [] if log_ratio is None else [np.shape(log_ratio)[:-1]]
    shape = np.broadcast_shapes(np.shape(rate)[:-1], np.shape(P0)[:-1], *extra,
                                *(np.shape(b)[:-1] for b in bases), np.shape(valid) if valid is not None else ())
    rate_f = _flat(rate, shape, (J,))
    P0_f = _flat(P0, shape, (n,))
    n_cols = max([np.shape(b)[-1] for b in bases], default=1)
    bases_f = np.empty((len(bases), n_cols, rate_f.shape[0])) if bases else np.zeros((0, 1, rate_f.shape[0]))
    for i, b in enumerate(bases):  # point-last
        bases_f[i] = np.broadcast_to(np.asarray(b, dtype=float), shape + (n_cols,)).reshape(-1, n_cols).T
    column_ = np.ascontiguousarray(column, dtype=np.int64)
    valid_f = np.ones(rate_f.shape[0], dtype=bool) if valid is None else \
        np.ascontiguousarray(np.broadcast_to(valid, shape)).reshape(-1)
    q = coef_.shape[0]
    out = np.empty((rate_f.shape[0], q, order))
    fallback = np.zeros(rate_f.shape[0], dtype=bool)
    lr = np.zeros((rate_f.shape[0], 0)) if log_ratio is None else _flat(log_ratio, shape, (J // 2,))
    sigma = np.empty(rate_f.shape[0] if log_ratio is not None else 0)
    ro = _readonly
    chunk = _chunk_size(n)
    _compiled.run_blocks(_second_order_kernel, -(-rate_f.shape[0] // chunk), n, ro(src_), ro(dst_), ro(rate_f),
                         ro(P0_f), ro(valid_f), ro(coef_), ro(base_of_), ro(bases_f), ro(column_), order,
                         float(round_off), ro(lr), float(negligible), chunk, out, sigma, fallback, block=1)
    if np.any(fallback):
        idx = np.flatnonzero(fallback)
        d = _increments(coef_, base_of_, bases_f[:, :, idx], column_)
        C = counting.scaled_cumulants(n, src_, dst_, rate_f[idx], d, P0_f[idx], order)
        g = rate_f[idx] * P0_f[idx][:, src_]
        M = np.stack([np.einsum("pj,pjq->pq", g, np.abs(d) ** k) for k in range(1, order + 1)], axis=-1)
        out[idx] = np.where(np.abs(C) <= round_off * M, 0.0, C)
    return out.reshape(shape + (q, order)), (None if log_ratio is None else sigma.reshape(shape))


def _increments(coef: Array, base_of: NDArray[np.int64], bases: Array, column: NDArray[np.int64]) -> Array:
    """The increments ``(points, n_jumps, q)`` of a (small) set of points from their point-last factors."""
    m = bases.shape[2]
    d = np.empty((m, coef.shape[1], coef.shape[0]))
    for a in range(coef.shape[0]):
        base = 1.0 if base_of[a] < 0 else bases[base_of[a]][column].T
        d[..., a] = coef[a] * base
    return d


def second_order(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: ArrayLike, P0: ArrayLike,
                 order: int = 2, *, round_off: float = 0.0) -> Array:
    """Compiled ``C_1``, ``C_2``: the arguments and result of :func:`~qdthermo.kinetics.counting.scaled_cumulants`.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`qdthermo.kinetics.counting.generator`).
    increments : array_like, shape (*shape, n_jumps, n_counted)
    P0 : array_like, shape (*shape, n)
    order : int
        Highest cumulant, 1 ... :data:`MAX_ORDER`.
    round_off : float
        Cumulants with ``|C_k| <= round_off M_k`` are set to 0 (0: no cleaning but of exact zeros).

    Returns
    -------
    ndarray, shape (*shape, n_counted, order)
        [quantity^k / time]; NaN at points whose steady state is not unique.
    """
    net = counting._Network(n, src, dst, rate)
    d = net.increments("increments", increments, counted_axis=True)
    p = net.populations(P0)
    shape = net.batch_shape(increments=d.shape[:-2], P0=p.shape[:-1])
    q = d.shape[-1]
    bases = list(np.moveaxis(np.broadcast_to(d, shape + d.shape[-2:]), -1, 0))
    return second_order_factored(n, net.src, net.dst, net.rate, p, np.ones((q, net.n_jumps)), np.arange(q),
                                 bases, np.arange(net.n_jumps), order=order, round_off=round_off)[0]

r"""Compiled second-order counting statistics: ``C_1`` and ``C_2`` point by point (Numba).

The same quantities, conventions and numerics as the order-2 path of
:func:`qdthermo.kinetics.counting.scaled_cumulants` (the NumPy reference route):

.. math::

    C_1 = 1^T W^{(1)} P0, \qquad
    C_2 = 1^T W^{(2)} P0 - 2\, 1^T W^{(1)} W^D W^{(1)} P0 ,

``C_k = d^k lambda / d(i chi)^k`` at 0, no factor 2; ``W^D`` the group inverse, applied by
Gaussian elimination of ``W`` without pivoting with subtraction-free pivots (GTH), then
``x_{n-1} = 0``, back substitution and the projection ``x <- x - P0 (1^T x)``
(:mod:`qdthermo.kinetics.group_inverse`).  One kernel call does every point: it builds the
small generator of the point, factorises it once, and for every counted quantity forms
``W^(1) P0``, applies ``W^D`` and contracts; the scratch (``n x n`` factors and a few
``n``-vectors) is allocated once per chunk of points, never per point, and nothing of shape
``(points, jumps, quantities)`` is ever built.

Factored increments
-------------------
Counted quantities of a device are a per-jump constant times one of a few per-point
arrays (the particle number of a lead: ``sign_j [lead_j = lead]``; its energy: the same
times the channel energy; the entropy: ``sign_j`` times ``ln(k^+/k^-)``).  The kernel takes

* ``coef`` ``(q, n_jumps)``: the constant factor of each quantity and jump;
* ``base_of`` ``(q,)``: which per-point array multiplies it (-1: none, the factor is 1);
* ``bases`` ``(n_bases, points, n_columns)`` and ``column`` ``(n_jumps,)``: the per-point
  arrays and the column each jump reads (e.g. its channel),

so that ``d[p, j, a] = coef[a, j] * bases[base_of[a], p, column[j]]``.

Round-off cleaning and failures
-------------------------------
``C_k`` is set to exactly 0 where ``|C_k| <= round_off * M_k`` with the absolute moment
``M_k = sum_j rate_j P0[src_j] |d_j|^k`` (as ``Fluctuations`` does on the NumPy route), and
to NaN at points marked not ``valid``.  Points whose elimination meets a pivot that is not
positive (the last state is transient or the chain has several closed classes) are
recomputed by the NumPy engine, which pivots.

Use :func:`available` before calling: without Numba (or with ``QDTHERMO_NO_NUMBA=1``) use
:func:`qdthermo.kinetics.counting.scaled_cumulants`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel, prange
from qdthermo.kinetics import counting

__all__ = ["available", "MAX_STATES", "second_order", "second_order_factored"]

Array = NDArray[np.float64]

#: largest network (states) for the compiled route: dense ``n x n`` scratch per thread
MAX_STATES = 256

#: points per chunk of the parallel loop (scratch is allocated once per chunk)
_CHUNK = 4096


def available() -> bool:
    """True if the compiled route can run (Numba importable and not disabled)."""
    return _compiled.available()


@kernel(parallel=True, error_model="numpy")
def _second_order_kernel(n, src, dst, rate, P0, valid, coef, base_of, bases, column, order, round_off,
                         log_ratio, negligible, out, sigma, fallback):  # pragma: no cover - compiled
    n_points, n_jumps = rate.shape
    n_chunks = (n_points + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        A = np.empty((n, n))
        piv = np.empty(n)
        kd = np.empty(n)
        v = np.empty(n)
        x = np.empty(n)
        g0 = np.empty(n_jumps)
        for p in range(c * _CHUNK, min(n_points, (c + 1) * _CHUNK)):
            if log_ratio.shape[1]:
                sigma[p] = _schnakenberg(src, rate[p], P0[p], log_ratio[p], negligible) if valid[p] else np.nan
            if not valid[p]:
                out[p] = np.nan
            elif order > 1 and not _factor(n, src, dst, rate[p], A, piv):
                fallback[p] = True
            else:
                for j in range(n_jumps):
                    g0[j] = rate[p, j] * P0[p, src[j]]  # one-way jump fluxes
                for a in range(coef.shape[0]):
                    _one_quantity(n, src, dst, rate[p], P0[p], g0, coef[a], base_of[a], bases, p, column,
                                  A, piv, kd, v, x, order, round_off, out[p, a])


@kernel(inline="always", error_model="numpy")
def _schnakenberg(src, r, p0, log_ratio, negligible):  # pragma: no cover - compiled
    """Schnakenberg entropy production ``sum_c (a - b) ln(a / b)`` of one point, ``a = k^+ P_i``, ``b = k^- P_j``.

    Jumps ``c`` and ``c + n_channels`` are the two directions of channel ``c``; the terms are evaluated as in
    :func:`qdthermo.thermo.entropy.schnakenberg_terms` (same order of operations and zero rules).
    """
    nc = log_ratio.shape[0]
    kmax = r[0] + r[nc]
    for c in range(1, nc):
        kmax = max(kmax, r[c] + r[c + nc])
    total = 0.0
    for c in range(nc):
        a = r[c] * p0[src[c]]
        b = r[c + nc] * p0[src[c + nc]]
        if max(a, b) < negligible * kmax or a == b:
            continue
        lr = np.log(p0[src[c]])
        lr -= np.log(p0[src[c + nc]])
        lr += log_ratio[c]
        t = (a - b) * lr
        if np.isnan(t):
            t = np.inf
        total += max(t, 0.0)
    return total


@kernel(inline="always", error_model="numpy")
def _factor(n, src, dst, r, A, piv):  # pragma: no cover - compiled
    """GTH elimination of the generator of one point into ``A`` (multipliers / U) and ``piv``."""
    A[:, :] = 0.0
    for j in range(src.shape[0]):
        if dst[j] != src[j]:
            A[dst[j], src[j]] += r[j]
    for k in range(n - 1):
        s = 0.0
        for i in range(k + 1, n):
            s += A[i, k]  # minus the pivot, subtraction-free
        if not (s > 0.0 and s < np.inf):
            return False
        piv[k] = s
        for i in range(k + 1, n):
            f = A[i, k] / s
            A[i, k] = f
            if f != 0.0:
                for j in range(k + 1, n):
                    if j != i:  # the diagonal is never read
                        A[i, j] += f * A[k, j]
    return True


@kernel(inline="always", error_model="numpy")
def _one_quantity(n, src, dst, r, p0, g0, coef, base, bases, p, column, A, piv, kd, v, x, order, round_off,
                  res):  # pragma: no cover - compiled
    """``C_1`` (and ``C_2``) of one quantity at one point, cleaned of round-off, into ``res``."""
    kd[:] = 0.0
    v[:] = 0.0
    schottky = 0.0
    m1 = 0.0
    for j in range(src.shape[0]):
        dj = coef[j] if base < 0 else coef[j] * bases[base, p, column[j]]
        if dj == 0.0:  # adds exactly nothing
            continue
        kd[src[j]] += r[j] * dj  # sum over the jumps leaving each state of rate d
        g = r[j] * dj * p0[src[j]]
        v[dst[j]] += g  # W^(1) P0
        schottky += g * dj  # 1^T W^(2) P0, also the absolute moment M_2
        m1 += g0[j] * abs(dj)
    c1 = 0.0
    for s in range(n):
        c1 += kd[s] * p0[s]
    res[0] = 0.0 if abs(c1) <= round_off * m1 else c1
    if order > 1:
        _drazin(n, A, piv, p0, v, x)
        cross = 0.0
        for s in range(n):
            cross += kd[s] * x[s]
        c2 = schottky - 2.0 * cross
        res[1] = 0.0 if abs(c2) <= round_off * schottky else c2


@kernel(inline="always", error_model="numpy")
def _drazin(n, A, piv, p0, b, x):  # pragma: no cover - compiled
    """``x = W^D b`` from the GTH factors (``b`` is overwritten)."""
    total = 0.0
    for s in range(n):
        total += b[s]
    for s in range(n):
        b[s] -= p0[s] * total  # Q b, in the range of W
    for k in range(n - 1):
        for i in range(k + 1, n):
            b[i] += A[i, k] * b[k]
    x[n - 1] = 0.0
    for k in range(n - 2, -1, -1):
        acc = b[k]
        for j in range(k + 1, n - 1):
            acc -= A[k, j] * x[j]
        x[k] = acc / -piv[k]
    total = 0.0
    for s in range(n):
        total += x[s]
    for s in range(n):
        x[s] -= p0[s] * total


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
                          coef: ArrayLike, base_of: ArrayLike, bases: list[ArrayLike], column: ArrayLike, *,
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
    order : {1, 2}
        Highest cumulant.
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
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2 on the compiled route, got {order!r}")
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
    bases_f = np.empty((len(bases), rate_f.shape[0], n_cols)) if bases else np.zeros((0, rate_f.shape[0], 1))
    for i, b in enumerate(bases):
        bases_f[i] = _flat(b, shape, (n_cols,))
    column_ = np.ascontiguousarray(column, dtype=np.int64)
    valid_f = np.ones(rate_f.shape[0], dtype=bool) if valid is None else \
        np.ascontiguousarray(np.broadcast_to(valid, shape)).reshape(-1)
    q = coef_.shape[0]
    out = np.empty((rate_f.shape[0], q, order))
    fallback = np.zeros(rate_f.shape[0], dtype=bool)
    lr = np.zeros((rate_f.shape[0], 0)) if log_ratio is None else _flat(log_ratio, shape, (J // 2,))
    sigma = np.empty(rate_f.shape[0] if log_ratio is not None else 0)
    inputs = [_readonly(a) for a in (src_, dst_, rate_f, P0_f, valid_f, coef_, base_of_, bases_f, column_, lr)]
    _second_order_kernel(n, *inputs[:9], order, float(round_off), inputs[9], float(negligible), out, sigma,
                         fallback)
    if np.any(fallback):
        idx = np.flatnonzero(fallback)
        d = _increments(coef_, base_of_, bases_f[:, idx], column_)
        C = counting.scaled_cumulants(n, src_, dst_, rate_f[idx], d, P0_f[idx], order)
        g = rate_f[idx] * P0_f[idx][:, src_]
        M = np.stack([np.einsum("pj,pjq->pq", g, np.abs(d) ** k) for k in range(1, order + 1)], axis=-1)
        out[idx] = np.where(np.abs(C) <= round_off * M, 0.0, C)
    return out.reshape(shape + (q, order)), (None if log_ratio is None else sigma.reshape(shape))


def _increments(coef: Array, base_of: NDArray[np.int64], bases: Array, column: NDArray[np.int64]) -> Array:
    """The increments ``(points, n_jumps, q)`` of a (small) set of points from their factors."""
    m = bases.shape[1]
    d = np.empty((m, coef.shape[1], coef.shape[0]))
    for a in range(coef.shape[0]):
        base = 1.0 if base_of[a] < 0 else bases[base_of[a]][:, column]
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
    order : {1, 2}
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

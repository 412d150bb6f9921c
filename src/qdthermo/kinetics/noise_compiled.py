r"""Compiled finite-frequency noise ``S_ab(omega)`` of jump networks, point by point (Numba).

The same quantity, formula and numerics as :func:`qdthermo.kinetics.counting.noise_spectrum`
(the NumPy reference route):

.. math::

    S_{ab}(\omega) = 1^T W^{(ab)} P_0
        - \mathrm{Re}\left[1^T W^{(a)} G\, Q W^{(b)} P_0 + 1^T W^{(b)} G\, Q W^{(a)} P_0\right],
    \qquad G = (W + i\omega - s P_0 1^T)^{-1},

``s`` the largest escape rate of the point.  For every point the kernel builds the real ``n x n``
matrix ``W - s P_0 1^T`` and the two right-hand sides ``Q W^{(a,b)} P_0`` once; for every frequency it
adds ``i omega`` to the diagonal and solves by LU factorisation with partial pivoting (the pivot of
largest ``|Re| + |Im|``, as LAPACK's ``zgetrf``, which the NumPy route calls), then contracts.  Nothing
of shape ``(points, frequencies, n, n)`` is built: the scratch is one complex ``n x n`` matrix per
thread.

Failures follow the NumPy route: a point whose steady state is not unique is NaN at every frequency
(the generator's elimination in ascending ``P0``, as :class:`~qdthermo.kinetics.group_inverse.DrazinSolver`
does it with unoccupied states cut off, meets a zero pivot: several closed classes); a point whose
elimination meets a pivot that is not finite, or a (point, frequency) whose factorisation meets an exactly
zero pivot (LAPACK's singular case), is recomputed by the NumPy route; a solution that is not finite is NaN.

Use :func:`available` first: without Numba (or with ``QDTHERMO_NO_NUMBA=1``) use the NumPy route.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel
from qdthermo.kinetics import counting
from qdthermo.kinetics.counting_compiled import _flat, _readonly
from qdthermo.kinetics.group_inverse import _UNOCCUPIED as UNOCCUPIED

__all__ = ["available", "MAX_STATES", "noise_spectrum"]

Array = NDArray[np.float64]

#: largest network (states) for the compiled route: a dense complex ``n x n`` scratch per thread
MAX_STATES = 256


def available() -> bool:
    """True if the compiled route can run (Numba importable and not disabled)."""
    return _compiled.available()


@kernel(error_model="numpy")
def _spectrum_kernel(first, last, n, src, dst, rate, da, db, P0, omega, out, fallback):  # pragma: no cover - compiled
    """Fill ``out[p, w]`` (and ``fallback[p, w]``: zero pivot) for the points ``first:last``, every frequency."""
    n_jumps = src.shape[0]
    n_omega = omega.shape[1]
    M = np.empty((n, n))
    qv = np.empty((n, 2))
    out_a = np.empty(n)  # sum over the jumps out of each state of rate * increment (a, b)
    out_b = np.empty(n)
    A = np.empty((n, n), dtype=np.complex128)
    y = np.empty((n, 2), dtype=np.complex128)
    E = np.empty((n, n))  # the generator's elimination (uniqueness of the steady state)
    for p in range(first, last):
        M[:, :] = 0.0
        qv[:, :] = 0.0
        out_a[:] = 0.0
        out_b[:] = 0.0
        c1a = 0.0
        c1b = 0.0
        schottky = 0.0
        for j in range(n_jumps):
            k = rate[p, j]
            s, t = src[j], dst[j]
            M[t, s] += k
            M[s, s] -= k
            g = k * P0[p, s]
            qv[t, 0] += g * da[p, j]
            qv[t, 1] += g * db[p, j]
            c1a += g * da[p, j]
            c1b += g * db[p, j]
            schottky += g * da[p, j] * db[p, j]
            out_a[s] += k * da[p, j]
            out_b[s] += k * db[p, j]
        classes = _closed_classes(M, P0[p], E)
        if classes:  # 1: several closed classes (NaN); 2: a pivot that is not finite (the NumPy route)
            for w in range(n_omega):
                out[p, w] = np.nan
                fallback[p, w] = classes == 2
            continue
        scale = 0.0
        for i in range(n):
            qv[i, 0] -= P0[p, i] * c1a
            qv[i, 1] -= P0[p, i] * c1b
            scale = max(scale, abs(M[i, i]))
        if not scale > 0.0:
            scale = 1.0
        for i in range(n):
            for c in range(n):
                M[i, c] -= scale * P0[p, i]
        for w in range(n_omega):
            for i in range(n):
                for c in range(n):
                    A[i, c] = M[i, c]
                A[i, i] += 1j * omega[p, w]
                y[i, 0] = qv[i, 0]
                y[i, 1] = qv[i, 1]
            if not _lu_solve(A, y, n):
                fallback[p, w] = True
                out[p, w] = np.nan
                continue
            cross = 0.0
            finite = True
            for i in range(n):
                cross += out_a[i] * y[i, 1].real + out_b[i] * y[i, 0].real
                for c in range(2):
                    if not (np.isfinite(y[i, c].real) and np.isfinite(y[i, c].imag)):
                        finite = False
            out[p, w] = schottky - cross if finite else np.nan


@kernel(error_model="numpy")
def _closed_classes(W, p0, A):  # pragma: no cover - compiled
    """0 if the generator ``W`` has a unique steady state, 1 if several closed classes, 2 if undecided.

    The states in ascending ``p0`` (stable), Gaussian elimination without pivoting with the
    subtraction-free pivots of ``DrazinSolver`` (minus the pivot is the rate out of the state into the
    states not yet eliminated): a zero pivot at an occupied state (``p0 >= eps``) means several closed
    classes; at an unoccupied one the state is cut off; a pivot that is not finite leaves it undecided.
    """
    n = W.shape[0]
    order = np.argsort(p0, kind="mergesort")
    for i in range(n):
        for c in range(n):
            A[i, c] = W[order[i], order[c]]
    for k in range(n - 1):
        piv = 0.0
        for i in range(k + 1, n):
            piv += A[i, k]
        if piv == 0.0:
            if p0[order[k]] < UNOCCUPIED:
                continue  # cut off: no multipliers
            return 1
        if not (piv > 0.0 and np.isfinite(piv)):
            return 2
        for i in range(k + 1, n):
            f = A[i, k] / piv
            if f != 0.0:
                for c in range(k + 1, n):
                    A[i, c] += f * A[k, c]
    return 0


@kernel(error_model="numpy")
def _lu_solve(A, y, n):  # pragma: no cover - compiled
    """Solve ``A x = y`` in place (``y <- x``) by LU with partial pivoting on ``|Re| + |Im|``; False on a 0 pivot."""
    for col in range(n):
        piv = col
        best = abs(A[col, col].real) + abs(A[col, col].imag)
        for i in range(col + 1, n):
            mag = abs(A[i, col].real) + abs(A[i, col].imag)
            if mag > best:
                best, piv = mag, i
        if best == 0.0:
            return False
        if piv != col:
            for c in range(n):
                A[col, c], A[piv, c] = A[piv, c], A[col, c]
            for c in range(2):
                y[col, c], y[piv, c] = y[piv, c], y[col, c]
        inv = 1.0 / A[col, col]
        for i in range(col + 1, n):
            f = A[i, col] * inv
            if f != 0.0:
                for c in range(col + 1, n):
                    A[i, c] -= f * A[col, c]
                y[i, 0] -= f * y[col, 0]
                y[i, 1] -= f * y[col, 1]
    for i in range(n - 1, -1, -1):
        for c in range(2):
            acc = y[i, c]
            for m in range(i + 1, n):
                acc -= A[i, m] * y[m, c]
            y[i, c] = acc / A[i, i]
    return True


def noise_spectrum(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments_a: ArrayLike,
                   increments_b: ArrayLike, P0: ArrayLike, omega: ArrayLike, *, outer: bool = True) -> Array:
    """Compiled :func:`qdthermo.kinetics.counting.noise_spectrum`: the same arguments, result and NaN rule.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`qdthermo.kinetics.counting.generator`); ``n`` at most
        :data:`MAX_STATES`.
    increments_a, increments_b : array_like, shape (*shape, n_jumps)
    P0 : array_like, shape (*shape, n)
    omega : array_like, real, any shape
        Angular frequencies [1/time], finite.
    outer : bool
        As for the NumPy route: every point at every frequency (``(*shape, *omega.shape)``), or
        ``omega`` broadcast against the batch.

    Returns
    -------
    ndarray of float
        ``S_ab(omega)`` [unit_a unit_b / time].
    """
    if not 1 <= n <= MAX_STATES:
        raise ValueError(f"n must be between 1 and {MAX_STATES} on the compiled route, got {n!r}")
    net = counting._Network(n, src, dst, rate)
    da = net.increments("increments_a", increments_a, counted_axis=False)
    db = net.increments("increments_b", increments_b, counted_axis=False)
    p = net.populations(P0)
    w = counting._frequencies(omega)
    shape = net.batch_shape(increments_a=da.shape[:-1], increments_b=db.shape[:-1], P0=p.shape[:-1])
    if outer:
        out_shape, batch = shape + w.shape, shape
        w_flat = np.broadcast_to(w.reshape(1, -1), (int(np.prod(shape)), w.size))
    else:
        out_shape = counting._paired_shape(shape, w.shape)
        batch = out_shape
        w_flat = np.broadcast_to(w, out_shape).reshape(-1, 1)
    J = net.n_jumps
    # read-only views: one compiled signature whether the caller's arrays are writable or not
    flat: dict[str, Any] = {"rate": _readonly(_flat(net.rate, batch, (J,))), "da": _readonly(_flat(da, batch, (J,))),
                            "db": _readonly(_flat(db, batch, (J,))), "P0": _readonly(_flat(p, batch, (n,)))}
    w_c = _readonly(np.ascontiguousarray(w_flat, dtype=float))
    src_ = _readonly(np.ascontiguousarray(net.src, dtype=np.int64))
    dst_ = _readonly(np.ascontiguousarray(net.dst, dtype=np.int64))
    n_points = w_c.shape[0]
    out = np.empty(w_c.shape)
    fallback = np.zeros(w_c.shape, dtype=bool)
    if n_points:
        _compiled.run_blocks(_spectrum_kernel, n_points, n, src_, dst_, flat["rate"], flat["da"], flat["db"],
                             flat["P0"], w_c, out, fallback, block=max(64, 4096 // max(1, w_c.shape[1])))
    if fallback.any():
        pts, ws = np.nonzero(fallback)
        out[pts, ws] = counting.noise_spectrum(n, src_, dst_, flat["rate"][pts], flat["da"][pts], flat["db"][pts],
                                               flat["P0"][pts], w_c[pts, ws], outer=False)
    return out.reshape(out_shape)

"""The compiled route of :attr:`~qdthermo.thermo.cycles.Cycles.microscopic_forces`: least squares by Jacobi SVD.

The microscopic forces solve ``affinity = M F`` per point in the least-squares sense, ``M`` the
``(n_cycles, n_forces)`` force map.  The NumPy route decomposes ``M = U S V^T`` with LAPACK
(``np.linalg.svd``, ~3 us a point however small the matrix) and forms
``F = sum_i V_i (U_i . affinity) / s_i``, NaN where a singular value is below ``1e-12`` of the largest
(the forces are not determined by the cycles).  This route computes the same decomposition per point by
one-sided (Hestenes) Jacobi rotations: the columns of ``A = M`` are rotated pairwise,
``A <- A R``, ``V <- V R``, until every pair is orthogonal to working precision; then the columns of
``A`` are ``U_i s_i``, so ``s_i = |A_i|`` and ``F = sum_i V_i (A_i . affinity) / s_i^2``.  One-sided
Jacobi is backward stable and resolves small singular values at least as accurately as LAPACK's
bidiagonal SVD, so both routes give the same forces to round-off of the condition number
(tested on random batches, and on devices against the macroscopic forces, in
``tests/thermo/test_cycles_compiled.py``); the rank decision is the same rule on the same
(to round-off) singular values.

Units: ``M`` in units of affinity over force, ``F`` in the units of the forces
(:mod:`qdthermo.thermo.forces`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qdthermo._compiled import kernel, run_blocks

__all__ = ["RANK_TOLERANCE", "least_squares_compiled"]

Array = NDArray[np.float64]

#: a singular value at or below this fraction of the largest makes the forces undetermined (NaN): the rule of
#: the NumPy route (:attr:`~qdthermo.thermo.cycles.Cycles.microscopic_forces`)
RANK_TOLERANCE = 1e-12
_EPS = float(np.finfo(np.float64).eps)
_MAX_SWEEPS = 60


@kernel(error_model="numpy", inline="always")
def _rotate(A: Array, V: Array, j: int, k: int, tol: float) -> bool:  # pragma: no cover - compiled
    """Orthogonalise columns ``j`` and ``k`` of ``A`` by one Jacobi rotation (also applied to ``V``).

    False where they are orthogonal to ``tol`` already (no rotation).
    """
    alpha, beta, gamma = 0.0, 0.0, 0.0
    for i in range(A.shape[0]):
        alpha += A[i, j] * A[i, j]
        beta += A[i, k] * A[i, k]
        gamma += A[i, j] * A[i, k]
    if gamma == 0.0 or abs(gamma) <= tol * np.sqrt(alpha) * np.sqrt(beta):
        return False
    zeta = (beta - alpha) / (2.0 * gamma)
    t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + np.hypot(1.0, zeta))
    c = 1.0 / np.hypot(1.0, t)
    s = c * t
    for i in range(A.shape[0]):
        a, b = A[i, j], A[i, k]
        A[i, j], A[i, k] = c * a - s * b, s * a + c * b
    for i in range(V.shape[0]):
        a, b = V[i, j], V[i, k]
        V[i, j], V[i, k] = c * a - s * b, s * a + c * b
    return True


@kernel(error_model="numpy")
def _solve_one(M: Array, y: Array, A: Array, V: Array, s: Array, F: Array) -> None:  # pragma: no cover
    """Least-squares ``F`` of ``M F = y`` for one point (``A``, ``V``, ``s`` scratch); NaN where undetermined."""
    m, n = M.shape
    finite = True
    for i in range(m):
        finite = finite & np.isfinite(y[i])
        for j in range(n):
            A[i, j] = M[i, j]
            finite = finite & np.isfinite(M[i, j])
    for i in range(n):
        F[i] = np.nan
        for j in range(n):
            V[i, j] = 1.0 if i == j else 0.0
    if not finite:
        return
    tol = m * _EPS
    for _ in range(_MAX_SWEEPS):
        rotated = False
        for j in range(n - 1):
            for k in range(j + 1, n):
                rotated = _rotate(A, V, j, k, tol) | rotated
        if not rotated:
            break
    smax = 0.0
    for j in range(n):
        q = 0.0
        for i in range(m):
            q += A[i, j] * A[i, j]
        s[j] = np.sqrt(q)
        smax = max(smax, s[j])
    if not smax > 0.0:
        return
    for j in range(n):
        if not s[j] > RANK_TOLERANCE * smax:
            return
    for i in range(n):
        F[i] = 0.0
    for j in range(n):
        q = 0.0
        for i in range(m):
            q += A[i, j] * y[i]
        coeff = (q / s[j]) / s[j]
        for i in range(n):
            F[i] += V[i, j] * coeff


@kernel(error_model="numpy")
def _range(start: int, stop: int, M: Array, y: Array, F: Array) -> None:  # pragma: no cover - compiled
    m, n = M.shape[1], M.shape[2]
    A, V, s = np.empty((m, n)), np.empty((n, n)), np.empty(n)
    for p in range(start, stop):
        _solve_one(M[p], y[p], A, V, s, F[p])


def least_squares_compiled(M: Array, y: Array) -> Array:
    """Least-squares solutions of ``M F = y`` of a batch: ``M`` ``(*batch, m, n)`` with ``m >= n``, ``y``
    ``(*batch, m)`` -> ``F`` ``(*batch, n)``; NaN where a singular value of ``M`` is at most
    :data:`RANK_TOLERANCE` of the largest, or where ``M`` or ``y`` is not finite.

    Requires :func:`qdthermo._compiled.available`; every core (:func:`qdthermo._compiled.run_blocks`).
    """
    M = np.asarray(M, dtype=np.float64)
    m, n = M.shape[-2:]
    if m < n:
        raise ValueError(f"M must have at least as many rows as columns, got shape {M.shape}")
    batch = np.broadcast_shapes(M.shape[:-2], np.shape(y)[:-1])
    Mf = np.ascontiguousarray(np.broadcast_to(M, batch + (m, n))).reshape(-1, m, n)
    yf = np.ascontiguousarray(np.broadcast_to(np.asarray(y, dtype=np.float64), batch + (m,))).reshape(-1, m)
    F = np.empty((Mf.shape[0], n))
    if n and Mf.shape[0]:
        run_blocks(_range, Mf.shape[0], Mf, yf, F, block=2048)
    else:
        F.fill(np.nan)
    return F.reshape(batch + (n,))

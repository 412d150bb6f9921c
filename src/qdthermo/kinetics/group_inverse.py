r"""Group (Drazin) inverse of batched Markov generators.

For a generator ``W`` (``dP/dt = W P``, columns summing to zero, non-negative
off-diagonal rates) with a unique steady state ``P0`` (``W P0 = 0``,
``1^T P0 = 1``) the group inverse ``W^D`` is the unique matrix with

.. math::

    W W^D W = W, \qquad W^D W W^D = W^D, \qquad W W^D = W^D W = Q,

where ``Q = 1 - P0 1^T`` projects onto the decaying modes (``P = P0 1^T`` is
the projector on the steady state).  Equivalently ``W^D = Q W^{-1} Q`` on the
range of ``Q``: it inverts ``W`` on the decaying subspace and is zero on
``P0``.  Hence ``W^D P0 = 0`` and ``1^T W^D = 0``.  (Flindt et al. write the
pseudo-inverse ``R = Q W^{-1} Q``; their ``R`` is this ``W^D``.  Counting
statistics in :mod:`qdthermo.kinetics.counting` use ``-W^D``, the
integrated connected propagator ``int_0^inf (e^{W t} - P0 1^T) dt = -W^D``.)

Rank-one route
--------------
With any scale ``s > 0`` the matrix ``M = W - s P0 1^T`` is invertible if
and only if the steady state is unique, and

.. math::

    M^{-1} = W^D - \frac{1}{s} P0 1^T .

Proof: ``(W^D - P0 1^T / s)(W - s P0 1^T) = W^D W - s W^D P0 1^T
- P0 (1^T W) / s + P0 (1^T P0) 1^T = Q - 0 - 0 + P0 1^T = 1``, using
``W^D P0 = 0``, ``1^T W = 0`` and ``1^T P0 = 1``.  Therefore

.. math::

    W^D b = M^{-1} b + \frac{1}{s} P0 (1^T b), \qquad 1^T W^D b = 0 .

``s`` is the largest escape rate ``max_i |W_ii|`` of each batch point, so that
both terms of ``M`` have the same scale.

Elimination route (default)
---------------------------
For ``b`` with ``1^T b = 0`` the vector ``x = W^D b`` is the unique solution
of ``W x = b`` with ``1^T x = 0``.  Gaussian elimination of ``W`` *without
pivoting* is stable: ``W`` is column diagonally dominant with non-negative
off-diagonal entries, a property every Schur complement inherits (it is the
generator of the chain watched on the remaining states).  The pivots are
computed subtraction-free, as minus the sum of the off-diagonal entries of
their column (Grassmann, Taksar and Heyman), and eliminating all states but
one leaves a consistent singular last equation: set ``x = 0`` at that
reference state, back-substitute, and project, ``x <- x - P0 (1^T x)``.
The states are eliminated in ascending order of ``P0``
(:func:`elimination_order`), point by point: the reference state is the most
probable one.  The natural order would make it whichever state comes last,
and where that state is nearly empty (``P0`` of 1e-100 at low temperature)
the back substitution produces values of order ``1/P0`` that the projection
cancels, or the pivots vanish when rates underflow: the results were
garbage (1e+76 for a cumulant of 1e-116) or NaN.  (The multipliers lie in
``[0, 1]`` in any order; it is the reference state that matters.)  In
ascending order a zero pivot means a closed class without the reference
state (see ``_pivot``).
The loops run over the ``n`` states only; each step is one contiguous
vectorised operation over the whole batch (the factors are stored batch-last,
``(n, n, *shape)``), with no LAPACK call per batch point; the factorisation is
reused for every right-hand side.  A zero pivot marks the point singular
(several closed classes) unless ``cut_unoccupied`` cuts an unoccupied state
off; a pivot that is not finite sends that batch point to the rank-one
route, which pivots.

Singular points
---------------
Where ``M`` is singular (the steady state is not unique, the generator is
reducible with several closed classes) the result is NaN for that batch
point only; nothing is raised for the rest of the batch.

Units: ``W`` is a rate [1/time]; ``W^D`` has units of time.

Examples
--------
A symmetric two-state generator, ``W = -(a + b) Q`` with ``a = b = 1``, has
``W^D = -Q/2``:

>>> import numpy as np
>>> from qdthermo.kinetics import group_inverse
>>> W = np.array([[-1.0, 1.0], [1.0, -1.0]])
>>> group_inverse.drazin(W, [0.5, 0.5])
array([[-0.25,  0.25],
       [ 0.25, -0.25]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DrazinSolver", "TraceDrazin", "drazin", "drazin_apply", "elimination_order", "stationary_dense",
           "safe_solve"]

Array = NDArray[np.float64]

#: a batch point whose M has reciprocal 2-norm condition number below this is marked singular
_SINGULAR_RCOND = 1e-13

#: steady-state probabilities below this count as unoccupied for :func:`_pivot` (the round-off of
#: probabilities that sum to 1)
_UNOCCUPIED = float(np.finfo(float).eps)


def _as_generator(W: ArrayLike) -> Array:
    W = np.asarray(W, dtype=float)
    if W.ndim < 2 or W.shape[-1] != W.shape[-2] or W.shape[-1] < 1:
        raise ValueError(f"W must have shape (*shape, n, n) with n >= 1, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W must be finite, got NaN or inf entries")
    return W


def safe_solve(M: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
    """Batched ``np.linalg.solve(M, b)`` that marks singular batch points with NaN instead of raising.

    Parameters
    ----------
    M : array, shape (*shape, n, n)
        Real or complex matrices.
    b : array, shape (*shape, n, m)
        Right-hand sides (broadcast against ``M``).

    Returns
    -------
    array, shape (*shape, n, m)
        The solutions; every entry of a batch point whose ``M`` is numerically singular
        (LAPACK zero pivot, or reciprocal condition number below 1e-13) or whose solution
        is not finite is NaN.
    """
    shape = np.broadcast_shapes(M.shape[:-2], b.shape[:-2])
    M = np.broadcast_to(M, shape + M.shape[-2:])
    b = np.broadcast_to(b, shape + b.shape[-2:])
    x: NDArray[Any]
    try:
        with np.errstate(all="ignore"):
            x = np.linalg.solve(M, b)
    except np.linalg.LinAlgError:
        with np.errstate(all="ignore"):
            sv: NDArray[Any] = np.linalg.svd(M, compute_uv=False)  # type: ignore[call-overload]
            bad = ~(sv[..., -1] > _SINGULAR_RCOND * sv[..., 0])
        eye = np.eye(M.shape[-1], dtype=M.dtype)
        M = np.where(bad[..., None, None], eye, M)
        try:
            with np.errstate(all="ignore"):
                x = np.linalg.solve(M, b)
        except np.linalg.LinAlgError:  # pragma: no cover - exact zero pivot missed by the SVD test
            flat_M = M.reshape((-1,) + M.shape[-2:])
            flat_b = b.reshape((-1,) + b.shape[-2:])
            flat_x = np.empty(flat_b.shape, dtype=np.result_type(M, b))
            for i in range(len(flat_M)):
                try:
                    flat_x[i] = np.linalg.solve(flat_M[i], flat_b[i])
                except np.linalg.LinAlgError:
                    flat_x[i] = np.nan
            x = flat_x.reshape(shape + b.shape[-2:])
        x = np.where(bad[..., None, None], np.nan, x)
    finite = np.all(np.isfinite(x), axis=(-2, -1))
    if not np.all(finite):
        x = np.where(finite[..., None, None], x, np.nan)
    return x


def elimination_order(P0: ArrayLike) -> NDArray[np.intp]:
    """The order in which the elimination route takes the states: ascending steady-state probability.

    ``(*shape, n)`` state indices, ties in index order (a stable sort), so the most probable state
    comes last and is the reference state ``x = 0`` of the back substitution: the least probable
    states, whose escape rates are typically the largest, are eliminated first, and states that
    are never occupied (``P0 = 0``, e.g. their rates underflow at low temperature) are
    eliminated before they can empty a pivot.
    """
    return np.argsort(np.asarray(P0, dtype=float), axis=-1, kind="stable")


def _pivot(p: Array, P: Array, cut: bool) -> tuple[Array, NDArray[np.bool_], NDArray[np.bool_]]:
    """Minus the pivots ``p`` of one elimination step made usable, the points that need the rank-one
    route, and the points without a unique steady state.

    In :func:`elimination_order` a zero pivot means that the eliminated states hold a closed class
    reachable from this one, which a unique steady state (all its weight on one closed class, which
    holds the most probable state, eliminated last) rules out unless the class is unoccupied.  With
    ``cut`` a state with no escape that the steady state does not occupy (``P0`` below the round-off
    of probabilities, ``eps``; e.g. a state whose rates underflow at low temperature) is cut off from
    the chain: ``p = inf`` (no multipliers, ``x = 0`` there), which changes results by at most the
    flux through it.  Any other zero pivot marks the point singular (several closed classes); a
    pivot that is not finite sends the point to the rank-one route, which pivots.
    """
    zero = p == 0
    off = zero & (P < _UNOCCUPIED) if cut else np.zeros(p.shape, dtype=bool)
    singular = zero & ~off
    fallback = ~zero & ~((p > 0) & np.isfinite(p))
    return np.where(off, np.inf, np.where(zero | fallback, 1.0, p)), fallback, singular


class DrazinSolver:
    """Factorised group inverse of a batch of generators, applied to many right-hand sides.

    Build once per batch of generators, then :meth:`apply` as often as needed (the
    counting-statistics recursion applies ``W^D`` once per cumulant order).

    Parameters
    ----------
    W : array, shape (*shape, n, n)
        Generators [1/time], columns summing to zero.
    P0 : array, shape (*shape, n)
        Their steady states (``W P0 = 0``, ``sum(P0) = 1``), given by the caller.
    method : {"elimination", "rank_one"}
        ``"elimination"`` (default): Gaussian elimination without pivoting with
        subtraction-free pivots, the states taken in :func:`elimination_order`, falling back per
        batch point to ``"rank_one"`` where a pivot is not finite;
        ``"rank_one"``: ``np.linalg.solve`` of ``M = W - s P0 1^T`` (LAPACK, pivoting).
    cut_unoccupied : bool
        Elimination route: states that the steady state does not occupy (``P0 < eps``) and that
        cannot be left are cut off from the chain (``x = 0`` there) instead of marking the point
        singular.  For a ``P0`` computed from the exact chain this undoes floating-point underflow
        of rates (e.g. at low temperature); the counting statistics use it.  Default False: any
        generator with several closed classes is singular.

    Attributes
    ----------
    shape : tuple of int
        The broadcast batch shape.
    singular : array of bool, shape (*shape)
        Batch points without a unique steady state (their results are NaN).
    """

    def __init__(self, W: ArrayLike, P0: ArrayLike, method: str = "elimination", *,
                 cut_unoccupied: bool = False) -> None:
        W = _as_generator(W)
        P0 = np.asarray(P0, dtype=float)
        self.method = method
        self.cut_unoccupied = bool(cut_unoccupied)
        n = W.shape[-1]
        if P0.ndim < 1 or P0.shape[-1] != n:
            raise ValueError(f"P0 must have shape (*shape, n) with n = {n}, got shape {P0.shape}")
        if not np.all(np.isfinite(P0)):
            raise ValueError("P0 must be finite, got NaN or inf entries")
        if self.method not in ("elimination", "rank_one"):
            raise ValueError(f"method must be 'elimination' or 'rank_one', got {self.method!r}")
        try:
            shape = np.broadcast_shapes(W.shape[:-2], P0.shape[:-1])
        except ValueError:
            raise ValueError(f"W batch shape {W.shape[:-2]} and P0 batch shape {P0.shape[:-1]} "
                             "do not broadcast") from None
        W = np.broadcast_to(W, shape + (n, n))
        P0 = np.broadcast_to(P0, shape + (n,))
        self.W = W
        self.P0 = P0
        self.shape = shape
        self.n = n
        scale = np.max(np.abs(np.diagonal(W, axis1=-2, axis2=-1)), axis=-1)
        self._scale = np.where(scale > 0, scale, 1.0)
        fallback = np.ones(shape, dtype=bool)
        singular = np.zeros(shape, dtype=bool)
        if self.method == "elimination" and n > 1:
            fallback, singular = self._factor()
        elif n == 1:
            fallback = np.zeros(shape, dtype=bool)
        self._fallback = fallback
        if np.any(fallback) and n > 1:
            M = W[fallback] - self._scale[fallback][:, None, None] * P0[fallback][:, :, None]
            inv = safe_solve(M, np.broadcast_to(np.eye(n), M.shape))
            self._inverse = inv
            singular[fallback] = np.isnan(inv[:, 0, 0])
        self.singular = singular

    # -- elimination route -------------------------------------------------------------
    def _factor(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """LU of W without pivoting, states in the elimination order; returns the points that need the fallback
        and those without a unique steady state.

        Stored batch-last, ``(n, n, *shape)``, so that every step is one contiguous vector
        operation over the batch.
        """
        order = elimination_order(self.P0)
        self._order = order
        W = np.take_along_axis(np.take_along_axis(self.W, order[..., :, None], axis=-2), order[..., None, :], axis=-1)
        A = np.moveaxis(np.asarray(W, dtype=float), (-2, -1), (0, 1)).copy()  # multipliers / U
        P = np.moveaxis(np.take_along_axis(self.P0, order, axis=-1), -1, 0)
        n = self.n
        piv = np.empty((n - 1,) + self.shape)
        bad = np.zeros(self.shape, dtype=bool)
        singular = np.zeros(self.shape, dtype=bool)
        with np.errstate(all="ignore"):
            for k in range(n - 1):
                p = np.sum(A[k + 1:, k], axis=0)  # minus the pivot, subtraction-free
                p, fallback, closed = _pivot(p, P[k], self.cut_unoccupied)
                bad |= fallback
                singular |= closed
                piv[k] = p
                F = A[k + 1:, k] / p  # multipliers with the sign folded in: row_i += F_i row_k
                A[k + 1:, k] = F
                for i in range(k + 1, n):
                    A[i, k + 1:] += F[i - k - 1] * A[k, k + 1:]
        self._lu = A
        self._piv = piv
        return bad & ~singular, singular

    def _solve_elimination(self, b: Array) -> Array:
        """x with W x = b, x = 0 at the last state of the elimination order, for b of shape (*shape, n, m)
        in the range of W (both in the natural order of the states)."""
        A, piv, n, order = self._lu, self._piv, self.n, self._order
        b = np.take_along_axis(b, order[..., :, None], axis=-2)  # a copy, in the elimination order
        y = np.ascontiguousarray(np.moveaxis(b, (-2, -1), (0, 1)), dtype=float)  # (n, m, *shape)
        if np.shares_memory(y, b):
            y = y.copy()
        for k in range(n - 1):
            for i in range(k + 1, n):
                y[i] += A[i, k] * y[k]
        x = np.zeros(y.shape)
        for k in range(n - 2, -1, -1):
            r = y[k]
            for j in range(k + 1, n - 1):  # x[n - 1] = 0
                r -= A[k, j] * x[j]
            x[k] = r / -piv[k]
        out = np.empty(b.shape)
        np.put_along_axis(out, order[..., :, None], np.moveaxis(x, (0, 1), (-2, -1)), axis=-2)
        return out

    # -- public ------------------------------------------------------------------------
    def apply(self, b: ArrayLike) -> Array:
        """``W^D b`` for ``b`` of shape (*shape, n) or (*shape, n, m) (broadcast against the batch).

        ``b`` is read as a batch of matrices (``m`` columns) when it has exactly
        ``len(shape) + 2`` axes and ``b.shape[-2] == n``, else as a batch of vectors.

        Returns an array of the broadcast shape; ``1^T x = 0`` for every column; NaN at
        singular batch points.
        """
        b = np.asarray(b, dtype=float)
        vector = not (b.ndim == len(self.shape) + 2 and b.shape[-2] == self.n)
        if vector:
            b = b[..., None]
        if b.ndim < 2 or b.shape[-2] != self.n:
            raise ValueError(f"b must have shape (*shape, n) or (*shape, n, m) with n = {self.n}, got {b.shape}")
        try:
            shape = np.broadcast_shapes(self.shape, b.shape[:-2])
        except ValueError:
            raise ValueError(f"b batch shape {b.shape[:-2]} does not broadcast against {self.shape}") from None
        x = self._apply(np.broadcast_to(b, shape + b.shape[-2:]), shape)
        return x[..., 0] if vector else x

    def _apply(self, b: Array, shape: tuple[int, ...]) -> Array:
        n = self.n
        P0 = np.broadcast_to(self.P0, shape + (n,))
        if n == 1:
            return np.zeros(b.shape)
        total = np.sum(b, axis=-2, keepdims=True)  # (…, 1, m)
        qb = b - P0[..., :, None] * total  # Q b, in the range of W
        if self.method == "elimination":
            fb = np.broadcast_to(self._fallback, shape)
            lu_shape = shape != self.shape
            if lu_shape:  # the right-hand side adds batch axes: broadcast the factors
                solver = DrazinSolver(np.broadcast_to(self.W, shape + (n, n)), P0, method="elimination",
                                      cut_unoccupied=self.cut_unoccupied)
                return solver._apply(b, shape)
            with np.errstate(all="ignore"):  # the singular points' values are discarded
                x = self._solve_elimination(qb)
                x -= P0[..., :, None] * np.sum(x, axis=-2, keepdims=True)
            if np.any(fb):
                x[fb] = self._apply_rank_one(qb[fb], P0[fb], self._inverse)
            x[np.broadcast_to(self.singular, shape)] = np.nan
            return x
        M_inv = self._inverse.reshape(self.shape + (n, n))
        return self._apply_rank_one(qb, P0, np.broadcast_to(M_inv, shape + (n, n)))

    def _apply_rank_one(self, qb: Array, P0: Array, M_inv: Array) -> Array:
        # W^D b = W^D Q b = M^{-1} Q b + P0 (1^T Q b) / s = M^{-1} Q b  (1^T Q b = 0)
        x = M_inv @ qb
        # round-off: restore 1^T x = 0 exactly (M^{-1} Q b has it analytically)
        x -= P0[..., :, None] * np.sum(x, axis=-2, keepdims=True)
        return x

    def matrix(self) -> Array:
        """The full group inverse ``W^D``, shape (*shape, n, n)."""
        return self.apply(np.broadcast_to(np.eye(self.n), self.shape + (self.n, self.n)))


class TraceDrazin:
    """Group inverse of generators conserving a general trace functional (rank-one route).

    For a batch of generators ``L`` (real or complex, e.g. Lindblad superoperators in some
    coordinates) with ``t^T L = 0`` for a fixed row ``t`` (the trace; ``t = 1`` for a Markov
    generator) and a unique steady state ``P0`` (``L P0 = 0``, ``t^T P0 = 1``), the same proof as
    in the module docstring with ``1^T`` replaced by ``t^T`` gives
    ``L^D b = (L - s P0 t^T)^{-1} b + P0 (t^T b) / s``; ``t^T L^D b = 0``.

    Parameters
    ----------
    L : array, shape (*shape, n, n)
    P0 : array, shape (*shape, n)
    trace : array, shape (n,)

    Attributes
    ----------
    singular : array of bool, shape (*shape)
        Points whose ``L - s P0 t^T`` is singular (NaN results).
    """

    def __init__(self, L: NDArray[Any], P0: NDArray[Any], trace: NDArray[Any]) -> None:
        n = L.shape[-1]
        shape = np.broadcast_shapes(L.shape[:-2], P0.shape[:-1])
        self.P0 = np.broadcast_to(P0, shape + (n,))
        self.trace = np.asarray(trace)
        with np.errstate(all="ignore"):
            scale = np.max(np.abs(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
        self.scale = np.broadcast_to(np.where((scale > 0) & np.isfinite(scale), scale, 1.0), shape)
        M = L - self.scale[..., None, None] * self.P0[..., :, None] * self.trace
        M = np.where(np.isfinite(M), M, 0.0)
        self.inverse = safe_solve(M, np.broadcast_to(np.eye(n, dtype=M.dtype), M.shape))
        self.singular = np.isnan(self.inverse[..., 0, 0]) | ~np.all(np.isfinite(self.P0), axis=-1)

    def apply(self, b: NDArray[Any]) -> NDArray[Any]:
        """``L^D b`` for ``b`` of shape (*shape, n, m); ``t^T x = 0`` for every column."""
        tb = np.einsum("i,...im->...m", self.trace, b)
        x = self.inverse @ b + self.P0[..., :, None] * (tb / self.scale[..., None])[..., None, :]
        return x - self.P0[..., :, None] * np.einsum("i,...im->...m", self.trace, x)[..., None, :]


def drazin_apply(W: ArrayLike, P0: ArrayLike, b: ArrayLike, *, method: str = "elimination",
                 cut_unoccupied: bool = False) -> Array:
    """Apply the group (Drazin) inverse of ergodic generators: ``x = W^D b``.

    Parameters
    ----------
    W : array_like, shape (*shape, n, n)
        Generators [1/time] (``dP/dt = W P``, columns summing to zero).
    P0 : array_like, shape (*shape, n)
        Their unique steady states, normalised (``W P0 = 0``, ``sum(P0) = 1``).
    b : array_like, shape (*shape, n) or (*shape, n, m)
        Right-hand sides (``m`` columns solved at once).
    method : {"elimination", "rank_one"}
        See :class:`DrazinSolver`.
    cut_unoccupied : bool
        See :class:`DrazinSolver`.

    Returns
    -------
    ndarray
        ``W^D b`` [time x units of b], same shape as the broadcast ``b``, with ``1^T x = 0``.
        NaN at batch points whose steady state is not unique (nothing is raised).

    Notes
    -----
    ``W^D = (W - s P0 1^T)^{-1} + P0 1^T / s`` for any ``s > 0``: see the module docstring.
    """
    return DrazinSolver(np.asarray(W, dtype=float), np.asarray(P0, dtype=float), method,
                        cut_unoccupied=cut_unoccupied).apply(b)


def drazin(W: ArrayLike, P0: ArrayLike, *, method: str = "elimination") -> Array:
    """The full group (Drazin) inverse ``W^D`` of ergodic generators, shape (*shape, n, n) [time].

    NaN at batch points whose steady state is not unique.  See :func:`drazin_apply`.
    """
    return DrazinSolver(np.asarray(W, dtype=float), np.asarray(P0, dtype=float), method).matrix()


def stationary_dense(W: ArrayLike) -> Array:
    """Steady state of batched generators by a dense solve (a simple helper for tests).

    Solves ``W P = 0`` with the last equation replaced by ``sum(P) = 1``; the rate matrix is
    scaled per batch point first.  NaN where the steady state is not unique.

    Parameters
    ----------
    W : array_like, shape (*shape, n, n)

    Returns
    -------
    ndarray, shape (*shape, n)
    """
    W = _as_generator(W)
    scale = np.max(np.abs(W), axis=(-2, -1), keepdims=True)
    A = W / np.where(scale > 0, scale, 1.0)
    A[..., -1, :] = 1.0
    b = np.zeros(W.shape[:-1] + (1,))
    b[..., -1, 0] = 1.0
    return safe_solve(A, b)[..., 0]

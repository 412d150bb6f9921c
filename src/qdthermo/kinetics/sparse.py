"""Sparse storage and steady state of the Pauli generator, for large networks (2^10 .. 2^20+ states).

The generator is assembled per parameter point as a SciPy CSR matrix from
the network's directed jumps (memory proportional to the number of
channels; no dense ``n x n`` array).  The steady state solves the system
with one state's probability fixed (``P_r = 1``, the row and column of
``r`` removed), then normalises:

* ``"direct"``: a sparse LU (SuperLU) of the reduced system; exact to
  round-off, cheap for small or narrow networks, but the LU of the
  hypercube-shaped graphs of dot arrays fills in badly (minutes at 14 dots);
* ``"iterative"``: BiCGSTAB with a Jacobi (diagonal) preconditioner, falling
  back to GMRES with an incomplete-LU preconditioner if it stalls.

Every solution is checked: the *relative residual*
``||W P||_1 / sum_i |W_ii| P_i`` (net probability flux left over, relative to
the total one-way flux out of all states) must be below :data:`RESIDUAL_TOL`;
a point that does not reach it is NaN and invalid (never silently wrong).
Points of a batch are solved one after another (a large network is one point
per task).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates

__all__ = ["RESIDUAL_TOL", "sparse_generator", "steady_state_sparse", "relative_residual", "DIRECT_MAX_STATES"]

Array = NDArray[np.float64]

#: a steady state whose relative residual exceeds this is refused (NaN, valid=False)
RESIDUAL_TOL = 1e-9
#: the automatic sparse route uses the direct LU up to this many states, the iterative solver above
DIRECT_MAX_STATES = 256
#: relative tolerance asked of the iterative solvers
_KRYLOV_RTOL = 1e-13


def sparse_generator(net: Network, plus: Array, minus: Array) -> sp.csr_matrix:
    """The generator ``W`` [rate unit] of one parameter point as a CSR matrix.

    Parameters
    ----------
    net
        The network structure.
    plus, minus
        ``(n_channels,)`` rates ``k^+`` (``i -> j``) and ``k^-`` (``j -> i``) of the point.
    """
    n = net.n_states
    rate = np.concatenate([plus, minus])
    out = np.bincount(net.source, weights=rate, minlength=n)
    rows = np.concatenate([net.target, np.arange(n)])
    cols = np.concatenate([net.source, np.arange(n)])
    return sp.csr_matrix((np.concatenate([rate, -out]), (rows, cols)), shape=(n, n))


def relative_residual(W: sp.csr_matrix, P: Array) -> float:
    """``||W P||_1 / sum_i |W_ii| P_i``: leftover net flux relative to the total one-way flux."""
    scale = float(np.abs(W.diagonal()) @ np.abs(P))
    return float(np.abs(W @ P).sum() / scale) if scale > 0 else np.inf


def _reduced(W: sp.csr_matrix, r: int) -> tuple[sp.csc_matrix, Array]:
    """The system without state ``r`` and its right-hand side for ``P_r = 1``."""
    keep = np.r_[0:r, r + 1:W.shape[0]]
    Wc = W.tocsc()
    A = Wc[keep][:, keep]
    b = -np.asarray(Wc[keep, r].todense()).ravel()
    return A.tocsc(), b


def _solve_direct(A: sp.csc_matrix, b: Array) -> Array:
    return np.asarray(spla.splu(A, permc_spec="COLAMD").solve(b))


def _solve_iterative(A: sp.csc_matrix, b: Array) -> Array:
    d = A.diagonal()
    jacobi = spla.LinearOperator(A.shape, matvec=lambda v: v / d, dtype=float)  # type: ignore[arg-type]
    x, info = spla.bicgstab(A, b, rtol=_KRYLOV_RTOL, atol=0.0, maxiter=int(20 * A.shape[0] ** 0.5) + 2000, M=jacobi)
    if info == 0 and np.all(np.isfinite(x)):
        return np.asarray(x)
    ilu = spla.spilu(A, drop_tol=1e-6, fill_factor=20)
    pre = spla.LinearOperator(A.shape, matvec=ilu.solve, dtype=float)  # type: ignore[arg-type]
    x, info = spla.gmres(A, b, rtol=_KRYLOV_RTOL, atol=0.0, restart=100, maxiter=200, M=pre)
    return np.asarray(x)


def steady_state_sparse(net: Network, k: Rates, *, solver: str = "auto") -> tuple[Array, Array]:
    """Steady states of every point by sparse solves, and their relative residuals.

    Parameters
    ----------
    net
        The network structure.
    k
        Channel rates [rate unit], any batch shape.
    solver
        ``"direct"``, ``"iterative"`` or ``"auto"`` (direct up to
        :data:`DIRECT_MAX_STATES` states).

    Returns
    -------
    populations, residual
        ``(*shape, n_states)`` (NaN rows where the residual exceeds
        :data:`RESIDUAL_TOL` or the graph is disconnected) and ``(*shape)``.
    """
    if solver not in ("auto", "direct", "iterative"):
        raise ValueError(f"solver must be 'auto', 'direct' or 'iterative', got {solver!r}")
    if solver == "auto":
        solver = "direct" if net.n_states <= DIRECT_MAX_STATES else "iterative"
    shape, n = k.shape, net.n_states
    plus = np.broadcast_to(k.plus, shape + (net.n_channels,)).reshape(-1, net.n_channels)
    minus = np.broadcast_to(k.minus, shape + (net.n_channels,)).reshape(-1, net.n_channels)
    P = np.full((plus.shape[0], n), np.nan)
    residual = np.full(plus.shape[0], np.inf)
    for p in range(plus.shape[0]):
        W = sparse_generator(net, plus[p], minus[p])
        A, b = _reduced(W, 0)
        with np.errstate(all="ignore"):
            try:
                x = _solve_direct(A, b) if solver == "direct" else _solve_iterative(A, b)
            except RuntimeError:  # singular factor: disconnected graph
                continue
            full = np.concatenate([[1.0], x])
            full = full / full.sum()
        if np.all(np.isfinite(full)):
            residual[p] = relative_residual(W, full)
            if residual[p] <= RESIDUAL_TOL:
                P[p] = np.clip(full, 0.0, None) / np.clip(full, 0.0, None).sum()
    return P.reshape(shape + (n,)), residual.reshape(shape)

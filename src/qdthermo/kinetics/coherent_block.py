"""The equal-N block of a Lindblad Liouvillian in complex coordinates: dense (counting) and sparse (large networks).

H and every jump operator of the density-matrix approaches conserve the particle number
``N``, so the entries ``rho_ac`` with ``N_a = N_c`` (``k`` of them: 6 of the 16 for two dots,
924 of the 4096 for six) are mapped among themselves and hold the steady state.  This module
builds the Liouvillian on that block directly from the per-point values (``H_eff = H - i K / 2``
and the jump products on the structural pairs), at a cost linear in its entries:

* :func:`dense_block` - ``(*shape, k, k)`` complex matrices by gathers (no ``n^4`` maps): the
  tilted Liouvillians of the counting statistics, for any number of dots;
* :func:`sparse_block` - one point as a ``scipy.sparse`` matrix: the steady state of larger
  networks (:func:`steady_state_sparse`, SuperLU with a residual check as in
  :mod:`qdthermo.kinetics.sparse`).

Row-major vectorisation, ``vec(rho)[a n + c] = rho_ac``:
``d rho/dt = -i (H_eff rho - rho H_eff^+) + sum J_pq |a_p><b_p| rho |b_q><a_q| + (out-jumps)``,
so the coherent part is ``-i H_eff[a, a'] delta_cc' + i delta_aa' conj(H_eff)[c, c']`` and an in-jump
product ``J_pq`` sits at row ``(a_p, a_q)``, column ``(b_p, b_q)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics.sparse import RESIDUAL_TOL, ConvergenceWarning

if TYPE_CHECKING:  # scipy.sparse is imported where it is used (it costs ~0.2 s)
    import scipy.sparse as sp

__all__ = ["BlockIndex", "block_index", "dense_block", "sparse_block", "steady_state_sparse"]

Array = NDArray[np.float64]
CArray = NDArray[np.complex128]


@dataclass(frozen=True, eq=False)
class BlockIndex:
    """Index maps of the equal-N block for ``n`` states (the same at every point).

    Attributes
    ----------
    flat
        ``(k,)`` flat indices ``a n + c`` of the block entries ``rho_ac``.
    row, col
        ``(k,)`` their ``a`` and ``c``.
    trace
        ``(k,)`` 1 on the diagonal entries ``rho_aa``, else 0.
    in_sel, in_pos, out_sel, out_pos
        The jump products ``p P + q`` that land in the block (``in_sel``) and their flat
        positions ``row k + col`` in the ``(k, k)`` block (``in_pos``); the same for out-jumps.
    """

    n: int
    flat: NDArray[np.intp]
    row: NDArray[np.intp]
    col: NDArray[np.intp]
    trace: Array
    in_sel: NDArray[np.intp]
    in_pos: NDArray[np.intp]
    out_sel: NDArray[np.intp]
    out_pos: NDArray[np.intp]

    @property
    def size(self) -> int:
        """The number ``k`` of block entries."""
        return len(self.flat)


@lru_cache(maxsize=16)
def block_index(n_dots: int) -> BlockIndex:
    """The :class:`BlockIndex` of ``n_dots`` single-level dots (``2^n_dots`` states)."""
    n = 2**n_dots
    N = np.array([bin(s).count("1") for s in range(n)])
    flat = np.flatnonzero((N[:, None] == N[None, :]).ravel()).astype(np.intp)
    k = len(flat)
    where = np.full(n * n, -1, dtype=np.intp)
    where[flat] = np.arange(k)
    a, b = np.nonzero(N[:, None] == N[None, :] + 1)
    row_in = where[(a[:, None] * n + a[None, :]).ravel()]  # (a_p, a_q)
    col_in = where[(b[:, None] * n + b[None, :]).ravel()]  # (b_p, b_q)
    sel = np.flatnonzero(row_in >= 0)  # N_{a_p} = N_{a_q} <=> N_{b_p} = N_{b_q}
    trace = (flat // n == flat % n).astype(float)
    return BlockIndex(n, flat, (flat // n).astype(np.intp), (flat % n).astype(np.intp), trace,
                      sel.astype(np.intp), (row_in[sel] * k + col_in[sel]).astype(np.intp),
                      sel.astype(np.intp), (col_in[sel] * k + row_in[sel]).astype(np.intp))


def dense_block(bi: BlockIndex, heff: CArray | None, jump_in: NDArray[np.generic],
                jump_out: NDArray[np.generic]) -> CArray:
    """``(*shape, k, k)`` complex block Liouvillian.

    Parameters
    ----------
    heff
        ``(*shape, n, n)`` ``H - i K / 2`` (None: the jump terms only).
    jump_in, jump_out
        ``(*shape, P^2)`` jump products (summed over the leads, weighted as wanted; complex allowed).
    """
    shape = jump_in.shape[:-1]
    k = bi.size
    out = np.zeros(shape + (k * k,), dtype=complex)
    out[..., bi.in_pos] = jump_in[..., bi.in_sel]
    out[..., bi.out_pos] = jump_out[..., bi.out_sel]
    out = out.reshape(shape + (k, k))
    if heff is not None:
        r, c = bi.row, bi.col
        same_c = c[:, None] == c[None, :]
        same_r = r[:, None] == r[None, :]
        out += -1j * heff[..., r[:, None], r[None, :]] * same_c
        out += 1j * np.conj(heff[..., c[:, None], c[None, :]]) * same_r
    return out


def sparse_block(bi: BlockIndex, heff: CArray, jump_in: NDArray[np.generic],
                 jump_out: NDArray[np.generic]) -> sp.csr_matrix:
    """The block Liouvillian of one point as a sparse ``(k, k)`` matrix (arguments as :func:`dense_block`)."""
    import scipy.sparse as sp

    k, n = bi.size, bi.n
    where = np.full(n * n, -1, dtype=np.intp)
    where[bi.flat] = np.arange(k)
    x, z = np.nonzero(heff)
    h = heff[x, z]
    cc = np.arange(n)
    parts = []
    for left, right, value in ((x[:, None] * n + cc, z[:, None] * n + cc, -1j * h),  # -i H_xz: (x, c) <- (z, c)
                               (cc * n + x[:, None], cc * n + z[:, None], 1j * np.conj(h))):  # (c, x) <- (c, z)
        i, j = where[left], where[right]
        ok = (i >= 0) & (j >= 0)
        parts.append((i[ok], j[ok], np.broadcast_to(value[:, None], ok.shape)[ok]))
    rows_j = np.concatenate([parts[0][0], parts[1][0], bi.in_pos // k, bi.out_pos // k])
    cols_j = np.concatenate([parts[0][1], parts[1][1], bi.in_pos % k, bi.out_pos % k])
    vals_j = np.concatenate([parts[0][2], parts[1][2], jump_in[bi.in_sel], jump_out[bi.out_sel]])
    nz = vals_j != 0  # the secular mask leaves most jump products zero: keep the pattern sparse
    return sp.csr_matrix((vals_j[nz], (rows_j[nz], cols_j[nz])), shape=(k, k))


def steady_state_sparse(bi: BlockIndex, heff: CArray, jump_in: NDArray[np.generic],
                        jump_out: NDArray[np.generic]) -> tuple[CArray, NDArray[np.bool_], Array]:
    """Steady states on the block, one sparse LU (SuperLU) per point, with a residual check.

    Arguments as :func:`dense_block` (batched, ``(m, ...)`` with ``m`` points).  The first row is
    replaced by the trace condition (scaled by the largest diagonal entry).  A point whose
    relative residual ``||L x||_1 / (sum_ij |L_ij| |x_j|)`` exceeds
    :data:`~qdthermo.kinetics.sparse.RESIDUAL_TOL`, or whose matrix is singular, is NaN and
    invalid (a :class:`~qdthermo.kinetics.sparse.ConvergenceWarning` names the first
    non-converged one; singular points are only marked).

    Returns
    -------
    x, valid, residual
        ``(m, k)`` block entries, ``(m,)`` validity, ``(m,)`` relative residuals.
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    m, k = heff.shape[0], bi.size
    x = np.full((m, k), np.nan, dtype=complex)
    residual = np.full(m, np.inf)
    for p in range(m):
        if not (np.all(np.isfinite(heff[p])) and np.all(np.isfinite(jump_in[p])) and np.all(np.isfinite(jump_out[p]))):
            continue
        L = sparse_block(bi, heff[p], jump_in[p], jump_out[p]).tocoo()
        scale = float(np.max(np.abs(L.diagonal()))) or 1.0
        keep = L.row != 0
        t = np.flatnonzero(bi.trace)
        A = sp.csc_matrix((np.concatenate([L.data[keep], np.full(len(t), scale, dtype=complex)]),
                           (np.concatenate([L.row[keep], np.zeros(len(t), dtype=L.row.dtype)]),
                            np.concatenate([L.col[keep], t]))), shape=(k, k))
        rhs = np.zeros(k, dtype=complex)
        rhs[0] = scale
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                sol = spla.splu(A, permc_spec="COLAMD").solve(rhs)
        except RuntimeError:  # exactly singular: no unique steady state
            continue
        Lc = L.tocsr()
        denom = float(np.sum(abs(Lc) @ np.abs(sol))) or 1.0
        residual[p] = float(np.sum(np.abs(Lc @ sol))) / denom
        if residual[p] <= RESIDUAL_TOL and np.all(np.isfinite(sol)):
            x[p] = sol
    valid = np.all(np.isfinite(x), axis=-1)
    failed = np.isfinite(residual) & ~(residual <= RESIDUAL_TOL)
    if np.any(failed):
        first = int(np.flatnonzero(failed)[0])
        warnings.warn(f"{int(failed.sum())} of {m} points of the sparse density-matrix solve did not reach relative "
                      f"residual <= {RESIDUAL_TOL:g} (first, at flat index {first}: {residual[first]:.3g}); they are "
                      "NaN (valid=False)", ConvergenceWarning, stacklevel=4)
    return x, valid, residual

"""The compiled route of :func:`qdthermo.response` and :func:`qdthermo.linear_response`: ``dJ_i/dF_j`` per point.

The same quantities, conventions and numerics as the NumPy route (:mod:`qdthermo.thermo.onsager`):
for each force ``F_j`` of the basis, the channels of its lead have ``dx/dF_j = -w`` (energy force) or
``-1`` (particle force), so ``dk^+ = -g dx``, ``dk^- = +g dx`` with ``g = Gamma f (1 - f) = k^+ k^- / Gamma``;
``b_j = (dW/dF_j) P``; ``dP_j = -W^D b_j`` by the GTH factors of the counting statistics
(:func:`~qdthermo.kinetics.counting_compiled._factor`, :func:`~qdthermo.kinetics.counting_compiled._drazin`:
the operations of :class:`~qdthermo.kinetics.group_inverse.DrazinSolver` with ``cut_unoccupied``); then
``dJ_c = (dk^+ P_i - dk^- P_j) + k^+ dP_i - k^- dP_j`` per channel, summed per lead into the conjugate
fluxes (energy current for an energy force, particle current for a particle force).

One kernel call does every point in chunks (point-last scratch, the inner loops over the chunk's points
vectorise): gather the parameters and form the rates
(:func:`~qdthermo.kinetics.counting_compiled.chunk_rates`), factor the generator once, and solve one right-hand side
per force.  Nothing of shape ``(points, channels, forces)`` is ever built.  Points whose elimination needs
pivoting are returned in ``fallback`` for the NumPy route.

Units: as :mod:`qdthermo.thermo.onsager` (``matrix[..., i, j]`` in units of ``J_i`` over units of ``F_j``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo._compiled import kernel
from qdthermo.kinetics.counting_compiled import MAX_STATES, _chunk_size, _drazin, _factor, _readonly, chunk_rates

__all__ = ["MAX_STATES", "response_device"]

Array = NDArray[np.float64]


@kernel(error_model="numpy")
def _fixed_rates(j_lead: int, energy: bool, lead: NDArray[np.intp], initial: NDArray[np.intp],
                 final: NDArray[np.intp], w: Array, gP: Array, dff: Array, v: Array) -> None:  # pragma: no cover
    """``dff = dk^+ P_i - dk^- P_j`` per channel for one force, and ``v = (dW/dF) P`` per state."""
    n_ch, m = w.shape[0], w.shape[1]
    v[:, :m] = 0.0
    for c in range(n_ch):
        on = lead[c] == j_lead
        for b in range(m):
            dx = (-w[c, b] if energy else -1.0) if on else 0.0
            dff[c, b] = -gP[c, b] * dx
        i, f = initial[c], final[c]
        for b in range(m):
            v[f, b] += dff[c, b]
        for b in range(m):
            v[i, b] -= dff[c, b]


@kernel(error_model="numpy")
def _response_kernel(first: int, last: int, n: int, src: NDArray[np.int64], dst: NDArray[np.int64], levels: Array,
                     pairs: Array, occ: Array, pocc: Array, g: Array, gcol: NDArray[np.intp], TL: Array, muL: Array,
                     initial: NDArray[np.intp], final: NDArray[np.intp], lead: NDArray[np.intp],
                     f_lead: NDArray[np.intp], f_energy: NDArray[np.bool_], P0: Array, valid: NDArray[np.bool_],
                     chunk: int, out: Array, fallback: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """``out[p, i, j] = dJ_i/dF_j`` of the chunks ``first:last`` (NaN where not ``valid``); see the module."""
    n_points = P0.shape[0]
    n_ch, nl, nf = initial.shape[0], TL.shape[0], f_lead.shape[0]
    for c in range(first, last):
        start = c * chunk
        m = min(chunk, n_points - start)
        Eb, p = np.empty((n, m)), np.empty((n, m))
        w, x, kp, km, gb = np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), \
            np.empty((n_ch, m))
        Tl, Ml, dN, dE = np.empty((nl, m)), np.empty((nl, m)), np.empty((nl, m)), np.empty((nl, m))
        r, gP, dff = np.empty((2 * n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m))
        A, piv = np.empty((n, n, m)), np.empty((n, m))
        pos, pp = np.empty((n, m), dtype=np.int64), np.empty((n, m))  # the elimination order (_factor)
        ok, s, t = np.empty(m, dtype=np.bool_), np.empty(m), np.empty(m)
        work = np.empty((3, max(n, 3), m))  # _drazin's y, the right-hand side v, the solution X = W^D v
        chunk_rates(start, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, lead, P0, valid, Eb, w,
                    Tl, Ml, gb, x, kp, km, r, p, ok)
        _factor(src, dst, r, p, A, piv, pos, pp, ok, fallback, start, s)
        for ch in range(n_ch):  # Gamma f (1 - f) (P_i + P_j)
            i, f = initial[ch], final[ch]
            for b in range(m):
                gk = kp[ch, b] * (km[ch, b] / gb[ch, b]) if gb[ch, b] > 0.0 else 0.0
                gP[ch, b] = gk * (p[i, b] + p[f, b])
        v, X = work[1], work[2]
        for j in range(nf):
            _fixed_rates(f_lead[j], f_energy[j], lead, initial, final, w, gP, dff, v)
            _drazin(A, piv, p, pos, v, work[0], X, t)  # X = W^D v, dP = -X
            dN[:, :] = 0.0
            dE[:, :] = 0.0
            for ch in range(n_ch):
                i, f, ell = initial[ch], final[ch], lead[ch]
                for b in range(m):
                    d = dff[ch, b] - kp[ch, b] * X[i, b] + km[ch, b] * X[f, b]
                    dN[ell, b] += d
                    dE[ell, b] += d * w[ch, b]
            for i in range(nf):
                src_row = dE[f_lead[i]] if f_energy[i] else dN[f_lead[i]]
                for b in range(m):
                    out[start + b, i, j] = src_row[b] if valid[start + b] else np.nan


def response_device(n: int, src: NDArray[Any], dst: NDArray[Any], inputs: Sequence[NDArray[Any]],
                    structure: Sequence[NDArray[Any]], f_lead: NDArray[Any], f_energy: NDArray[Any], P0: Array,
                    valid: NDArray[np.bool_] | None = None) -> tuple[Array, NDArray[np.intp]]:
    """``dJ_i/dF_j`` ``(points, k, k)`` at the steady states ``P0`` ``(points, n)``, rates formed from the parameters.

    Parameters
    ----------
    n, src, dst
        States and the directed jumps (``k^+`` jumps of the channels first, then ``k^-``).
    inputs
        The parameters :func:`~qdthermo.kinetics.compiled.block_gather` reads, point-last, as
        :func:`~qdthermo.thermo.fused.kernel_inputs` gives them.
    structure
        ``(initial, final, lead)`` of each channel.
    f_lead, f_energy
        Per force of the basis: its lead, and True for an energy force (False: particle force).
    P0
        Steady states (placeholders at invalid points).
    valid
        Points with a unique steady state (default: all).

    Returns
    -------
    matrix : ndarray, shape (points, k, k)
        ``matrix[p, i, j] = dJ_i/dF_j``; NaN where not ``valid`` and at the ``fallback`` points.
    fallback : ndarray of int
        Points whose elimination needs pivoting: compute them with the NumPy route.
    """
    if not 1 <= n <= MAX_STATES:
        raise ValueError(f"n must be between 1 and {MAX_STATES} on the compiled route, got {n!r}")
    N = P0.shape[0]
    nf = len(f_lead)
    valid_f = np.ones(N, dtype=bool) if valid is None else np.ascontiguousarray(valid, dtype=bool).reshape(-1)
    out = np.empty((N, nf, nf))
    fallback = np.zeros(N, dtype=bool)
    chunk = _chunk_size(n)
    ro = _readonly
    _compiled.run_blocks(_response_kernel, -(-N // chunk), n, ro(np.ascontiguousarray(src, dtype=np.int64)),
                         ro(np.ascontiguousarray(dst, dtype=np.int64)), *map(ro, inputs), *map(ro, structure),
                         ro(np.ascontiguousarray(f_lead, dtype=np.intp)),
                         ro(np.ascontiguousarray(f_energy, dtype=np.bool_)), ro(np.ascontiguousarray(P0)),
                         ro(valid_f), chunk, out, fallback, block=1)
    idx = np.flatnonzero(fallback)
    out[idx] = np.nan
    return out, idx

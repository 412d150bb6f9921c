"""The compiled kernels of :mod:`qdthermo.thermo.fused`: every built-in observable, batch-last.

A call handles a range of points in sub-blocks of :func:`~qdthermo.kinetics.compiled.lanes` points.
Each sub-block is copied point-last (:func:`~qdthermo.kinetics.compiled.block_gather`), its rates and
steady states formed (:func:`~qdthermo.kinetics.compiled.block_rates`,
:func:`~qdthermo.kinetics.compiled.block_gth`), then every observable computed by loops whose innermost
index is the point, which the compiler vectorises; only the classification of regimes runs point by
point.  The formulas, their order of operations and the masking of invalid points are those of the
NumPy functions of this layer (:mod:`~qdthermo.thermo.entropy`, :mod:`~qdthermo.thermo.performance`,
:mod:`~qdthermo.thermo.forces`, :mod:`~qdthermo.thermo.regimes`), so both routes agree to round-off.

Units: energies, temperatures and chemical potentials in the energy unit, rates in the rate unit
(``k_B = hbar = e = 1``); currents positive from the lead into the system.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._compiled import kernel, run_blocks
from qdthermo._libm import log_row
from qdthermo.kinetics.compiled import BLOCK, block_gather, block_gth, block_rates, lanes
from qdthermo.kinetics.counting_compiled import _factor, _quantity, block_bases
from qdthermo.thermo.performance import _X_UNDERFLOW, RESOLUTION_MARGIN

__all__ = ["SCALARS", "fused_blocks", "fused_counting_range"]

Array = NDArray[np.float64]

_FI = np.finfo(np.float64)
_EPS, _TINY, _SUB = float(_FI.eps), float(_FI.tiny), float(_FI.smallest_subnormal)
_NEGLIGIBLE = 1e-290  # as thermo.entropy._NEGLIGIBLE
_TOL = 1e-9  # default force_tol = flux_tol of SteadyState.classify

#: rows of the kernels' scalar output, in order
SCALARS = ("entropy_production", "entropy_flow", "power", "heat_input", "efficiency", "carnot_efficiency",
           "cooling_power", "cop", "carnot_cop", "current_resolution")


@kernel(error_model="numpy", inline="always")
def _classify(J: float, Fi: float, Fj: float, jz: bool, iz: bool, jfz: bool) -> int:  # pragma: no cover
    """:func:`~qdthermo.thermo.regimes.classify` of one point, as one expression (no branches: vectorises).

    The cases in :func:`~qdthermo.thermo.regimes.classify`'s order, the first that holds wins; codes
    0 EQUILIBRIUM, 1 NORMAL, 2 INDUCED, 3 PSEUDO_ICC, 4 ICC, 5 CROSS_EFFECT.
    """
    sJ = 0.0 if jz else np.sign(J)
    si = 0.0 if iz else np.sign(Fi)
    sj = 0.0 if jfz else np.sign(Fj)
    code = 1
    code = (5 if sJ == sj else 1) if si * sj < 0 else code
    code = (4 if sJ != si else 1) if si * sj > 0 else code
    code = (2 if sJ == sj else 3) if ((si == 0) & (sj != 0)) else code  # & not and: no branch (see _leads)
    code = (5 if sJ != si else 1) if ((sj == 0) & (si != 0)) else code
    code = 1 if sJ == 0 else code
    return 0 if ((si == 0) & (sj == 0)) else code


@kernel(error_model="numpy")
def _channels(m: int, P: Array, valid: NDArray[np.bool_], lP: Array, w: Array, x: Array, kp: Array, km: Array,
              Ml: Array, initial: NDArray[np.intp], final: NDArray[np.intp], lead: NDArray[np.intp], flux: Array,
              cur: Array, acc: Array, u: Array, full: bool) -> None:  # pragma: no cover - compiled
    """Channel fluxes, per-lead particle and energy currents, entropy production and the current resolution.

    ``acc`` rows: 0 entropy production (Schnakenberg, as :func:`~qdthermo.thermo.entropy.schnakenberg_terms`),
    1 largest ``k^+ + k^-``, 2 sum of ``|w - mu|/T``, 3 ``sum E (a + b)``, 4 ``sum E (k^+ + k^-)``; then row 5
    the current resolution (:func:`~qdthermo.thermo.performance.current_resolution`).  ``u`` ``(lanes,)`` is
    scratch; ``ln P`` is the C library's (:func:`qdthermo._libm.log_row`, lane-parallel).  Not ``full``: only
    rows 0 and 1 (``flux``, ``cur`` and the other rows are not written).
    """
    n, n_ch = P.shape[0], w.shape[0]
    fill = 1.0 / n
    for b in range(m):
        acc[0, b] = 0.0
        acc[1, b] = 0.0
    for i in range(n):  # ln P once per state
        for b in range(m):
            u[b] = P[i, b] if valid[b] else fill
        log_row(m, u, lP[i])
    for c in range(n_ch):
        for b in range(m):
            acc[1, b] = max(acc[1, b], kp[c, b] + km[c, b])
    for c in range(n_ch):  # the entropy production; each sum below is over the channels in the same order
        i, f = initial[c], final[c]
        for b in range(m):
            Pi = P[i, b] if valid[b] else fill
            Pj = P[f, b] if valid[b] else fill
            a = Pi * kp[c, b]
            r = Pj * km[c, b]
            term = (a - r) * ((lP[i, b] - lP[f, b]) - x[c, b])
            term = max(np.inf if term != term else term, 0.0)
            skip = (max(a, r) < _NEGLIGIBLE * acc[1, b]) | (a == r)  # no branch (as in _leads)
            acc[0, b] += 0.0 if skip else term
    if not full:
        return
    for b in range(m):
        acc[2, b] = 0.0
        acc[3, b] = 0.0
        acc[4, b] = 0.0
    for k in range(cur.shape[0]):
        for ell in range(cur.shape[1]):
            for b in range(m):
                cur[k, ell, b] = 0.0
    for c in range(n_ch):
        i, f, ell = initial[c], final[c], lead[c]
        for b in range(m):
            Pi = P[i, b] if valid[b] else fill
            Pj = P[f, b] if valid[b] else fill
            a = Pi * kp[c, b]
            r = Pj * km[c, b]
            J = a - r
            flux[c, b] = J if valid[b] else np.nan
            cur[0, ell, b] += J
            cur[1, ell, b] += J * w[c, b]
            E = abs(w[c, b]) + abs(Ml[ell, b])
            ax = min(abs(x[c, b]), _X_UNDERFLOW)  # |w - mu| / T
            acc[2, b] += _X_UNDERFLOW if ax != ax else ax
            acc[3, b] += E * (a + r)
            acc[4, b] += E * (kp[c, b] + km[c, b])
    for b in range(m):
        rho = _EPS * (16.0 + n_ch + acc[2, b])
        acc[5, b] = RESOLUTION_MARGIN * (rho * acc[3, b] + _TINY * acc[4, b] + n_ch * _SUB)


@kernel(error_model="numpy")
def _leads(m: int, Tl: Array, Ml: Array, cur: Array, S: Array) -> None:  # pragma: no cover - compiled
    """Heat currents, entropy flow and :func:`~qdthermo.thermo.performance.performance` into ``S[1:9]``.

    ``S[9]`` holds the current resolution (the tolerance of the performance figures).  Point by point,
    the leads innermost, with the point's scalars (highest, lowest and second-lowest temperature, the heat
    from the hottest lead, from the intermediate ones and into the coldest, whether a warmer lead absorbs
    heat) in registers, and the conditions combined without branches (``&``, not ``and``: random points
    would mispredict them).
    """
    nl = Tl.shape[0]
    for b in range(m):
        atol = S[9, b]
        Tmax, Tmin, flow, work = Tl[0, b], Tl[0, b], 0.0, 0.0
        for ell in range(nl):
            T, mu, J_N = Tl[ell, b], Ml[ell, b], cur[0, ell, b]
            h = cur[1, ell, b] - mu * J_N
            cur[2, ell, b] = h
            flow += h / T
            work += mu * J_N
            Tmax, Tmin = max(Tmax, T), min(Tmin, T)
        hot, mid, cooling, T2, warm = 0.0, 0.0, 0.0, np.inf, False
        for ell in range(nl):
            h, T = cur[2, ell, b], Tl[ell, b]
            hot += h if T == Tmax else 0.0
            mid += max(h, 0.0) if ((T > Tmin) & (T < Tmax)) else 0.0
            cooling += h if T == Tmin else 0.0
            T2 = T2 if T == Tmin else min(T2, T)
            warm = warm | ((T != Tmin) & (h > atol))
        power, Q_in, gradient = -work, hot + mid, Tmax > Tmin
        carnot_eff = 1.0 - Tmin / Tmax
        carnot_cop = Tmin / (T2 - Tmin) if gradient else np.nan
        eff = power / Q_in if (gradient & (power > atol) & (Q_in > atol)) else np.nan
        cop = cooling / (-power) if (gradient & (power < -atol) & (cooling > atol) & (not warm)) else np.nan
        S[1, b] = flow
        S[2, b] = power
        S[3, b] = Q_in
        S[4, b] = eff if eff <= carnot_eff else np.nan
        S[5, b] = carnot_eff
        S[6, b] = cooling
        S[7, b] = cop if cop <= carnot_cop else np.nan
        S[8, b] = carnot_cop


@kernel(error_model="numpy")
def _forces(m: int, Tl: Array, Ml: Array, cur: Array, f_lead: NDArray[np.intp], f_ref: NDArray[np.intp],
            f_energy: NDArray[np.bool_], F: Array, JF: Array) -> None:  # pragma: no cover - compiled
    """Forces of the basis (:func:`~qdthermo.thermo.forces.macroscopic_forces`) and their conjugate fluxes."""
    for k in range(f_lead.shape[0]):
        i, r = f_lead[k], f_ref[k]
        if f_energy[k]:
            for b in range(m):
                F[k, b] = 1.0 / Tl[r, b] - 1.0 / Tl[i, b]
                JF[k, b] = cur[1, i, b]
        else:
            for b in range(m):
                F[k, b] = Ml[i, b] * (1.0 / Tl[i, b]) - Ml[r, b] * (1.0 / Tl[r, b])
                JF[k, b] = cur[0, i, b]


@kernel(error_model="numpy")
def _regimes(m: int, w: Array, gb: Array, Tl: Array, Ml: Array, F: Array, JF: Array, f_energy: NDArray[np.bool_],
             pair: NDArray[np.intp], t: Array, regime: NDArray[np.int8]) -> None:  # pragma: no cover - compiled
    """Regimes (by forces, default tolerances) of the parallel pair's fluxes: ``SteadyState.classify``.

    ``t`` ``(5, lanes)`` is scratch for the scales: lowest and highest temperature, largest ``|mu|``,
    largest coupling, largest ``|w|``; the energy scale is ``max(|w|, T_max)``.
    """
    for b in range(m):
        t[0, b] = Tl[0, b]
        t[1, b] = Tl[0, b]
        t[2, b] = abs(Ml[0, b])
        t[3, b] = gb[0, b]
    for ell in range(Tl.shape[0]):
        for b in range(m):
            t[0, b] = min(t[0, b], Tl[ell, b])
            t[1, b] = max(t[1, b], Tl[ell, b])
            t[2, b] = max(t[2, b], abs(Ml[ell, b]))
    for b in range(m):
        t[4, b] = abs(w[0, b])  # the largest |w|
    for c in range(w.shape[0]):
        for b in range(m):
            t[3, b] = max(t[3, b], gb[c, b])
            t[4, b] = max(t[4, b], abs(w[c, b]))
    for b in range(m):
        t[1, b] = max(t[4, b], t[1, b])  # the energy scale (T_max is not needed beyond it)
    for q in range(2):
        i, j = pair[q], pair[1 - q]
        for b in range(m):
            Tmin, mu_max = t[0, b], t[2, b]
            fi_scale = 1.0 / Tmin if f_energy[i] else 1.0 + mu_max / Tmin
            fj_scale = 1.0 / Tmin if f_energy[j] else 1.0 + mu_max / Tmin
            j_scale = t[3, b] * t[1, b] if f_energy[i] else t[3, b]
            regime[q, b] = _classify(JF[i, b], F[i, b], F[j, b], abs(JF[i, b]) <= _TOL * j_scale,
                                     abs(F[i, b]) <= _TOL * fi_scale, abs(F[j, b]) <= _TOL * fj_scale)


@kernel(error_model="numpy")
def _block_state(pts: NDArray[np.intp], m: int, solve: bool, levels: Array, pairs: Array, occ: Array, pocc: Array,
                 TL: Array, muL: Array, g: Array, gcol: NDArray[np.intp], initial: NDArray[np.intp],
                 final: NDArray[np.intp], lead: NDArray[np.intp], P: Array, Eb: Array, w: Array, Tl: Array, Ml: Array,
                 gb: Array, x: Array, kp: Array, km: Array, Q: Array, piv: Array, Pb: Array, fr: NDArray[np.bool_],
                 t: Array, vb: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """The points ``pts[:m]`` gathered, their rates formed and their steady state solved (``solve``; else read
    from the point-last ``P``) into ``Pb``, with ``vb`` True where it is finite: what every fused pass starts with."""
    n = Pb.shape[0]
    block_gather(pts, m, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, Eb, w, Tl, Ml, gb)
    block_rates(m, w, Tl, Ml, gb, lead, x, kp, km)
    if solve:
        block_gth(m, kp, km, gb, initial, final, Q, piv, Pb, fr, t)
    else:
        for i in range(n):
            for b in range(m):
                Pb[i, b] = P[i, pts[b]]
    for b in range(m):
        vb[b] = True
    for i in range(n):
        for b in range(m):
            vb[b] = vb[b] & np.isfinite(Pb[i, b])


@kernel(error_model="numpy")
def _fused_range(start: int, stop: int, idx: NDArray[np.intp], solve: bool, full: bool, levels: Array, pairs: Array,
                 occ: Array, pocc: Array, g: Array, gcol: NDArray[np.intp], TL: Array, muL: Array,
                 initial: NDArray[np.intp], final: NDArray[np.intp], lead: NDArray[np.intp],
                 f_lead: NDArray[np.intp], f_ref: NDArray[np.intp], f_energy: NDArray[np.bool_],
                 pair: NDArray[np.intp], P: Array, fragile: NDArray[np.bool_], ok: NDArray[np.bool_], E: Array,
                 flux: Array, cur: Array, F: Array, JF: Array, S: Array,
                 regime: NDArray[np.int8]) -> None:  # pragma: no cover
    """Steady state (``solve``) and observables (``full``; else only the entropy production) of the points
    ``idx[start:stop]`` (``start:stop`` if ``idx`` is empty), in batch-last sub-blocks; outputs as
    :func:`fused_blocks` documents."""
    n, n_ch, nl, nf = P.shape[0], gcol.shape[0], TL.shape[0], F.shape[0]
    L = lanes(n)
    pts = np.empty(L, dtype=np.intp)
    w, x, kp, km, gb = np.empty((n_ch, L)), np.empty((n_ch, L)), np.empty((n_ch, L)), np.empty((n_ch, L)), \
        np.empty((n_ch, L))
    Tl, Ml = np.empty((nl, L)), np.empty((nl, L))
    Q, piv, Pb, lP, Eb = np.empty((n, n, L)), np.empty((n, L)), np.empty((n, L)), np.empty((n, L)), np.empty((n, L))
    t, acc = np.empty((2, L)), np.empty((6, L))
    fb, cb, Fb, JFb = np.empty((n_ch, L)), np.empty((3, nl, L)), np.empty((nf, L)), np.empty((nf, L))
    Sb, rb = np.empty((10, L)), np.zeros((2, L), dtype=np.int8)
    fr, vb = np.empty(L, dtype=np.bool_), np.empty(L, dtype=np.bool_)
    for q0 in range(start, stop, L):
        m = min(L, stop - q0)
        for b in range(m):
            pts[b] = idx[q0 + b] if idx.shape[0] > 0 else q0 + b
        _block_state(pts, m, solve, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, lead, P, Eb, w, Tl,
                     Ml, gb, x, kp, km, Q, piv, Pb, fr, t, vb)
        _channels(m, Pb, vb, lP, w, x, kp, km, Ml, initial, final, lead, fb, cb, acc, t[0], full)
        for b in range(m):
            Sb[0, b] = acc[0, b]
            Sb[9, b] = acc[5, b]
        if not full:
            _store_minimal(m, pts, idx.shape[0] == 0, solve, Pb, fr, vb, Eb, Sb, P, fragile, ok, E, S)
            continue
        _leads(m, Tl, Ml, cb, Sb)
        _forces(m, Tl, Ml, cb, f_lead, f_ref, f_energy, Fb, JFb)
        if pair[0] >= 0:
            _regimes(m, w, gb, Tl, Ml, Fb, JFb, f_energy, pair, acc, rb)
        _store(m, pts, idx.shape[0] == 0, solve, Pb, fr, vb, Eb, fb, cb, Fb, JFb, Sb, rb, P, fragile, ok, E, flux, cur,
               F, JF, S, regime)


@kernel(error_model="numpy")
def _put(m: int, pts: NDArray[np.intp], contiguous: bool, src: Array, dst: Array) -> None:  # pragma: no cover
    """``dst[:, points] = src[:, :m]``, row by row (a contiguous run per row where the points are)."""
    if contiguous:
        q = pts[0]
        for r in range(src.shape[0]):
            for b in range(m):
                dst[r, q + b] = src[r, b]
    else:
        for r in range(src.shape[0]):
            for b in range(m):
                dst[r, pts[b]] = src[r, b]


@kernel(error_model="numpy")
def _mask(m: int, vb: NDArray[np.bool_], a: Array) -> None:  # pragma: no cover - compiled
    """NaN in every row of ``a`` where the point is not valid."""
    for r in range(a.shape[0]):
        for b in range(m):
            a[r, b] = a[r, b] if vb[b] else np.nan


@kernel(error_model="numpy")
def _store_minimal(m: int, pts: NDArray[np.intp], contiguous: bool, solve: bool, Pb: Array, fr: NDArray[np.bool_],
                   vb: NDArray[np.bool_], Eb: Array, Sb: Array, P: Array, fragile: NDArray[np.bool_],
                   ok: NDArray[np.bool_], E: Array, S: Array) -> None:  # pragma: no cover - compiled
    """The part of :func:`_store` a minimal pass writes: flags, populations (if ``solve``), energies and the
    entropy production ``S[0]`` (``S`` may have that one row)."""
    q = pts[0]
    for b in range(m):
        p = q + b if contiguous else pts[b]
        ok[p] = vb[b]
        S[0, p] = Sb[0, b] if vb[b] else np.nan
        if solve:
            fragile[p] = fr[b]
    if solve:
        _put(m, pts, contiguous, Pb, P)
    _put(m, pts, contiguous, Eb, E)


@kernel(error_model="numpy")
def _store(m: int, pts: NDArray[np.intp], contiguous: bool, solve: bool, Pb: Array, fr: NDArray[np.bool_],
           vb: NDArray[np.bool_], Eb: Array, fb: Array, cb: Array, Fb: Array, JFb: Array, Sb: Array,
           rb: NDArray[np.int8], P: Array, fragile: NDArray[np.bool_], ok: NDArray[np.bool_], E: Array, flux: Array,
           cur: Array, F: Array, JF: Array, S: Array, regime: NDArray[np.int8]) -> None:  # pragma: no cover - compiled
    """Write a sub-block's results to the (point-last) outputs, NaN (regime -1) where not valid.

    ``contiguous``: the points are ``pts[0] ... pts[0] + m - 1`` (the stores are then contiguous runs).
    Populations, energies, flags and the entropy production as :func:`_store_minimal`, then the rest.
    """
    _store_minimal(m, pts, contiguous, solve, Pb, fr, vb, Eb, Sb, P, fragile, ok, E, S)
    _put(m, pts, contiguous, fb, flux)
    for k in range(3):
        _mask(m, vb, cb[k])
        _put(m, pts, contiguous, cb[k], cur[k])
    _put(m, pts, contiguous, Fb, F)
    _mask(m, vb, JFb)
    _put(m, pts, contiguous, JFb, JF)
    _mask(m, vb, Sb[1:9])  # not the current resolution S[9]: it is defined at every point
    for b in range(m):
        rb[0, b] = rb[0, b] if vb[b] else -1
        rb[1, b] = rb[1, b] if vb[b] else -1
    _put(m, pts, contiguous, Sb[1:], S[1:])
    for r in range(2):
        if contiguous:
            q = pts[0]
            for b in range(m):
                regime[r, q + b] = rb[r, b]
        else:
            for b in range(m):
                regime[r, pts[b]] = rb[r, b]


def fused_blocks(N: int, idx: NDArray[np.intp], solve: bool, full: bool, *arrays: NDArray[Any]) -> None:
    """Every observable of ``N`` points (``idx``: the points, or empty for ``0:N``), blocks on every core.

    ``arrays``, in order: the inputs, point-last: ``levels``, ``pairs``, ``occ``, ``pocc``, ``g``, ``gcol``,
    ``TL``, ``muL`` as :func:`~qdthermo.kinetics.compiled.block_gather` reads them; the network's
    ``initial``, ``final``, ``lead`` per channel; the force basis (``f_lead``, ``f_ref``, ``f_energy``) and
    the parallel ``pair`` (``-1``: none); then the outputs:
    ``P`` ``(n, N)`` (read if not ``solve``), ``fragile``, ``ok``, the many-body energies ``E`` ``(n, N)``,
    ``flux`` ``(n_channels, N)``, ``cur`` ``(3, n_leads, N)``, ``F``, ``JF`` ``(n_forces, N)``, ``S``
    ``(10, N)`` (rows :data:`SCALARS`), ``regime`` ``(2, N)``: all point-last.  Not ``full``: only ``P``,
    ``fragile``, ``ok``, ``E`` and the entropy production ``S[0]`` are written (``S`` may have one row, the
    other outputs no points).

    The serial kernel :func:`_fused_range` runs on ranges of points on a thread pool
    (:func:`qdthermo._compiled.run_blocks`: a work queue, so a core slowed by other load takes fewer
    ranges; no parallel kernel to compile).
    """
    run_blocks(_fused_range, N, idx, solve, full, *arrays, block=BLOCK)


@kernel(error_model="numpy")
def fused_counting_range(first: int, last: int, idx: NDArray[np.intp], solve: bool, chunk: int, levels: Array,
                         pairs: Array, occ: Array, pocc: Array, g: Array, gcol: NDArray[np.intp], TL: Array,
                         muL: Array, initial: NDArray[np.intp], final: NDArray[np.intp], lead: NDArray[np.intp],
                         src: NDArray[np.intp], dst: NDArray[np.intp], coef: Array, base_of: NDArray[np.intp],
                         base_kind: NDArray[np.intp], of: NDArray[np.intp], order: int, round_off: float, P: Array,
                         fragile: NDArray[np.bool_], ok: NDArray[np.bool_], E: Array, S: Array, C: Array,
                         fallback: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """Steady state, entropy production and cleaned ``C_1`` (``C_2``) of the chunks ``first:last`` in one pass.

    The points are ``idx`` (or ``0:N`` if ``idx`` is empty), in chunks of ``chunk`` points, one after
    the other (serial and ``nogil``: :func:`qdthermo._compiled.run_blocks` runs ranges of chunks on
    several threads).  Each chunk is gathered and its rates formed once
    (:func:`~qdthermo.kinetics.compiled.block_gather`, :func:`~qdthermo.kinetics.compiled.block_rates`),
    its steady state solved (:func:`~qdthermo.kinetics.compiled.block_gth`; ``solve`` False: read from
    ``P``), the entropy production formed as :func:`fused_blocks` forms it (:func:`_channels`), and the
    counting statistics of :func:`~qdthermo.kinetics.counting_compiled.second_order_device` computed
    from the same rates and populations (:func:`~qdthermo.kinetics.counting_compiled._factor`,
    :func:`~qdthermo.kinetics.counting_compiled._quantity`): the same operations in the same order as
    the two passes, so the results are bit for bit theirs.

    ``coef``, ``base_of`` ``(u, n_jumps)``, ``(u,)``: the ``u`` distinct quantities computed, ``base_kind``
    the per-channel factor of each base (:data:`~qdthermo.kinetics.counting_compiled.BASES`); ``of``
    ``(q,)`` the distinct quantity of each output row.  Outputs, point-last: ``P``, ``E`` ``(n, N)``,
    ``fragile``, ``ok``, ``fallback`` ``(N,)`` (``fragile`` written only if ``solve``), the entropy
    production ``S`` ``(1, N)`` and the cumulants ``C`` ``(q, order, N)`` (NaN where not ``ok``).
    """
    n, n_ch, nl, u, q = P.shape[0], gcol.shape[0], TL.shape[0], coef.shape[0], of.shape[0]
    N = idx.shape[0] if idx.shape[0] > 0 else P.shape[1]
    contiguous = idx.shape[0] == 0
    nb = max(base_kind.shape[0], 1)
    m = min(chunk, N - first * chunk)
    pts = np.empty(m, dtype=np.intp)
    Eb, w, x, gb = np.empty((n, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m))
    Tl, Ml, r = np.empty((nl, m)), np.empty((nl, m)), np.empty((2 * n_ch, m))
    Q, piv, Pb, lP, t = np.empty((n, n, m)), np.empty((n, m)), np.empty((n, m)), np.empty((n, m)), np.empty((2, m))
    fb, cb, acc, u_ = np.empty((n_ch, m)), np.empty((3, nl, m)), np.empty((6, m)), np.empty(m)
    bases, A, work = np.empty((nb, n_ch, m)), np.empty((n, n, m)), np.empty((5, max(n, 3), m))
    Cb = np.empty((u, m, order))
    pos, pp = np.empty((n, m), dtype=np.int64), np.empty((n, m))  # the elimination order (_factor)
    fr, vb, okb, fl = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_), \
        np.empty(m, dtype=np.bool_)
    column = np.empty(2 * n_ch, dtype=np.intp)  # the channel of each jump
    for j in range(2 * n_ch):
        column[j] = j % n_ch
    for c in range(first, last):
        start = c * chunk
        if min(chunk, N - start) != m:  # the last, shorter chunk: scratch of its size (the kernels read m off it)
            m = min(chunk, N - start)
            pts = np.empty(m, dtype=np.intp)
            Eb, w, x, gb = np.empty((n, m)), np.empty((n_ch, m)), np.empty((n_ch, m)), np.empty((n_ch, m))
            Tl, Ml, r = np.empty((nl, m)), np.empty((nl, m)), np.empty((2 * n_ch, m))
            Q, piv, Pb, lP = np.empty((n, n, m)), np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
            t, fb, cb, acc, u_ = np.empty((2, m)), np.empty((n_ch, m)), np.empty((3, nl, m)), np.empty((6, m)), \
                np.empty(m)
            bases, A, work = np.empty((nb, n_ch, m)), np.empty((n, n, m)), np.empty((5, max(n, 3), m))
            Cb = np.empty((u, m, order))
            pos, pp = np.empty((n, m), dtype=np.int64), np.empty((n, m))
            fr, vb, okb, fl = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_), \
                np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
        for b in range(m):
            pts[b] = start + b if contiguous else idx[start + b]
        kp, km = r[:n_ch], r[n_ch:]  # the jumps' rates: k^+ of the channels, then k^-
        _block_state(pts, m, solve, levels, pairs, occ, pocc, TL, muL, g, gcol, initial, final, lead, P, Eb, w, Tl,
                     Ml, gb, x, kp, km, Q, piv, Pb, fr, t, vb)
        _channels(m, Pb, vb, lP, w, x, kp, km, Ml, initial, final, lead, fb, cb, acc, u_, False)
        block_bases(base_kind, w, x, Ml, lead, bases)
        for b in range(m):
            okb[b] = vb[b]
            fl[b] = False
        if order > 1:
            _factor(src, dst, r, Pb, A, piv, pos, pp, okb, fl, 0, work[0, 0])
        for a in range(u):
            _quantity(src, dst, r, Pb, coef[a], base_of[a], bases, column, 0, A, piv, pos, order,
                      round_off, work, Cb[a])
        for b in range(m):
            p = start + b if contiguous else pts[b]
            ok[p] = vb[b]
            S[0, p] = acc[0, b] if vb[b] else np.nan
            fallback[p] = fl[b]
            if solve:
                fragile[p] = fr[b]
        for i in range(n):
            for b in range(m):
                p = start + b if contiguous else pts[b]
                if solve:
                    P[i, p] = Pb[i, b]
                E[i, p] = Eb[i, b]
        for a in range(q):
            s = of[a]
            for k in range(order):
                for b in range(m):
                    C[a, k, start + b if contiguous else pts[b]] = Cb[s, b, k] if vb[b] and not fl[b] else np.nan

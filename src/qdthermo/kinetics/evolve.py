"""Exact time evolution of a linear master equation (Pauli or Lindblad): ``x(t) = expm(G t) x0``.

The matrix exponential is the scaling-and-squaring algorithm of Al-Mohy and Higham (SIAM J. Matrix
Anal. Appl. 31, 970 (2009), the algorithm of ``scipy.linalg.expm``) with its degree-13 Padé
approximant, vectorised over the batch: every step is one batched NumPy operation on all the
matrices at once, where SciPy loops over them in Python (about 15 us a matrix).  Each matrix gets its
own scaling ``2^-s`` and number of squarings: ``s`` from ``eta_5 = min(max(d_6, d_8), max(d_8, d_10))``,
``d_k = ||A^k||_1^(1/k)`` (exact 1-norms of the powers, so a non-normal matrix is not over-scaled),
plus the correction ``ell`` that keeps the backward error of the approximant below the unit round-off.
On a uniform time grid (``np.linspace``, ``np.arange``) :func:`propagate` also steps: between
anchors every :data:`ANCHOR_EVERY` times, where ``x(t_k) = expm(G t_k) x0`` afresh, it advances by
``x(t_{k+1}) = expm(G dt) x(t_k)`` (one product per time), so round-off cannot build up over more than
that many steps.  ``method="scipy"`` keeps :func:`scipy.linalg.expm` at every time as the reference
route; the tests hold the routes equal to round-off.

Squaring doubles the round-off along a conserved direction at every step (``1^T`` of a rate matrix,
the trace of a Liouvillian: eigenvalue 1 of ``exp(G t)``), so plain scaling and squaring loses the
normalisation like ``2^s`` eps at long times.  Given the conserved vector (``conserved=``), the
approximant and every squaring are corrected to conserve it (:func:`_conserve`), and the state reaches
the steady state at any time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ANCHOR_EVERY", "METHODS", "expm", "propagate"]

#: the routes of :func:`propagate` (``method=``)
METHODS = ("pade", "scipy")

#: coefficients of the degree-13 Padé approximant of exp (Higham 2005, Table 10.4)
_B13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
        10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
#: theta_13 of Al-Mohy and Higham (2009): the degree-13 approximant is used for ``eta_5 <= theta_13``
_THETA13 = 4.25
#: ``1 / |c_27|``: the leading coefficient of the approximant's backward error series (``ell``, 2009, eq. 5.3)
_C27_RECIPROCAL = 113250775606021113483283660800000000.0
#: below this 1-norm ``ell(A, 13) = 0`` whatever ``A`` (``|| |A|^27 || <= ||A||^27``): not computed
_ELL_FREE_NORM = 5.3
#: pre-scaling keeps ``||A||_1`` below this before the powers are formed (no overflow in ``A^10``)
_PRESCALE_NORM = float(2**20) * _THETA13
#: bytes of one work array of :func:`expm` (the batch is taken in blocks below this)
_BLOCK_BYTES = 1 << 25
#: on a uniform time grid, ``expm(G t)`` afresh every this many times (steps of ``expm(G dt)`` between)
ANCHOR_EVERY = 16


def _onenorm(A: NDArray[Any]) -> NDArray[np.float64]:
    """The 1-norm (largest absolute column sum) of each matrix of a batch ``(p, m, m)``."""
    return np.max(np.sum(np.abs(A), axis=-2), axis=-1)  # type: ignore[no-any-return]


def _scale(A: NDArray[Any], k: NDArray[np.int64]) -> NDArray[Any]:
    """``A * 2^-k`` per matrix (exact)."""
    return A * np.ldexp(1.0, -k)[:, None, None]  # type: ignore[no-any-return]


def _log2_ceil(x: NDArray[np.float64]) -> NDArray[np.int64]:
    """``max(ceil(log2(x)), 0)`` per entry (0 where ``x <= 1``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 1.0, np.ceil(np.log2(x)), 0.0).astype(np.int64)  # type: ignore[no-any-return]


def _ell(A: NDArray[Any]) -> NDArray[np.int64]:
    """``ell(A, 13)`` of Al-Mohy and Higham (2009): squarings to add so the approximant's backward error stays
    below the unit round-off (``|c_27| || |A|^27 ||_1 / ||A||_1 <= u``)."""
    B = np.abs(A)
    B2 = B @ B
    B4 = B2 @ B2
    B8 = B4 @ B4
    B16 = B8 @ B8
    top = _onenorm(B16 @ (B8 @ (B2 @ B)))  # || |A|^27 ||_1
    norm = _onenorm(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = top / (norm * _C27_RECIPROCAL)
        return np.where(norm > 0, _log2_ceil((alpha / 2.0**-53) ** (1.0 / 26.0)), 0)  # type: ignore[no-any-return]


def _pade13(A: NDArray[Any], A2: NDArray[Any], A4: NDArray[Any], A6: NDArray[Any]) -> NDArray[Any]:
    """``r_13(A)``, the degree-13 Padé approximant of ``exp(A)``, from the powers of a batch ``(p, m, m)``."""
    b = _B13
    eye = np.eye(A.shape[-1], dtype=A.dtype)
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    return np.linalg.solve(V - U, V + U)  # type: ignore[no-any-return]


def _prescaling(A: NDArray[Any]) -> NDArray[np.int64]:
    """Halvings that bring ``||A||_1`` below :data:`_PRESCALE_NORM` (the powers then cannot overflow).

    Where the norm itself overflows (finite entries near the largest double) it is bounded in log space
    by ``m max |a_ij|``.
    """
    with np.errstate(over="ignore"):
        norm = _onenorm(A)
    s0 = _log2_ceil(norm / _PRESCALE_NORM)
    huge = np.flatnonzero(~np.isfinite(norm))
    if huge.size:
        top = np.max(np.abs(A[huge]), axis=(-2, -1))
        s0[huge] = np.ceil(np.log2(top) + np.log2(A.shape[-1]) - np.log2(_PRESCALE_NORM)).astype(np.int64)
    return s0


def _conserve(R: NDArray[Any], c: NDArray[Any] | None) -> NDArray[Any]:
    """``R`` corrected so that ``c^T R = c^T`` where ``c^T A = 0`` (``exp(A)`` conserves ``c``).

    The deficit ``d_j = (c^T R)_j - c_j`` of each column is taken from its entries in proportion to
    ``c_i |R_ij|`` (for a generator, ``c = 1``: each column rescaled to sum 1), so entries that are 0 stay
    0 (no probability appears in a state the evolution cannot reach).  This removes the round-off along the
    conserved direction, which squaring doubles at every step (the others are contracted at long times):
    without it ``expm(G t)`` of a generator loses its normalisation like ``2^s`` eps (1e-5 at
    ``||G t|| = 1e12``, overflow near ``1e20``).
    """
    if c is None:
        return R
    deficit = np.einsum("i,pij->pj", c, R) - c
    weight = c[None, :, None] * np.abs(R)
    total = np.einsum("i,pij->pj", c, weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total != 0, deficit / total, 0.0)
    return R - weight * share[:, None, :]  # type: ignore[no-any-return]


def _expm_block(A: NDArray[Any], conserved: NDArray[Any] | None = None) -> NDArray[Any]:
    """:func:`expm` of a flat batch ``(p, m, m)`` of finite matrices (``conserved``: see :func:`expm`)."""
    s0 = _prescaling(A)
    A = _scale(A, s0)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    with np.errstate(divide="ignore"):
        d6, d8, d10 = _onenorm(A6) ** (1 / 6), _onenorm(A4 @ A4) ** (1 / 8), _onenorm(A4 @ A6) ** (1 / 10)
    eta5 = np.minimum(np.maximum(d6, d8), np.maximum(d8, d10))
    s1 = _log2_ceil(eta5 / _THETA13)
    need = np.flatnonzero(_onenorm(_scale(A, s1)) > _ELL_FREE_NORM)  # non-normal matrices: eta_5 << ||A||
    if need.size:
        s1[need] += _ell(_scale(A[need], s1[need]))
    R = _conserve(_pade13(_scale(A, s1), _scale(A2, 2 * s1), _scale(A4, 4 * s1), _scale(A6, 6 * s1)), conserved)
    s = s0 + s1
    for j in range(int(s.max(initial=0))):  # square each matrix s times
        more = np.flatnonzero(s > j)
        if more.size == len(s):
            R = _conserve(R @ R, conserved)
        else:
            R[more] = _conserve(R[more] @ R[more], conserved)
    return R


def expm(A: NDArray[Any], *, conserved: NDArray[Any] | None = None) -> NDArray[Any]:
    """``exp(A)`` of every matrix of a batch ``(*shape, m, m)`` (real or complex), batched.

    Scaling and squaring with the degree-13 Padé approximant (module docstring); NaN where ``A``
    is not finite.  Equal to :func:`scipy.linalg.expm` to round-off.

    Parameters
    ----------
    A
        ``(*shape, m, m)`` matrices.
    conserved
        ``(m,)`` a vector ``c`` with ``c^T A = 0`` for every matrix (a generator's ones, a Liouvillian's
        trace ``vec(1)``): the approximant and every squaring are corrected to ``c^T exp(A) = c^T``
        exactly, so that ``exp(G t)`` keeps its normalisation at any time (plain scaling and squaring,
        SciPy's too, loses it like ``2^s`` eps: 1e-5 at ``||G t|| = 1e12``, 2% at 1e15).
    """
    A = np.asarray(A)
    A = A.astype(np.result_type(A.dtype, np.float64), copy=False)
    shape, m = A.shape[:-2], A.shape[-1]
    if m == 0 or A.size == 0:
        return A.copy()
    c = None if conserved is None else np.asarray(conserved, dtype=A.dtype)
    flat = A.reshape(-1, m, m)
    out = np.empty_like(flat)
    finite = np.all(np.isfinite(flat), axis=(-2, -1))
    block = max(1, _BLOCK_BYTES // max(1, flat.itemsize * m * m))
    for start in range(0, flat.shape[0], block):
        sl = slice(start, start + block)
        ok = finite[sl]
        part = np.full(flat[sl].shape, np.nan, dtype=flat.dtype)
        if np.any(ok):
            part[ok] = _expm_block(flat[sl][ok], c)
        out[sl] = part
    return out.reshape(shape + (m, m))


def _uniform_step(times: NDArray[np.float64]) -> float | None:
    """The spacing of an increasing uniform grid of at least 3 times (to round-off), else None."""
    if len(times) < 3:
        return None
    dt = np.diff(times)
    step = float(times[-1] - times[0]) / (len(times) - 1)
    if not step > 0 or np.max(np.abs(dt - step)) > 64 * np.finfo(float).eps * float(np.max(np.abs(times))):
        return None
    return step


def propagate(generator: NDArray[Any], times: NDArray[np.float64], x0: NDArray[Any], *,
              method: str = "pade", conserved: NDArray[Any] | None = None) -> NDArray[Any]:
    """``expm(G t) x0`` for every t: ``(*shape, n_times, m)``.

    Parameters
    ----------
    generator
        ``(*shape, m, m)`` generator G [rate unit] (batched).
    times
        ``(n_times,)`` times [1/rate].
    x0
        ``(m,)`` or ``(*shape, m)`` initial vector.
    method
        ``"pade"`` (default: :func:`expm`, batched; on a uniform grid, steps between anchors, see the
        module docstring) or ``"scipy"`` (:func:`scipy.linalg.expm` at every time, the reference route).
    conserved
        ``(m,)`` a vector ``c`` with ``c^T G = 0`` (see :func:`expm`): ``c^T x(t) = c^T x0`` at every
        time, to round-off, however long (the ``"pade"`` route).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    generator = np.asarray(generator)
    generator = generator.astype(np.result_type(generator.dtype, np.float64), copy=False)
    x0 = np.asarray(x0)
    batch = generator.shape[:-2]
    x0 = np.broadcast_to(x0, batch + x0.shape[-1:])
    out = np.empty(batch + (len(times), x0.shape[-1]), dtype=np.result_type(generator, x0))
    if method == "scipy":
        from scipy.linalg import expm as scipy_expm  # lazy: keeps ``import qdthermo`` fast

        for k, t in enumerate(times):
            out[..., k, :] = np.einsum("...ij,...j->...i", scipy_expm(generator * t), x0)
        return out
    dt = _uniform_step(np.asarray(times, dtype=float))
    step = None if dt is None else expm(generator * dt, conserved=conserved)
    for k, t in enumerate(times):
        if step is None or k % ANCHOR_EVERY == 0:
            out[..., k, :] = np.einsum("...ij,...j->...i", expm(generator * t, conserved=conserved), x0)
        else:
            out[..., k, :] = np.einsum("...ij,...j->...i", step, out[..., k - 1, :])
    return out

r"""Full counting statistics of batched jump networks: scaled cumulants, noise, generating function.

Representation
--------------
A network of ``n`` states with directed jumps ``j = 0 .. n_jumps - 1`` from
``src[j]`` to ``dst[j]`` at rate ``rate[..., j]`` [1/time] (batch-first, any
leading batch shape; several jumps may join the same pair of states, e.g.
through different leads; ``src[j] == dst[j]`` is allowed: it changes no state
but transfers the counted quantities).  The generator is

.. math::

    W = \sum_j k_j \, (|d_j\rangle\langle s_j| - |s_j\rangle\langle s_j|), \qquad
    \dot P = W P, \qquad 1^T W = 0 .

A counted quantity ``a`` changes by ``increments[..., j, a]`` in jump ``j``
(e.g. +1 for a particle entering from a lead, or the energy taken from it).
The transfer ``N_a(t)`` accumulated up to time ``t`` has the long-time scaled
cumulant generating function (CGF)

.. math::

    \lambda(\chi) = \lim_{t\to\infty} \frac{1}{t} \ln \langle e^{i \chi \cdot N(t)} \rangle ,

the eigenvalue of the tilted generator ``W(chi)`` (jump terms multiplied by
``exp(i chi . d_j)``) with the largest real part, continuously connected to
``lambda(0) = 0``.  **Convention**: the scaled cumulants are

.. math::

    C_k = \frac{\partial^k \lambda}{\partial (i\chi)^k}\Big|_{\chi=0}
        = \lim_{t\to\infty} \frac{\langle\langle N^k(t) \rangle\rangle}{t}
    \qquad [\text{quantity}^k / \text{time}],

so ``C_1`` is the mean current and ``C_2`` the zero-frequency noise with no
factor 2 (``C_2 = S(0)`` below).  Mixed derivatives give the joint cumulants
``<<N_a N_b ...>> / t``.

Derivation of the recursion (Flindt, Novotny, Braggio, Jauho, PRB 82, 155407 (2010))
------------------------------------------------------------------------------------
Write ``s = i chi`` (one counted quantity; the multivariate case is below) and
expand the tilted generator,

.. math::

    W(s) = W + \sum_{m\ge 1} \frac{s^m}{m!} W^{(m)}, \qquad
    W^{(m)} = \sum_j k_j\, d_j^m\, |d_j\rangle\langle s_j| ,

(jump terms only: the escape terms on the diagonal carry no counting field).
Let ``rho(s)`` be the right eigenvector of ``lambda(s)`` normalised by
``1^T rho(s) = 1``, so ``rho(0) = P0``.  Because ``1^T W = 0``,

.. math::

    \lambda(s) = 1^T W(s) \rho(s) = 1^T \Delta W(s)\, \rho(s), \qquad
    \Delta W(s) = W(s) - W .

Rearranging the eigen-equation as ``W rho = (lambda - Delta W) rho`` and
applying the group inverse ``W^D`` (``W^D W = Q = 1 - P0 1^T``, ``W^D P0 = 0``,
``1^T W^D = 0``; see :mod:`qdthermo.kinetics.group_inverse`) gives, since
``Q rho = rho - P0``,

.. math::

    \rho(s) = P0 + W^D \,[\lambda(s) - \Delta W(s)]\, \rho(s) .

Taylor coefficients ``rho_k = d^k rho / ds^k`` at 0 (``rho_0 = P0``,
``1^T rho_k = 0`` for ``k >= 1``) follow from Leibniz' rule, with ``C_0 = 0``:

.. math::

    C_k &= \sum_{m=1}^{k} \binom{k}{m}\, 1^T W^{(m)} \rho_{k-m}, \\
    \rho_k &= -W^D \sum_{m=1}^{k} \binom{k}{m}\, (W^{(m)} - C_m)\, \rho_{k-m}
    \qquad (k \ge 1),

(the ``m = k`` term ``C_k rho_0 = C_k P0`` is annihilated by ``W^D``).
Sign convention: Flindt et al. write ``R = Q W^{-1} Q`` (our ``W^D``) and
``C_2 = <<I^2>> - 2 <<I R I>>``; here ``C_2 = 1^T W^{(2)} P0 - 2\, 1^T W^{(1)} W^D W^{(1)} P0``,
i.e. ``-W^D = int_0^inf (e^{W t} - P0 1^T) dt`` is the (positive on the decaying modes)
integrated propagator.  Examples:
``C_1 = 1^T W^{(1)} P0``; ``C_2 = 1^T W^{(2)} P0 + 2\,1^T W^{(1)} rho_1``.

Multivariate (joint) cumulants: for the mixed derivative
``d^k lambda / ds_1 ... ds_k`` of ``k`` counted quantities (repetitions allowed,
e.g. ``(a, a, b)``), Leibniz' rule runs over subsets ``T`` of ``S = {1..k}``:

.. math::

    C_S = \sum_{\emptyset \ne T \subseteq S} 1^T W^{(T)} \rho_{S\setminus T}, \qquad
    \rho_S = -W^D \sum_{\emptyset \ne T \subseteq S} (W^{(T)} - C_T)\, \rho_{S\setminus T},

with ``W^{(T)} = sum_j k_j (prod_{t in T} d_{j,t}) |d_j><s_j|``.  With all
``k`` quantities equal this is the univariate recursion (``binom(k, m)`` counts
the subsets of size ``m``).

Finite-frequency noise
----------------------
For the jump currents ``I_a(t) = sum_jumps d_a delta(t - t_jump)`` the
connected correlation is
``<<I_a(t) I_b(0)>> = delta(t) 1^T W^{(ab)} P0 + 1^T W^{(a)} (e^{W t} - P0 1^T) W^{(b)} P0``
for ``t > 0``, with ``W^{(ab)} = sum_j k_j d_{j,a} d_{j,b} |d_j><s_j|``.  Its
Fourier transform ``S_ab(omega) = int dt e^{i omega t} <<I_a(t) I_b(0)>>`` is

.. math::

    S_{ab}(\omega) = 1^T W^{(ab)} P0
      - 1^T W^{(a)} G(\omega) Q W^{(b)} P0 - 1^T W^{(b)} G(-\omega) Q W^{(a)} P0 ,
    \qquad G(\omega) = (W + i\omega - s P0 1^T)^{-1},

(``G(omega) Q = (W + i omega)^{-1} Q``: the rank-one term only makes the matrix
invertible at ``omega = 0``, where ``G(0) Q = W^D``).  ``S_ab(omega)`` is
Hermitian, ``S_ba(omega) = S_ab(-omega) = conj(S_ab(omega))``.
:func:`noise_spectrum` returns the **symmetrised** spectrum
``(S_ab(omega) + S_ba(omega)) / 2 = Re S_ab(omega)``: real, even in omega, symmetric in
``a <-> b``, with ``S(0) = C_2`` (joint, no factor 2) and
``S(omega -> inf) = 1^T W^{(ab)} P0`` (the Schottky term).

Everything is dense and batched: one vectorised operation per state, order or
subset, never a Python loop over batch points.

Examples
--------
A two-state telegraph process, ``0 -> 1`` at rate ``a = 1`` and ``1 -> 0`` at
``b = 3``, counting the ``0 -> 1`` jumps: mean ``ab/(a+b)`` and noise
``ab(a^2+b^2)/(a+b)^3``.

>>> from qdthermo.kinetics import counting
>>> counting.scaled_cumulants(2, src=[0, 1], dst=[1, 0], rate=[1.0, 3.0], increments=[[1.0], [0.0]],
...                           P0=[0.75, 0.25], order=2)
array([[0.75   , 0.46875]])
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from math import comb
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo.kinetics.group_inverse import DrazinSolver, TraceDrazin, safe_solve

__all__ = [
    "generator", "tilted_generator", "scaled_cumulants", "covariance", "covariance_matrix",
    "joint_cumulant", "cgf", "noise_spectrum", "recursion", "trace_cumulants", "trace_covariance_matrix",
    "trace_noise_spectrum", "dominant_eigenvalue", "CGF_RESOLUTION",
]

Array = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]

#: largest number of counted quantities in one joint cumulant (the recursion costs 3^k)
MAX_JOINT_ORDER = 8


# ---------------------------------------------------------------------------------------
# validation and network helpers
# ---------------------------------------------------------------------------------------
def _describe(arr: NDArray[np.generic], bad: NDArray[np.bool_]) -> str:
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{arr[idx]!r} at index {idx}" if idx else f"{arr[()]!r}"


class _Network:
    """Validated jump network: ``n``, ``src``, ``dst`` and batch-first ``rate``."""

    def __init__(self, n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike) -> None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be an integer >= 1 (the number of states), got {n!r}")
        self.n = int(n)
        self.src = self._index("src", src)
        self.dst = self._index("dst", dst)
        if self.src.shape != self.dst.shape:
            raise ValueError(f"src and dst must have the same length, got {self.src.shape[0]} and {self.dst.shape[0]}")
        self.n_jumps = self.src.shape[0]
        r = np.asarray(rate)
        if np.iscomplexobj(r) or r.dtype.kind not in "biuf":
            raise ValueError(f"rate must be real, got dtype {r.dtype}")
        r = r.astype(float, copy=False)
        if r.ndim < 1 or r.shape[-1] != self.n_jumps:
            raise ValueError(f"rate must have shape (*shape, n_jumps) with n_jumps = {self.n_jumps}, got {r.shape}")
        bad = ~(np.isfinite(r) & (r >= 0))
        if np.any(bad):
            raise ValueError(f"rate must be finite and >= 0, got {_describe(r, bad)}")
        self.rate = r
        self.shape: tuple[int, ...] = r.shape[:-1]

    def _index(self, name: str, value: ArrayLike) -> NDArray[np.intp]:
        a = np.asarray(value)
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise ValueError(f"{name} must be a 1-d integer array of state indices, got dtype {a.dtype}, "
                             f"shape {a.shape}")
        a = a.astype(np.intp)
        bad = (a < 0) | (a >= self.n)
        if np.any(bad):
            raise ValueError(f"{name} must hold state indices in [0, {self.n - 1}], got {_describe(a, bad)}")
        return a

    def increments(self, name: str, value: ArrayLike, counted_axis: bool) -> Array:
        """Increments as float, shape (*shape, n_jumps, n_counted) or (*shape, n_jumps)."""
        d = np.asarray(value)
        if np.iscomplexobj(d) or d.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be real, got dtype {d.dtype}")
        d = d.astype(float, copy=False)
        axis = -2 if counted_axis else -1
        want = "(*shape, n_jumps, n_counted)" if counted_axis else "(*shape, n_jumps)"
        if d.ndim < -axis or d.shape[axis] != self.n_jumps:
            raise ValueError(f"{name} must have shape {want} with n_jumps = {self.n_jumps}, got {d.shape}")
        bad = ~np.isfinite(d)
        if np.any(bad):
            raise ValueError(f"{name} must be finite, got {_describe(d, bad)}")
        return d

    def populations(self, P0: ArrayLike) -> Array:
        p = np.asarray(P0)
        if np.iscomplexobj(p) or p.dtype.kind not in "biuf":
            raise ValueError(f"P0 must be real, got dtype {p.dtype}")
        p = p.astype(float, copy=False)
        if p.ndim < 1 or p.shape[-1] != self.n:
            raise ValueError(f"P0 must have shape (*shape, n) with n = {self.n}, got {p.shape}")
        bad = ~np.isfinite(p)
        if np.any(bad):
            raise ValueError(f"P0 must be finite, got {_describe(p, bad)}")
        return p

    def batch_shape(self, **shapes: tuple[int, ...]) -> tuple[int, ...]:
        """Broadcast the batch shapes of the rates and the named arrays, with a clear error."""
        try:
            return np.broadcast_shapes(self.shape, *shapes.values())
        except ValueError:
            listed = ", ".join(f"{k} {v}" for k, v in shapes.items())
            raise ValueError(f"batch shapes do not broadcast: rate {self.shape}, {listed}") from None

    def generator(self, shape: tuple[int, ...]) -> Array:
        """Dense generator, shape (*shape, n, n)."""
        n = self.n
        B = np.zeros((self.n_jumps, n * n))
        np.add.at(B, (np.arange(self.n_jumps), self.dst * n + self.src), 1.0)
        np.add.at(B, (np.arange(self.n_jumps), self.src * n + self.src), -1.0)
        W = self.rate @ B
        return np.broadcast_to(W.reshape(self.shape + (n, n)), shape + (n, n))

    def scatter(self) -> Array:
        """One-hot ``(n, n_jumps)`` matrix adding jump terms into their final states."""
        O = np.zeros((self.n, self.n_jumps))
        O[self.dst, np.arange(self.n_jumps)] = 1.0
        return O


def _solver(net: _Network, P0: Array, shape: tuple[int, ...]) -> DrazinSolver:
    return DrazinSolver(net.generator(shape), np.broadcast_to(P0, shape + (net.n,)), cut_unoccupied=True)


# ---------------------------------------------------------------------------------------
# generators
# ---------------------------------------------------------------------------------------
def generator(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike) -> Array:
    """The generator ``W`` of a jump network, shape (*shape, n, n) [1/time].

    ``W[..., dst, src] += rate``, ``W[..., src, src] -= rate`` for every jump (columns sum to
    zero, ``dP/dt = W P``).

    Parameters
    ----------
    n : int
        Number of states.
    src, dst : array_like of int, shape (n_jumps,)
        Initial and final state of each jump.
    rate : array_like, shape (*shape, n_jumps)
        Jump rates [1/time], >= 0.
    """
    net = _Network(n, src, dst, rate)
    return np.array(net.generator(net.shape))


def tilted_generator(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: ArrayLike,
                     chi: ArrayLike) -> ComplexArray:
    """Tilted generator ``W(chi)``: every jump term multiplied by ``exp(i chi . increments_j)``.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments : array_like, shape (*shape, n_jumps, n_counted)
        Amount of each counted quantity transferred in each jump.
    chi : array_like, shape (*shape, n_counted)
        Counting fields [1/quantity]; complex allowed, must be finite.

    Returns
    -------
    ndarray of complex, shape (*shape, n, n)
        ``W(chi) = W + sum_j rate_j (exp(i chi . d_j) - 1) |dst_j><src_j|``; the escape
        (diagonal) terms carry no counting field.
    """
    net = _Network(n, src, dst, rate)
    d = net.increments("increments", increments, counted_axis=True)
    c = _chi(chi, d.shape[-1])
    return _tilted(net, d, c).astype(complex, copy=False)


def _chi(chi: ArrayLike, n_counted: int) -> ComplexArray:
    c = np.asarray(chi)
    if c.dtype.kind not in "biufc":
        raise ValueError(f"chi must be numeric, got dtype {c.dtype}")
    c = c.astype(complex, copy=False)
    if c.ndim < 1 or c.shape[-1] != n_counted:
        raise ValueError(f"chi must have shape (*shape, n_counted) with n_counted = {n_counted}, got {c.shape}")
    bad = ~np.isfinite(c)
    if np.any(bad):
        raise ValueError(f"chi must be finite, got {_describe(c, bad)}")
    return c


def _tilted(net: _Network, d: Array, chi: ComplexArray) -> NDArray[Any]:
    """``W(chi)``, complex; real (float) where every field is imaginary (a real tilt ``exp(s d)``)."""
    shape = net.batch_shape(increments=d.shape[:-2], chi=chi.shape[:-1])
    real = not np.any(chi.real)
    phase = np.exp(-np.einsum("...jq,...q->...j", d, chi.imag) if real
                   else 1j * np.einsum("...jq,...q->...j", d, chi))
    n = net.n
    W = np.array(net.generator(shape), dtype=float if real else complex)
    flat = W.reshape(shape + (n * n,))
    jump = np.broadcast_to(net.rate * (phase - 1.0), shape + (net.n_jumps,))
    # add the tilt of every jump into its (dst, src) element (several jumps may share one)
    E = np.zeros((net.n_jumps, n * n))
    E[np.arange(net.n_jumps), net.dst * n + net.src] = 1.0
    flat += jump @ E
    return W


# ---------------------------------------------------------------------------------------
# cumulants
# ---------------------------------------------------------------------------------------
def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order!r}")
    return int(order)


def scaled_cumulants(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: ArrayLike,
                     P0: ArrayLike, order: int) -> Array:
    r"""Scaled cumulants ``C_1 .. C_order`` of each counted quantity, by the group-inverse recursion.

    ``C_k = d^k lambda / d(i chi)^k`` at ``chi = 0`` [quantity^k / time]: ``C_1`` is the mean
    current, ``C_2`` the zero-frequency noise (no factor 2), ``C_3`` the skewness rate...

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`): ``rate`` has shape (*shape, n_jumps).
    increments : array_like, shape (*shape, n_jumps, n_counted)
        Amount of each counted quantity transferred in each jump (broadcast against the batch).
    P0 : array_like, shape (*shape, n)
        The unique steady state (``W P0 = 0``, ``sum(P0) = 1``).
    order : int
        Highest cumulant order, >= 1.

    Returns
    -------
    ndarray, shape (*shape, n_counted, order)
        ``out[..., a, k - 1] = C_k`` of quantity ``a``.  NaN at batch points whose steady
        state is not unique (from ``order >= 2``).

    Notes
    -----
    ``C_k = sum_m binom(k, m) 1^T W^(m) rho_{k-m}``,
    ``rho_k = -W^D sum_m binom(k, m) (W^(m) - C_m) rho_{k-m}``; see the module docstring.
    One group-inverse factorisation, ``order - 1`` batched applications with ``n_counted``
    right-hand sides each.
    """
    K = _check_order(order)
    net = _Network(n, src, dst, rate)
    d = net.increments("increments", increments, counted_axis=True)
    p = net.populations(P0)
    shape = net.batch_shape(increments=d.shape[:-2], P0=p.shape[:-1])
    q = d.shape[-1]
    src_ = net.src
    O_dst = net.scatter()  # (n, J) one-hot of the final states
    O_src = np.zeros((n, net.n_jumps))
    O_src[src_, np.arange(net.n_jumps)] = 1.0
    # kd[m] = rate_j d_j^m, (*shape, J, q); KD[m] = kd[m] summed over the jumps leaving each state,
    # (*shape, n, q), so that 1^T W^(m) x = sum_s KD[m]_s x_s needs no gather over the jumps
    kd: list[Array] = [np.empty(0), net.rate[..., None] * d]
    KD: list[Array] = [np.empty(0), O_src @ kd[1]]

    def power(m: int) -> None:
        while len(kd) <= m:
            kd.append(kd[-1] * d)
            KD.append(O_src @ kd[-1])

    def total(m: int, x: Array) -> Array:  # 1^T W^(m) x, x of shape (*shape, n, q or 1)
        power(m)
        return np.einsum("...sq,...sq->...q", KD[m], x)

    def jump(m: int, x: Array) -> Array:  # W^(m) x
        power(m)
        return O_dst @ (kd[m] * np.take(x, src_, axis=-2))

    pb = np.broadcast_to(p, shape + (n,))[..., :, None]  # rho_0 = P0, (*shape, n, 1)
    C = np.empty(shape + (q, K))
    C[..., 0] = total(1, pb)
    if K == 1:
        return C
    solver = _solver(net, p, shape)
    if K == 2:  # the hot path: as few passes over the (*shape, J, q) increments as possible
        p_src = np.take(p, src_, axis=-1)[..., None]
        if kd[1].shape[:-2] == shape:  # rate_j d_j P0[src_j], in place (KD[1] is already built)
            g = kd[1]
            g *= p_src
        else:
            g = kd[1] * p_src
        schottky = np.einsum("...jq,...jq->...q", g, d)  # 1^T W^(2) P0
        x = solver.apply(O_dst @ g)  # W^D W^(1) P0 = -rho_1
        C[..., 1] = schottky - 2 * np.einsum("...sq,...sq->...q", KD[1], x)
        return C
    return recursion(np.broadcast_to(pb, shape + (n, q)), K, jump, total, solver.apply)


def recursion(p0: NDArray[Any], order: int, jump: Any, total: Any, drazin: Any) -> NDArray[Any]:
    r"""The Flindt-Novotny-Braggio-Jauho recursion for any generator with a trace functional.

    Generic in the representation: a Markov generator (``total`` sums over states) or a Lindblad
    superoperator (``total`` is the trace), in any coordinates.

    Parameters
    ----------
    p0 : array, shape (*shape, n, q)
        The steady state, one column per counted quantity (``rho_0``).
    order : int
        Highest cumulant order ``K >= 1``.
    jump : callable
        ``jump(m, x)`` = ``W^(m) x`` for ``x`` of shape (*shape, n, q) (column ``a`` tilted by quantity ``a``).
    total : callable
        ``total(m, x)`` = ``t^T W^(m) x``, shape (*shape, q).
    drazin : callable
        ``drazin(b)`` = ``W^D b`` for ``b`` of shape (*shape, n, q).

    Returns
    -------
    array, shape (*shape, q, order)
        ``C_k = sum_m binom(k, m) t^T W^(m) rho_{k-m}``,
        ``rho_k = -W^D sum_m binom(k, m) (W^(m) - C_m) rho_{k-m}`` (module docstring).
    """
    C1 = total(1, p0)
    C = np.empty(C1.shape + (order,), dtype=C1.dtype)
    C[..., 0] = C1
    rho: list[NDArray[Any]] = [p0]
    for kk in range(1, order):
        # rho_kk = -W^D sum_m binom(kk, m) (W^(m) - C_m) rho_{kk-m}   (the m = kk term C_kk P0 is
        # annihilated by W^D)
        acc = np.zeros(p0.shape, dtype=C.dtype)
        for m in range(1, kk + 1):
            binom = comb(kk, m)
            x = rho[kk - m]
            acc = acc + binom * jump(m, x)
            if m < kk:
                acc = acc - binom * C[..., None, :, m - 1] * x
        rho.append(-drazin(acc))
        # C_{kk+1} = sum_m binom(kk+1, m) t^T W^(m) rho_{kk+1-m}
        C[..., kk] = sum(comb(kk + 1, m) * total(m, rho[kk + 1 - m]) for m in range(1, kk + 2))
    return C


def trace_cumulants(L: NDArray[Any], P0: NDArray[Any], trace: NDArray[Any], jumps: Any,
                    order: int) -> NDArray[Any]:
    """Scaled cumulants of a generator with a trace functional (e.g. a Lindblad superoperator).

    Parameters
    ----------
    L : array, shape (*shape, n, n)
        The generator (``t^T L = 0``), real or complex.
    P0 : array, shape (*shape, n)
        Its steady state, ``t^T P0 = 1``.
    trace : array, shape (n,)
        The trace functional ``t``.
    jumps : callable
        ``jumps(m)`` = ``W^(m)`` of every counted quantity, shape (*shape, q, n, n): the jump
        superoperators weighted by the ``m``-th power of the transferred amount.
    order : int

    Returns
    -------
    array, shape (*shape, q, order)
        NaN where the steady state is not unique.
    """
    K = _check_order(order)
    cache: dict[int, NDArray[Any]] = {}

    def W(m: int) -> NDArray[Any]:
        if m not in cache:
            cache[m] = jumps(m)
        return cache[m]

    def jump(m: int, x: NDArray[Any]) -> NDArray[Any]:
        return np.einsum("...aij,...ja->...ia", W(m), x)

    def total(m: int, x: NDArray[Any]) -> NDArray[Any]:
        return np.einsum("i,...ia->...a", trace, jump(m, x))

    q = jumps(1).shape[-3]
    p0 = np.broadcast_to(P0[..., :, None], P0.shape + (q,))
    solver = TraceDrazin(L, P0, trace) if K > 1 else None
    C = recursion(p0, K, jump, total, solver.apply if solver is not None else None)
    if solver is not None:
        C = np.where(solver.singular[..., None, None], np.nan, C)
    return C


def trace_covariance_matrix(L: NDArray[Any], P0: NDArray[Any], trace: NDArray[Any], W1: NDArray[Any],
                            W2: NDArray[Any]) -> NDArray[Any]:
    """``(*shape, q, q)`` zero-frequency covariances for a generator with a trace functional.

    ``W1`` (*shape, q, n, n): jump superoperators weighted by each quantity's transfer; ``W2``
    (*shape, q, q, n, n): weighted by the products of the transfers of two quantities.
    ``C_ab = t^T W^(ab) P0 - t^T W^(a) L^D W^(b) P0 - t^T W^(b) L^D W^(a) P0``.
    """
    solver = TraceDrazin(L, P0, trace)
    v = np.einsum("...aij,...j->...ia", W1, P0)
    x = solver.apply(v)
    schottky = np.einsum("i,...abij,...j->...ab", trace, W2, P0)
    cross = np.einsum("i,...aij,...jb->...ab", trace, W1, x)
    out = schottky - cross - np.swapaxes(cross, -1, -2)
    return np.where(solver.singular[..., None, None], np.nan, out)  # type: ignore[no-any-return]


def trace_noise_spectrum(L: NDArray[Any], P0: NDArray[Any], trace: NDArray[Any], Wa: NDArray[Any],
                         Wb: NDArray[Any], Wab: NDArray[Any], omega: NDArray[Any]) -> NDArray[Any]:
    """Symmetrised noise ``S_ab(omega)`` (module docstring) for a generator with a trace functional.

    ``Wa``, ``Wb``, ``Wab`` (*shape, n, n): jump superoperators weighted by ``d_a``, ``d_b`` and
    ``d_a d_b``; ``omega`` any shape.  Result shape ``(*shape, *omega.shape)``.
    """
    shape = L.shape[:-2]
    expand = (slice(None),) * len(shape) + (None,) * omega.ndim
    n = L.shape[-1]
    scale = np.max(np.abs(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    scale = np.where(scale > 0, scale, 1.0)
    M = L - scale[..., None, None] * P0[..., :, None] * trace
    v = np.stack([np.einsum("...ij,...j->...i", Wb, P0), np.einsum("...ij,...j->...i", Wa, P0)], axis=-1)
    C1 = np.einsum("i,...ic->...c", trace, v)
    qv = v - P0[..., :, None] * C1[..., None, :]
    Mw = M[expand] + 1j * np.eye(n) * omega[..., None, None]
    y = safe_solve(Mw, np.broadcast_to(qv[expand], Mw.shape[:-2] + (n, 2)))
    cross = (np.einsum("i,...ij,...j->...", trace, Wa[expand], y[..., 0])
             + np.einsum("i,...ij,...j->...", trace, Wb[expand], y[..., 1]))
    schottky = np.einsum("i,...ij,...j->...", trace, Wab, P0)
    return np.real(schottky[expand] - cross)  # type: ignore[no-any-return]


#: :func:`cgf` is NaN where the eigenvalue solver's normwise error bound, ``eps ||W(chi)||_F``, exceeds this
#: fraction of the eigenvalue's scale ``max(|lambda|, ||W(0)||_F)``: strong real tilts of strongly biased
#: (cold) networks, whose tilted rates span tens of decades; there the computed dominant eigenvalue can be
#: wrong in its leading digits (measured: 1e-7 ... 1e3 relative errors from ratios 6 ... 1e12 on a cold
#: three-terminal device, against 60-digit references).  LAPACK's balancing keeps the error far below the
#: bound at smaller ratios (1e-10 relative at 1e-6 on random coherent devices), hence the margin
CGF_RESOLUTION = 1e-4


def dominant_eigenvalue(L: NDArray[Any], reference: ArrayLike | None = None) -> ComplexArray:
    """``(*shape)`` eigenvalue with the largest real part of (tilted) generators ``(*shape, n, n)``.

    NaN where ``L`` is not finite (a tilt that overflows), and, given ``reference`` (``(*shape)``, the
    untilted generator's Frobenius norm), where the solver cannot resolve it (:data:`CGF_RESOLUTION`).
    """
    finite = np.all(np.isfinite(L), axis=(-2, -1))
    ev = np.linalg.eigvals(np.where(finite[..., None, None], L, 0.0))
    idx = np.argmax(ev.real, axis=-1)
    lam = np.take_along_axis(ev, idx[..., None], axis=-1)[..., 0].astype(complex)
    if reference is None:
        return np.where(finite, lam, np.nan + 0j)  # type: ignore[no-any-return]
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.finfo(float).eps * np.sqrt(np.sum(np.abs(np.where(finite[..., None, None], L, 0.0)) ** 2,
                                                     axis=(-2, -1)))
        resolved = finite & (error <= CGF_RESOLUTION * np.maximum(np.abs(lam), reference))
    return np.where(resolved, lam, np.nan + 0j)  # type: ignore[no-any-return]


def joint_cumulant(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: Sequence[ArrayLike],
                   P0: ArrayLike) -> Array:
    r"""Joint scaled cumulant ``d^k lambda / d(i chi_1) ... d(i chi_k)`` at 0 of ``k`` counted quantities.

    ``<<N_1 N_2 ... N_k>> / t`` for ``t -> inf`` [product of the quantities' units / time].
    Quantities may repeat: ``(a, a, a)`` gives ``C_3`` of ``a``, ``(a, b)`` the covariance.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments : sequence of array_like, each of shape (*shape, n_jumps)
        One increment array per derivative, ``1 <= k <= 8``.
    P0 : array_like, shape (*shape, n)
        The unique steady state.

    Returns
    -------
    ndarray, shape (*shape)
        NaN at batch points whose steady state is not unique.

    Notes
    -----
    Multivariate recursion over the subsets of the ``k`` derivatives (module docstring);
    cost ``~3^k`` jump operations and ``2^k - 2`` group-inverse applications.
    """
    if isinstance(increments, np.ndarray) or not isinstance(increments, Sequence):
        raise ValueError("increments must be a sequence (list or tuple) of arrays of shape (*shape, n_jumps), "
                         f"got {type(increments).__name__}")
    k_order = len(increments)
    if not 1 <= k_order <= MAX_JOINT_ORDER:
        raise ValueError(f"increments must hold between 1 and {MAX_JOINT_ORDER} arrays, got {k_order}")
    net = _Network(n, src, dst, rate)
    ds = [net.increments(f"increments[{i}]", a, counted_axis=False) for i, a in enumerate(increments)]
    p = net.populations(P0)
    shape = net.batch_shape(P0=p.shape[:-1], **{f"increments[{i}]": a.shape[:-1] for i, a in enumerate(ds)})
    src_, O, k = net.src, net.scatter(), net.rate
    full = frozenset(range(k_order))
    coef: dict[frozenset[int], Array] = {}

    def W_coef(T: frozenset[int]) -> Array:
        if T not in coef:
            c = k
            for t in sorted(T):
                c = c * ds[t]
            coef[T] = np.broadcast_to(c, shape + (net.n_jumps,))
        return coef[T]

    solver = _solver(net, p, shape) if k_order > 1 else None
    C: dict[frozenset[int], Array] = {}
    rho: dict[frozenset[int], Array] = {frozenset(): np.broadcast_to(p, shape + (net.n,))}

    def subsets(S: frozenset[int]) -> list[frozenset[int]]:
        items = sorted(S)
        return [frozenset(c) for r in range(1, len(items) + 1) for c in combinations(items, r)]

    for size in range(1, k_order + 1):
        for S_tuple in combinations(range(k_order), size):
            S = frozenset(S_tuple)
            C[S] = sum((np.einsum("...j,...j->...", W_coef(T), rho[S - T][..., src_]) for T in subsets(S)),
                       start=np.zeros(shape))
            if S == full:
                continue
            acc = np.zeros(shape + (net.n,))
            for T in subsets(S):
                x = rho[S - T]
                acc += np.einsum("kj,...j->...k", O, W_coef(T) * x[..., src_])
                if T != S:
                    acc -= C[T][..., None] * x
            assert solver is not None
            rho[S] = -solver.apply(acc)
    return C[full]


def covariance(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments_a: ArrayLike,
               increments_b: ArrayLike, P0: ArrayLike) -> Array:
    r"""Zero-frequency cross-covariance rate ``d^2 lambda / d(i chi_a) d(i chi_b)`` at 0.

    ``lim <<N_a N_b>> / t`` [unit_a x unit_b / time], no factor 2; equals
    ``noise_spectrum(..., omega=0)``.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments_a, increments_b : array_like, shape (*shape, n_jumps)
        Increments of the two counted quantities.
    P0 : array_like, shape (*shape, n)
        The unique steady state.

    Returns
    -------
    ndarray, shape (*shape)
        ``1^T W^(ab) P0 - 1^T W^(a) W^D W^(b) P0 - 1^T W^(b) W^D W^(a) P0``.
    """
    return joint_cumulant(n, src, dst, rate, (increments_a, increments_b), P0)


def covariance_matrix(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: ArrayLike,
                      P0: ArrayLike) -> Array:
    """All zero-frequency covariance rates ``C_ab`` of ``n_counted`` quantities, shape (*shape, q, q).

    One group-inverse application with ``q`` right-hand sides; the ``(*shape, q, q)`` result is
    only built here (use :func:`scaled_cumulants` for the diagonal alone).

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments : array_like, shape (*shape, n_jumps, n_counted)
    P0 : array_like, shape (*shape, n)

    Returns
    -------
    ndarray, shape (*shape, n_counted, n_counted)
        Symmetric; the diagonal is ``C_2`` of each quantity [unit_a unit_b / time].
    """
    net = _Network(n, src, dst, rate)
    d = net.increments("increments", increments, counted_axis=True)
    p = net.populations(P0)
    shape = net.batch_shape(increments=d.shape[:-2], P0=p.shape[:-1])
    src_, k = net.src, net.rate
    g = k * p[..., src_]
    v = np.einsum("kj,...j,...jq->...kq", net.scatter(), g, d)  # W^(a) P0
    x = _solver(net, p, shape).apply(v)  # W^D W^(a) P0 = -rho_a
    schottky = np.einsum("...j,...ja,...jb->...ab", g, d, d)
    cross = np.einsum("...j,...ja,...jb->...ab", k, d, x[..., src_, :])
    return schottky - cross - np.swapaxes(cross, -1, -2)


def cgf(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments: ArrayLike,
        chi: ArrayLike) -> ComplexArray:
    r"""Scaled cumulant generating function ``lambda(chi)`` [1/time]: dominant eigenvalue of ``W(chi)``.

    ``lambda(chi) = lim (1/t) ln <exp(i chi . N(t))>``; ``lambda(0) = 0`` and
    ``d^k lambda / d(i chi)^k (0) = C_k``.

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments : array_like, shape (*shape, n_jumps, n_counted)
    chi : array_like, shape (*shape, n_counted)
        Counting fields [1/quantity], finite, complex allowed (``chi = -i s`` with real ``s``
        gives the real, Perron-Frobenius, tilting ``exp(s d)``).

    Returns
    -------
    ndarray of complex, shape (*shape)
        The eigenvalue of the tilted generator with the largest real part.  For real ``s``
        (imaginary ``chi``) this is the Perron-Frobenius eigenvalue, analytic and the branch
        connected to 0; for other ``chi`` it is that branch as long as it stays dominant
        (always for small ``|chi|`` in an ergodic network).  NaN where the tilted generator
        overflows, or where the eigenvalue solver's round-off ``eps ||W(chi)||_F`` exceeds
        :data:`CGF_RESOLUTION` of ``max(|lambda|, ||W(0)||_F)`` (strong real tilts of strongly
        biased networks: tilted rates over tens of decades).

    Notes
    -----
    Where every field is imaginary the tilted generator is real and its eigenvalues come from
    LAPACK's real ``dgeev`` (2-3x faster than the complex ``zgeev``; the Perron root is then
    exactly real).
    """
    net = _Network(n, src, dst, rate)
    d = net.increments("increments", increments, counted_axis=True)
    c = _chi(chi, d.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        W = _tilted(net, d, c)
    W0 = net.generator(W.shape[:-2])
    return dominant_eigenvalue(W, np.sqrt(np.sum(W0**2, axis=(-2, -1))))


def _frequencies(omega: ArrayLike) -> Array:
    """``omega`` as a float array; ValueError unless real and finite."""
    w = np.asarray(omega)
    if np.iscomplexobj(w) or w.dtype.kind not in "biuf":
        raise ValueError(f"omega must be real, got dtype {w.dtype}")
    w = w.astype(float, copy=False)
    bad = ~np.isfinite(w)
    if np.any(bad):
        raise ValueError(f"omega must be finite, got {_describe(w, bad)}")
    return w


def _paired_shape(shape: tuple[int, ...], omega_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The result shape of ``outer=False``: the batch and the frequencies broadcast together."""
    try:
        return np.broadcast_shapes(shape, omega_shape)
    except ValueError:
        raise ValueError(f"omega must broadcast against the batch shape {shape} when outer=False, "
                         f"got shape {omega_shape}") from None


def noise_spectrum(n: int, src: ArrayLike, dst: ArrayLike, rate: ArrayLike, increments_a: ArrayLike,
                   increments_b: ArrayLike, P0: ArrayLike, omega: ArrayLike, *, outer: bool = True) -> Array:
    r"""Symmetrised finite-frequency noise ``S_ab(omega)`` of two counted currents [unit_a unit_b / time].

    ``S_ab(omega) = Re int dt e^{i omega t} <<I_a(t) I_b(0)>>``
    ``= (S_ab + S_ba) / 2``: real, even in ``omega``, symmetric in ``a <-> b``;
    ``S_ab(0) = covariance(a, b)`` (no factor 2) and ``S_ab(omega -> inf) = 1^T W^(ab) P0``
    (the Schottky term, ``sum_j rate_j d_ja d_jb P0[src_j]``).

    Parameters
    ----------
    n, src, dst, rate
        The jump network (see :func:`generator`).
    increments_a, increments_b : array_like, shape (*shape, n_jumps)
        Increments of the two counted quantities.
    P0 : array_like, shape (*shape, n)
        The unique steady state.
    omega : array_like, real, any shape
        Angular frequencies [1/time] (same time unit as the rates), finite.
    outer : bool
        ``True`` (default): every batch point at every frequency, result shape
        ``(*shape, *omega.shape)``.  ``False``: ``omega`` broadcasts against the batch
        (e.g. one frequency per batch point), result shape ``broadcast(shape, omega.shape)``;
        ValueError if the shapes do not broadcast.

    Returns
    -------
    ndarray of float
        NaN at batch points whose steady state is not unique (at every frequency): the
        generator's elimination, as for the cumulants (:class:`~qdthermo.kinetics.group_inverse.DrazinSolver`
        with unoccupied states cut off), finds several closed classes.

    Notes
    -----
    ``S = 1^T W^(ab) P0 - Re[1^T W^(a) G Q W^(b) P0 + 1^T W^(b) G Q W^(a) P0]`` with
    ``G = (W + i omega - s P0 1^T)^{-1}``: one complex batched solve with two right-hand sides
    per (batch point, frequency).
    """
    net = _Network(n, src, dst, rate)
    da = net.increments("increments_a", increments_a, counted_axis=False)
    db = net.increments("increments_b", increments_b, counted_axis=False)
    p = net.populations(P0)
    w = _frequencies(omega)
    shape = net.batch_shape(increments_a=da.shape[:-1], increments_b=db.shape[:-1], P0=p.shape[:-1])
    expand: tuple[Any, ...]
    if outer:
        out_shape = shape + w.shape
        expand = (slice(None),) * len(shape) + (None,) * w.ndim
    else:
        out_shape = _paired_shape(shape, w.shape)
        expand = (Ellipsis,)
    src_, k, nn = net.src, net.rate, net.n
    d2 = np.stack(np.broadcast_arrays(da, db), axis=-1)  # (*shape, J, 2)
    d2 = np.broadcast_to(d2, shape + d2.shape[-2:])
    pb = np.broadcast_to(p, shape + (nn,))
    g = k * pb[..., src_]
    v = np.einsum("kj,...j,...jc->...kc", net.scatter(), g, d2)  # W^(a) P0, W^(b) P0
    C1 = np.einsum("...j,...jc->...c", g, d2)
    qv = v - pb[..., :, None] * C1[..., None, :]
    schottky = np.einsum("...j,...j,...j->...", g, d2[..., 0], d2[..., 1])
    W = net.generator(shape)
    scale = np.max(np.abs(np.diagonal(W, axis1=-2, axis2=-1)), axis=-1)
    scale = np.where(scale > 0, scale, 1.0)
    M = W - scale[..., None, None] * pb[..., :, None]  # W - s P0 1^T
    Mw = M[expand] + 1j * np.eye(nn) * w[..., None, None]
    y = safe_solve(Mw, np.broadcast_to(qv[expand], Mw.shape[:-2] + (nn, 2)))  # G Q W^(a,b) P0
    kd = np.broadcast_to(k[..., None] * d2, shape + d2.shape[-2:])[expand]  # (…, J, 2)
    ys = y[..., src_, :]  # (…, J, 2)
    cross = np.einsum("...j,...j->...", kd[..., 0], ys[..., 1]) + np.einsum("...j,...j->...", kd[..., 1], ys[..., 0])
    # no unique steady state (G is not the resolvent asked for), or a generator that overflows: NaN
    W_flat, P_flat = W.reshape(-1, nn, nn), pb.reshape(-1, nn)
    singular = ~np.all(np.isfinite(W_flat), axis=(-2, -1))
    if not np.all(singular):
        ok = ~singular
        singular[ok] = DrazinSolver(W_flat[ok], P_flat[ok], cut_unoccupied=True).singular
    singular = singular.reshape(shape)
    return np.broadcast_to(np.where(singular[expand], np.nan, schottky[expand] - cross.real), out_shape).copy()

"""Sparse storage and steady state of the Pauli generator, for large networks (2^10 .. 2^20+ states).

The generator is assembled per parameter point as a SciPy CSR matrix from
the network's directed jumps (memory proportional to the number of
channels; no dense ``n x n`` array).  The steady state solves the system
with one state's probability fixed (``P_r = 1``, the row of ``r`` replaced),
then normalises.  The reference ``r`` is the longest-lived state (the
smallest escape rate), and the point is solved again from the most probable
state where the first solution makes ``r`` nearly empty: fixing a state of
``P_r`` = 1e-50 (low temperature) stretches the solution over as many more
decades and the solvers fail.  At stiff points (rates over more than 16
decades) a metastable charge state can take the probability of the ground
state in a solution that still meets the residual: there the point is solved
from several references, which must agree (:func:`_steady_point`).  The solvers:

* ``"direct"``: a sparse LU (SuperLU) of the reduced system; exact to
  round-off, cheap for small or narrow networks, but the LU of the
  hypercube-shaped graphs of dot arrays fills in badly (minutes at 14 dots);
* ``"iterative"``: BiCGSTAB with a Jacobi (diagonal) preconditioner, falling
  back to GMRES with an incomplete-LU preconditioner if it stalls, and to the
  direct LU up to :data:`DIRECT_FALLBACK_MAX_STATES` states if the solution
  misses the residual below (rates over tens of decades at low temperature).

Every solution is checked by :func:`balance_residual`, the larger of

* ``||W P||_1 / sum_i |W_ii| P_i``: the net probability flux left over,
  relative to the total one-way flux out of all states, and
* ``max_d |J_d| / F_d``: for every dot ``d``, the net particle flux into the
  dot (zero at steady state: its charge is conserved) relative to the one-way
  fluxes through its channels.  This catches a wrong slow mode (a dot coupled
  by ``Gamma = 1e-12``) that the first, global measure would hide;

a point above it is first *rebalanced* (:func:`_rebalance`: every dot's
charge balance restored by scaling the states with it filled, which fixes the
slow mode of a weakly coupled dot exactly) and checked again; the residual must
then be below :data:`RESIDUAL_TOL`; a point that does not reach it is NaN
and invalid, and a :class:`ConvergenceWarning` says so (never silently
wrong).  Points of a batch are solved one after another (a large network is
one point per task).  The iterative solves run with single-threaded BLAS
(their vector operations are too small to gain from threads and lose badly
when the cores are shared).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates

if TYPE_CHECKING:
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

__all__ = ["RESIDUAL_TOL", "DIRECT_MAX_STATES", "ConvergenceWarning", "sparse_generator", "steady_state_sparse",
           "relative_residual", "balance_residual"]

Array = NDArray[np.float64]

#: a steady state whose relative residual exceeds this is refused (NaN, valid=False)
RESIDUAL_TOL = 1e-9
#: the automatic sparse route uses the direct LU up to this many states, the iterative solver above
DIRECT_MAX_STATES = 256
#: a first solve whose reference state holds less than this share of the most probable one's probability is
#: solved again with that one as reference (:func:`_reduced`)
_REFERENCE_SHARE = 1e-3
#: an iterative solve that misses the residual is done again by the direct LU up to this many states (12 dots)
DIRECT_FALLBACK_MAX_STATES = 4096
#: relative tolerance asked of the iterative solvers
_KRYLOV_RTOL = 1e-13
#: solutions from several reference states that meet the residual must agree to this in every population
#: (:func:`_steady_point`); a difference this large means the solve cannot resolve the point in double precision
_REFERENCES_AGREE = 1e-6
#: further reference states a stiff point is solved from (:func:`_steady_point`)
_CANDIDATES = 3


class ConvergenceWarning(UserWarning):
    """A sparse steady-state solve did not reach :data:`RESIDUAL_TOL`, or its solutions from several reference
    states disagree; the point is NaN (valid=False)."""


def _index_dtype(n: int) -> type:
    return np.int32 if n < 2**31 - 1 else np.int64


def sparse_generator(net: Network, plus: Array, minus: Array) -> sp.csr_matrix:
    """The generator ``W`` [rate unit] of one parameter point as a CSR matrix.

    Parameters
    ----------
    net
        The network structure.
    plus, minus
        ``(n_channels,)`` rates ``k^+`` (``i -> j``) and ``k^-`` (``j -> i``) of the point.
    """
    import scipy.sparse as sp

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


def balance_residual(net: Network, jump_rates: Array, P: Array) -> Array:
    """Relative residual of populations ``P`` from the jump rates, no matrix (see the module docstring).

    Parameters
    ----------
    net
        The network structure.
    jump_rates
        ``(*shape, n_jumps)`` rates of the directed jumps (``k^+`` then ``k^-``).
    P
        ``(*shape, n_states)`` populations.

    Returns
    -------
    ``(*shape)`` the larger of the global and the per-dot relative residual
    (NaN where ``P`` is NaN, 0 for a single state).
    """
    shape = np.broadcast_shapes(jump_rates.shape[:-1], P.shape[:-1])
    n, m, nc = net.n_states, net.n_jumps, net.n_channels
    rate = np.broadcast_to(jump_rates, shape + (m,)).reshape(-1, m)
    pop = np.broadcast_to(P, shape + (n,)).reshape(-1, n)
    group, n_groups = net.channel_group
    out = np.empty(rate.shape[0])
    with np.errstate(all="ignore"):
        for p in range(rate.shape[0]):
            a = rate[p, :nc] * pop[p, net.initial]  # one-way fluxes i -> j
            b = rate[p, nc:] * pop[p, net.final]  # and j -> i
            a_plus_b = a + b
            total = a_plus_b.sum()
            a -= b  # net flux of every channel
            wp = np.bincount(net.final, weights=a, minlength=n)
            wp -= np.bincount(net.initial, weights=a, minlength=n)
            worst = np.abs(wp).sum() / total
            net_d = np.bincount(group, weights=a, minlength=n_groups)
            one_way = np.bincount(group, weights=a_plus_b, minlength=n_groups)
            per_dot = np.abs(net_d[one_way > 0]) / one_way[one_way > 0]
            out[p] = max(worst, per_dot.max()) if per_dot.size else worst
            if not np.isfinite(total) or np.isnan(out[p]):
                out[p] = np.nan
            elif total == 0:
                out[p] = 0.0 if n == 1 else np.nan
    return out.reshape(shape)


def _rebalance(net: Network, rate: Array, P: Array, sweeps: int = 3) -> None:
    """Fix the charge balance of every dot in place (one aggregation-disaggregation step per dot and sweep).

    A dot coupled much more weakly than the rest (``Gamma = 1e-12``) is a slow
    mode: any solver's round-off relative to the fast rates leaves its
    occupation wrong, while the distribution of the other dots given its
    occupation is right.  Scaling the states with the dot filled by ``A/B``
    (``A``, ``B``: one-way fluxes into and out of the dot) makes its net flux
    vanish exactly and leaves every transition that does not change the dot
    balanced.  Only dots whose relative imbalance exceeds 1e-14 are touched.
    """
    nc = net.n_channels
    group, n_groups = net.channel_group
    bits = np.zeros(n_groups, dtype=np.intp)
    bits[group] = net.final - net.initial
    states = np.arange(net.n_states)
    for _ in range(sweeps):
        changed = False
        for d in range(n_groups):
            sel = group == d
            A = float(rate[:nc][sel] @ P[net.initial[sel]])
            B = float(rate[nc:][sel] @ P[net.final[sel]])
            if not (A > 0 and B > 0) or abs(A - B) <= 1e-14 * (A + B):
                continue
            P[(states & bits[d]) != 0] *= A / B
            P /= P.sum()
            changed = True
        if not changed:
            return


def _pattern(net: Network) -> tuple[NDArray[np.integer], NDArray[np.integer]]:
    """Row and column indices (int32 where they fit) of every jump and diagonal entry.

    Cached on the network (it is the same for every point).
    """
    cache = net.__dict__.setdefault("_sparse_pattern", {})
    if "pattern" not in cache:
        n = net.n_states
        itype = _index_dtype(n)
        diag: NDArray[np.integer] = np.arange(n, dtype=itype)
        # targets (rows) and sources (cols) of the k^+ jumps, the k^- jumps and the diagonal
        rows: NDArray[np.integer] = np.concatenate([net.final, net.initial, diag], dtype=itype)
        cols: NDArray[np.integer] = np.concatenate([net.initial, net.final, diag], dtype=itype)
        cache["pattern"] = (rows, cols)
    return cache["pattern"]  # type: ignore[no-any-return]


def _reduced(net: Network, rate: Array, ref: int = 0) -> tuple[sp.csr_matrix, Array]:
    """The generator with row ``ref`` replaced by ``e_ref`` (so ``P_ref = 1``), and the right-hand side ``e_ref``.

    The other rows of ``A x = e_ref`` are those of ``W x = 0``, so ``x`` is the
    steady state up to normalisation; this is the system with state ``ref``'s
    probability fixed, built from the jumps without removing a row or column
    (no slicing, no copies of index arrays; the jumps into ``ref`` are kept
    as explicit zeros).  ``ref`` should be a probable state (:func:`_reference`):
    fixing a nearly empty one (``P_ref`` of 1e-50 at low temperature) makes the
    solution span as many decades more and the solvers fail.
    """
    import scipy.sparse as sp

    n = net.n_states
    rows, cols = _pattern(net)
    out = _escape_rates(net, rate)
    data = np.empty(len(rows))
    m = len(rate)
    data[:m] = rate
    data[:m][rows[:m] == ref] = 0.0
    np.negative(out, out=data[m:])
    data[m + ref] = 1.0
    A = sp.csr_matrix((data, (rows, cols)), shape=(n, n))
    b = np.zeros(n)
    b[ref] = 1.0
    return A, b


def _reference(rate: Array, net: Network, P: Array | None = None) -> int:
    """The state whose probability the reduced system fixes: the most probable one of ``P`` if given (and
    finite), else the longest-lived (the smallest total escape rate; the ground state at low temperature)."""
    if P is not None and np.all(np.isfinite(P)):
        return int(np.argmax(P))
    return int(np.argmin(_escape_rates(net, rate)))


def _potential(net: Network, rate: Array) -> Array:
    """``(n_states,)`` the least-squares potential ``phi`` of the jumps' log ratios: ``phi_j - phi_i ~ ln(k^+/k^-)``.

    At equilibrium (every lead at one temperature and chemical potential) the ratios are
    ``-(E_j - E_i)/T`` and ``phi = -E/T`` up to a constant, so ``argmax phi`` is the most probable state
    exactly; out of equilibrium it is an estimate, found without solving the rate equation (the graph
    Laplacian of the channels, by conjugate gradients: it is well conditioned whatever the rates).
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    nc, n = net.n_channels, net.n_states
    tiny = np.finfo(float).tiny
    live = ((rate[:nc] > 0) | (rate[nc:] > 0)).astype(float)
    ratio = (np.log(np.maximum(rate[:nc], tiny)) - np.log(np.maximum(rate[nc:], tiny))) * live
    # the Laplacian of the channels on the generator's pattern (:func:`_pattern`: the jumps both ways, then
    # the diagonal); a tiny shift fixes the constant (and isolated states)
    rows, cols = _pattern(net)
    degree = np.bincount(net.initial, weights=live, minlength=n) + np.bincount(net.final, weights=live, minlength=n)
    L = sp.csr_matrix((np.concatenate([-live, -live, degree + 1e-9]), (rows, cols)), shape=(n, n))
    rhs = np.bincount(net.final, weights=ratio, minlength=n) - np.bincount(net.initial, weights=ratio, minlength=n)
    with threadpool_limits(limits=1, user_api="blas"):
        phi, _ = spla.cg(L, rhs, rtol=1e-10, atol=0.0, maxiter=10 * n + 100, M=_jacobi(L))
    return np.asarray(phi)


def _escape_rates(net: Network, rate: Array) -> Array:
    """``(n_states,)`` total rate out of each state (minus the generator's diagonal) [rate unit]."""
    nc = net.n_channels
    out = np.bincount(net.initial, weights=rate[:nc], minlength=net.n_states)
    out += np.bincount(net.final, weights=rate[nc:], minlength=net.n_states)
    return np.asarray(out, dtype=np.float64)


def _solve_direct(A: sp.csr_matrix, b: Array) -> Array:
    import scipy.sparse.linalg as spla

    A = A.tocsc()
    A.sum_duplicates()
    return np.asarray(spla.splu(A, permc_spec="COLAMD").solve(b))


def _jacobi(A: sp.csr_matrix) -> spla.LinearOperator:
    """The Jacobi (diagonal) preconditioner of ``A``."""
    import scipy.sparse.linalg as spla

    inv_d = 1.0 / A.diagonal()
    return spla.LinearOperator(A.shape, matvec=lambda v: inv_d * v.ravel(), dtype=float)  # type: ignore[arg-type]


def _solve_iterative(A: sp.csr_matrix, b: Array, *, gmres: bool = True) -> Array:
    """BiCGSTAB with a Jacobi preconditioner, then (``gmres``) GMRES with an incomplete LU where it stalls."""
    import scipy.sparse.linalg as spla

    n = A.shape[0]
    jacobi = _jacobi(A)
    with threadpool_limits(limits=1, user_api="blas"):
        x, info = spla.bicgstab(A, b, x0=jacobi.matvec(b), rtol=_KRYLOV_RTOL, atol=0.0,
                                maxiter=int(20 * n ** 0.5) + 2000, M=jacobi)
        if (info == 0 and np.all(np.isfinite(x))) or not gmres:
            return np.asarray(x)
        A = A.tocsc()
        A.sum_duplicates()
        ilu = spla.spilu(A, drop_tol=1e-6, fill_factor=20)
        pre = spla.LinearOperator(A.shape, matvec=ilu.solve, dtype=float)  # type: ignore[arg-type]
        x, info = spla.gmres(A, b, rtol=_KRYLOV_RTOL, atol=0.0, restart=100, maxiter=200, M=pre)
    return np.asarray(x)


def _solve_normalised(net: Network, rate: Array, ref: int, solver: str) -> Array | None:
    """The steady state of one point with ``P_ref`` fixed, normalised; None where the solve fails.

    ``solver``: ``"direct"``, ``"iterative"`` or ``"bicgstab"`` (the iterative solve without its GMRES stage).
    """
    A, b = _reduced(net, rate, ref)
    with np.errstate(all="ignore"):
        try:
            x = _solve_direct(A, b) if solver == "direct" else _solve_iterative(A, b, gmres=solver == "iterative")
        except RuntimeError:  # singular factor: disconnected graph
            return None
        full = np.clip(x, 0.0, None)
        full /= full.sum()
    return full if np.all(np.isfinite(full)) else None


def _stiff(rate: Array) -> bool:
    """True where a nonzero jump rate is below ``eps`` times the largest: fluxes between metastable states can
    then be below the round-off of the fluxes within them."""
    positive = rate[rate > 0]
    return bool(positive.size > 0 and float(positive.min()) < np.finfo(float).eps * float(positive.max()))


def _attempt(net: Network, rate: Array, ref: int, solver: str,
             follow: bool = True) -> tuple[Array | None, float, int]:
    """One solve from the reference ``ref`` (with ``follow``, again from its most probable state where that
    leaves ``ref`` nearly empty), rebalanced where it misses the residual: populations (None: failed),
    residual and the reference finally used."""
    full = _solve_normalised(net, rate, ref, solver)
    if follow and full is not None and full[ref] < _REFERENCE_SHARE * np.max(full):  # a better reference
        ref = _reference(rate, net, full)
        again = _solve_normalised(net, rate, ref, solver)
        full = again if again is not None else full
    if full is None:
        return None, np.inf, ref
    residual = float(balance_residual(net, rate, full))
    if residual > RESIDUAL_TOL:  # a slow dot (weak coupling)? rebalance and check again
        _rebalance(net, rate, full)
        residual = float(balance_residual(net, rate, full))
    return full, residual, ref


def _steady_point(net: Network, rate: Array, solver: str) -> tuple[Array, float]:
    """One point's steady state (NaN unless its residual is within :data:`RESIDUAL_TOL`) and residual.

    The reference is the longest-lived state (:func:`_reference`).  At low temperature a metastable charge
    state can hold the reference, or the first solution's most probable state, instead of the ground state;
    the solution can then meet the residual with the probability in the wrong basin (the flux between basins
    is below the round-off of the fluxes within them: only at :func:`_stiff` points).  There the point is
    solved again from :data:`_CANDIDATES` more references (each kept fixed), the most probable state of the
    potential estimate (:func:`_potential`) and the longest-lived states (metastable minima, the ground
    state among them, are long-lived: every move out of them is uphill); every solution that meets the
    residual must agree with the others to :data:`_REFERENCES_AGREE` in every population, else the point
    is not solved (the residual returned is their largest difference).
    """
    unsolved = np.full(net.n_states, np.nan)
    first = _reference(rate, net)
    P, residual, used = _attempt(net, rate, first, solver)
    if P is not None and residual <= RESIDUAL_TOL and not _stiff(rate):
        return P, residual
    solutions = [(residual, P)] if P is not None and residual <= RESIDUAL_TOL else []
    tried, worst = ({used} if solutions else set()), residual  # a failed first reference is tried again, fixed
    longest_lived = [int(s) for s in np.argsort(_escape_rates(net, rate), kind="stable")[:_CANDIDATES + 2]]
    candidates = [int(np.argmax(_potential(net, rate)))] + longest_lived
    retry_direct = solver != "direct" and net.n_states <= DIRECT_FALLBACK_MAX_STATES
    for ref in [c for c in dict.fromkeys(candidates) if c not in tried][:_CANDIDATES]:
        # BiCGSTAB alone first (GMRES can stall for seconds), then the LU where it misses and is affordable
        Q, residual_q, _ = _attempt(net, rate, ref, "direct" if solver == "direct" else "bicgstab", follow=False)
        if retry_direct and not residual_q <= RESIDUAL_TOL:
            Q, residual_q, _ = _attempt(net, rate, ref, "direct", follow=False)
        if Q is not None and residual_q <= RESIDUAL_TOL:
            solutions.append((residual_q, Q))
        worst = min(worst, residual_q)
    if not solutions:
        return unsolved, worst
    gap = max(float(np.max(np.abs(Q - solutions[0][1]))) for _, Q in solutions)
    if gap > _REFERENCES_AGREE:
        return unsolved, gap
    best_residual, best = min(solutions, key=lambda item: item[0])
    return best, best_residual


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
        ``(*shape, n_states)`` (NaN rows where the residual (:func:`balance_residual`)
        exceeds :data:`RESIDUAL_TOL` or the graph is disconnected) and ``(*shape)``.

    Warns
    -----
    ConvergenceWarning
        When a point's solve does not reach :data:`RESIDUAL_TOL` (it is NaN).
    """

    if solver not in ("auto", "direct", "iterative"):
        raise ValueError(f"solver must be 'auto', 'direct' or 'iterative', got {solver!r}")
    if solver == "auto":
        solver = "direct" if net.n_states <= DIRECT_MAX_STATES else "iterative"
    shape, n, nc = k.shape, net.n_states, net.n_channels
    plus = np.broadcast_to(k.plus, shape + (nc,)).reshape(-1, nc)
    minus = np.broadcast_to(k.minus, shape + (nc,)).reshape(-1, nc)
    P = np.full((plus.shape[0], n), np.nan)
    residual = np.full(plus.shape[0], np.inf)
    if n == 1:
        return np.ones(shape + (1,)), np.zeros(shape)
    for p in range(plus.shape[0]):
        rate = np.concatenate([plus[p], minus[p]])
        P[p], residual[p] = _steady_point(net, rate, solver)
        if solver == "iterative" and not residual[p] <= RESIDUAL_TOL and n <= DIRECT_FALLBACK_MAX_STATES:
            P[p], residual[p] = _steady_point(net, rate, "direct")  # e.g. low temperature: rates over 40 decades
    failed = np.isfinite(residual) & ~(residual <= RESIDUAL_TOL)
    if np.any(failed):
        first = int(np.flatnonzero(failed)[0])
        warnings.warn(f"{int(failed.sum())} of {failed.size} points: the sparse {solver!r} steady-state solve did "
                      f"not reach relative residual <= {RESIDUAL_TOL:g}, or its solutions from several reference "
                      f"states disagree by more than {_REFERENCES_AGREE:g} (first, at flat index {first}: "
                      f"{residual[first]:.3g}); they are NaN (valid=False)", ConvergenceWarning, stacklevel=4)
    return P.reshape(shape + (n,)), residual.reshape(shape)


def drazin_apply_sparse(net: Network, jump_rates: Array, P0: Array, b: Array, *, solver: str = "auto") -> Array:
    """``W^D b`` for one point of a large network by sparse solves (no dense matrix).

    ``b`` is ``(n,)`` or ``(n, m)`` with zero column sums (``1^T b = 0``, the complement of the
    steady state).  Solves the system with the most probable state ``r``'s row replaced by ``y_r = 0``
    (the other rows of ``W y = b``; row ``r`` follows from ``1^T W = 0``), then projects:
    ``x = y - P0 (1^T y)`` so that ``1^T x = 0``.

    Parameters
    ----------
    net
        The network structure.
    jump_rates
        ``(n_jumps,)`` rates of the directed jumps (``k^+`` then ``k^-``) [rate unit].
    P0
        ``(n,)`` the steady state.
    b
        ``(n,)`` or ``(n, m)`` right-hand sides.
    solver
        ``"direct"``, ``"iterative"`` or ``"auto"`` (as :func:`steady_state_sparse`).
    """
    if solver == "auto":
        solver = "direct" if net.n_states <= DIRECT_MAX_STATES else "iterative"
    ref = _reference(np.asarray(jump_rates, dtype=float), net, np.asarray(P0, dtype=float))
    A, _ = _reduced(net, np.asarray(jump_rates, dtype=float), ref)
    cols = np.asarray(b, dtype=float).reshape(net.n_states, -1)
    out = np.empty_like(cols)
    for m in range(cols.shape[1]):
        rhs = cols[:, m].copy()
        rhs[ref] = 0.0
        y = _solve_direct(A, rhs) if solver == "direct" else _solve_iterative(A, rhs)
        out[:, m] = y - P0 * y.sum()
    return out.reshape(np.shape(b))

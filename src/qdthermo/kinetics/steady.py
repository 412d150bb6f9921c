"""Steady state of the Pauli master equation: the routes behind :meth:`PauliGenerator.steady_state`.

Two independent routes, for the whole batch at once:

* :func:`steady_state_linear` - a batched linear solve of ``W P = 0`` with
  ``sum_i P_i = 1`` by subtraction-free (GTH) Gaussian elimination (any network);
* :func:`steady_state_matrix_tree` - the exact closed form of the
  matrix-tree (Kirchhoff) theorem: ``P_i`` is proportional to the sum, over
  spanning trees of the transition graph directed towards ``i``, of the
  product of their rates.  Used for small networks (the paper's four-state
  device); the spanning trees are enumerated once per network structure.

Tests prove the two agree to 1e-12 on random batches.

Per-point failures stay per point: a point without a unique steady state
(its transition graph is disconnected, e.g. a lead coupling is zero) gets
NaN populations; every other point is exact.  A route is registered in
:data:`STEADY_STATE_ROUTES` with :func:`register_route`: one function
``(network, rates) -> populations`` plus one registration.

Examples
--------
>>> import qdthermo as qd
>>> from qdthermo.kinetics import STEADY_STATE_ROUTES
>>> {"linear", "matrix_tree", "sparse"} <= set(STEADY_STATE_ROUTES)
True
>>> qd.solve(qd.single_dot(eps=0.5), method="matrix_tree").route
'matrix_tree'
"""

from __future__ import annotations

import enum
import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from qdthermo import _compiled
from qdthermo._reduce import sum_last
from qdthermo._special import logsumexp
from qdthermo._unionfind import DisjointSet
from qdthermo.kinetics.dense import rate_matrix
from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates
from qdthermo.kinetics.sparse import ConvergenceWarning, steady_state_sparse

__all__ = [
    "Method", "STEADY_STATE_ROUTES", "NOT_UNIQUE", "register_route", "steady_state", "steady_state_linear",
    "steady_state_matrix_tree", "spanning_trees", "choose_route",
]

Array = NDArray[np.float64]

#: largest number of (root, tree, edge) factors for which AUTO uses the matrix-tree route
_MATRIX_TREE_MAX_TERMS = 256


class Method(str, enum.Enum):
    """The built-in steady-state routes (any name in :data:`STEADY_STATE_ROUTES` is accepted too).

    Raises
    ------
    ValueError
        ``Method(value)`` for a value that is not a built-in route; :meth:`parse`
        for a name that is neither ``"auto"`` nor a registered route.

    Examples
    --------
    >>> import qdthermo as qd
    >>> qd.Method("linear") is qd.Method.LINEAR
    True
    >>> qd.solve(qd.single_dot(eps=0.5), method=qd.Method.LINEAR).route
    'linear'
    """

    AUTO = "auto"  #: matrix tree for small networks (<= 4 states), else linear
    LINEAR = "linear"  #: batched linear solve
    MATRIX_TREE = "matrix_tree"  #: closed form (Kirchhoff); small networks only

    @classmethod
    def parse(cls, value: "Method | str") -> str:
        """The route name of ``value`` (``"auto"`` or a registered route), with a clear error."""
        name = value.value if isinstance(value, Method) else value
        if name == "auto" or name in STEADY_STATE_ROUTES:
            return str(name)
        allowed = ["auto", *sorted(STEADY_STATE_ROUTES)]
        raise ValueError(f"method must be one of {allowed}, got {value!r}")


#: route name -> function ``(network, rates) -> (*shape, n_states)`` populations (NaN rows where it fails)
STEADY_STATE_ROUTES: dict[str, Callable[[Network, Rates], "Array"]] = {}


def register_route(name: str) -> Callable[[Callable[[Network, Rates], "Array"]], Callable[[Network, Rates], "Array"]]:
    """Register a steady-state route under ``name`` (usable as ``qd.solve(..., method=name)``).

    Parameters
    ----------
    name
        The route's name, as passed to ``method=``.

    Returns
    -------
    callable
        A decorator that registers a function ``(network, rates) -> populations``
        (``(*shape, n_states)``, each row summing to 1) and returns it unchanged.

    Examples
    --------
    A route that delegates to the batched linear solve, used by name:

    >>> import qdthermo as qd
    >>> from qdthermo.kinetics.steady import STEADY_STATE_ROUTES, register_route, steady_state_linear
    >>> @register_route("my_linear")
    ... def my_linear(net, k):
    ...     return steady_state_linear(net, k)
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}), method="my_linear")
    >>> res.route, round(float(res.populations[1]), 4)
    ('my_linear', 0.4077)
    >>> del STEADY_STATE_ROUTES["my_linear"]
    """
    def deco(func: Callable[[Network, Rates], Array]) -> Callable[[Network, Rates], Array]:
        STEADY_STATE_ROUTES[name] = func
        return func
    return deco


def _graph_key(net: Network) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """The transition-graph structure: ``(n_states, initial states, final states)``."""
    return (net.n_states, tuple(int(i) for i in net.initial), tuple(int(j) for j in net.final))


def _undirected(key: tuple[int, tuple[int, ...], tuple[int, ...]]) -> tuple[tuple[int, int], ...]:
    """Sorted undirected edges ``(a, b)``, ``a < b``, of the transition graph."""
    return tuple(sorted({(min(i, j), max(i, j)) for i, j in zip(key[1], key[2])}))


@lru_cache(maxsize=64)
def spanning_trees(n: int, edges: tuple[tuple[int, int], ...], max_trees: int = 100_000) -> tuple[tuple[int, ...], ...]:
    """All spanning trees of an undirected graph, each as a tuple of edge indices.

    Raises
    ------
    ValueError
        If the graph has more than ``max_trees`` spanning trees.
    """
    trees = []
    for combo in itertools.combinations(range(len(edges)), n - 1):
        forest = DisjointSet(n)
        ok = all(forest.merge(*edges[e]) for e in combo)  # False at the first edge closing a loop
        if ok:
            trees.append(combo)
            if len(trees) > max_trees:
                raise ValueError(f"the transition graph has more than {max_trees} spanning trees")
    return tuple(trees)


@lru_cache(maxsize=64)
def _rooted_tree_terms(n: int, edges: tuple[tuple[int, int], ...]) -> tuple[NDArray[np.intp], ...]:
    """For each root r: ``(n_trees, n-1)`` flat indices ``parent*n + child`` of W."""
    trees = spanning_trees(n, edges)
    out = []
    for root in range(n):
        rows = []
        for tree in trees:
            adj: dict[int, list[int]] = {k: [] for k in range(n)}
            for e in tree:
                a, b = edges[e]
                adj[a].append(b)
                adj[b].append(a)
            seen, stack, idx = {root}, [root], []
            while stack:
                p = stack.pop()
                for c in adj[p]:
                    if c not in seen:
                        seen.add(c)
                        stack.append(c)
                        idx.append(p * n + c)  # rate c -> p, W[p, c]
            rows.append(idx)
        out.append(np.array(rows, dtype=np.intp).reshape(len(trees), n - 1))
    return tuple(out)


#: why a point has no steady state
NOT_UNIQUE = ("the steady state is not unique: the transition graph is disconnected "
              "(a lead coupling, or all rates of a transition, are zero)")


def _normalise(weights: Array) -> Array:
    """Normalise weights over the last axis; NaN rows where they cannot be (no unique steady state)."""
    Z = sum_last(weights, keepdims=True)
    bad = ~(Z > 0) | ~np.isfinite(Z)
    with np.errstate(all="ignore"):
        P = weights / Z
    P = np.where(bad, np.nan, P)
    P.setflags(write=False)
    return P


#: points per block of the matrix-tree kernel (the working set stays in the CPU cache)
_BLOCK = 32768


@dataclass(frozen=True)
class _Graph:
    """Everything the matrix-tree kernel needs about one network structure (cached).

    ``directed[d] = (a, b)``: row ``d`` of the edge-rate block is the rate ``a -> b``;
    rows ``2e`` and ``2e + 1`` are the two directions of undirected edge ``e``.
    ``agg_plus``/``agg_minus`` ``(n_directed, n_channels)`` sum ``k^+``/``k^-`` onto them;
    ``terms[root]`` ``(n_trees, n-1)`` are the directed rows of each in-tree of ``root``;
    ``ring`` (rings only) gives, per root, the rows ``f_q`` and ``g_q`` of the Horner form.
    """

    directed: tuple[tuple[int, int], ...]
    agg_plus: Array
    agg_minus: Array
    terms: tuple[NDArray[np.intp], ...]
    ring: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...] | None


@lru_cache(maxsize=64)
def _graph(key: tuple[int, tuple[int, ...], tuple[int, ...]]) -> _Graph:
    n, ci, cj = key
    undirected = _undirected(key)
    directed = tuple(e for a, b in undirected for e in ((a, b), (b, a)))
    pos = {e: k for k, e in enumerate(directed)}
    agg_plus = np.zeros((len(directed), len(ci)))
    agg_minus = np.zeros((len(directed), len(ci)))
    for c, (i, j) in enumerate(zip(ci, cj)):
        agg_plus[pos[(i, j)], c] = 1.0  # k^+: i -> j
        agg_minus[pos[(j, i)], c] = 1.0  # k^-: j -> i
    flat = _rooted_tree_terms(n, undirected)
    terms = tuple(np.vectorize(lambda f: pos[(f % n, f // n)], otypes=[np.intp])(idx) for idx in flat)
    order = _ring(n, undirected)
    ring = None
    if order is not None:
        ring = tuple(
            (c[0], tuple(pos[(c[q], c[(q + 1) % n])] for q in range(n)),
             tuple(pos[(c[(q + 1) % n], c[q])] for q in range(n)))
            for c in (order[r:] + order[:r] for r in range(n))
        )
    return _Graph(directed, agg_plus, agg_minus, terms, ring)


def _ring(n: int, undirected: tuple[tuple[int, int], ...]) -> tuple[int, ...] | None:
    """The states in cycle order if the transition graph is one ring (n >= 3), else None."""
    if n < 3 or len(undirected) != n:
        return None
    adj: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in undirected:
        adj[a].append(b)
        adj[b].append(a)
    if any(len(v) != 2 for v in adj.values()):
        return None
    order = [0, adj[0][0]]
    while len(order) < n:
        a, b = adj[order[-1]]
        order.append(a if a != order[-2] else b)
    return tuple(order) if order[0] in adj[order[-1]] else None


def _ring_weights(R: Array, ring: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...], w: Array) -> None:
    """In-tree sums of a ring, in Horner form.

    With the ring relabelled ``c_0 = root, c_1, ...``, ``f_q`` the rate
    ``c_q -> c_{q+1}`` and ``g_q`` the rate ``c_{q+1} -> c_q``, the in-trees
    towards ``c_0`` are the ring without one edge ``m``:
    ``w = sum_m (g_0 ... g_{m-1}) (f_{m+1} ... f_{n-1})``, evaluated as
    ``acc = f_1 + g_0; acc = acc f_q + g_0 ... g_{q-1}`` for q = 2 .. n-1.
    ``ring`` holds, per root, ``(root, rows of f_q, rows of g_q)`` in ``R``.
    """
    for root, f, g in ring:
        acc = w[root]
        np.add(R[f[1]], R[g[0]], out=acc)
        G = R[g[0]].copy()
        for q in range(2, len(f)):
            G *= R[g[q - 1]]
            acc *= R[f[q]]
            acc += G


def _tree_weights(R: Array, terms: tuple[NDArray[np.intp], ...], w: Array) -> None:
    """Sum over in-trees of each root of the product of their edge rates."""
    n = len(terms)
    for root, idx in enumerate(terms):
        acc = w[root]
        np.multiply(R[idx[0, 0]], R[idx[0, 1]] if n > 2 else 1.0, out=acc)
        for e in idx[0, 2:]:
            acc *= R[e]
        for tree in idx[1:]:
            prod = R[tree[0]] * R[tree[1]] if n > 2 else R[tree[0]].copy()
            for e in tree[2:]:
                prod *= R[e]
            acc += prod


@register_route("matrix_tree")
def steady_state_matrix_tree(net: Network, k: Rates) -> Array:
    """Closed-form steady state by the matrix-tree theorem, shape ``(*shape, n_states)``.

    ``P_i`` is the sum over spanning trees directed towards ``i`` of the
    product of their rates, normalised.  The batch is processed in blocks
    of :data:`_BLOCK` points laid out point-last, so every product is a
    contiguous vector operation; each point is scaled by its largest edge
    rate, so the products of ``n - 1`` rates cannot overflow or underflow.

    Parameters
    ----------
    net
        The network structure (gives the graph).
    k
        Channel rates [rate unit].
    """
    n = net.n_states
    shape = k.shape
    if n == 1:
        return _normalise(np.ones(shape + (1,)))
    if n > 8:
        raise ValueError(f"method='matrix_tree' supports at most 3 dots (8 states), got {n} states; "
                         "use method='linear'")
    graph = _graph(_graph_key(net))
    plus, minus = _flat_channels(k, k.plus), _flat_channels(k, k.minus)
    N = plus.shape[0]
    out = np.empty((n, N))  # state-major: every row is contiguous
    fragile = []
    with np.errstate(all="ignore"):  # flagged points are redone below
        for s in range(0, N, _BLOCK):
            sl = slice(s, min(s + _BLOCK, N))
            R = graph.agg_plus @ plus[sl].T  # (n_directed, B), C-contiguous
            R += graph.agg_minus @ minus[sl].T
            R /= R.max(axis=0)
            w = out[:, sl]
            if graph.ring is not None:
                _ring_weights(R, graph.ring, w)
            else:
                _tree_weights(R, graph.terms, w)
            low = ~(w.min(axis=0) >= _TINY)  # a weight near underflow (or NaN): redo in log space
            if np.any(low):
                fragile.append(s + np.flatnonzero(low))
            w /= w.sum(axis=0)
    if fragile:
        idx = np.concatenate(fragile)
        LQ = log_rate_matrix(net, k, idx)
        out[:, idx] = _log_matrix_tree(LQ, graph.directed, graph.terms).T
    P: Array = np.moveaxis(out.reshape((n,) + shape), 0, -1)
    P.setflags(write=False)
    return P


@register_route("linear")
def steady_state_linear(net: Network, k: Rates, W: Array | None = None) -> Array:
    """Steady state by batched Gaussian elimination, shape ``(*shape, n_states)``.

    Solves ``W P = 0``, ``sum_i P_i = 1`` by the Grassmann-Taksar-Heyman (GTH)
    form of Gaussian elimination: states are eliminated one by one, the
    diagonal is never used (each pivot is the sum of the remaining outgoing
    rates), so no subtraction occurs and every population, however small,
    carries full relative precision.  Vectorised over the batch; the loop
    runs over the ``n_states`` states only.  Each point is scaled by its
    largest rate first; points whose rates span more than 1e-140 (or
    underflow: extreme ``|w - mu|/T``) are eliminated in log space instead.

    Parameters
    ----------
    net
        The network structure.
    k
        Channel rates [rate unit].
    W
        Rate matrix ``(*shape, n, n)`` [rate unit] (``W[j, i]`` = rate ``i -> j``);
        built from ``k`` if not given.
    """
    n = net.n_states
    shape = k.shape
    if n == 1:
        return _normalise(np.ones(shape + (1,)))
    W = rate_matrix(net, k) if W is None else np.broadcast_to(W, shape + (n, n))
    Q = np.swapaxes(W, -1, -2).reshape(-1, n, n).copy()  # Q[i, j] = rate i -> j
    Q[:, np.arange(n), np.arange(n)] = 0.0
    pivot = np.empty((Q.shape[0], n))
    P = np.empty((Q.shape[0], n))
    with np.errstate(all="ignore"):  # flagged points are redone below
        Q /= np.max(Q, axis=(-2, -1), keepdims=True)
        for m in range(n - 1, 0, -1):
            pivot[:, m] = Q[:, m, :m].sum(axis=-1)
            Q[:, :m, :m] += Q[:, :m, m, None] * (Q[:, m, None, :m] / pivot[:, m, None, None])
        P[:, 0] = 1.0
        for m in range(1, n):
            P[:, m] = np.einsum("...i,...i->...", P[:, :m], Q[:, :m, m]) / pivot[:, m]
    # fragile points: a rate near underflow relative to the largest, or a failed elimination
    g, plus, minus = (_flat_channels(k, a) for a in (k.coupling, k.plus, k.minus))
    kmax = np.max(np.maximum(plus, minus), axis=-1, keepdims=True)
    fragile = np.any((g > 0) & ~(np.minimum(plus, minus) >= _TINY_RATE * kmax), axis=-1)
    fragile |= ~np.all(np.isfinite(P), axis=-1)
    if np.any(fragile):
        idx = np.flatnonzero(fragile)
        P[idx] = _log_gth(log_rate_matrix(net, k, idx))
    return _normalise(P.reshape(shape + (n,)))


# ------------------------------------------------------------------ log space
#: a matrix-tree weight below this (relative to the largest rate) is redone in log space
_TINY = 1e-290
#: a channel rate below this times the point's largest rate sends the GTH elimination to log space
_TINY_RATE = 1e-140


def _flat_channels(k: Rates, a: Array) -> Array:
    """A channel array as ``(n_points, n_channels)`` (a view where possible)."""
    n_ch = k.plus.shape[-1]
    return np.broadcast_to(a, k.shape + (n_ch,)).reshape(-1, n_ch)


def log_rate_matrix(net: Network, k: Rates, points: NDArray[np.intp]) -> Array:
    """``(len(points), n, n)`` logarithms of the rates ``i -> j`` at the flat batch ``points``.

    Computed from ``ln Gamma`` and ``(w - mu)/T`` directly:
    ``ln k^+ = ln Gamma - ln(1 + e^x)``, ``ln k^- = ln Gamma - ln(1 + e^-x)``,
    ``x = (w - mu)/T``, so they are exact where the rates themselves underflow;
    ``-inf`` where there is no transition.
    """
    n = net.n_states
    x = -_flat_channels(k, k.log_ratio)[points]
    with np.errstate(divide="ignore"):
        log_gamma = np.log(_flat_channels(k, k.coupling)[points])
    log_plus = log_gamma - np.logaddexp(0.0, x)
    log_minus = log_gamma - np.logaddexp(0.0, -x)
    LQ = np.full((len(points), n, n), -np.inf)
    for c, (i, j) in enumerate(zip(net.initial, net.final)):
        LQ[:, i, j] = np.logaddexp(LQ[:, i, j], log_plus[:, c])
        LQ[:, j, i] = np.logaddexp(LQ[:, j, i], log_minus[:, c])
    return LQ


def _log_normalise(logw: Array) -> Array:
    """``exp(logw)`` normalised over the last axis; NaN rows where impossible (no unique steady state)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        logZ = logsumexp(logw, axis=-1, keepdims=True)
        P = np.exp(logw - logZ)
    return np.where(np.isfinite(logZ), P, np.nan)


def _log_gth(LQ: Array) -> Array:
    """GTH elimination in log space (only sums and products of positive numbers)."""
    n = LQ.shape[-1]
    LQ = LQ.copy()
    LQ[:, np.arange(n), np.arange(n)] = -np.inf
    pivot = np.empty(LQ.shape[:-1])
    logP = np.empty(LQ.shape[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        for m in range(n - 1, 0, -1):
            pivot[:, m] = logsumexp(LQ[:, m, :m], axis=-1)
            LQ[:, :m, :m] = np.logaddexp(LQ[:, :m, :m],
                                         LQ[:, :m, m, None] + LQ[:, m, None, :m] - pivot[:, m, None, None])
        logP[:, 0] = 0.0
        for m in range(1, n):
            logP[:, m] = logsumexp(logP[:, :m] + LQ[:, :m, m], axis=-1) - pivot[:, m]
    # a pivot of -inf (no way down from a state: reducible chain) leaves NaN/inf: reported as not unique
    return _log_normalise(logP)


def _log_matrix_tree(LQ: Array, directed: tuple[tuple[int, int], ...],
                     terms: tuple[NDArray[np.intp], ...]) -> Array:
    """Matrix-tree weights in log space: log-sum over in-trees of summed log rates."""
    LR = np.stack([LQ[:, a, b] for a, b in directed], axis=-1)  # (M, n_directed)
    with np.errstate(invalid="ignore", divide="ignore"):
        logw = np.stack([logsumexp(LR[:, idx].sum(axis=-1), axis=-1) for idx in terms], axis=-1)
    return _log_normalise(logw)


@register_route("sparse")
def _sparse_auto(net: Network, k: Rates) -> Array:
    """Sparse solve, direct or iterative by size (:func:`~qdthermo.kinetics.sparse.steady_state_sparse`).

    Points that it cannot bring within its residual, or whose solutions from several reference states
    disagree (metastable charge states at low temperature), are redone by the dense GTH route
    (:func:`steady_state_linear`, with its log-space fallback; entrywise accurate) up to
    :data:`_DENSE_FALLBACK_STATES` states, in blocks of at most :data:`_DENSE_MAX_BYTES` of work array;
    the sparse route's :class:`~qdthermo.kinetics.sparse.ConvergenceWarning` is raised only if some stay
    unsolved.
    """
    if net.n_states > _DENSE_FALLBACK_STATES:
        return steady_state_sparse(net, k)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        P, residual = steady_state_sparse(net, k)
    missed = np.isfinite(residual) & ~np.all(np.isfinite(P), axis=-1)  # solved, but not within the residual
    if np.any(missed):
        P = np.array(P)
        flat = np.flatnonzero(missed)
        block = max(1, int(_DENSE_MAX_BYTES // (8 * net.n_states**2)))
        parts = [np.broadcast_to(a, k.shape + a.shape[-1:]).reshape(-1, a.shape[-1])
                 for a in (k.plus, k.minus, k.log_ratio, k.coupling)]
        out = P.reshape(-1, net.n_states)
        for start in range(0, len(flat), block):
            points = flat[start:start + block]
            out[points] = steady_state_linear(net, Rates(*(a[points] for a in parts)))
        missed = ~np.all(np.isfinite(out), axis=-1) & np.isfinite(residual.reshape(-1))
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning) or np.any(missed):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return P


@register_route("sparse_direct")
def _sparse_direct(net: Network, k: Rates) -> Array:
    """Sparse LU of the reduced system."""
    return steady_state_sparse(net, k, solver="direct")[0]


@register_route("sparse_iterative")
def _sparse_iterative(net: Network, k: Rates) -> Array:
    """BiCGSTAB with a Jacobi preconditioner (GMRES + ILU fallback)."""
    return steady_state_sparse(net, k, solver="iterative")[0]


#: the automatic choice uses the dense batched GTH route while its (points x n x n) work array stays below this
_DENSE_MAX_BYTES = 1 << 30
#: ... and while the network has at most this many states
_DENSE_MAX_STATES = 256
#: points the sparse route cannot solve are redone by the dense route up to this many states (10 dots)
_DENSE_FALLBACK_STATES = 1024


#: from this many points, ``"auto"`` takes the compiled route where Numba is available (kinetics/compiled.py)
COMPILED_MIN_POINTS = 1_000_000


def choose_route(net: Network, n_points: int = 1) -> str:
    """The route ``"auto"`` picks for ``n_points`` points.

    The compiled route (``"compiled"``: GTH elimination in machine code, and in
    ``qd.solve`` every observable in the same pass) for batches of at least
    :data:`COMPILED_MIN_POINTS` points of up to 256 states where Numba is
    available: there its one-off cost (compiling, or loading the on-disk cache)
    is small against the time it saves (benchmarks/kernels.py).  Otherwise
    the matrix tree when its closed form is small (the paper's device), the
    dense batched GTH elimination while its ``(points, n, n)`` work array
    fits in 1 GiB and ``n <= 256`` (8 dots), the sparse route otherwise: the
    ``O(n^3)`` elimination of one point of 9 dots already takes ~0.2 s
    against ~10 ms sparse (benchmarks/large_networks.py).
    """
    n = net.n_states
    if n_points >= COMPILED_MIN_POINTS and 1 < n <= _DENSE_MAX_STATES and "compiled" in STEADY_STATE_ROUTES \
            and _compiled.available():
        return "compiled"
    if n > _DENSE_MAX_STATES or 8.0 * n * n * n_points > _DENSE_MAX_BYTES:
        return "sparse"
    try:
        if n > 8:
            raise ValueError("too many states for the matrix-tree route")
        n_terms = n * len(spanning_trees(n, _undirected(_graph_key(net)), 1000)) * (n - 1)
    except ValueError:
        n_terms = _MATRIX_TREE_MAX_TERMS + 1
    return "matrix_tree" if n_terms <= _MATRIX_TREE_MAX_TERMS else "linear"


def steady_state(net: Network, k: Rates, *, method: Method | str = Method.AUTO) -> tuple[Array, str]:
    """Steady-state populations ``(*shape, n_states)`` and the name of the route that computed them.

    Points without a unique steady state are NaN rows (see the module docstring).
    """
    name = Method.parse(method)
    if name == "auto":
        name = choose_route(net, int(np.prod(k.shape)) if k.shape else 1)
    return STEADY_STATE_ROUTES[name](net, k), name

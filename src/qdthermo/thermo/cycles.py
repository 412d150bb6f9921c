"""Schnakenberg cycle decomposition: microscopic forces from the rates alone.

The transition graph has the many-body states as nodes and one edge per
channel (lead, i -> j).  A spanning tree is chosen by Kruskal's rule,
preferring the channels of the reference leads (the force basis' references,
:mod:`qdthermo.thermo.forces`), then the remaining channels in device order;
each remaining channel (a *chord*) closes one fundamental cycle: the chord
traversed in its excitation direction ``i -> j`` followed by the tree path
from ``j`` back to ``i``.

For the paper's device (reference ``b``) the tree is {1-2 via b, 3-4 via b,
1-3 via r} and the chords are 1->2 via t (C1), 3->4 via t (C2), 2->4 via r
(C3), as in PHYSICS.md section 6.

* cycle flux = net flux of the chord [rate];
* cycle affinity = ``sum_e s_e ln(k_e^+/k_e^-)`` over the cycle's edges,
  ``s_e = +1`` when the edge is traversed in its excitation direction
  [dimensionless; from the rates alone];
* at steady state ``Sigma_dot = sum_c flux_c affinity_c``;
* ``affinity = M F`` with the macroscopic forces F: ``M[c, k]`` sums
  ``s_e w_e`` (energy force of the edge's lead) or ``s_e`` (particle force)
  over the cycle's edges.  ``microscopic_forces`` inverts this map (least
  squares, NaN where M has not full column rank, e.g. U_eff = 0 in the paper's
  device or the tightly coupled single dot).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._unionfind import DisjointSet
from qdthermo.kinetics.rates import Rates
from qdthermo.model.system import System
from qdthermo.thermo.forces import ForceBasis

__all__ = ["CycleBasis", "cycle_basis", "Cycles", "least_squares_forces", "COMPILED_MIN_POINTS"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CycleBasis:
    """Spanning tree and fundamental cycles of a system's transition graph.

    Attributes
    ----------
    tree
        Channel indices of the spanning tree.
    chords
        Channel index of each cycle's chord.
    incidence
        ``(n_cycles, n_channels)`` signs ``s_e`` (0 if the channel is not in the cycle).
    labels
        ``"C1"``, ``"C2"``, ...
    descriptions
        The cycles as state paths, e.g. ``"00 -t-> 10 -b-> 00"``.

    Examples
    --------
    >>> import qdthermo as qd
    >>> from qdthermo.thermo import cycle_basis
    >>> res = qd.solve(qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5))
    >>> cb = cycle_basis(res.system, res.force_basis)
    >>> cb.labels, cb.incidence.shape
    (('C1', 'C2', 'C3'), (3, 6))
    """

    tree: tuple[int, ...]
    chords: tuple[int, ...]
    incidence: NDArray[np.float64]
    labels: tuple[str, ...]
    descriptions: tuple[str, ...]


def cycle_basis(system: System, basis: ForceBasis) -> CycleBasis:
    """Fundamental cycles of ``system`` with the reference leads of ``basis`` preferred in the tree.

    Parameters
    ----------
    system
        A finalized system (:meth:`qdthermo.Device.finalized`).
    basis
        Its force basis (:func:`force_basis`).

    Returns
    -------
    CycleBasis
        The spanning tree, the fundamental cycles and the cycle -> force map.

    Examples
    --------
    The paper's device: one cycle through dot L at each occupation of R, and
    the cycle that moves energy U between leads r and b:

    >>> import qdthermo as qd
    >>> from qdthermo.thermo import cycle_basis
    >>> res = qd.solve(qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5))
    >>> cycle_basis(res.system, res.force_basis).descriptions
    ('00 -t-> 10 -b-> 00', '01 -t-> 11 -b-> 01', '10 -r-> 11 -b-> 01 -r-> 00 -b-> 10')
    """
    n, C = system.n_states, system.n_channels
    ref = system.lead_names.index(system.reference_lead)
    preferred = list(dict.fromkeys([ref] + [int(r) for r in basis.reference]))
    order = [c for r in preferred for c in range(C) if system.channel_lead[c] == r]
    order += [c for c in range(C) if c not in order]
    forest = DisjointSet(n)
    tree: list[int] = []
    chords: list[int] = []
    for c in order:
        # merge() is False when the channel closes a loop: a chord of the spanning tree
        (tree if forest.merge(int(system.channel_initial[c]), int(system.channel_final[c])) else chords).append(c)
    chords.sort()
    adj: dict[int, list[tuple[int, int, int]]] = {k: [] for k in range(n)}
    for c in tree:
        i, j = int(system.channel_initial[c]), int(system.channel_final[c])
        adj[i].append((j, c, +1))
        adj[j].append((i, c, -1))
    inc = np.zeros((len(chords), C))
    desc = []
    leads, labels = system.lead_names, system.state_labels
    for row, chord in enumerate(chords):
        i, j = int(system.channel_initial[chord]), int(system.channel_final[chord])
        inc[row, chord] = 1.0
        path = _tree_path(adj, j, i)  # list of (node_from, node_to, channel, sign)
        text = f"{labels[i]} -{leads[system.channel_lead[chord]]}-> {labels[j]}"
        for _, dst, c, s in path:
            inc[row, c] += s
            text += f" -{leads[system.channel_lead[c]]}-> {labels[dst]}"
        desc.append(text)
    inc.setflags(write=False)
    return CycleBasis(tuple(tree), tuple(chords), inc,
                      tuple(f"C{k + 1}" for k in range(len(chords))), tuple(desc))


def _tree_path(adj: dict[int, list[tuple[int, int, int]]], start: int, goal: int) -> list[tuple[int, int, int, int]]:
    prev: dict[int, tuple[int, int, int]] = {start: (-1, -1, 0)}
    stack = [start]
    while stack:
        u = stack.pop()
        for v, c, s in adj[u]:
            if v not in prev:
                prev[v] = (u, c, s)
                stack.append(v)
    path = []
    v = goal
    while v != start:
        u, c, s = prev[v]
        path.append((u, v, c, s))
        v = u
    return path[::-1]


@dataclass(frozen=True, eq=False)
class Cycles:
    """Cycle fluxes, affinities and the cycle -> force map of a solved state.

    Attributes
    ----------
    basis
        The :class:`CycleBasis`.
    flux
        ``(*shape, n_cycles)`` chord fluxes [rate].
    affinity
        ``(*shape, n_cycles)`` affinities from the rates [dimensionless].
    force_map
        ``(*shape, n_cycles, n_forces)`` M with ``affinity = M @ forces``.
    force_names
        Names of the forces (columns of M).

    Examples
    --------
    Schnakenberg: each cycle affinity is a combination of the forces.

    >>> import numpy as np, qdthermo as qd
    >>> res = qd.solve(qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0}))
    >>> cy = res.cycles
    >>> cy.force_names, np.round(cy.affinity, 6) + 0.0
    (('F_E', 'F_R', 'F_N'), array([0.5 , 0.75, 0.  ]))
    >>> bool(np.allclose(cy.affinity, cy.force_map @ res.force_array))
    True
    """

    basis: CycleBasis
    flux: Array
    affinity: Array
    force_map: Array
    force_names: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Cycle labels ``C1, C2, ...``."""
        return self.basis.labels

    @cached_property
    def entropy_production(self) -> Array:
        """``sum_c flux_c affinity_c`` [k_B x rate] (equals Sigma_dot at steady state)."""
        out = np.asarray((self.flux * self.affinity).sum(axis=-1))
        out.setflags(write=False)
        return out

    @cached_property
    def microscopic_forces(self) -> Array:
        """Forces ``(*shape, n_forces)`` solved from the affinities (least squares, :func:`least_squares_forces`).

        NaN where the map is rank-deficient (forces not determined by the cycles).
        """
        out = least_squares_forces(self.force_map, self.affinity)
        out.setflags(write=False)
        return out


#: ``engine="auto"`` of :func:`least_squares_forces` takes the compiled route from this many points: LAPACK's
#: SVD costs ~2.3 us a point however small the map (0.43 M points/s on the paper's device), the compiled Jacobi
#: SVD 7.5 M points/s, and its one-off cost (importing Numba, loading the kernel) is ~0.5 s
#: (``benchmarks/results/cycles.json``)
COMPILED_MIN_POINTS = 200_000


def least_squares_forces(M: Array, affinity: Array, *, engine: str = "auto") -> Array:
    """Least-squares forces ``F`` of ``affinity = M F`` per point, NaN where ``M`` has not full column rank.

    Parameters
    ----------
    M : ndarray, shape (*batch, n_cycles, n_forces)
        Force map (units of affinity over force).
    affinity : ndarray, shape (*batch, n_cycles)
        Cycle affinities (dimensionless).
    engine : {"auto", "numpy", "compiled"}
        ``"numpy"``: LAPACK's SVD (each distinct map once, :func:`_svd_of_distinct`); ``"compiled"``: one-sided
        Jacobi SVD per point (:mod:`qdthermo.thermo._cycles_kernel`; where Numba is unavailable, the NumPy
        route); ``"auto"``: the compiled route from :data:`COMPILED_MIN_POINTS` points.  Both give the same
        forces to round-off times the condition number of ``M``.

    Returns
    -------
    ndarray, shape (*batch, n_forces)
        NaN where a singular value of ``M`` is at most 1e-12 of the largest (or all are 0), where ``M`` has
        fewer cycles than forces, and where ``M`` or the affinities are not finite.
    """
    if engine not in ("auto", "numpy", "compiled"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'compiled', got {engine!r}")
    n_forces = M.shape[-1]
    batch = np.broadcast_shapes(M.shape[:-2], affinity.shape[:-1])
    if min(M.shape[-2:]) < n_forces:
        return np.full(batch + (n_forces,), np.nan)
    from qdthermo import _compiled

    n_points = int(np.prod(batch))
    if _compiled.available() and (engine == "compiled" or (engine == "auto" and n_points >= COMPILED_MIN_POINTS)):
        from qdthermo.thermo._cycles_kernel import least_squares_compiled

        return least_squares_compiled(M, affinity)
    finite = np.all(np.isfinite(M), axis=(-2, -1))
    if not np.all(finite):  # LAPACK fails on the whole batch: a map of zeros there (NaN below)
        M = np.where(finite[..., None, None], M, 0.0)
    u, s, vt = _svd_of_distinct(M)
    smax = s[..., :1]
    ok = np.all(s > 1e-12 * np.where(smax > 0, smax, 1.0), axis=-1) & (smax[..., 0] > 0)
    ok &= np.all(np.isfinite(affinity), axis=-1)
    s_safe = np.where(s > 0, s, 1.0)
    coeff = np.einsum("...ki,...k->...i", u, affinity) / s_safe
    F = np.einsum("...ik,...i->...k", vt, coeff)
    return np.asarray(np.where(ok[..., None], F, np.nan))


def distinct_rows(flat: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Group the rows of a 2-D array by their exact bit pattern: ``(first, inverse)``.

    ``flat[first]`` are the distinct rows (each once, in the order of their
    bytes) and ``flat[first][inverse]`` is ``flat`` bit for bit.  Rows that
    differ in any bit (``0.0`` and ``-0.0``, two NaN payloads) are distinct.
    A fast 64-bit hash of the row's words is grouped first and the grouping
    checked exactly; on a hash collision the rows' bytes are sorted instead
    (``np.unique`` on a void view).

    Parameters
    ----------
    flat
        ``(n, m)`` array of any fixed-size dtype.

    Returns
    -------
    first, inverse
        Index of one row per group, and the group of every row.
    """
    rows = np.ascontiguousarray(flat)
    n = rows.shape[0]
    raw = rows.reshape(n, -1).view(np.uint8).reshape(n, -1)
    if raw.shape[1] % 8 == 0:
        words = raw.view(np.uint64)
        h = words[:, 0].copy() if words.shape[1] else np.zeros(n, dtype=np.uint64)
        for j in range(1, words.shape[1]):
            h = (h * np.uint64(0x100000001B3)) ^ words[:, j]
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        if np.array_equal(raw[first][inverse.ravel()], raw):
            return first, inverse.ravel()
    _, first, inverse = np.unique(raw.view(np.dtype((np.void, raw.shape[1]))).ravel(), return_index=True,
                                  return_inverse=True)
    return first, inverse.ravel()


def _svd_of_distinct(M: Array) -> tuple[Array, Array, Array]:
    """``np.linalg.svd(M, full_matrices=False)`` of a batch, each distinct matrix decomposed once.

    The force map depends only on the state energies, which most batches
    (force planes, cuts) share between many points; the SVD of a small matrix
    costs ~3 us, so a 10^5-point batch spent a quarter second on copies of a few
    matrices.  The matrices are grouped by their exact bit pattern
    (:func:`distinct_rows`), so the result is identical to the batched call (the
    same LAPACK routine on the same matrices), gathered back to ``M``'s batch shape.
    """
    batch = M.shape[:-2]
    flat = np.ascontiguousarray(M, dtype=np.float64).reshape(-1, *M.shape[-2:])
    if flat.shape[0] < 64:
        return np.linalg.svd(M, full_matrices=False)  # type: ignore[return-value]
    first, inverse = distinct_rows(flat.reshape(flat.shape[0], -1))
    if 2 * first.size > flat.shape[0]:
        return np.linalg.svd(M, full_matrices=False)  # type: ignore[return-value]
    u, s, vt = np.linalg.svd(flat[first], full_matrices=False)
    return (u[inverse].reshape(batch + u.shape[1:]), s[inverse].reshape(batch + s.shape[1:]),
            vt[inverse].reshape(batch + vt.shape[1:]))


def cycles(system: System, k: Rates, flux: Array, basis: ForceBasis, cb: CycleBasis) -> Cycles:
    """Evaluate the cycle quantities of a solved system."""
    inc = cb.incidence
    affinity = k.log_ratio @ inc.T
    chord_flux = flux[..., list(cb.chords)]
    # force map: energy forces get s_e w_e, particle forces s_e, summed over edges of that lead
    n_forces = len(basis.keys)
    lead_of_channel = system.channel_lead
    M = np.zeros(system.shape + (len(cb.chords), n_forces))
    for f in range(n_forces):
        mask = (lead_of_channel == basis.lead[f]).astype(float)
        weights = inc * mask  # (n_cycles, n_channels)
        if basis.kind[f] == "E":
            M[..., f] = system.channel_energy @ weights.T
        else:
            M[..., f] = weights.sum(axis=-1)
    for a in (affinity, chord_flux, M):
        a.setflags(write=False)
    return Cycles(basis=cb, flux=chord_flux, affinity=affinity, force_map=M,
                  force_names=basis.force_names)

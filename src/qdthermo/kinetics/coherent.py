"""Lindblad master equations for dots with coherent interdot tunnelling (dense, batch-first).

Two Born-Markov approaches, both of Lindblad form ``d rho/dt = -i[H, rho] + sum_nu D_nu(rho)``
(``hbar = 1``: energies and rates in the same unit), with one dissipator per lead ``nu``
attached to dot ``d``:

``"global"``
    Secular master equation in the eigenbasis of the full dots' Hamiltonian
    ``H``.  The lead-coupled operator ``c_d^+`` is split into eigen-transitions
    ``A(w) = sum_{E_a - E_b = w} |a><a| c_d^+ |b><b|``; each Bohr frequency
    ``w`` (equal frequencies grouped within a tolerance) gets the jump
    operators ``A(w)`` at rate ``Gamma f(w)`` (electron enters) and
    ``A(w)^+`` at rate ``Gamma (1 - f(w))`` (electron leaves).  Each
    dissipator has the lead's grand-canonical Gibbs state as a fixed point,
    hence Gibbs at equilibrium and Spohn's inequality.
``"local"``
    The same construction on the *bare* Hamiltonian (tunnelling dropped,
    ``E_ref = System.energies``): jumps ``c_d^+`` split only by the
    capacitive configuration of the other dots, at the bare transition
    energies (``eps_d`` for a non-interacting dot), while the coherent part
    keeps the full ``H``.  Not thermodynamically consistent (docs/coherent.md).

Row-major vectorisation: ``vec(rho)[a n + c] = rho_ac``; superoperators are
``(*shape, n^2, n^2)``.  The steady state is the null vector with unit trace
(a batched linear solve with one row replaced by the trace condition, in real
Hermitian coordinates, up to 8 states; one sparse LU per point on the equal-N
block from 16 states, :mod:`qdthermo.kinetics.coherent_block`);
currents are ``J_X^nu = Tr[X D_nu(rho)]`` (positive from the lead into the
system).  Everything is built in a *working basis* (the eigenbasis for
``"global"``, the occupation basis for ``"local"``) and returned in the
occupation basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._special import expit
from qdthermo.kinetics.coherent_block import BlockIndex, block_index, dense_block, steady_state_sparse
from qdthermo.kinetics.counting import trace_cumulants
from qdthermo.kinetics.evolve import propagate
from qdthermo.kinetics.hamiltonian import annihilators, hamiltonian, number_operator
from qdthermo.kinetics.rates import fermi_argument

if TYPE_CHECKING:  # scipy.sparse is imported where it is used (it costs ~0.2 s)
    import scipy.sparse as sp
from qdthermo.model.system import System

__all__ = ["APPROACHES", "COHERENT_METHODS", "CoherentGenerator", "coherent_generator", "choose_coherent_route",
           "DEGENERACY_TOLERANCE", "SPARSE_MIN_STATES"]

Array = NDArray[np.float64]
CArray = NDArray[np.complex128]

#: the density-matrix approaches
APPROACHES = ("global", "local", "unified")

#: points per chunk of the steady-state assembly and solve (arrays of a chunk stay in cache)
STEADY_CHUNK = 2048

#: networks with at least this many states solve the steady state by the sparse route (``method="auto"``);
#: the dense route's maps cost O(n^6) to build (2 s for 8 states, minutes for 16)
SPARSE_MIN_STATES = 16

#: the steady-state routes of the density-matrix approaches
COHERENT_METHODS = ("auto", "dense", "sparse")


def choose_coherent_route(n_states: int, method: str = "auto") -> str:
    """``"dense"`` or ``"sparse"`` for ``method`` (one of :data:`COHERENT_METHODS`) and the network size."""
    if method not in COHERENT_METHODS:
        raise ValueError(f"method must be one of {list(COHERENT_METHODS)} for the density-matrix approaches, "
                         f"got {method!r}")
    if method == "auto":
        return "sparse" if n_states >= SPARSE_MIN_STATES else "dense"
    return method


#: eigen-transitions with an amplitude ``|A_p|`` below this are not coupled to the lead (unified clustering)
ACTIVE_AMPLITUDE = 1e-12

#: Bohr frequencies closer than this (relative to 1 + max |E|) are one frequency (secular grouping): thousands of
#: times the round-off of eigenvalues (``eps max|E|``), so exact degeneracies group, while splittings that
#: matter stay apart even beside a huge energy (an "infinite" U = 1e7; 1e-8 merged a splitting of 8e-3 there)
DEGENERACY_TOLERANCE = 1e-12


def _lead_gamma(lead: Any, w: Array, shape: tuple[int, ...]) -> Array:
    """Tunnel coupling of a lead on the transition energies ``w`` (``(*shape, P)``)."""
    c = lead.coupling
    if callable(c):
        with np.errstate(all="ignore"):
            g = np.asarray(c(w), dtype=np.float64)
        g = np.broadcast_to(g, w.shape)
        if not np.all(np.isfinite(g)) or np.any(g < 0):
            raise ValueError(f"gamma[{lead.name!r}]: the coupling function must be finite and >= 0")
        return g
    if isinstance(c, Mapping):
        raise ValueError(f"gamma[{lead.name!r}]: couplings by transition label are defined for the Pauli "
                         "approach only; give one value (or a callable Gamma(w)) for the density-matrix approaches")
    return np.broadcast_to(np.asarray(c)[..., None], shape + w.shape[-1:])


@dataclass(frozen=True, eq=False)
class _SparseMap:
    """A fixed sparse linear map ``out[..., t] += sum coef * src[..., s]``, applied in layers of distinct targets."""

    layers: tuple[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any]], ...]
    n_out: int

    @classmethod
    def build(cls, entries: list[tuple[int, int, complex]], n_out: int) -> "_SparseMap":
        merged: dict[tuple[int, int], complex] = {}
        for src, tgt, coef in entries:
            merged[(src, tgt)] = merged.get((src, tgt), 0.0) + coef
        layers: list[list[tuple[int, int, complex]]] = []
        for (src, tgt), coef in merged.items():
            if coef == 0:
                continue
            for layer in layers:
                if all(t != tgt for _, t, _ in layer):
                    layer.append((src, tgt, coef))
                    break
            else:
                layers.append([(src, tgt, coef)])
        out = []
        for layer in layers:
            src_i = np.array([e[0] for e in layer], dtype=np.intp)
            tgt_i = np.array([e[1] for e in layer], dtype=np.intp)
            coefs = np.array([e[2] for e in layer])
            if np.all(coefs.imag == 0):
                coefs = coefs.real
            out.append((src_i, tgt_i, coefs))
        return cls(tuple(out), n_out)

    def apply(self, src: NDArray[Any], dtype: Any = float) -> NDArray[Any]:
        """``(..., n_out)`` from ``src`` ``(..., n_src)`` (rows of the point-last transpose: contiguous gathers)."""
        batch = src.shape[:-1]
        out = self.apply_transposed(np.ascontiguousarray(src.reshape(-1, src.shape[-1]).T), dtype)
        return out.T.reshape(batch + (self.n_out,))

    def apply_transposed(self, src_t: NDArray[Any], dtype: Any = float) -> NDArray[Any]:
        """Point-last form: ``(n_out, m)`` from ``(n_src, m)``."""
        out = np.zeros((self.n_out, src_t.shape[1]), dtype=dtype)
        for src_i, tgt_i, coefs in self.layers:
            out[tgt_i] += coefs[:, None] * src_t[src_i]
        return out


@dataclass(frozen=True, eq=False)
class _Maps:
    """The fixed maps from the per-point values to the dense Liouvillians (built once per number of dots)."""

    #: ``[jumps in (P^2), jumps out (P^2), H_eff (n^2), conj(H_eff) (n^2)]`` -> Liouvillian ``(n^4)``,
    #: ``H_eff = H - i K / 2``
    to_liouvillian: _SparseMap
    #: ``[jumps (2 P^2), H (n^2), K (n^2)]`` (all real) -> the real Liouvillian ``T L T^-1`` ``(n^4)`` acting on
    #: ``u = T vec(rho) = [rho_aa, Re rho_ac (a < c), Im rho_ac (a < c)]`` (Hermitian rho <-> n^2 real numbers)
    to_real_liouvillian: _SparseMap
    #: ``(n^2, n^2)`` complex ``T^-1``: ``vec(rho) = T^-1 u``
    from_real: NDArray[np.complex128]
    #: the same real Liouvillian restricted to the coordinates ``rho_ac`` with ``N_a = N_c`` (``k`` of them):
    #: H and every jump conserve N, so this block decouples and holds the steady state (superselection)
    to_real_block: _SparseMap
    #: ``(n^2, k)`` complex: ``vec(rho) = from_real_block @ u_block``
    from_real_block: NDArray[np.complex128]


@dataclass(frozen=True, eq=False)
class _Structure:
    """Index structure of the jumps, the same at every point: the pairs ``(a, b)`` with ``N_a = N_b + 1``.

    Every ``c_d^+`` in any particle-number-conserving basis lives on these pairs, so the jump
    superoperator ``L rho L^+`` of a lead only touches the ``P^2`` entries
    ``[(a_p, a_q), (b_p, b_q)]`` (in-jumps) and ``[(b_p, b_q), (a_p, a_q)]`` (out-jumps).
    The dense maps (:class:`_Maps`) cost ``O(n^6)`` to build and are made on first use only
    (the dense route: up to :data:`SPARSE_MIN_STATES` states).
    """

    n_dots: int
    n: int
    a: NDArray[np.intp]
    b: NDArray[np.intp]
    flat_in: NDArray[np.intp]
    flat_out: NDArray[np.intp]
    #: ``(n^2, 2 P^2)`` sparse: pair products of in- and out-jumps -> ``K = sum L^+ L``
    to_k: sp.csr_matrix

    @cached_property
    def maps(self) -> _Maps:
        """The dense maps (built on first use)."""
        return _dense_maps(self)

    @property
    def to_liouvillian(self) -> _SparseMap:
        return self.maps.to_liouvillian

    @property
    def to_real_block(self) -> _SparseMap:
        return self.maps.to_real_block

    @property
    def from_real_block(self) -> NDArray[np.complex128]:
        return self.maps.from_real_block

    @cached_property
    def block_index(self) -> NDArray[np.intp]:
        """Flat indices ``a n + c`` of the entries ``rho_ac`` with ``N_a = N_c`` (the equal-N block)."""
        N = np.array([bin(s).count("1") for s in range(self.n)])
        return np.flatnonzero((N[:, None] == N[None, :]).ravel()).astype(np.intp)

    def apply_k(self, flat: Array) -> Array:
        """``(..., n^2)`` K from ``(..., 2 P^2)`` pair products."""
        m = flat.reshape(-1, flat.shape[-1])
        return np.asarray(self.to_k @ m.T).T.reshape(flat.shape[:-1] + (self.n * self.n,))


@lru_cache(maxsize=16)
def _structure(n_dots: int) -> _Structure:
    n = 2**n_dots
    N = np.array([bin(s).count("1") for s in range(n)])
    a, b = np.nonzero(N[:, None] == N[None, :] + 1)
    n2 = n * n
    P = len(a)
    P2 = P * P
    flat_in = ((a[:, None] * n + a[None, :]) * n2 + b[:, None] * n + b[None, :]).ravel()
    flat_out = ((b[:, None] * n + b[None, :]) * n2 + a[:, None] * n + a[None, :]).ravel()
    p, q = (x.ravel() for x in np.meshgrid(np.arange(P), np.arange(P), indexing="ij"))
    m_in, m_out = a[p] == a[q], b[p] == b[q]  # in-jumps |a><b|: L^+ L = |b_p><b_q|; out-jumps: |a_p><a_q|
    rows = np.concatenate([b[p[m_in]] * n + b[q[m_in]], a[p[m_out]] * n + a[q[m_out]]])
    cols = np.concatenate([(p * P + q)[m_in], P2 + (p * P + q)[m_out]])
    import scipy.sparse as sp

    to_k = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n2, 2 * P2))
    return _Structure(n_dots, n, a.astype(np.intp), b.astype(np.intp), flat_in.astype(np.intp),
                      flat_out.astype(np.intp), to_k)


def _dense_maps(st: _Structure) -> _Maps:
    n, a, flat_in, flat_out = st.n, st.a, st.flat_in, st.flat_out
    N = np.array([bin(s).count("1") for s in range(n)])
    n2 = n * n
    P = len(a)
    P2 = P * P
    l_entries: list[tuple[int, int, complex]] = [(k, int(t), 1.0) for k, t in enumerate(flat_in)]
    l_entries += [(P2 + k, int(t), 1.0) for k, t in enumerate(flat_out)]
    for x in range(n):  # -i (H_eff rho - rho H_eff^+): [(x, c), (z, c)] -i H_xz ; [(c, x), (c, z)] +i conj(H)_xz
        for z in range(n):
            if N[x] != N[z]:
                continue
            for c in range(n):
                l_entries.append((2 * P2 + x * n + z, (x * n + c) * n2 + z * n + c, -1j))
    for x in range(n):
        for z in range(n):
            if N[x] != N[z]:
                continue
            for c in range(n):  # conj handled by passing conj(H_eff) as a second block
                l_entries.append((2 * P2 + n2 + x * n + z, (c * n + x) * n2 + c * n + z, 1j))
    to_l = _SparseMap.build(l_entries, n2 * n2)
    # the real representation: push every real source value through T L T^-1
    T, T_inv = _hermitian_coordinates(n)
    n_src = 2 * P2 + 2 * n2
    real_entries: list[tuple[int, int, complex]] = []
    def transposed(k: int) -> int:  # the source of the transposed matrix element (all blocks are symmetric)
        if k < 2 * P2:
            base, i = divmod(k, P2)
            p, q = divmod(i, P)
            return base * P2 + q * P + p
        base, i = divmod(k - 2 * P2, n2)
        x, z = divmod(i, n)
        return 2 * P2 + base * n2 + z * n + x

    for k in range(n_src):
        src = np.zeros((1, 2 * P2 + 2 * n2), dtype=complex)
        for kk in {k, transposed(k)}:  # J, H and K are symmetric: map the symmetrised unit, half each
            w = 0.5 if kk != k or transposed(k) != k else 1.0
            if kk < 2 * P2:
                src[0, kk] += w
            elif kk < 2 * P2 + n2:  # H: H_eff and its conjugate
                src[0, kk] += w
                src[0, kk + n2] += w
            else:  # K: H_eff = -i K / 2, conj(H_eff) = +i K / 2
                src[0, kk - n2] += -0.5j * w
                src[0, kk] += 0.5j * w
        L = to_l.apply(src, complex).reshape(n2, n2)
        R = T @ L @ T_inv
        assert np.allclose(R.imag, 0.0, atol=1e-14)
        for t in np.flatnonzero(np.abs(R.real.ravel()) > 1e-15):
            real_entries.append((k, int(t), float(R.real.ravel()[t])))
    T_inv.setflags(write=False)
    upper = [(x, z) for x in range(n) for z in range(x + 1, n)]
    same_n = [j for j, (x, z) in enumerate(upper) if N[x] == N[z]]
    block = list(range(n)) + [n + j for j in same_n] + [n + len(upper) + j for j in same_n]
    pos = {u: i for i, u in enumerate(block)}
    kb = len(block)
    block_entries: list[tuple[int, int, complex]] = []
    for k, target, coef in real_entries:
        row, col = divmod(target, n2)
        if row in pos and col in pos:
            block_entries.append((k, pos[row] * kb + pos[col], coef))
        elif row in pos or col in pos:  # pragma: no cover - N conservation forbids it
            assert col not in pos, "the equal-N block does not decouple"
    from_block = np.ascontiguousarray(T_inv[:, block])
    from_block.setflags(write=False)
    return _Maps(to_l, _SparseMap.build(real_entries, n2 * n2), T_inv, _SparseMap.build(block_entries, kb * kb),
                 from_block)


def _hermitian_coordinates(n: int) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """``T`` with ``T vec(rho) = [rho_aa, Re rho_ac (a < c), Im rho_ac (a < c)]`` and its inverse (row-major vec)."""
    n2 = n * n
    T = np.zeros((n2, n2), dtype=complex)
    for k in range(n):
        T[k, k * n + k] = 1.0
    upper = [(a, c) for a in range(n) for c in range(a + 1, n)]
    m = len(upper)
    for j, (a, c) in enumerate(upper):
        T[n + j, a * n + c] = T[n + j, c * n + a] = 0.5
        T[n + m + j, a * n + c] = -0.5j
        T[n + m + j, c * n + a] = 0.5j
    return T, np.linalg.inv(T)  # type: ignore[return-value]


def _scatter(st: _Structure, X: Array, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> Array:
    """Dense ``(*s, n, n)`` matrix with ``X[..., p]`` at ``(rows[p], cols[p])``."""
    out = np.zeros(X.shape[:-1] + (st.n * st.n,), dtype=X.dtype)
    out[..., rows * st.n + cols] = X
    return out.reshape(X.shape[:-1] + (st.n, st.n))


@dataclass(frozen=True, eq=False)
class CoherentGenerator:
    """Liouvillian of a device in one approach, in its working basis (read-only arrays).

    Attributes
    ----------
    approach
        ``"global"`` or ``"local"``.
    basis
        ``(*shape, n, n)`` real orthogonal matrix whose columns are the
        working-basis states in the occupation basis (identity for ``"local"``).
    hamiltonian
        ``(*shape, n, n)`` full H in the working basis.
    real_source
        ``(*shape, 2 P^2 + 2 n^2)`` the real values the Liouvillian is assembled from (summed
        jump products, H and ``K = sum_nu K_nu``); :attr:`liouvillian` is built from them on
        demand and :meth:`steady_state` assembles and solves the real form in cache-sized chunks.
    jump_in, jump_out
        ``(n_leads, *shape, P, P)`` values of the jump superoperators of each
        lead on the structural pairs (electron in / out of the system): entry
        ``(p, q)`` is ``sqrt(g_p g_q) A_p A_q`` where the Bohr frequencies of
        ``p`` and ``q`` agree (secular grouping), else 0.
    anticommutator
        ``(n_leads, *shape, n, n)`` ``K_nu = sum_w L_w^+ L_w`` of each lead.
    number
        ``(n, n)`` particle number (diagonal, the same in both bases: eigenstates are found per sector).
    """

    approach: str
    shape: tuple[int, ...]
    n_states: int
    basis: Array
    hamiltonian: Array
    real_source: Array
    jump_in: Array
    jump_out: Array
    anticommutator: Array
    number: Array
    structure: _Structure
    #: ``(n_leads, *shape, P)`` the energy each pair's rates were evaluated at, per lead (the Bohr frequency
    #: for ``"global"``, the bare transition energy for ``"local"``, the cluster frequency for ``"unified"``)
    transition_energy: Array | None = None
    #: ``(*shape, n, n)`` the Hamiltonian the energy currents are measured with (None: :attr:`hamiltonian`);
    #: the modified Hamiltonian ``H~`` of the ``"unified"`` equation
    energy_operator: Array | None = None
    #: ``(*shape)`` False where the ``"unified"`` clusters admit no modified Hamiltonian (None: all True)
    consistent: NDArray[np.bool_] | None = None

    @cached_property
    def sectors(self) -> tuple[NDArray[np.intp], ...]:
        """State indices of each particle-number sector."""
        counts = np.diag(self.number)
        return tuple(np.flatnonzero(counts == N) for N in np.unique(counts))

    # ---------------------------------------------------------------- basis
    def to_occupation(self, rho: CArray, block_diagonal: bool = False) -> CArray:
        """Density matrices ``(..., n, n)`` from the working basis to the occupation basis.

        ``block_diagonal``: ``rho`` has no coherences between particle-number sectors (a steady
        state), so only the diagonal sector blocks are rotated.
        """
        if self.approach == "local":
            return rho
        if block_diagonal and rho.shape[:-2] == self.shape:
            out = rho.copy()
            for idx in self.sectors:
                if len(idx) > 1:
                    sel = (..., idx[:, None], idx[None, :])
                    Vs = self.basis[sel]
                    out[sel] = Vs @ rho[sel] @ np.swapaxes(Vs, -1, -2)
            return out
        V = self.basis
        extra = rho.ndim - V.ndim
        V = V.reshape(V.shape[:-2] + (1,) * extra + V.shape[-2:])
        return V @ rho @ np.swapaxes(V, -1, -2)  # type: ignore[no-any-return]

    def from_occupation(self, rho: CArray) -> CArray:
        """Density matrices ``(..., n, n)`` from the occupation basis to the working basis."""
        if self.approach == "local":
            return rho
        V = self.basis
        return np.swapaxes(V, -1, -2) @ rho @ V  # type: ignore[no-any-return]

    # ------------------------------------------------------- superoperators
    def _dense(self, values: Array, flat: NDArray[np.intp]) -> Array:
        n2 = self.n_states**2
        out = np.zeros(values.shape[:-2] + (n2 * n2,))
        out[..., flat] = values.reshape(values.shape[:-2] + (-1,))
        return out.reshape(values.shape[:-2] + (n2, n2))

    @cached_property
    def jumps_in(self) -> Array:
        """``(n_leads, *shape, n^2, n^2)`` dense jump superoperators (electron enters), for counting statistics."""
        return self._dense(self.jump_in, self.structure.flat_in)

    @cached_property
    def jumps_out(self) -> Array:
        """``(n_leads, *shape, n^2, n^2)`` dense jump superoperators (electron leaves)."""
        return self._dense(self.jump_out, self.structure.flat_out)

    @cached_property
    def dissipators(self) -> CArray:
        """``(n_leads, *shape, n^2, n^2)`` dense dissipators ``D_nu`` (built on demand)."""
        n = self.n_states
        eye = np.eye(n)
        K = self.anticommutator
        no_jump = -0.5 * (np.einsum("...ab,cd->...acbd", K, eye) + np.einsum("ab,...dc->...acbd", eye, K))
        return self.jumps_in + self.jumps_out + no_jump.reshape(K.shape[:-2] + (n * n, n * n))  # type: ignore

    @cached_property
    def rate_scale(self) -> Array:
        """``(n_leads, *shape)`` the largest rate of each lead's dissipator (a scale for round-off).

        The diagonal ``J_pp = gamma_p A_p^2`` bounds every product, ``|J_pq| = sqrt(J_pp J_qq)``.
        """
        diag_in = np.diagonal(self.jump_in, axis1=-2, axis2=-1)
        diag_out = np.diagonal(self.jump_out, axis1=-2, axis2=-1)
        return np.maximum(diag_in.max(axis=-1), diag_out.max(axis=-1))  # type: ignore[no-any-return]

    # --------------------------------------------------------- steady state
    @cached_property
    def liouvillian(self) -> CArray:
        """``(*shape, n^2, n^2)`` complex Lindblad superoperator in the working basis (row-major vec)."""
        n2 = self.n_states**2
        P2 = len(self.structure.a) ** 2
        jumps, H, K = np.split(self.real_source, [2 * P2, 2 * P2 + n2], axis=-1)
        Heff = H - 0.5j * K
        source = np.concatenate([jumps, Heff, Heff.conj()], axis=-1)
        return self.structure.to_liouvillian.apply(source, complex).reshape(self.shape + (n2, n2))

    def steady_state(self, chunk: int = STEADY_CHUNK, method: str = "auto") -> tuple[CArray, NDArray[np.bool_]]:
        """``(rho, valid)``: working-basis steady state ``(*shape, n, n)`` (trace 1) and a validity mask.

        ``method``: ``"dense"`` (:meth:`steady_state_dense`), ``"sparse"`` (:meth:`steady_state_sparse`)
        or ``"auto"`` (:func:`choose_coherent_route`: dense below :data:`SPARSE_MIN_STATES` states).
        """
        route = choose_coherent_route(self.n_states, method)
        if route == "sparse":
            return self.steady_state_sparse()
        return self.steady_state_dense(chunk)

    def steady_state_sparse(self) -> tuple[CArray, NDArray[np.bool_]]:
        """``(rho, valid)`` by one sparse LU of the complex equal-N block per point (:mod:`.coherent_block`).

        For larger networks (a chain of 4 to 6 dots: 70 to 924 block entries of 256 to 4096); the
        dense maps of :meth:`steady_state_dense` are never built.
        """
        n = self.n_states
        m = int(np.prod(self.shape, dtype=int))
        jin, jout = self._summed_jumps()
        x, valid, _ = steady_state_sparse(self._block, self.effective_hamiltonian.reshape(m, n, n),
                                          jin.reshape(m, -1), jout.reshape(m, -1))
        vec = np.zeros((m, n * n), dtype=complex)
        vec[:, self._block.flat] = x
        rho = vec.reshape(m, n, n)
        rho = 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))
        return rho.reshape(self.shape + (n, n)), valid.reshape(self.shape)  # type: ignore[return-value]

    def steady_state_dense(self, chunk: int = STEADY_CHUNK) -> tuple[CArray, NDArray[np.bool_]]:
        """``(rho, valid)``: working-basis steady state ``(*shape, n, n)`` (trace 1) and a validity mask.

        Solved in the real Hermitian coordinates ``u = T vec(rho)`` (the Liouvillian preserves
        Hermiticity, so ``T L T^-1`` is real), restricted to the block of coherences between states
        of equal particle number (H and the jumps conserve N, so the block decouples and holds the
        steady state: 6 x 6 for the serial double dot instead of 16 x 16), with the first row
        replaced by the trace condition ``sum_a rho_aa = 1``; assembled and solved
        ``chunk`` points at a time (batched LAPACK; the chunks keep the arrays in cache).
        Points whose Liouvillian is singular (no unique steady state) are NaN, ``valid`` False.
        """
        n = self.n_states
        st = self.structure
        kb = st.from_real_block.shape[1]
        src_t = np.ascontiguousarray(self.real_source.reshape(-1, self.real_source.shape[-1]).T)
        u = np.empty((src_t.shape[1], kb))
        trace = np.zeros(kb)
        trace[:n] = 1.0
        for start in range(0, src_t.shape[1], chunk):
            M = st.to_real_block.apply_transposed(src_t[:, start:start + chunk]).T.reshape(-1, kb, kb)
            M[:, 0, :] = trace
            rhs = np.zeros(M.shape[:-1] + (1,))
            rhs[:, 0, 0] = 1.0
            try:
                u[start:start + chunk] = np.linalg.solve(M, rhs)[..., 0]
            except np.linalg.LinAlgError:
                for k in range(M.shape[0]):  # fallback only when some point is singular
                    try:
                        u[start + k] = np.linalg.solve(M[k], rhs[k, :, 0])
                    except np.linalg.LinAlgError:
                        u[start + k] = np.nan
        valid = np.isfinite(u).all(axis=-1).reshape(self.shape)
        x = u @ st.from_real_block.T
        return x.reshape(self.shape + (n, n)), valid  # type: ignore[return-value]

    # ------------------------------------------------------------- currents
    def lead_expectations(self, rho: CArray, op: Array, _gathered: tuple[CArray, CArray] | None = None) -> Array:
        """``(n_leads, *shape)`` ``Tr[op D_nu(rho)]`` for a Hermitian working-basis operator ``op``
        (``(n, n)`` or ``(*shape, n, n)``).

        ``Tr[op L rho L^+] = sum_pq J_pq op[a_q, a_p] rho[b_p, b_q]`` (in-jumps; out-jumps with a, b
        exchanged) and ``-Tr[op {K, rho}]/2 = -Re Tr[K op rho]`` (real symmetric K), without building
        the superoperators.
        """
        a, b = self.structure.a, self.structure.b
        rho_in, rho_out = self._rho_pairs(rho) if _gathered is None else _gathered
        op_in = op[..., a[None, :], a[:, None]]
        op_out = op[..., b[None, :], b[:, None]]
        jin = np.einsum("l...pq,...pq->l...", self.jump_in, np.real(op_in * rho_in))
        jout = np.einsum("l...pq,...pq->l...", self.jump_out, np.real(op_out * rho_out))
        op_rho = op @ rho
        no_jump = -np.real(np.einsum("l...ab,...ba->l...", self.anticommutator, op_rho))
        return jin + jout + no_jump  # type: ignore[no-any-return]

    def _rho_pairs(self, rho: CArray) -> tuple[CArray, CArray]:
        a, b = self.structure.a, self.structure.b
        return rho[..., b[:, None], b[None, :]], rho[..., a[:, None], a[None, :]]

    def currents(self, rho: CArray) -> tuple[Array, Array]:
        """``(J_N, J_E)``, each ``(n_leads, *shape)``: particle and energy currents into the system."""
        pairs = self._rho_pairs(rho)
        energy = self.hamiltonian if self.energy_operator is None else self.energy_operator
        return (self.lead_expectations(rho, self.number, pairs), self.lead_expectations(rho, energy, pairs))

    # ----------------------------------------------------------- statistics
    def noise(self, rho: CArray, lead: int) -> tuple[Array, Array]:
        """``(mean, variance)`` rates of the particles counted into the system from lead ``lead``.

        From the tilted Liouvillian ``L(s) = L + (e^s - 1) J_in + (e^-s - 1) J_out``:
        ``mean = Tr[J1 rho]``, ``variance = Tr[J2 rho] - 2 Tr[J1 L^D J1 rho]`` with
        ``J1 = J_in - J_out``, ``J2 = J_in + J_out`` and ``L^D`` the Drazin inverse, by
        :func:`qdthermo.kinetics.counting.trace_cumulants` on the real equal-N block
        (``rho`` a steady state: no coherences between particle-number sectors).
        """
        n_leads = self.jump_in.shape[0]
        on = (np.arange(n_leads) == lead).astype(float).reshape((n_leads,) + (1,) * (self.jump_in.ndim - 1))
        C = trace_cumulants(self.block_generator, self.to_block(rho), self.block_trace,
                            lambda m: self.block_jumps(on, (-1.0) ** m * on)[..., None, :, :], 2)
        return np.real(C[..., 0, 0]), np.real(C[..., 0, 1])

    # ------------------------------------------- equal-N block (counting statistics)
    @property
    def _block(self) -> BlockIndex:
        return block_index(self.structure.n_dots)

    @property
    def block_size(self) -> int:
        """Number ``k`` of entries ``rho_ac`` with ``N_a = N_c`` (6 for the serial double dot)."""
        return self._block.size

    @cached_property
    def effective_hamiltonian(self) -> CArray:
        """``(*shape, n, n)`` ``H_eff = H - i K / 2`` in the working basis, ``K = sum_nu K_nu``."""
        return self.hamiltonian - 0.5j * self.anticommutator.sum(axis=0)  # type: ignore[no-any-return]

    def _summed_jumps(self) -> tuple[Array, Array]:
        P2 = len(self.structure.a) ** 2
        return self.real_source[..., :P2], self.real_source[..., P2:2 * P2]

    @cached_property
    def block_generator(self) -> CArray:
        """``(*shape, k, k)`` the complex Liouvillian on the equal-N block (see :mod:`.coherent_block`)."""
        return dense_block(self._block, self.effective_hamiltonian, *self._summed_jumps())

    @property
    def block_trace(self) -> Array:
        """``(k,)`` the trace functional on the block (1 on the entries ``rho_aa``)."""
        return self._block.trace

    def to_block(self, rho: CArray) -> CArray:
        """``(..., k)`` the equal-N block entries of working-basis density matrices ``(..., n, n)``."""
        return rho.reshape(rho.shape[:-2] + (self.n_states**2,))[..., self._block.flat]

    def block_jumps(self, weight_in: NDArray[Any], weight_out: NDArray[Any]) -> CArray:
        """``(*shape, k, k)`` the weighted jump superoperator ``sum_nu sum_pq w_pq J_pq`` on the block.

        ``weight_in``, ``weight_out``: ``(n_leads, *shape, P, P)`` (broadcasting; complex allowed, e.g.
        ``exp(i chi d) - 1`` for a tilted Liouvillian) multiply the in- and out-jump values
        :attr:`jump_in`, :attr:`jump_out` of each lead.
        """
        P2 = len(self.structure.a) ** 2
        win = np.sum(self.jump_in * weight_in, axis=0).reshape(self.shape + (P2,))
        wout = np.sum(self.jump_out * weight_out, axis=0).reshape(self.shape + (P2,))
        return dense_block(self._block, None, win, wout)

    # ------------------------------------------------------------ evolution
    def evolve(self, times: Array, rho0: CArray) -> CArray:
        """``(*shape, n_times, n, n)`` occupation-basis ``rho(t)`` from ``rho0`` (occupation basis)."""
        n = self.n_states
        r0 = self.from_occupation(np.broadcast_to(np.asarray(rho0, dtype=complex), self.shape + (n, n)))
        x = propagate(self.liouvillian, np.asarray(times, dtype=float), r0.reshape(self.shape + (n * n,)),
                      conserved=np.eye(n).ravel())  # trace preservation: vec(1)^T L = 0
        return self.to_occupation(x.reshape(x.shape[:-1] + (n, n)))


def _sector_eigh(H: Array, particles: NDArray[np.int64]) -> tuple[Array, Array]:
    """Eigenvalues and eigenvectors of H within each particle-number sector (H conserves N).

    Eigenstate ``k`` sits in the slot of an occupation state of the same
    particle number, so ``N`` stays diagonal and equal in both bases, and
    degenerate levels of different N are never mixed.
    """
    E = np.zeros(H.shape[:-1])
    V = np.zeros(H.shape)
    for N in np.unique(particles):
        idx = np.flatnonzero(particles == N)
        if len(idx) == 1:
            E[..., idx[0]] = H[..., idx[0], idx[0]]
            V[..., idx[0], idx[0]] = 1.0
        elif len(idx) == 2:  # closed form: rotation by theta = atan2(2 h_01, h_00 - h_11) / 2
            i, j = idx
            p, s, r = H[..., i, i], H[..., j, j], H[..., i, j]
            m, R = 0.5 * (p + s), np.hypot(0.5 * (p - s), r)
            theta = 0.5 * np.arctan2(2 * r, p - s)
            cos, sin = np.cos(theta), np.sin(theta)
            E[..., i], E[..., j] = m - R, m + R
            V[..., i, i], V[..., j, i], V[..., i, j], V[..., j, j] = -sin, cos, cos, sin
        else:
            vals, vecs = np.linalg.eigh(H[..., idx[:, None], idx[None, :]])
            E[..., idx] = vals
            V[..., idx[:, None], idx[None, :]] = vecs
    return E, V


def _clusters(w: Array, active: NDArray[np.bool_], width: Array, tol: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Single-linkage clusters of the active Bohr frequencies of one lead, per point.

    Frequencies at most ``width`` apart, to the degeneracy tolerance ``tol``, are linked: two gaps equal
    to the width in exact arithmetic (e.g. ``U = Gamma``) are then treated alike, whatever their round-off.
    Returns the cluster frequency (the mean of the cluster's frequencies; ``w`` itself for inactive
    pairs) ``(*shape, P)`` and the mask ``(*shape, P, P)`` of active pairs in the same cluster.
    """
    key = np.where(active, w, np.inf)
    order = np.argsort(key, axis=-1)
    ws = np.take_along_axis(key, order, axis=-1)
    with np.errstate(invalid="ignore"):
        gap = np.diff(ws, axis=-1) > (np.maximum(width, tol) + tol)[..., None]
    ids = np.concatenate([np.zeros(ws.shape[:-1] + (1,), dtype=int), np.cumsum(gap, axis=-1)], axis=-1)
    cid = np.empty_like(ids)
    np.put_along_axis(cid, order, ids, axis=-1)
    same = (cid[..., :, None] == cid[..., None, :]) & active[..., :, None] & active[..., None, :]
    count = same.sum(axis=-1)
    mean = np.einsum("...pq,...q->...p", same, np.where(active, w, 0.0)) / np.maximum(count, 1)
    return np.where(active, mean, w), same


def _modified_levels(E: Array, st: _Structure, freqs: Array, active: list[NDArray[np.bool_]],
                     tol: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Levels ``E~`` with ``E~_a - E~_b = w_cluster`` on every active pair of every lead (least squares).

    The gauge is fixed by ``sum E~ = sum E``.  Returns ``E~`` ``(*shape, n)`` and the points where every
    constraint holds to ``tol`` (a consistent modified Hamiltonian exists).
    """
    n = E.shape[-1]
    D = np.zeros((len(st.a), n))
    D[np.arange(len(st.a)), st.a] = 1.0
    D[np.arange(len(st.a)), st.b] = -1.0
    weight = sum(act.astype(float) for act in active)
    G = np.einsum("pi,...p,pj->...ij", D, weight, D) + 1.0
    rhs = np.einsum("pi,l...p->...i", D, np.stack(active) * freqs) + np.sum(E, axis=-1, keepdims=True)
    Et = np.linalg.solve(G, rhs[..., None])[..., 0]
    miss = np.abs(Et[..., st.a] - Et[..., st.b] - freqs) * np.stack(active)
    return Et, np.all(miss.max(axis=-1) <= 10 * tol, axis=0)


def _amplitudes(device: Any, system: System, st: _Structure, V: Array, local: bool) -> list[Array]:
    """``A_p = <a_p| V^T c_d^+ V |b_p>`` of each lead's dot on the structural pairs, ``(*shape, P)`` per lead."""
    a, b = st.a, st.b
    c = annihilators(st.n_dots)
    dot_index = {name: k for k, name in enumerate(system.dot_names)}
    out = []
    for lead in device.leads:
        cdag = c[dot_index[lead.dot]].T
        if local:
            out.append(np.broadcast_to(cdag[a, b], V.shape[:-2] + a.shape))
            continue
        i_nz, j_nz = np.nonzero(cdag)  # c^+ has few nonzeros (i, j)
        out.append(np.einsum("k,...kp,...kp->...p", cdag[i_nz, j_nz], V[..., i_nz[:, None], a[None, :]],
                             V[..., j_nz[:, None], b[None, :]]))
    return out


def _frequencies(device: Any, shape: tuple[int, ...], w: Array, tol: Array, amplitudes: list[Array],
                 unified: bool, cluster_width: Any) -> tuple[Array, list[NDArray[np.bool_]]]:
    """``(n_leads, *shape, P)`` the frequency each pair's rates are evaluated at, and the grouping masks.

    Secular grouping (equal Bohr frequencies within ``tol``) or, for ``"unified"``, the clusters of
    :func:`_clusters` with their mean frequencies.
    """
    if not unified:
        same_w = np.abs(w[..., :, None] - w[..., None, :]) < tol[..., None, None]
        return np.broadcast_to(w, (len(device.leads),) + w.shape), [same_w] * len(device.leads)
    if cluster_width is None:
        cluster_width = np.max([_lead_gamma(lead, w, shape).max(axis=-1) for lead in device.leads], axis=0)
    width = np.broadcast_to(np.asarray(cluster_width, dtype=float), shape)
    if np.any(~np.isfinite(width)) or np.any(width < 0):
        raise ValueError(f"cluster_width must be finite and >= 0, got {cluster_width!r}")
    clusters = [_clusters(w, np.abs(A) > ACTIVE_AMPLITUDE, width, tol) for A in amplitudes]
    return np.stack([f for f, _ in clusters]), [m for _, m in clusters]


def _jump_products(device: Any, system: System, amplitudes: list[Array], freqs: Array,
                   masks: list[NDArray[np.bool_]]) -> tuple[Array, Array]:
    """``(n_leads, *shape, P, P)`` in- and out-jump products ``sqrt(g_p g_q) A_p A_q`` on grouped pairs."""
    jin, jout = [], []
    for ell, lead in enumerate(device.leads):
        A, wl = amplitudes[ell], freqs[ell]
        T = system.lead_temperature[..., ell, None]
        mu = system.lead_chemical_potential[..., ell, None]
        gamma = _lead_gamma(lead, wl, system.shape)
        x = fermi_argument(wl, mu, T)
        X_in = A * np.sqrt(gamma * expit(-x))  # electron enters: rate Gamma f(w)
        X_out = A * np.sqrt(gamma * expit(x))  # electron leaves (a -> b): rate Gamma (1 - f(w))
        jin.append(X_in[..., :, None] * X_in[..., None, :] * masks[ell])
        jout.append(X_out[..., :, None] * X_out[..., None, :] * masks[ell])
    return np.stack(jin), np.stack(jout)


def coherent_generator(device: Any, approach: str, system: System | None = None,
                       cluster_width: Any = None) -> CoherentGenerator:
    """Build the Liouvillian of ``device`` in ``approach`` (one of :data:`APPROACHES`), all points at once.

    ``cluster_width`` (``"unified"`` only): Bohr frequencies of a lead's operator closer than this
    (single linkage) form one cluster [energy]; default (None): the largest coupling ``Gamma`` of
    the point.
    """
    if approach not in APPROACHES:
        raise ValueError(f"unknown density-matrix approach {approach!r}; allowed: {list(APPROACHES)}")
    system = device.finalized() if system is None else system
    shape, n = system.shape, system.n_states
    st = _structure(len(system.dot_names))
    H = hamiltonian(device, system)
    if approach in ("global", "unified"):
        E, V = _sector_eigh(H, system.particle_number)
        Hw = np.zeros_like(H)
        Hw[..., np.arange(n), np.arange(n)] = E
    else:
        E, V, Hw = np.asarray(system.energies), np.broadcast_to(np.eye(n), H.shape), H
    tol = DEGENERACY_TOLERANCE * (1.0 + np.max(np.abs(E), axis=-1))
    w = E[..., st.a] - E[..., st.b]  # (*shape, P) energy of the electron entering on pair p: b -> a
    amplitudes = _amplitudes(device, system, st, V, approach == "local")
    freqs, masks = _frequencies(device, shape, w, tol, amplitudes, approach == "unified", cluster_width)
    jump_in, jump_out = _jump_products(device, system, amplitudes, freqs, masks)
    P2 = len(st.a) ** 2
    flat = np.concatenate([jump_in.reshape(jump_in.shape[:-2] + (P2,)),
                           jump_out.reshape(jump_out.shape[:-2] + (P2,))], axis=-1)
    Ks = st.apply_k(flat).reshape(jump_in.shape[:-2] + (n, n))
    modified: dict[str, Any] = {}
    if approach == "unified":
        Et, ok = _modified_levels(E, st, freqs, [np.abs(A) > ACTIVE_AMPLITUDE for A in amplitudes], tol)
        Ht = np.zeros_like(H)
        Ht[..., np.arange(n), np.arange(n)] = Et
        modified = {"energy_operator": Ht, "consistent": ok}
    real_source = np.concatenate([flat.sum(axis=0), Hw.reshape(shape + (n * n,)),
                                  Ks.sum(axis=0).reshape(shape + (n * n,))], axis=-1)
    return CoherentGenerator(approach=approach, shape=shape, n_states=n, basis=np.asarray(V), hamiltonian=Hw,
                             real_source=real_source, jump_in=jump_in, jump_out=jump_out,
                             anticommutator=Ks, number=number_operator(st.n_dots), structure=st,
                             transition_energy=np.asarray(freqs), **modified)

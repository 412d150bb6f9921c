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
(a batched linear solve with one row replaced by the trace condition);
currents are ``J_X^nu = Tr[X D_nu(rho)]`` (positive from the lead into the
system).  Everything is built in a *working basis* (the eigenbasis for
``"global"``, the occupation basis for ``"local"``) and returned in the
occupation basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from qdthermo.kinetics.evolve import propagate
from qdthermo.kinetics.hamiltonian import annihilators, hamiltonian, number_operator
from qdthermo.kinetics.rates import fermi_argument
from qdthermo.model.system import System

__all__ = ["APPROACHES", "CoherentGenerator", "coherent_generator", "DEGENERACY_TOLERANCE"]

Array = NDArray[np.float64]
CArray = NDArray[np.complex128]

#: the density-matrix approaches
APPROACHES = ("global", "local")

#: Bohr frequencies closer than this (relative to 1 + max |E|) are one frequency (secular grouping)
DEGENERACY_TOLERANCE = 1e-8


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
class _Structure:
    """Index structure of the jumps, the same at every point: the pairs ``(a, b)`` with ``N_a = N_b + 1``.

    Every ``c_d^+`` in any particle-number-conserving basis lives on these pairs, so the jump
    superoperator ``L rho L^+`` of a lead only touches the ``P^2`` entries
    ``[(a_p, a_q), (b_p, b_q)]`` (in-jumps) and ``[(b_p, b_q), (a_p, a_q)]`` (out-jumps).
    """

    n: int
    a: NDArray[np.intp]
    b: NDArray[np.intp]
    flat_in: NDArray[np.intp]
    flat_out: NDArray[np.intp]


@lru_cache(maxsize=16)
def _structure(n_dots: int) -> _Structure:
    n = 2**n_dots
    N = np.array([bin(s).count("1") for s in range(n)])
    a, b = np.nonzero(N[:, None] == N[None, :] + 1)
    n2 = n * n
    flat_in = ((a[:, None] * n + a[None, :]) * n2 + b[:, None] * n + b[None, :]).ravel()
    flat_out = ((b[:, None] * n + b[None, :]) * n2 + a[:, None] * n + a[None, :]).ravel()
    return _Structure(n, a.astype(np.intp), b.astype(np.intp), flat_in.astype(np.intp), flat_out.astype(np.intp))


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
    liouvillian
        ``(*shape, n^2, n^2)`` complex Lindblad superoperator (working basis).
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
    liouvillian: CArray
    jump_in: Array
    jump_out: Array
    anticommutator: Array
    number: Array
    structure: _Structure

    # ---------------------------------------------------------------- basis
    def to_occupation(self, rho: CArray) -> CArray:
        """Density matrices ``(..., n, n)`` from the working basis to the occupation basis."""
        if self.approach == "local":
            return rho
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
        """``(n_leads, *shape)`` the largest rate of each lead's dissipator (a scale for round-off)."""
        return np.maximum(np.abs(self.jump_in).max(axis=(-2, -1)), np.abs(self.jump_out).max(axis=(-2, -1)))

    # --------------------------------------------------------- steady state
    def _trace_row(self) -> Array:
        n = self.n_states
        row = np.zeros(n * n)
        row[:: n + 1] = 1.0
        return row

    def _bordered(self) -> CArray:
        M = self.liouvillian.copy()
        M[..., 0, :] = self._trace_row()
        return M

    def steady_state(self) -> tuple[CArray, NDArray[np.bool_]]:
        """``(rho, valid)``: working-basis steady state ``(*shape, n, n)`` (trace 1) and a validity mask.

        Points whose bordered Liouvillian is singular (no unique steady state) are NaN, ``valid`` False.
        """
        n = self.n_states
        M = self._bordered()
        rhs = np.zeros(self.shape + (n * n, 1), dtype=complex)
        rhs[..., 0, 0] = 1.0
        try:
            x = np.linalg.solve(M, rhs)[..., 0]
        except np.linalg.LinAlgError:
            flat_M = M.reshape(-1, n * n, n * n)
            x = np.full((flat_M.shape[0], n * n), np.nan, dtype=complex)
            for k in range(flat_M.shape[0]):  # fallback only when some point is singular
                try:
                    x[k] = np.linalg.solve(flat_M[k], rhs.reshape(-1, n * n)[k])
                except np.linalg.LinAlgError:
                    pass
            x = x.reshape(self.shape + (n * n,))
        valid = np.isfinite(x).all(axis=-1)
        rho = x.reshape(self.shape + (n, n))
        rho = 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))  # exact Hermiticity
        return rho, valid  # type: ignore[return-value]

    # ------------------------------------------------------------- currents
    def lead_expectations(self, rho: CArray, op: Array) -> Array:
        """``(n_leads, *shape)`` ``Tr[op D_nu(rho)]`` for a working-basis operator ``op`` (``(..., n, n)``).

        ``Tr[op L rho L^+] = sum_pq J_pq op[a_q, a_p] rho[b_p, b_q]`` (in-jumps; out-jumps with a, b
        exchanged) and ``-Tr[op {K, rho}]/2``, without building the superoperators.
        """
        a, b = self.structure.a, self.structure.b
        op = np.broadcast_to(op, self.shape + op.shape[-2:])
        jin = np.einsum("l...pq,...pq->l...", self.jump_in,
                        np.real(op[..., a[None, :], a[:, None]] * rho[..., b[:, None], b[None, :]]))
        jout = np.einsum("l...pq,...pq->l...", self.jump_out,
                         np.real(op[..., b[None, :], b[:, None]] * rho[..., a[:, None], a[None, :]]))
        KO = self.anticommutator @ op
        no_jump = -np.real(np.einsum("l...ab,...ba->l...", KO + np.swapaxes(KO, -1, -2).conj(), rho)) / 2
        return jin + jout + no_jump  # type: ignore[no-any-return]

    def currents(self, rho: CArray) -> tuple[Array, Array]:
        """``(J_N, J_E)``, each ``(n_leads, *shape)``: particle and energy currents into the system."""
        return self.lead_expectations(rho, self.number), self.lead_expectations(rho, self.hamiltonian)

    # ----------------------------------------------------------- statistics
    def noise(self, rho: CArray, lead: int) -> tuple[Array, Array]:
        """``(mean, variance)`` rates of the particles counted into the system from lead ``lead``.

        From the tilted Liouvillian ``L(s) = L + (e^s - 1) J_in + (e^-s - 1) J_out``:
        ``mean = Tr[J1 rho]``, ``variance = Tr[J2 rho] - 2 Tr[J1 L^D J1 rho]`` with
        ``J1 = J_in - J_out``, ``J2 = J_in + J_out`` and ``L^D`` the Drazin inverse
        (a bordered solve with trace 0).
        """
        n = self.n_states
        vec = rho.reshape(rho.shape[:-2] + (n * n,))
        J1 = self.jumps_in[lead] - self.jumps_out[lead]
        J2 = self.jumps_in[lead] + self.jumps_out[lead]
        tr = self._trace_row()
        j1 = np.einsum("...ij,...j->...i", J1, vec)
        mean = np.real(j1 @ tr)
        # L y = -(J1 - mean) rho, Tr y = 0  ->  y = -L^D J1 rho
        rhs = -(j1 - mean[..., None] * vec)
        rhs[..., 0] = 0.0
        y = np.linalg.solve(self._bordered(), rhs[..., None])[..., 0]
        var = np.real(np.einsum("...ij,...j->...i", J2, vec) @ tr) + 2 * np.real(
            np.einsum("...ij,...j->...i", J1, y) @ tr)
        return mean, var

    # ------------------------------------------------------------ evolution
    def evolve(self, times: Array, rho0: CArray) -> CArray:
        """``(*shape, n_times, n, n)`` occupation-basis ``rho(t)`` from ``rho0`` (occupation basis)."""
        n = self.n_states
        r0 = self.from_occupation(np.broadcast_to(np.asarray(rho0, dtype=complex), self.shape + (n, n)))
        x = propagate(self.liouvillian, np.asarray(times, dtype=float), r0.reshape(self.shape + (n * n,)))
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
        vals, vecs = np.linalg.eigh(H[..., idx[:, None], idx[None, :]])
        E[..., idx] = vals
        V[..., idx[:, None], idx[None, :]] = vecs
    return E, V


def coherent_generator(device: Any, approach: str, system: System | None = None) -> CoherentGenerator:
    """Build the Liouvillian of ``device`` in ``approach`` (``"global"`` or ``"local"``), all points at once."""
    if approach not in APPROACHES:
        raise ValueError(f"unknown density-matrix approach {approach!r}; allowed: {list(APPROACHES)}")
    system = device.finalized() if system is None else system
    shape = system.shape
    n_dots = len(system.dot_names)
    n = system.n_states
    st = _structure(n_dots)
    a, b = st.a, st.b
    H = hamiltonian(device, system)
    c = annihilators(n_dots)
    if approach == "global":
        E, V = _sector_eigh(H, system.particle_number)
        Hw = np.zeros_like(H)
        Hw[..., np.arange(n), np.arange(n)] = E
    else:
        E = np.asarray(system.energies)
        V = np.broadcast_to(np.eye(n), H.shape)
        Hw = H
    tol = DEGENERACY_TOLERANCE * (1.0 + np.max(np.abs(E), axis=-1))
    w = E[..., a] - E[..., b]  # (*shape, P) energy of the electron entering on pair p: b -> a
    same_w = np.abs(w[..., :, None] - w[..., None, :]) < tol[..., None, None]
    same_E = np.abs(E[..., :, None] - E[..., None, :]) < tol[..., None, None]
    dot_index = {name: k for k, name in enumerate(system.dot_names)}
    jin, jout, K = [], [], []
    for ell, lead in enumerate(device.leads):
        cdag = c[dot_index[lead.dot]].T
        A = (np.swapaxes(V, -1, -2) @ cdag @ V)[..., a, b] if approach == "global" else cdag[a, b]
        T = system.lead_temperature[..., ell, None]
        mu = system.lead_chemical_potential[..., ell, None]
        gamma = _lead_gamma(lead, w, shape)
        x = fermi_argument(w, mu, T)
        X_in = A * np.sqrt(gamma * expit(-x))  # electron enters: rate Gamma f(w)
        X_out = A * np.sqrt(gamma * expit(x))  # electron leaves (a -> b): rate Gamma (1 - f(w))
        jin.append(X_in[..., :, None] * X_in[..., None, :] * same_w)
        jout.append(X_out[..., :, None] * X_out[..., None, :] * same_w)
        Xi, Xo = _scatter(st, X_in, a, b), _scatter(st, X_out, b, a)
        K.append((np.swapaxes(Xi, -1, -2) @ Xi + np.swapaxes(Xo, -1, -2) @ Xo) * same_E)
    jump_in, jump_out, Ks = np.stack(jin), np.stack(jout), np.stack(K)
    # L = -i (Heff (x) 1) + i (1 (x) Heff^*),  Heff = H - i K/2,  plus the jumps of all leads
    Heff = Hw - 0.5j * Ks.sum(axis=0)
    n2 = n * n
    L = np.zeros(shape + (n2 * n2,), dtype=complex)
    L[..., st.flat_in] = jump_in.sum(axis=0).reshape(shape + (-1,))
    L[..., st.flat_out] = jump_out.sum(axis=0).reshape(shape + (-1,))
    L4 = L.reshape(shape + (n, n, n, n))  # [a, c, b, d]
    for k in range(n):
        L4[..., :, k, :, k] -= 1j * Heff
        L4[..., k, :, k, :] += 1j * Heff.conj()
    return CoherentGenerator(approach=approach, shape=shape, n_states=n, basis=np.asarray(V), hamiltonian=Hw,
                             liouvillian=L.reshape(shape + (n2, n2)), jump_in=jump_in, jump_out=jump_out,
                             anticommutator=Ks, number=number_operator(n_dots), structure=st)

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
    """Tunnel coupling of a lead on the transition energies ``w`` (``(*shape, n, n)``)."""
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
    return np.broadcast_to(np.asarray(c)[..., None, None], shape + w.shape[-2:])


def _jump_superoperator(X: Array, w: Array, tol: Array) -> Array:
    """``sum_w L_w . L_w^+`` for ``L_w = sum_{w_ab = w} X_ab |a><b|``: ``(*s, n^2, n^2)`` (real X)."""
    n = X.shape[-1]
    same = np.abs(w[..., :, :, None, None] - w[..., None, None, :, :]) < tol[..., None, None, None, None]
    S = X[..., :, :, None, None] * X[..., None, None, :, :] * same  # [a, b, c, d]
    return S.transpose(*range(S.ndim - 4), -4, -2, -3, -1).reshape(S.shape[:-4] + (n * n, n * n))


def _anticommutator(X: Array, E: Array, tol: Array) -> Array:
    """``K = sum_w L_w^+ L_w`` (real symmetric ``(*s, n, n)``), equal energies grouped."""
    K = np.einsum("...ab,...ad->...bd", X, X)
    return K * (np.abs(E[..., :, None] - E[..., None, :]) < tol[..., None, None])


def _left_right(A: Array, B: Array) -> Array:
    """Superoperator of ``rho -> A rho B`` (row-major vec): ``A (x) B^T``."""
    n = A.shape[-1]
    out = A[..., :, None, :, None] * np.swapaxes(B, -1, -2)[..., None, :, None, :]
    return out.reshape(out.shape[:-4] + (n * n, n * n))


def _anticommutator_superoperator(K: Array) -> Array:
    """Superoperator of ``rho -> -{K, rho}/2``."""
    n = K.shape[-1]
    eye = np.eye(n)
    return -0.5 * (_left_right(K, np.broadcast_to(eye, K.shape)) + _left_right(np.broadcast_to(eye, K.shape), K))


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
    dissipators
        ``(n_leads, *shape, n^2, n^2)`` real superoperators ``D_nu``.
    jumps_in, jumps_out
        ``(n_leads, *shape, n^2, n^2)`` jump parts of ``D_nu`` (electron in /
        out of the system), for counting statistics.
    number
        ``(n, n)`` particle number (diagonal, the same in both bases: eigenstates are found per sector).
    """

    approach: str
    shape: tuple[int, ...]
    n_states: int
    basis: Array
    hamiltonian: Array
    liouvillian: CArray
    dissipators: Array
    jumps_in: Array
    jumps_out: Array
    number: Array

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
        rhs = np.zeros(self.shape + (n * n,), dtype=complex)
        rhs[..., 0] = 1.0
        try:
            x = np.linalg.solve(M, rhs[..., None])[..., 0]
            valid = np.isfinite(x).all(axis=-1)
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
        """``(n_leads, *shape)`` ``Tr[op D_nu(rho)]`` for a working-basis operator ``op`` (``(*shape, n, n)``)."""
        n = self.n_states
        row = np.swapaxes(op, -1, -2).reshape(op.shape[:-2] + (n * n,))
        vec = rho.reshape(rho.shape[:-2] + (n * n,))
        Dx = np.einsum("l...ij,...j->l...i", self.dissipators, vec)
        return np.real(np.einsum("...i,l...i->l...", row, Dx))

    def currents(self, rho: CArray) -> tuple[Array, Array]:
        """``(J_N, J_E)``, each ``(n_leads, *shape)``: particle and energy currents into the system."""
        N = np.broadcast_to(self.number, self.shape + self.number.shape)
        return self.lead_expectations(rho, N), self.lead_expectations(rho, self.hamiltonian)

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
    w = E[..., :, None] - E[..., None, :]  # w_ab = E_a - E_b (energy of an electron entering, a <- b)
    dot_index = {name: k for k, name in enumerate(system.dot_names)}
    D, Jin, Jout = [], [], []
    for ell, lead in enumerate(device.leads):
        cd = c[dot_index[lead.dot]]
        A = np.swapaxes(V, -1, -2) @ cd.T @ V if approach == "global" else np.broadcast_to(cd.T, H.shape)
        T = np.asarray(system.lead_temperature[..., ell])[..., None, None]
        mu = np.asarray(system.lead_chemical_potential[..., ell])[..., None, None]
        gamma = _lead_gamma(lead, w, shape)
        x = fermi_argument(w, mu, T)
        X_in = A * np.sqrt(gamma * expit(-x))  # electron enters: rate Gamma f(w)
        X_out = np.swapaxes(A * np.sqrt(gamma * expit(x)), -1, -2)  # leaves: Gamma (1 - f(w)), w = E_b - E_a
        jin = _jump_superoperator(X_in, w, tol)
        jout = _jump_superoperator(X_out, -w, tol)
        K = _anticommutator(X_in, E, tol) + _anticommutator(X_out, E, tol)
        D.append(jin + jout + _anticommutator_superoperator(K))
        Jin.append(jin)
        Jout.append(jout)
    eye = np.broadcast_to(np.eye(n), H.shape)
    L = -1j * (_left_right(Hw, eye) - _left_right(eye, Hw)) + np.sum(D, axis=0)
    return CoherentGenerator(approach=approach, shape=shape, n_states=n, basis=np.asarray(V), hamiltonian=Hw,
                             liouvillian=L, dissipators=np.stack(D), jumps_in=np.stack(Jin),
                             jumps_out=np.stack(Jout), number=number_operator(n_dots))

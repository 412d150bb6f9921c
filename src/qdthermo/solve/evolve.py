"""Time evolution: rate (Pauli) equation and full Lindblad density matrix.

* :func:`evolve` - populations ``P(t) = expm(W t) P(0)``, exact (matrix
  exponential, batched over all parameter points; the loop runs over the
  requested times only).
* :func:`evolve_lindblad` - the density matrix under the Lindblad equation of
  PHYSICS.md section 3, jump operators ``L_c = |j><i|`` with the channel
  rates, Hamiltonian ``H_S`` diagonal in the occupation basis.  Its
  populations equal the rate-equation ones and its coherences decay.

Times are in the inverse rate unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import expm

from qdthermo._validate import as_real_array, check_nonnegative
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.solve.master import rate_matrix
from qdthermo.solve.rates import Rates, rates
from qdthermo.solve.result import _ro, per_lead
from qdthermo.thermo import entropy as _entropy
from qdthermo.thermo.currents import channel_flux, lead_currents

__all__ = ["Trajectory", "LindbladTrajectory", "evolve", "evolve_lindblad", "initial_populations"]

Array = NDArray[np.float64]


def initial_populations(system: System, initial: Any) -> Array:
    """Validate an initial condition and return populations ``(..., n_states)``.

    ``initial`` may be None (all dots empty), a state label such as ``"10"``,
    or an array of probabilities (non-negative, summing to 1) of shape
    ``(n_states,)`` or ``(*shape, n_states)``.
    """
    n = system.n_states
    if initial is None:
        initial = system.state_labels[0]
    if isinstance(initial, str):
        if initial not in system.state_labels:
            raise ValueError(f"initial state {initial!r} is not a state; allowed: {list(system.state_labels)}")
        P0 = np.zeros(n)
        P0[system.state_labels.index(initial)] = 1.0
        return P0
    P0 = as_real_array("initial (populations)", initial)
    if P0.shape[-1:] != (n,):
        raise ValueError(f"initial populations must have last axis of length {n} "
                         f"(states {list(system.state_labels)}), got shape {P0.shape}")
    check_nonnegative("initial (populations)", P0)
    total = P0.sum(axis=-1)
    if np.any(np.abs(total - 1.0) > 1e-10):
        raise ValueError(f"initial populations must sum to 1 (within 1e-10), got sums {total.ravel()[:3]}")
    return P0


def _times(times: ArrayLike) -> Array:
    t = as_real_array("times", times)
    if t.ndim != 1:
        raise ValueError(f"times must be a 1-D array, got shape {t.shape}")
    check_nonnegative("times", t)
    return t


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Populations and currents along a time evolution (read-only).

    Attributes
    ----------
    device, system, rates
        As in :class:`~qdthermo.solve.result.SteadyState`.
    times
        ``(n_times,)`` [1/rate].
    populations
        ``(*shape, n_times, n_states)``.
    """

    device: Device
    system: System
    rates: Rates
    rate_matrix: Array
    times: Array
    populations: Array

    @property
    def state_labels(self) -> tuple[str, ...]:
        """Occupation labels of the states."""
        return self.system.state_labels

    @property
    def lead_names(self) -> tuple[str, ...]:
        """Lead names."""
        return self.system.lead_names

    @cached_property
    def _k(self) -> Rates:
        # rates with a time axis inserted before the channel axis
        return Rates(self.rates.plus[..., None, :], self.rates.minus[..., None, :],
                     self.rates.log_ratio[..., None, :])

    @cached_property
    def channel_flux(self) -> Array:
        """``(*shape, n_times, n_channels)`` net channel fluxes [rate]."""
        return _ro(channel_flux(self.system, self._k, self.populations))

    @cached_property
    def _currents(self) -> tuple[Array, Array, Array]:
        sysT = _TimeView(self.system)
        return tuple(_ro(a) for a in lead_currents(sysT, self.channel_flux))  # type: ignore[arg-type,return-value]

    @cached_property
    def particle_current(self) -> Mapping[str, Array]:
        """Per-lead particle current ``(*shape, n_times)`` [rate], lead -> system positive."""
        return per_lead(self.lead_names, self._currents[0])

    @cached_property
    def energy_current(self) -> Mapping[str, Array]:
        """Per-lead energy current ``(*shape, n_times)`` [energy x rate]."""
        return per_lead(self.lead_names, self._currents[1])

    @cached_property
    def heat_current(self) -> Mapping[str, Array]:
        """Per-lead heat current ``(*shape, n_times)`` [energy x rate]."""
        return per_lead(self.lead_names, self._currents[2])

    @cached_property
    def entropy(self) -> Array:
        """System entropy ``S(t) = -sum_i P_i ln P_i`` [k_B], ``(*shape, n_times)``."""
        return _ro(_entropy.system_entropy(self.populations))

    @cached_property
    def entropy_rate(self) -> Array:
        """``dS/dt = -sum_i (dP_i/dt) ln P_i`` [k_B x rate], ``(*shape, n_times)``.

        +inf where probability flows into an exactly empty state (t = 0 from a pure state).
        """
        return _ro(_entropy.entropy_rate(self.rate_matrix[..., None, :, :], self.populations))

    @cached_property
    def entropy_production(self) -> Array:
        """Schnakenberg entropy production ``Sigma_dot(t) >= 0`` [k_B x rate], ``(*shape, n_times)``."""
        return _ro(_entropy.entropy_production(self.system, self._k, self.populations))

    @cached_property
    def entropy_flow(self) -> Array:
        """Entropy flow ``sum_nu J_Q^nu(t)/T_nu`` [k_B x rate], ``(*shape, n_times)``.

        ``dS/dt = entropy_production + entropy_flow`` at every time.
        """
        return _ro(_entropy.entropy_flow(self._currents[2], self.system.lead_temperature[..., None, :]))


class _TimeView:
    """A system whose parameter arrays gain a time axis before their last axis."""

    def __init__(self, system: System) -> None:
        self._s = system
        self.lead_incidence = system.lead_incidence
        self.channel_energy = system.channel_energy[..., None, :]
        self.lead_chemical_potential = system.lead_chemical_potential[..., None, :]
        self.channel_temperature = system.channel_temperature[..., None, :]
        self.lead_temperature = system.lead_temperature[..., None, :]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)


def _propagate(generator: NDArray[Any], times: Array, x0: NDArray[Any]) -> NDArray[Any]:
    """``expm(G t) x0`` for every t: ``(*shape, n_times, m)``."""
    batch = generator.shape[:-2]
    x0 = np.broadcast_to(x0, batch + x0.shape[-1:])
    out = np.empty(batch + (len(times), x0.shape[-1]), dtype=np.result_type(generator, x0))
    for k, t in enumerate(times):
        out[..., k, :] = np.einsum("...ij,...j->...i", expm(generator * t), x0)
    return out


def evolve(device: Device, times: ArrayLike, *, initial: Any = None) -> Trajectory:
    """Evolve the populations of the rate equation ``dP/dt = W P`` exactly.

    Parameters
    ----------
    device
        The device description.
    times
        1-D array of times >= 0 [1/rate].
    initial
        None (all dots empty), a state label, or probabilities
        ``(n_states,)`` or ``(*shape, n_states)``.

    Returns
    -------
    Trajectory
        ``populations`` of shape ``(*shape, n_times, n_states)``; tends to the
        steady state of :func:`qdthermo.solve` for long times.
    """
    system = device.finalized()
    t = _times(times)
    k = rates(system)
    W = rate_matrix(system, k)
    P0 = initial_populations(system, initial)
    P = np.clip(_propagate(W, t, P0).real, 0.0, None)
    P /= P.sum(axis=-1, keepdims=True)
    return Trajectory(device=device, system=system, rates=k, rate_matrix=_ro(W), times=_ro(t),
                      populations=_ro(P))


def liouvillian(system: System, k: Rates) -> NDArray[np.complex128]:
    """Lindblad superoperator ``(*shape, n^2, n^2)`` acting on row-major ``vec(rho)``.

    ``d rho/dt = -i[H, rho] + sum_c k_c (L_c rho L_c^+ - {L_c^+ L_c, rho}/2)``
    with ``L_c = |j><i|`` for every excitation (rate ``k^+``) and
    de-excitation (rate ``k^-``) channel; H = diag(E).
    """
    n = system.n_states
    E = system.energies
    # Hamiltonian part: d rho_ab/dt = -i (E_a - E_b) rho_ab
    diag = (-1j * (E[..., :, None] - E[..., None, :])).reshape(E.shape[:-1] + (n * n,))
    L = diag[..., :, None] * np.eye(n * n)
    ones = np.ones(E.shape[:-1])
    for c in range(system.n_channels):
        i, j = int(system.channel_initial[c]), int(system.channel_final[c])
        for src, dst, rate in ((i, j, k.plus[..., c]), (j, i, k.minus[..., c])):
            # L rho L^+ : rho_src,src -> dst,dst
            L[..., dst * n + dst, src * n + src] += rate
            # -1/2 {|src><src|, rho}: rho_ab decays if a == src or b == src
            for b in range(n):
                L[..., src * n + b, src * n + b] -= 0.5 * rate * ones
                L[..., b * n + src, b * n + src] -= 0.5 * rate * ones
    return L  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class LindbladTrajectory:
    """Density matrices along a Lindblad evolution (read-only).

    Attributes
    ----------
    times
        ``(n_times,)`` [1/rate].
    density_matrix
        ``(*shape, n_times, n_states, n_states)`` complex.
    """

    device: Device
    system: System
    times: Array
    density_matrix: NDArray[np.complex128]

    @property
    def populations(self) -> Array:
        """Diagonal of the density matrix, ``(*shape, n_times, n_states)``."""
        return _ro(np.array(np.diagonal(self.density_matrix, axis1=-2, axis2=-1).real))

    @property
    def coherences(self) -> Array:
        """Largest |rho_ij| (i != j) at each time, ``(*shape, n_times)``."""
        n = self.system.n_states
        off = np.abs(self.density_matrix) * (1 - np.eye(n))
        return _ro(off.max(axis=(-2, -1)))


def evolve_lindblad(device: Device, times: ArrayLike, *, initial: Any = None) -> LindbladTrajectory:
    """Evolve the full density matrix under the Lindblad master equation.

    Meant for small devices (the superoperator has ``4^n_dots`` rows).

    Parameters
    ----------
    device
        The device description.
    times
        1-D array of times >= 0 [1/rate].
    initial
        None, a state label, populations (a diagonal density matrix), or a
        density matrix ``(n, n)`` / ``(*shape, n, n)`` (Hermitian, trace 1,
        positive semidefinite).
    """
    system = device.finalized()
    n = system.n_states
    if n > 16:
        raise ValueError(f"evolve_lindblad supports at most 4 dots (16 states), got {n} states")
    t = _times(times)
    k = rates(system)
    rho0 = _initial_density_matrix(system, initial)
    Lv = liouvillian(system, k)
    vec = _propagate(Lv, t, rho0.reshape(rho0.shape[:-2] + (n * n,)).astype(np.complex128))
    rho = vec.reshape(vec.shape[:-1] + (n, n))
    return LindbladTrajectory(device=device, system=system, times=_ro(t), density_matrix=_ro(rho))  # type: ignore[arg-type]


def _initial_density_matrix(system: System, initial: Any) -> NDArray[np.complex128]:
    n = system.n_states
    arr = None if initial is None or isinstance(initial, str) else np.asarray(initial)
    if arr is not None and arr.ndim >= 2 and arr.shape[-2:] == (n, n):
        rho = arr.astype(np.complex128)
        if not np.all(np.isfinite(rho)):
            raise ValueError("initial density matrix must be finite")
        if not np.allclose(rho, np.conj(np.swapaxes(rho, -1, -2)), atol=1e-12):
            raise ValueError("initial density matrix must be Hermitian")
        tr = np.trace(rho, axis1=-2, axis2=-1).real
        if np.any(np.abs(tr - 1) > 1e-10):
            raise ValueError(f"initial density matrix must have trace 1, got {tr.ravel()[:3]}")
        if np.any(np.linalg.eigvalsh(rho) < -1e-12):
            raise ValueError("initial density matrix must be positive semidefinite")
        return rho
    P0 = initial_populations(system, initial)
    return (P0[..., :, None] * np.eye(n)).astype(np.complex128)

"""Time evolution into frozen results: rate (Pauli) equation and full Lindblad density matrix.

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

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo._validate import as_real_array, check_nonnegative
from qdthermo.kinetics.evolve import propagate
from qdthermo.kinetics.generator import PauliGenerator
from qdthermo.kinetics.lindblad import liouvillian
from qdthermo.kinetics.network import network
from qdthermo.kinetics.rates import Rates, rates
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo import entropy as _entropy
from qdthermo.thermo.transport import Transport, _ro

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
class Trajectory(Transport):
    """Populations, currents and entropy along a time evolution (read-only).

    The currents and entropies are those of :class:`~qdthermo.thermo.transport.Transport`
    (the same code as the steady state's), with a time axis before the last axis.

    Attributes
    ----------
    device, system, generator
        As in :class:`~qdthermo.thermo.result.SteadyState`.
    times
        ``(n_times,)`` [1/rate].
    populations
        ``(*shape, n_times, n_states)``.

    Examples
    --------
    >>> import numpy as np, qdthermo as qd
    >>> tr = qd.evolve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}), times=[0.0, 1.0, 100.0])
    >>> tr.populations.shape, tr.particle_current["L"].shape
    ((3, 2), (3,))
    >>> bool(np.all(tr.entropy_production >= 0))
    True
    """

    device: Device
    system: System
    generator: PauliGenerator
    times: Array
    populations: Array

    @property
    def rates(self) -> Rates:
        """Channel rates [rate unit]."""
        return self.generator.rates

    @property
    def rate_matrix(self) -> Array:
        """``(*shape, n, n)`` Pauli rate matrix [rate unit]."""
        return self.generator.matrix

    @cached_property
    def valid(self) -> NDArray[np.bool_]:  # type: ignore[override]
        """``(*shape, n_times)``: every time of an evolution is valid."""
        return np.ones(self.populations.shape[:-1], dtype=bool)

    def _view(self, a: Array) -> Array:
        return a[..., None, :]

    @cached_property
    def _rates_view(self) -> Rates:  # type: ignore[override]
        return self.rates.with_time_axis()

    @cached_property
    def entropy_rate(self) -> Array:
        """``dS/dt = -sum_i (dP_i/dt) ln P_i`` [k_B x rate], ``(*shape, n_times)``.

        +inf where probability flows into an exactly empty state (t = 0 from a pure state).
        """
        return _ro(_entropy.entropy_rate(self.rate_matrix[..., None, :, :], self.populations))


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

    Raises
    ------
    ValueError
        Negative or non-1-D times, or an invalid initial state.

    Examples
    --------
    Filling an empty dot: the populations relax to the steady state.

    >>> import numpy as np, qdthermo as qd
    >>> dev = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0})
    >>> tr = qd.evolve(dev, times=[0.0, 1.0, 100.0])
    >>> np.round(tr.populations, 4)
    array([[1.    , 0.    ],
           [0.6475, 0.3525],
           [0.5923, 0.4077]])
    >>> bool(np.allclose(tr.populations[-1], qd.solve(dev).populations))
    True
    """
    system = device.finalized()
    t = _times(times)
    generator = PauliGenerator(network(system), rates(system))
    P0 = initial_populations(system, initial)
    P = np.clip(generator.evolve(t, P0).real, 0.0, None)
    P /= P.sum(axis=-1, keepdims=True)
    return Trajectory(device=device, system=system, generator=generator, times=_ro(t), populations=_ro(P))


@dataclass(frozen=True, eq=False)
class LindbladTrajectory:
    """Density matrices along a Lindblad evolution (read-only).

    Attributes
    ----------
    times
        ``(n_times,)`` [1/rate].
    density_matrix
        ``(*shape, n_times, n_states, n_states)`` complex.

    Examples
    --------
    >>> import qdthermo as qd
    >>> lt = qd.evolve_lindblad(qd.single_dot(eps=0.5), times=[0.0, 100.0])
    >>> lt.density_matrix.shape, lt.populations.shape
    ((2, 2, 2), (2, 2))
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

    Returns
    -------
    LindbladTrajectory
        ``times`` and ``density_matrix`` of shape ``(*shape, n_times, n, n)``.

    Raises
    ------
    ValueError
        More than 4 dots (16 states), negative times, an invalid initial state, or a device with
        interdot tunnelling (its Hamiltonian is not diagonal in the occupation basis: use
        :func:`qdthermo.evolve_coherent` with a density-matrix approach).

    Examples
    --------
    Without interdot tunnelling the populations follow the rate equation:

    >>> import numpy as np, qdthermo as qd
    >>> dev = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0})
    >>> lt = qd.evolve_lindblad(dev, times=[0.0, 1.0, 100.0])
    >>> bool(np.allclose(lt.populations, qd.evolve(dev, [0.0, 1.0, 100.0]).populations))
    True
    """
    if device.tunnels:
        raise ValueError("evolve_lindblad builds the Lindblad equation of the rate equation's jumps (H diagonal in "
                         "the occupation basis): this device has interdot tunnelling (qd.Tunnel); use "
                         "qd.evolve_coherent(device, times, approach='global' | 'local' | 'unified')")
    system = device.finalized()
    n = system.n_states
    if n > 16:
        raise ValueError(f"evolve_lindblad supports at most 4 dots (16 states), got {n} states")
    t = _times(times)
    k = rates(system)
    rho0 = _initial_density_matrix(system, initial)
    Lv = liouvillian(network(system), system.energies, k)
    vec = propagate(Lv, t, rho0.reshape(rho0.shape[:-2] + (n * n,)).astype(np.complex128),
                    conserved=np.eye(n).ravel())  # trace preservation: vec(1)^T L = 0
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

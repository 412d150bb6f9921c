"""Density-matrix steady states of devices with interdot tunnelling: :class:`CoherentState`.

``qd.solve(device, approach="global" | "local")`` builds the Lindblad
Liouvillian (:mod:`qdthermo.kinetics.coherent`), solves its unit-trace null
vector for every parameter point at once and wraps it here.

Conventions (docs/coherent.md): ``J_N^nu = Tr[N D_nu(rho)]``,
``J_E^nu = Tr[H D_nu(rho)]`` (H the full dots' Hamiltonian, tunnelling
included), ``J_Q^nu = J_E^nu - mu_nu J_N^nu``, all positive from the lead
into the system; entropy production ``sigma = -sum_nu J_Q^nu / T_nu``
[rate unit, k_B = 1].  ``second_law_violated`` is True where ``sigma`` is
negative beyond round-off (the local approach out of equilibrium).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo.kinetics.coherent import APPROACHES, CoherentGenerator, choose_coherent_route, coherent_generator
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo.transport import _ro, per_lead

__all__ = ["CoherentState", "solve_coherent", "evolve_coherent", "SECOND_LAW_TOLERANCE"]

Array = NDArray[np.float64]

#: sigma < -SECOND_LAW_TOLERANCE * sum_nu (|J_E| + |mu J_N| + Gamma (|H| + |mu| + T))_nu / T_nu flags a
#: second-law violation (the scale is the size of each term of sigma, so round-off never sets the flag)
SECOND_LAW_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class CoherentState:
    """Steady state of the density matrix in one approach (read-only; arrays of the batch shape).

    Attributes
    ----------
    device, system
        The description and its many-body states (``system.state_labels`` label the basis).
    generator
        The Liouvillian (working basis) it came from.
    density_matrix
        ``(*shape, n, n)`` complex steady state in the occupation basis.
    valid
        ``(*shape)`` False where the steady state is not unique (NaN there).
    approach
        ``"global"``, ``"local"`` or ``"unified"``.
    working_density_matrix
        The same state in the generator's working basis (eigenbasis for ``"global"``), or None.

    Examples
    --------
    >>> import qdthermo as qd
    >>> dev = qd.serial_double_dot(eps_L=0.0, eps_R=0.0, tunnel=0.5, mu={"L": 0.5, "R": -0.5})
    >>> res = qd.solve(dev, approach="global")
    >>> res.approach, res.state_labels, res.density_matrix.shape
    ('global', ('00', '10', '01', '11'), (4, 4))
    >>> round(float(res.particle_current["L"]), 4), bool(res.entropy_production > 0)
    (0.1155, True)
    """

    device: Device
    system: System
    generator: CoherentGenerator
    density_matrix: NDArray[np.complex128]
    valid: NDArray[np.bool_]
    approach: str
    working_density_matrix: NDArray[np.complex128] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return self.system.shape

    @property
    def state_labels(self) -> tuple[str, ...]:
        """Occupation labels of the basis states."""
        return self.system.state_labels

    @cached_property
    def populations(self) -> Array:
        """``(*shape, n)`` diagonal of the density matrix in the occupation basis."""
        return _ro(np.real(np.diagonal(self.density_matrix, axis1=-2, axis2=-1)).copy())

    @cached_property
    def _working_rho(self) -> NDArray[np.complex128]:
        if self.working_density_matrix is not None:
            return self.working_density_matrix
        return self.generator.from_occupation(self.density_matrix)

    @cached_property
    def _currents(self) -> tuple[Array, Array, Array]:
        JN, JE = self.generator.currents(self._working_rho)
        mu = np.moveaxis(self.system.lead_chemical_potential, -1, 0)
        return JN, JE, JE - mu * JN

    @cached_property
    def particle_current(self) -> Mapping[str, Array]:
        """Lead -> ``(*shape)`` particle current into the system [rate unit]."""
        return per_lead(self.system.lead_names, np.moveaxis(self._currents[0], 0, -1))

    @cached_property
    def energy_current(self) -> Mapping[str, Array]:
        """Lead -> ``(*shape)`` energy current ``Tr[H D_nu(rho)]`` into the system [energy x rate]."""
        return per_lead(self.system.lead_names, np.moveaxis(self._currents[1], 0, -1))

    @cached_property
    def heat_current(self) -> Mapping[str, Array]:
        """Lead -> ``(*shape)`` heat current ``J_E - mu J_N`` into the system [energy x rate]."""
        return per_lead(self.system.lead_names, np.moveaxis(self._currents[2], 0, -1))

    @cached_property
    def entropy_production(self) -> Array:
        """``(*shape)`` ``sigma = -sum_nu J_Q^nu / T_nu`` [rate unit]."""
        T = np.moveaxis(self.system.lead_temperature, -1, 0)
        return _ro(-np.sum(self._currents[2] / T, axis=0))

    @cached_property
    def second_law_violated(self) -> NDArray[np.bool_]:
        """``(*shape)`` True where ``sigma < 0`` beyond round-off (see :data:`SECOND_LAW_TOLERANCE`)."""
        JN, JE, _ = self._currents
        T = np.moveaxis(self.system.lead_temperature, -1, 0)
        mu = np.moveaxis(self.system.lead_chemical_potential, -1, 0)
        gen = self.generator
        energy = np.abs(gen.hamiltonian).sum(axis=-1).max(axis=-1)  # >= spectral radius of H
        rate = gen.rate_scale  # ~ Gamma_nu
        scale = np.sum((np.abs(JE) + np.abs(mu * JN) + rate * (energy + np.abs(mu) + T)) / T, axis=0)
        return _ro(np.asarray(self.entropy_production < -SECOND_LAW_TOLERANCE * scale) & self.valid)

    def noise(self, lead: str) -> tuple[Array, Array]:
        """``(current, noise)``: mean and zero-frequency variance rate of the particles into the system
        from ``lead`` (full counting statistics of the tilted Liouvillian) [rate unit]."""
        k = self.system.lead_names.index(lead) if lead in self.system.lead_names else -1
        if k < 0:
            raise ValueError(f"unknown lead {lead!r}; allowed leads: {list(self.system.lead_names)}")
        return self.generator.noise(self._working_rho, k)

    def fano_factor(self, lead: str) -> Array:
        """``(*shape)`` Fano factor ``noise / |current|`` of the particles counted through ``lead``."""
        mean, var = self.noise(lead)
        with np.errstate(divide="ignore", invalid="ignore"):
            return var / np.abs(mean)  # type: ignore[no-any-return]


def _check_approach(device: Device, approach: str) -> None:
    if approach not in APPROACHES:
        raise ValueError(f"unknown approach {approach!r}; allowed: ['pauli', 'global', 'local', 'unified']")


def solve_coherent(device: Device, approach: str, method: str = "auto",
                   cluster_width: ArrayLike | None = None) -> CoherentState:
    """Steady density matrix of ``device`` in ``approach`` (``"global"``, ``"local"`` or ``"unified"``).

    ``method``: ``"auto"`` (dense batched below :data:`~qdthermo.kinetics.coherent.SPARSE_MIN_STATES`
    states, else sparse), ``"dense"`` or ``"sparse"``.  ``cluster_width`` [energy]: the clustering
    scale of the ``"unified"`` equation (default: the largest ``Gamma`` of each point); points whose
    clusters admit no modified Hamiltonian are NaN, ``valid`` False.
    """
    _check_approach(device, approach)
    choose_coherent_route(2, method)  # validate before the work
    system = device.finalized()
    gen = coherent_generator(device, approach, system, cluster_width=cluster_width)
    rho, valid = gen.steady_state(method=method)
    if gen.consistent is not None:
        valid = valid & gen.consistent
        rho = np.where(np.asarray(valid)[..., None, None], rho, np.nan)
    if device.shape == () and not bool(valid):
        if gen.consistent is not None and not bool(gen.consistent):
            raise ValueError("the unified clusters admit no modified Hamiltonian at this point; change cluster_width")
        raise ValueError(f"the {approach} Liouvillian has no unique steady state")
    occupation = gen.to_occupation(rho, block_diagonal=True)  # a steady state has no inter-sector coherences
    return CoherentState(device=device, system=system, generator=gen, density_matrix=_ro(occupation),
                         valid=_ro(np.asarray(valid)), approach=approach, working_density_matrix=_ro(rho))


def evolve_coherent(device: Device, times: ArrayLike, initial: Any = None, *,
                    approach: str = "global") -> NDArray[np.complex128]:
    """``(*shape, n_times, n, n)`` density matrix ``rho(t)`` in the occupation basis.

    Parameters
    ----------
    device
        A device with interdot tunnelling (e.g. :func:`qdthermo.serial_double_dot`).
    times
        ``(n_times,)`` times [1/rate unit], >= 0.
    initial
        ``(n, n)`` or ``(*shape, n, n)`` initial density matrix (occupation basis),
        a state label such as ``"00"`` (that pure state), or None (the empty state).
    approach
        ``"global"`` or ``"local"`` Lindblad equation (docs/coherent.md).

    Returns
    -------
    numpy.ndarray
        ``rho(t)``, complex, of shape ``(*shape, n_times, n, n)``.

    Raises
    ------
    ValueError
        An unknown approach, times that are not a 1-D array of values >= 0,
        or an unknown initial state label.

    Examples
    --------
    From the empty state to the biased steady state; the trace stays 1:

    >>> import numpy as np, qdthermo as qd
    >>> dev = qd.serial_double_dot(eps_L=0.0, eps_R=0.0, tunnel=0.5, mu={"L": 0.5, "R": -0.5})
    >>> rho = qd.evolve_coherent(dev, times=[0.0, 50.0])
    >>> rho.shape
    (2, 4, 4)
    >>> bool(np.allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0))
    True
    >>> bool(np.allclose(rho[-1], qd.solve(dev, approach="global").density_matrix, atol=1e-6))
    True
    """
    _check_approach(device, approach)
    system = device.finalized()
    n = system.n_states
    if initial is None or isinstance(initial, str):
        label = "0" * len(system.dot_names) if initial is None else initial
        if label not in system.state_labels:
            raise ValueError(f"unknown state {label!r}; allowed: {list(system.state_labels)}")
        rho0 = np.zeros((n, n), dtype=complex)
        k = system.state_labels.index(label)
        rho0[k, k] = 1.0
    else:
        rho0 = np.asarray(initial, dtype=complex)
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("times must be a 1-D array of finite values >= 0")
    return coherent_generator(device, approach, system).evolve(t, rho0)

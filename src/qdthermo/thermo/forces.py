"""Thermodynamic forces and fluxes from the conservation laws (PHYSICS.md section 6).

At steady state energy is conserved (``sum_nu J_E^nu = 0``) and so is the
particle number of every dot (no interdot hopping: ``sum_{nu on d} J_N^nu = 0``).
Eliminating the currents of a reference lead turns the macroscopic entropy
production ``-sum_nu J_Q^nu/T_nu`` into ``sum_k F_k J_k`` exactly, with

* one energy force per lead nu != ref: ``F = 1/T_ref - 1/T_nu`` [1/energy],
  conjugate flux ``J_E^nu`` [energy x rate];
* one particle force per lead nu != ref_d of each dot d:
  ``F = mu_nu/T_nu - mu_ref_d/T_ref_d`` [dimensionless], conjugate flux
  ``J_N^nu`` [rate]; ``ref_d`` is the reference lead if it is attached to d,
  else the last lead of d.

For the paper's device with reference ``b`` this is the table of section 6:
``F_E = 1/T_b - 1/T_t`` (J_E = J_E^t), ``F_R = 1/T_b - 1/T_r`` (J_R = J_E^r),
``F_N = mu_t/T_t - mu_b/T_b`` (J_N = J_N^t).

Names: a force with generic key ``"E:t"`` (energy, lead t) is called
``F_<alias>``/``J_<alias>`` when the device gives an alias (presets do:
``E``, ``R``, ``N``), else ``F_E_t``/``J_E_t`` (``F_N_t``/``J_N_t`` for particles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qdthermo.model.device import Device
from qdthermo.model.system import System

__all__ = ["ForceBasis", "force_basis", "macroscopic_forces", "conjugate_fluxes", "gradients", "is_energy"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ForceBasis:
    """Structure of the force-flux basis of a device.

    Attributes
    ----------
    keys
        Generic keys ``"E:<lead>"`` / ``"N:<lead>"``.
    force_names, flux_names
        Public names (``"F_E"``/``"J_E"`` for aliased keys).
    kind
        ``"E"`` (energy) or ``"N"`` (particle) for each force.
    lead, reference
        Lead index of each force and of its reference lead.

    Examples
    --------
    >>> import qdthermo as qd
    >>> from qdthermo.thermo import force_basis
    >>> basis = force_basis(qd.single_dot(eps=0.5))
    >>> basis.keys, basis.force_names, basis.flux_names, basis.kind
    (('E:L', 'N:L'), ('F_E', 'F_N'), ('J_E', 'J_N'), ('E', 'N'))
    """

    keys: tuple[str, ...]
    force_names: tuple[str, ...]
    flux_names: tuple[str, ...]
    kind: tuple[str, ...]
    lead: NDArray[np.intp]
    reference: NDArray[np.intp]

    def index(self, name: str) -> int:
        """Position of a force given by public name (``"F_E"``), flux name, alias or generic key."""
        for names in (self.force_names, self.flux_names, self.keys):
            if name in names:
                return names.index(name)
        for cand in (f"F_{name}",):
            if cand in self.force_names:
                return self.force_names.index(cand)
        raise ValueError(f"unknown force {name!r}; known forces: {list(self.force_names)}")


def force_basis(device: System | Device) -> ForceBasis:
    """The force-flux basis of a finalized system (see the module docstring).

    A :class:`~qdthermo.model.device.Device` is accepted too (it has the same
    ``lead_names``, ``lead_dots``, ``dot_names``, ``reference_lead`` and ``aliases``).

    Parameters
    ----------
    device
        A finalized system or a device description.

    Returns
    -------
    ForceBasis
        The force and flux names with their leads and reference leads.

    Examples
    --------
    The paper's three forces, with lead ``b`` as reference:

    >>> import qdthermo as qd
    >>> from qdthermo.thermo import force_basis
    >>> basis = force_basis(qd.three_terminal(eps_L=1.0, eps_R=1.0))
    >>> basis.force_names, basis.flux_names
    (('F_E', 'F_R', 'F_N'), ('J_E', 'J_R', 'J_N'))
    """
    leads = device.lead_names
    ref = leads.index(device.reference_lead)  # type: ignore[arg-type]
    keys, kinds, lead_idx, refs = [], [], [], []
    for k, name in enumerate(leads):
        if k != ref:
            keys.append(f"E:{name}")
            kinds.append("E")
            lead_idx.append(k)
            refs.append(ref)
    for dot in device.dot_names:
        on_dot = [k for k, lead_dot in enumerate(device.lead_dots) if lead_dot == dot]
        if not on_dot:
            continue
        ref_d = ref if ref in on_dot else on_dot[-1]
        for k in on_dot:
            if k != ref_d:
                keys.append(f"N:{leads[k]}")
                kinds.append("N")
                lead_idx.append(k)
                refs.append(ref_d)
    force_names, flux_names = [], []
    for key, kind, k in zip(keys, kinds, lead_idx):
        alias = device.aliases.get(key)
        suffix = alias if alias is not None else f"{kind}_{leads[k]}"
        force_names.append(f"F_{suffix}")
        flux_names.append(f"J_{suffix}")
    return ForceBasis(
        keys=tuple(keys), force_names=tuple(force_names), flux_names=tuple(flux_names),
        kind=tuple(kinds), lead=np.array(lead_idx, dtype=np.intp), reference=np.array(refs, dtype=np.intp),
    )


def is_energy(basis: ForceBasis) -> NDArray[np.bool_]:
    """``(n_forces,)`` True for the energy forces of the basis, False for the particle forces."""
    return np.array([k == "E" for k in basis.kind], dtype=bool)


def macroscopic_forces(basis: ForceBasis, T: Array, mu: Array) -> Array:
    """Forces ``(..., n_forces)`` from lead temperatures and chemical potentials ``(..., n_leads)``.

    Energy forces in 1/energy, particle forces dimensionless.

    Parameters
    ----------
    basis
        The force basis (:func:`force_basis`).
    T
        Lead temperatures k_B T [energy], ``(..., n_leads)``.
    mu
        Lead chemical potentials [energy], ``(..., n_leads)``.

    Returns
    -------
    numpy.ndarray
        The forces, ``(..., n_forces)``.

    Examples
    --------
    F_E = 1/T_R - 1/T_L and F_N = mu_L/T_L - mu_R/T_R for a single dot:

    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.thermo import force_basis, macroscopic_forces
    >>> basis = force_basis(qd.single_dot(eps=0.5))
    >>> macroscopic_forces(basis, T=np.array([2.0, 1.0]), mu=np.array([0.5, 0.0]))
    array([0.5 , 0.25])
    """
    invT = 1.0 / T
    beta_mu = mu * invT
    energy = invT[..., basis.reference] - invT[..., basis.lead]
    particle = beta_mu[..., basis.lead] - beta_mu[..., basis.reference]
    return np.where(is_energy(basis), energy, particle)


def conjugate_fluxes(basis: ForceBasis, particle: Array, energy: Array) -> Array:
    """Fluxes ``(..., n_forces)`` conjugate to the forces, from per-lead currents ``(..., n_leads)``."""
    return np.where(is_energy(basis), energy[..., basis.lead], particle[..., basis.lead])


def gradients(basis: ForceBasis, T: Array, mu: Array) -> Array:
    """Gradients ``(..., n_forces)``: ``T_nu - T_ref`` (energy) and ``mu_nu - mu_ref`` (particle) [energy].

    These have the sign of the forces for the energy pair but not always for
    the particle pair (F_N and mu_t - mu_b can differ in sign when T_t != T_b).
    """
    dT = T[..., basis.lead] - T[..., basis.reference]
    dmu = mu[..., basis.lead] - mu[..., basis.reference]
    return np.where(is_energy(basis), dT, dmu)

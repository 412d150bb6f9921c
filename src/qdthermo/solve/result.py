"""The frozen result of a steady-state solve.

:func:`qdthermo.solve` turns a :class:`~qdthermo.model.device.Device` into a
:class:`SteadyState`: a read-only object whose properties are computed on
first access and cached.  It never writes back into the device.

Public contract (names are stable):

``populations``
    ``(*shape, n_states)`` steady-state probabilities, states labelled by
    ``state_labels`` (occupations of the dots in device order, e.g. "10" =
    dot L occupied, dot R empty).
``particle_current[lead]``, ``energy_current[lead]``, ``heat_current[lead]``
    ``(*shape)`` arrays, [rate], [energy x rate], [energy x rate], positive
    from the lead into the system.
``channel_flux``
    ``(*shape, n_channels)`` net flux ``k^+ P_i - k^- P_j`` of each channel,
    labelled by ``channel_labels`` ("lead:i->j").
``to_xarray()``
    An :class:`xarray.Dataset` of every observable, with ``units`` and
    ``long_name`` attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._reduce import max_last, min_last
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.solve.master import rate_matrix
from qdthermo.solve.rates import Rates
from qdthermo.thermo import entropy as _entropy
from qdthermo.thermo.currents import channel_flux, lead_currents
from qdthermo.thermo.cycles import Cycles, cycle_basis, cycles
from qdthermo.thermo.forces import ForceBasis, conjugate_fluxes, force_basis, gradients, macroscopic_forces
from qdthermo.thermo.performance import Performance, current_resolution, performance
from qdthermo.thermo.regimes import Regime, Tolerance, classify
from qdthermo.units import QUANTITIES, attrs

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SteadyState", "per_lead"]

Array = NDArray[np.float64]


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if not a.flags.owndata else a
        a.setflags(write=False)
    return a


def per_lead(names: Sequence[str], values: NDArray[Any]) -> Mapping[str, NDArray[Any]]:
    """Read-only mapping lead name -> ``values[..., k]``."""
    return MappingProxyType({n: _ro(np.array(values[..., k])) for k, n in enumerate(names)})


def _labelled(name: str, value: Any, dims: tuple[str, ...]) -> Any:
    """A coordinate for ``to_xarray``: bare 1-D values of a batch dimension get units and long name."""
    if name in dims and name in QUANTITIES and isinstance(value, (np.ndarray, list, tuple, range)):
        return (name, np.asarray(value), attrs(name))
    return value


@dataclass(frozen=True, eq=False)
class SteadyState:
    """Solved steady state of a device (read-only; see the module docstring).

    Attributes
    ----------
    device
        The description that was solved.
    system
        Its many-body states and channels.
    rates
        Channel rates :class:`~qdthermo.solve.rates.Rates` [rate unit].
    populations
        ``(*shape, n_states)`` steady-state probabilities.
    """

    device: Device
    system: System
    rates: Rates
    populations: Array

    @cached_property
    def rate_matrix(self) -> Array:
        """``(*shape, n, n)`` Pauli rate matrix W [rate unit] (built on first access)."""
        return _ro(rate_matrix(self.system, self.rates))

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return self.system.shape

    @property
    def state_labels(self) -> tuple[str, ...]:
        """Occupation labels of the states, e.g. ``("00", "10", "01", "11")``."""
        return self.system.state_labels

    @property
    def lead_names(self) -> tuple[str, ...]:
        """Lead names, in device order."""
        return self.system.lead_names

    @property
    def channel_labels(self) -> tuple[str, ...]:
        """Channel labels ``"lead:i->j"``."""
        return self.system.channel_labels

    # --------------------------------------------------------------- currents
    @cached_property
    def channel_flux(self) -> Array:
        """``(*shape, n_channels)`` net channel fluxes ``k^+ P_i - k^- P_j`` [rate]."""
        return _ro(channel_flux(self.system, self.rates, self.populations))

    @cached_property
    def _currents(self) -> tuple[Array, Array, Array]:
        return tuple(_ro(a) for a in lead_currents(self.system, self.channel_flux))  # type: ignore[return-value]

    @property
    def particle_current_array(self) -> Array:
        """``(*shape, n_leads)`` particle currents [rate], lead -> system positive."""
        return self._currents[0]

    @property
    def energy_current_array(self) -> Array:
        """``(*shape, n_leads)`` energy currents [energy x rate], lead -> system positive."""
        return self._currents[1]

    @property
    def heat_current_array(self) -> Array:
        """``(*shape, n_leads)`` heat currents J_E - mu J_N [energy x rate], lead -> system positive."""
        return self._currents[2]

    @cached_property
    def particle_current(self) -> Mapping[str, Array]:
        """Particle current of each lead [rate], positive from the lead into the system."""
        return per_lead(self.lead_names, self.particle_current_array)

    @cached_property
    def energy_current(self) -> Mapping[str, Array]:
        """Energy current of each lead [energy x rate], positive from the lead into the system."""
        return per_lead(self.lead_names, self.energy_current_array)

    @cached_property
    def heat_current(self) -> Mapping[str, Array]:
        """Heat current ``J_E - mu J_N`` of each lead [energy x rate], lead -> system positive."""
        return per_lead(self.lead_names, self.heat_current_array)

    # -------------------------------------------------------- thermodynamics
    @cached_property
    def entropy_production(self) -> Array:
        """``(*shape)`` Schnakenberg (microscopic) entropy production rate [k_B x rate], >= 0."""
        return _ro(_entropy.entropy_production(self.system, self.rates, self.populations))

    @cached_property
    def entropy_flow(self) -> Array:
        """``(*shape)`` entropy flow from the reservoirs ``sum_nu J_Q^nu/T_nu`` [k_B x rate]."""
        return _ro(_entropy.entropy_flow(self.heat_current_array, self.system.lead_temperature))

    @cached_property
    def entropy_flow_by_lead(self) -> Mapping[str, Array]:
        """Entropy flow from each reservoir ``J_Q^nu / T_nu`` [k_B x rate]."""
        return per_lead(self.lead_names, self.heat_current_array / self.system.lead_temperature)

    @property
    def entropy_production_macro(self) -> Array:
        """``(*shape)`` macroscopic entropy production ``-sum_nu J_Q^nu/T_nu`` [k_B x rate].

        Equals :attr:`entropy_production` at steady state and ``sum_k F_k J_k``.
        """
        return _ro(-self.entropy_flow)

    @property
    def entropy(self) -> Array:
        """``(*shape)`` system entropy ``-sum_i P_i ln P_i`` [k_B]."""
        return _ro(_entropy.system_entropy(self.populations))

    @cached_property
    def force_basis(self) -> ForceBasis:
        """The force-flux basis (reference lead: ``device.reference_lead``)."""
        return force_basis(self.device)

    @cached_property
    def force_array(self) -> Array:
        """``(*shape, n_forces)`` macroscopic forces, ordered as ``force_basis.force_names``."""
        return _ro(macroscopic_forces(self.force_basis, self.system.lead_temperature,
                                      self.system.lead_chemical_potential))

    @cached_property
    def flux_array(self) -> Array:
        """``(*shape, n_forces)`` fluxes conjugate to :attr:`force_array`."""
        return _ro(conjugate_fluxes(self.force_basis, self.particle_current_array, self.energy_current_array))

    @cached_property
    def forces(self) -> Mapping[str, Array]:
        """Macroscopic forces by name: ``F_E``, ``F_R``, ``F_N`` for the paper's device.

        Energy forces ``1/T_ref - 1/T_nu`` [1/energy]; particle forces
        ``mu_nu/T_nu - mu_ref/T_ref`` [dimensionless].
        """
        return per_lead(self.force_basis.force_names, self.force_array)

    @cached_property
    def fluxes(self) -> Mapping[str, Array]:
        """Fluxes conjugate to :attr:`forces`: ``J_E`` (= J_E^t), ``J_R`` (= J_E^r), ``J_N`` (= J_N^t)."""
        return per_lead(self.force_basis.flux_names, self.flux_array)

    @cached_property
    def cycles(self) -> Cycles:
        """Schnakenberg fundamental cycles: fluxes, affinities, cycle -> force map."""
        cb = cycle_basis(self.system, self.force_basis)
        return cycles(self.system, self.rates, self.channel_flux, self.force_basis, cb)

    @cached_property
    def microscopic_forces(self) -> Mapping[str, Array]:
        """Forces recovered from the rates via the cycle affinities (NaN where not determined)."""
        return per_lead(self.force_basis.force_names, self.cycles.microscopic_forces)

    def _pair(self) -> tuple[int, int]:
        pair = self.device.parallel_pair
        if pair is None:
            raise ValueError(
                f"device {self.device.name!r} declares no parallel force pair (Device.parallel_pair); "
                f"forces are {list(self.force_basis.force_names)}"
            )
        return self.force_basis.index(pair[0]), self.force_basis.index(pair[1])

    def _zero_masks(self, values: Array, tol: Tolerance, gradient: bool) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        s = self.system
        T_min = min_last(s.lead_temperature)
        T_max = max_last(s.lead_temperature)
        mu_max = max_last(np.abs(s.lead_chemical_potential))
        energy = np.array([k == "E" for k in self.force_basis.kind])
        if gradient:
            f_scale = np.where(energy, T_max[..., None], (T_max + mu_max)[..., None])
        else:
            f_scale = np.where(energy, 1.0 / T_min[..., None], (1.0 + mu_max / T_min)[..., None])
        g_max = max_last(s.channel_coupling)
        e_scale = np.maximum(max_last(np.abs(s.channel_energy)), T_max)
        j_scale = np.where(energy, (g_max * e_scale)[..., None], g_max[..., None])
        return np.abs(values) <= tol.force_tol * f_scale, np.abs(self.flux_array) <= tol.flux_tol * j_scale

    def classify(self, *, force_tol: float = 1e-9, flux_tol: float = 1e-9,
                 by: str = "forces") -> Mapping[str, NDArray[np.int8]]:
        """Regimes of the parallel pair's fluxes (see :mod:`qdthermo.thermo.regimes`).

        Parameters
        ----------
        force_tol, flux_tol
            Relative tolerances for "zero" (:class:`~qdthermo.thermo.regimes.Tolerance`).
        by
            ``"forces"`` (thermodynamic forces, the correct criterion) or
            ``"gradients"`` (Delta T, Delta mu: the criterion criticised in the
            paper's Sec. VI, which can call a cross-effect an ICC).

        Returns
        -------
        Mapping
            Flux name (``"J_E"``, ``"J_N"``) -> int8 array of :class:`Regime` codes.
        """
        if by not in ("forces", "gradients"):
            raise ValueError(f"by must be 'forces' or 'gradients', got {by!r}")
        tol = Tolerance(force_tol, flux_tol)
        a, b = self._pair()
        s = self.system
        values = self.force_array if by == "forces" else gradients(
            self.force_basis, s.lead_temperature, s.lead_chemical_potential)
        f_zero, j_zero = self._zero_masks(values, tol, gradient=(by == "gradients"))
        out: dict[str, NDArray[np.int8]] = {}
        for i, j in ((a, b), (b, a)):
            out[self.force_basis.flux_names[i]] = _ro(classify(
                self.flux_array[..., i], values[..., i], values[..., j],
                J_zero=j_zero[..., i], F_i_zero=f_zero[..., i], F_j_zero=f_zero[..., j]))
        return MappingProxyType(out)

    @cached_property
    def regime(self) -> Mapping[str, NDArray[np.int8]]:
        """Regime of each flux of the parallel pair, ``{"J_E": ..., "J_N": ...}``.

        int8 arrays of :class:`~qdthermo.thermo.regimes.Regime` codes, classified
        against the forces with the default tolerances (see :meth:`classify`).
        """
        return self.classify()

    @cached_property
    def regime_by_gradients(self) -> Mapping[str, NDArray[np.int8]]:
        """As :attr:`regime` but classified by the gradients (Delta T, Delta mu) instead of forces."""
        return self.classify(by="gradients")

    @cached_property
    def performance(self) -> Performance:
        """Engine/refrigerator figures of merit (:mod:`qdthermo.thermo.performance`)."""
        s = self.system
        return performance(self.particle_current_array, self.heat_current_array,
                           s.lead_temperature, s.lead_chemical_potential, atol=self._current_noise)

    @cached_property
    def _current_noise(self) -> Array:
        """Resolution floor of energy-like currents (:func:`~qdthermo.thermo.performance.current_resolution`)."""
        s, k, P = self.system, self.rates, self.populations
        Pi, Pj = s.on_channels(P)
        one_way = k.plus * Pi
        one_way += k.minus * Pj
        return current_resolution(one_way, s.channel_energy, s.channel_chemical_potential,
                                  s.channel_temperature, k.plus + k.minus)

    # ----------------------------------------------------------------- export
    def _observables(self) -> dict[str, tuple[tuple[str, ...], NDArray[Any], dict[str, Any]]]:
        """name -> (trailing dims, array, attrs) for :meth:`to_xarray`.

        Further observables (thermodynamics) extend this table.
        """
        obs: dict[str, tuple[tuple[str, ...], NDArray[Any], dict[str, Any]]] = {
            "populations": (("state",), self.populations, attrs("populations")),
            "energy": (("state",), self.system.energies, attrs("energy")),
            "channel_flux": (("channel",), self.channel_flux, attrs("channel_flux")),
            "particle_current": (("lead",), self.particle_current_array, attrs("particle_current")),
            "energy_current": (("lead",), self.energy_current_array, attrs("energy_current")),
            "heat_current": (("lead",), self.heat_current_array, attrs("heat_current")),
            "entropy_production": ((), self.entropy_production, attrs("entropy_production")),
            "entropy_flow": ((), self.entropy_flow, attrs("entropy_flow")),
            "forces": (("force",), self.force_array, {
                "units": "1/energy (energy forces), 1 (particle forces)",
                "long_name": "thermodynamic force"}),
            "fluxes": (("flux",), self.flux_array, {
                "units": "energy*rate (energy fluxes), rate (particle fluxes)",
                "long_name": "flux conjugate to the force"}),
        }
        if self.device.parallel_pair is not None:
            codes = ", ".join(f"{r.value}={r.name}" for r in Regime)
            for name, value in self.regime.items():
                obs[f"regime_{name}"] = ((), value, {
                    "units": "1", "long_name": f"response regime of {name}",
                    "flag_values": [r.value for r in Regime], "flag_meanings": " ".join(r.name for r in Regime),
                    "description": codes})
        perf = self.performance
        for name in ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"):
            obs[name] = ((), getattr(perf, name), attrs(name))
        return obs

    def to_xarray(
        self,
        dims: Sequence[str] | None = None,
        coords: Mapping[str, Any] | None = None,
    ) -> "xr.Dataset":
        """Every observable as a labelled :class:`xarray.Dataset`.

        Parameters
        ----------
        dims
            Names of the batch dimensions (default ``dim_0, dim_1, ...``).
        coords
            Optional coordinates for the batch dimensions; a 1-D coordinate
            named after a known quantity (``F_E``, ``eps_L``, ``T_ref``, ...,
            see :data:`qdthermo.units.QUANTITIES`) gets its ``units`` and
            ``long_name``.

        Returns
        -------
        xarray.Dataset
            Variables carry ``units`` and ``long_name`` attributes; the
            ``state``, ``lead`` and ``channel`` dimensions are labelled.
        """
        import xarray as xr

        shape = self.shape
        if dims is None:
            dims = tuple(f"dim_{k}" for k in range(len(shape)))
        dims = tuple(dims)
        if len(dims) != len(shape):
            raise ValueError(f"dims must name the {len(shape)} batch dimension(s) of shape {shape}, got {dims}")
        data_vars = {}
        for name, (extra, value, at) in self._observables().items():
            value = np.asarray(value)
            full = shape + tuple(value.shape[value.ndim - len(extra):]) if extra else shape
            data_vars[name] = (dims + extra, np.broadcast_to(value, full), at)
        ds = xr.Dataset(
            data_vars,
            coords={
                "state": ("state", list(self.state_labels), {"long_name": "many-body state (dot occupations)"}),
                "lead": ("lead", list(self.lead_names), {"long_name": "lead"}),
                "channel": ("channel", list(self.channel_labels), {"long_name": "tunnelling channel lead:i->j"}),
                "force": ("force", list(self.force_basis.force_names), {"long_name": "thermodynamic force"}),
                "flux": ("flux", list(self.force_basis.flux_names), {"long_name": "conjugate flux"}),
                **{name: _labelled(name, value, dims) for name, value in (coords or {}).items()},
            },
            attrs={"device": self.device.name, "dots": ",".join(self.system.dot_names),
                   "sign_convention": "currents positive from lead into system",
                   "units_convention": "k_B = hbar = e = 1"},
        )
        return ds

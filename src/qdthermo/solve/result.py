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

from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.solve.rates import Rates
from qdthermo.thermo.currents import channel_flux, lead_currents
from qdthermo.units import attrs

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SteadyState", "per_lead"]

Array = NDArray[np.float64]


def _ro(a: Array) -> Array:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if not a.flags.owndata else a
        a.setflags(write=False)
    return a


def per_lead(names: Sequence[str], values: Array) -> Mapping[str, Array]:
    """Read-only mapping lead name -> ``values[..., k]``."""
    return MappingProxyType({n: _ro(np.array(values[..., k])) for k, n in enumerate(names)})


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
    rate_matrix
        ``(*shape, n, n)`` Pauli rate matrix W [rate unit].
    populations
        ``(*shape, n_states)`` steady-state probabilities.
    """

    device: Device
    system: System
    rates: Rates
    rate_matrix: Array
    populations: Array

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

    # ----------------------------------------------------------------- export
    def _observables(self) -> dict[str, tuple[tuple[str, ...], Array, dict[str, str]]]:
        """name -> (trailing dims, array, attrs) for :meth:`to_xarray`.

        Further observables (thermodynamics) extend this table.
        """
        return {
            "populations": (("state",), self.populations, attrs("populations")),
            "energy": (("state",), self.system.energies, attrs("energy")),
            "channel_flux": (("channel",), self.channel_flux, attrs("channel_flux")),
            "particle_current": (("lead",), self.particle_current_array, attrs("particle_current")),
            "energy_current": (("lead",), self.energy_current_array, attrs("energy_current")),
            "heat_current": (("lead",), self.heat_current_array, attrs("heat_current")),
        }

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
            Optional coordinates for the batch dimensions.

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
                **(dict(coords) if coords else {}),
            },
            attrs={"device": self.device.name, "dots": ",".join(self.system.dot_names),
                   "sign_convention": "currents positive from lead into system",
                   "units_convention": "k_B = hbar = e = 1"},
        )
        return ds

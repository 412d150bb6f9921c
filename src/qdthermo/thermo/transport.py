"""What every solved state of a Pauli master equation shares: currents and entropy.

:class:`Transport` is the base of :class:`~qdthermo.thermo.result.SteadyState`
and :class:`~qdthermo.thermo.trajectory.Trajectory`.  It computes, from the
system, the rates and the populations, the per-channel fluxes, the per-lead
particle, energy and heat currents (positive from the lead into the system)
and the entropy balance, once, for any leading axes (batch, and time for a
trajectory), and masks points without a valid solution (NaN).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics.rates import Rates
from qdthermo.model.system import System
from qdthermo.thermo import entropy as _entropy
from qdthermo.thermo.currents import channel_flux, currents_from_fluxes
from qdthermo.thermo.regimes import INVALID_REGIME

__all__ = ["Transport", "per_lead"]

Array = NDArray[np.float64]


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if not a.flags.owndata else a
        a.setflags(write=False)
    return a


class Labelled(Mapping[str, NDArray[Any]]):
    """A read-only mapping name -> array that prints readably (``{'F_E': 0.5, ...}``).

    Values are read-only NumPy arrays (0-d for a scalar device); ``dict(mapping)`` gives them.
    """

    def __init__(self, items: Mapping[str, NDArray[Any]]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> NDArray[Any]:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        def show(v: NDArray[Any]) -> str:
            return repr(float(v)) if v.ndim == 0 else np.array2string(v, threshold=6, edgeitems=2)
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in self._items.items()) + "}"


def per_lead(names: Sequence[str], values: NDArray[Any]) -> Mapping[str, NDArray[Any]]:
    """Read-only mapping lead name -> ``values[..., k]`` (also used for forces and fluxes)."""
    return Labelled({n: _ro(np.array(values[..., k], copy=None)) for k, n in enumerate(names)})


class Transport:
    """Currents and entropy of populations ``P`` of a system with rates (a mixin of frozen dataclasses).

    Subclasses provide ``system``, ``rates``, ``populations`` and ``valid``
    and may override :meth:`_view` (to insert a time axis into the
    system's parameter arrays).
    """

    system: System
    populations: Array
    valid: NDArray[np.bool_]

    @property
    def rates(self) -> Rates:  # pragma: no cover - overridden
        raise NotImplementedError

    def _view(self, a: Array) -> Array:
        """A ``(*shape, m)`` system array, broadcastable against the populations' leading axes."""
        return a

    @property
    def _rates_view(self) -> Rates:
        return self.rates

    # ------------------------------------------------------ per-point failures
    @cached_property
    def _all_valid(self) -> bool:
        return bool(np.all(self.valid))

    @cached_property
    def _P(self) -> Array:
        """Populations with failed points replaced by a harmless placeholder (their results are masked)."""
        if self._all_valid:
            return self.populations
        n = self.system.n_states
        return np.where(self.valid[..., None], self.populations, 1.0 / n)

    def _masked(self, value: NDArray[Any], trailing: int = 0) -> NDArray[Any]:
        """``value`` with NaN (floats) or ``INVALID_REGIME`` (codes) at failed points; read-only."""
        value = np.asarray(value)
        if self._all_valid:
            return _ro(value)
        ok = self.valid.reshape(self.valid.shape + (1,) * trailing)
        fill = np.nan if np.issubdtype(value.dtype, np.inexact) else INVALID_REGIME
        return _ro(np.where(ok, value, np.array(fill, dtype=value.dtype)))

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

    @cached_property
    def energies(self) -> Array:
        """``(*shape, n_states)`` many-body energies [energy unit] (those of the system)."""
        return self.system.energies

    @property
    def channel_labels(self) -> tuple[str, ...]:
        """Channel labels ``"lead:i->j"``."""
        return self.system.channel_labels

    # --------------------------------------------------------------- currents
    @cached_property
    def _flux(self) -> Array:
        return channel_flux(self.system, self._rates_view, self._P)

    @cached_property
    def channel_flux(self) -> Array:
        """``(*shape, n_channels)`` net channel fluxes ``k^+ P_i - k^- P_j`` [rate]."""
        return self._masked(self._flux, 1)

    @cached_property
    def _currents(self) -> tuple[Array, Array, Array]:
        s = self.system
        currents = currents_from_fluxes(self._flux, self._view(s.channel_energy),
                                        self._view(s.lead_chemical_potential), s.lead_sum)
        return tuple(self._masked(a, 1) for a in currents)  # type: ignore[return-value]

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
        return self._masked(_entropy.entropy_production(self.system, self._rates_view, self._P))

    @cached_property
    def entropy_flow(self) -> Array:
        """``(*shape)`` entropy flow from the reservoirs ``sum_nu J_Q^nu/T_nu`` [k_B x rate]."""
        return _ro(_entropy.entropy_flow(self.heat_current_array, self._view(self.system.lead_temperature)))

    @cached_property
    def entropy_flow_by_lead(self) -> Mapping[str, Array]:
        """Entropy flow from each reservoir ``J_Q^nu / T_nu`` [k_B x rate]."""
        return per_lead(self.lead_names, self.heat_current_array / self._view(self.system.lead_temperature))

    @property
    def entropy_production_macro(self) -> Array:
        """``(*shape)`` macroscopic entropy production ``-sum_nu J_Q^nu/T_nu`` [k_B x rate].

        Equals :attr:`entropy_production` at steady state and ``sum_k F_k J_k``.
        """
        return _ro(-self.entropy_flow)

    @property
    def entropy(self) -> Array:
        """``(*shape)`` system entropy ``-sum_i P_i ln P_i`` [k_B]."""
        return self._masked(_entropy.system_entropy(self._P))


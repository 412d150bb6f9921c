"""The built-in observables, registered once (see :mod:`qdthermo.thermo.registry`).

Each is a pure function of a :class:`~qdthermo.thermo.result.SteadyState`;
units and long names come from :data:`qdthermo.units.QUANTITIES`.  The
order of registration is the order of the exported variables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qdthermo.thermo.regimes import INVALID_REGIME, Regime
from qdthermo.thermo.registry import observable
from qdthermo.units import QUANTITIES

__all__: list[str] = []


def _register(name: str, read: Callable[[Any], Any], dims: tuple[str, ...] = ()) -> None:
    """Register ``read`` as ``name`` with the units and long name of :data:`QUANTITIES`."""
    read.__name__ = read.__qualname__ = name
    units, long_name = QUANTITIES[name]
    observable(name, units=units, long_name=long_name, dims=dims)(read)


def _simple(name: str, dims: tuple[str, ...], attribute: str) -> None:
    """Register the result attribute ``attribute`` as the observable ``name``."""
    def read(result: Any) -> Any:
        return getattr(result, attribute)

    _register(name, read, dims)


for _name, _dims, _attribute in (
    ("populations", ("state",), "populations"),
    ("energy", ("state",), "energies"),
    ("channel_flux", ("channel",), "channel_flux"),
    ("particle_current", ("lead",), "particle_current_array"),
    ("energy_current", ("lead",), "energy_current_array"),
    ("heat_current", ("lead",), "heat_current_array"),
    ("entropy_production", (), "entropy_production"),
    ("entropy_flow", (), "entropy_flow"),
):
    _simple(_name, _dims, _attribute)


@observable("forces", dims=("force",), units="1/energy (energy forces), 1 (particle forces)",
            long_name="thermodynamic force")
def forces(result: Any) -> Any:
    """Macroscopic forces, ordered as ``result.force_basis.force_names``."""
    return result.force_array


@observable("fluxes", dims=("flux",), units="energy*rate (energy fluxes), rate (particle fluxes)",
            long_name="flux conjugate to the force")
def fluxes(result: Any) -> Any:
    """Fluxes conjugate to the forces, ordered as ``result.force_basis.flux_names``."""
    return result.flux_array


def _has_pair(result: Any) -> bool:
    return result.system.parallel_pair is not None


@observable("regime", units="1", long_name="response regime of", applies=_has_pair,
            flag_values=[INVALID_REGIME, *(r.value for r in Regime)],
            flag_meanings=" ".join(["INVALID", *(r.name for r in Regime)]),
            description=", ".join([f"{INVALID_REGIME}=INVALID", *(f"{r.value}={r.name}" for r in Regime)]))
def regime(result: Any) -> Any:
    """Regime codes of the parallel pair's fluxes (exported as ``regime_J_E``, ``regime_J_N``)."""
    return result.regime


def _performance(name: str) -> None:
    def read(result: Any) -> Any:
        return getattr(result.performance, name)

    _register(name, read)


for _name in ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"):
    _performance(_name)

"""Units and sign conventions of qdthermo, in one place.

qdthermo works in natural units ``k_B = hbar = e = 1``:

* energies, temperatures (``k_B T``) and chemical potentials share one
  **energy unit** (whatever the user chooses, e.g. meV);
* tunnel couplings ``Gamma`` and every rate share one **rate unit**;
* time is measured in the inverse rate unit;
* particle currents are in the rate unit, energy and heat currents in
  energy x rate, entropy production and entropy flow in k_B x rate;
* thermodynamic forces are in 1/energy (energy forces ``1/T_b - 1/T_t``)
  or dimensionless (particle forces ``mu_t/T_t - mu_b/T_b``).

Every current is counted **positive when it flows from a reservoir (lead)
into the system**.

The dictionary :data:`QUANTITIES` maps each observable name used in
:mod:`qdthermo` results to its ``units`` and ``long_name``; every labelled
array (xarray) that qdthermo produces carries these as attributes.

>>> from qdthermo.units import ENERGY, QUANTITIES, RATE, TIME
>>> ENERGY, RATE, TIME
('energy', 'rate', '1/rate')
>>> QUANTITIES["entropy_production"]
('k_B*rate', 'entropy production rate (Schnakenberg)')
"""

from __future__ import annotations

from typing import Final

__all__ = ["ENERGY", "RATE", "TIME", "QUANTITIES", "attrs"]

ENERGY: Final = "energy"
RATE: Final = "rate"
TIME: Final = "1/rate"

#: name -> (units, long_name)
QUANTITIES: Final[dict[str, tuple[str, str]]] = {
    # parameters
    "eps": (ENERGY, "single-particle level energy"),
    "eps_L": (ENERGY, "level energy of dot L"),
    "eps_R": (ENERGY, "level energy of dot R"),
    "U": (ENERGY, "interdot Coulomb interaction"),
    "J": (ENERGY, "interdot spin exchange"),
    "U_eff": (ENERGY, "effective interdot interaction U - J/4"),
    "T": (ENERGY, "temperature k_B T"),
    "mu": (ENERGY, "chemical potential"),
    "gamma": (RATE, "tunnel coupling"),
    "T_ref": (ENERGY, "temperature of the reference lead"),
    "mu_ref": (ENERGY, "chemical potential of the reference lead"),
    "F_E": ("1/energy", "energy force F_E = 1/T_ref - 1/T_t"),
    "F_N": ("1", "particle force F_N = mu_t/T_t - mu_ref/T_ref"),
    "F_E_scaled": ("1", "scaled energy force eps_L F_E"),
    "V": (ENERGY, "bias voltage mu_t - mu_b"),
    "asymmetry": ("1", "energy-filter asymmetry of the couplings"),
    "x": ("1", "scaled system parameter (eps_L + U_eff)/eps_L"),
    # state and currents
    "energy": (ENERGY, "many-body state energy"),
    "populations": ("1", "occupation probability of the many-body state"),
    "channel_flux": (RATE, "net probability flux of the channel (excitation direction)"),
    "particle_current": (RATE, "particle current from the lead into the system"),
    "energy_current": (f"{ENERGY}*{RATE}", "energy current from the lead into the system"),
    "heat_current": (f"{ENERGY}*{RATE}", "heat current from the lead into the system"),
    # thermodynamics
    "entropy": ("k_B", "system (Shannon) entropy"),
    "entropy_rate": (f"k_B*{RATE}", "rate of change of the system entropy"),
    "entropy_production": (f"k_B*{RATE}", "entropy production rate (Schnakenberg)"),
    "entropy_production_macro": (
        f"k_B*{RATE}",
        "entropy production rate from forces x fluxes",
    ),
    "entropy_flow": (f"k_B*{RATE}", "entropy flow from the reservoirs, sum J_Q/T"),
    "power": (f"{ENERGY}*{RATE}", "power delivered against the chemical potentials"),
    "efficiency": ("1", "engine efficiency"),
    "carnot_efficiency": ("1", "Carnot efficiency 1 - T_min/T_max"),
    "cooling_power": (f"{ENERGY}*{RATE}", "heat drawn from the coldest leads"),
    "cop": ("1", "refrigerator coefficient of performance"),
    "carnot_cop": ("1", "Carnot coefficient of performance T_min/(T_2 - T_min)"),
    "time": (TIME, "time"),
}


def attrs(name: str, **extra: str) -> dict[str, str]:
    """Return the ``units``/``long_name`` attribute dictionary for ``name``.

    Parameters
    ----------
    name
        A key of :data:`QUANTITIES`.
    **extra
        Further attributes to add (for example ``description``).

    Returns
    -------
    dict
        ``{"units": ..., "long_name": ..., **extra}``.

    Raises
    ------
    KeyError
        If ``name`` is not a key of :data:`QUANTITIES`.

    Examples
    --------
    >>> from qdthermo.units import attrs
    >>> attrs("heat_current", lead="t")
    {'units': 'energy*rate', 'long_name': 'heat current from the lead into the system', 'lead': 't'}
    """
    units, long_name = QUANTITIES[name]
    out = {"units": units, "long_name": long_name}
    out.update(extra)
    return out

"""Channel fluxes and per-lead currents (PHYSICS.md section 4).

For a channel of lead nu, excitation ``i -> j`` at energy ``w``, the net
flux is ``J_c = k^+ P_i - k^- P_j`` [rate unit].  Per lead:

* particle current ``J_N = sum_c J_c`` [rate unit];
* energy current ``J_E = sum_c w J_c`` [energy x rate];
* heat current ``J_Q = J_E - mu J_N`` [energy x rate];

all positive when flowing **from the lead into the system**.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics.rates import Rates
from qdthermo.model.system import System

__all__ = ["one_way_fluxes", "channel_flux", "lead_currents", "currents_from_fluxes"]

Array = NDArray[np.float64]


def one_way_fluxes(system: System, k: Rates, P: Array) -> tuple[Array, Array]:
    """``(k^+ P_i, k^- P_j)`` of every channel ``i -> j``, each ``(..., n_channels)`` [rate unit].

    The one place the one-way fluxes are formed: the net flux, the Schnakenberg terms and the
    resolution floor of the currents all start from them.
    """
    forward, backward = system.on_channels(P)
    forward *= k.plus
    backward *= k.minus
    return forward, backward


def channel_flux(system: System, k: Rates, P: Array) -> Array:
    """Net flux ``k^+ P_i - k^- P_j`` of every channel, ``(..., n_channels)`` [rate unit].

    ``P`` may carry extra leading axes (e.g. time) that broadcast against the
    rates' batch shape.
    """
    flux, backward = one_way_fluxes(system, k, P)
    flux -= backward
    return flux


def lead_currents(system: System, flux: Array) -> tuple[Array, Array, Array]:
    """Per-lead particle, energy and heat currents, each ``(..., n_leads)``.

    Parameters
    ----------
    system
        The finalized system.
    flux
        Channel fluxes from :func:`channel_flux` [rate unit].

    Returns
    -------
    particle, energy, heat
        [rate unit], [energy x rate], [energy x rate]; positive from lead into system.
    """
    return currents_from_fluxes(flux, system.channel_energy, system.lead_chemical_potential, system.lead_sum)


def currents_from_fluxes(flux: Array, channel_energy: Array, lead_mu: Array,
                         lead_sum: Callable[[Array], Array]) -> tuple[Array, Array, Array]:
    """Per-lead particle, energy and heat currents from channel fluxes (arrays that broadcast).

    ``flux`` and ``channel_energy`` are ``(..., n_channels)``, ``lead_mu`` is
    ``(..., n_leads)``; ``lead_sum`` sums a channel array over each lead's
    channels (:meth:`~qdthermo.model.system.System.lead_sum`).
    """
    particle = lead_sum(flux)
    energy = lead_sum(flux * channel_energy)
    heat = energy - lead_mu * particle
    return particle, energy, heat

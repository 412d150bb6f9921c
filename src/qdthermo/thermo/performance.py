"""The device as an engine or a refrigerator (PHYSICS.md section 9).

Definitions (all per parameter point, energies in the energy unit, rates in
the rate unit):

* power ``P = -sum_nu mu_nu J_N^nu`` [energy x rate], delivered against the
  chemical potentials (equals the total heat absorbed, ``sum_nu J_Q^nu``);
* heat input ``Q_in = sum_{T_nu = T_max} J_Q^nu + sum_{T_min < T_nu < T_max} max(J_Q^nu, 0)``:
  the heat drawn from the hottest leads (plus any absorbed at intermediate
  temperatures).  For the paper's two-force setup with F_E > 0 this is
  ``J_Q^t`` (Eq. 56);
* efficiency ``eta = P / Q_in``, defined (else NaN) where ``P > 0``,
  ``Q_in > 0`` and ``T_max > T_min``; bounded by
  ``carnot_efficiency = 1 - T_min/T_max`` (0 for an isothermal device);
* cooling power ``sum_{T_nu = T_min} J_Q^nu``: heat drawn from the coldest
  leads (``J_Q^b + J_Q^r`` in the paper, Eq. 58);
* ``cop = cooling_power / (-P)``, defined (else NaN) where the cooling power
  is > 0, ``P < 0`` and no warmer lead absorbs heat (a work-driven
  refrigerator); bounded by ``carnot_cop = T_min / (T_2 - T_min)`` with
  ``T_2`` the lowest lead temperature above ``T_min`` (NaN when isothermal).
  With two temperatures (the paper's setup) ``T_2 = T_max`` and this is
  Eq. 58's bound ``T_b / (T_t - T_b)``.

Both bounds follow from Sigma_dot >= 0 for any number of leads: for the
engine, ``P <= Q_H (1 - T_min/T_max) + sum_mid Q_m (1 - T_min/T_m) <= eta_C Q_in``;
for the refrigerator, heat rejected at temperatures >= T_2 gives
``Q_c (1/T_min - 1/T_2) <= W / T_2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qdthermo._reduce import any_last, max_last, min_last, sum_last

__all__ = ["Performance", "performance"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Performance:
    """Engine and refrigerator figures of merit (see the module docstring).

    Attributes
    ----------
    power
        P [energy x rate].
    heat_input
        Q_in [energy x rate].
    efficiency, carnot_efficiency
        Dimensionless; efficiency NaN where the device is not an engine.
    cooling_power
        [energy x rate].
    cop, carnot_cop
        Dimensionless; NaN where undefined.
    """

    power: Array
    heat_input: Array
    efficiency: Array
    carnot_efficiency: Array
    cooling_power: Array
    cop: Array
    carnot_cop: Array


def performance(particle: Array, heat: Array, T: Array, mu: Array, *, atol: Array | float = 0.0) -> Performance:
    """Figures of merit from per-lead arrays ``(..., n_leads)``.

    ``atol`` [energy x rate] is the round-off floor of the power and heat
    currents: efficiency and COP are NaN where the power, heat input or cooling
    power do not exceed it (a ratio of round-off noise is not an efficiency).
    """
    power = -sum_last(mu * particle)
    T_max = max_last(T, keepdims=True)
    T_min = min_last(T, keepdims=True)
    hot = T == T_max
    mid = (T > T_min) & (T < T_max)
    cold = T == T_min
    Q_in = sum_last(np.where(hot, heat, 0.0)) + sum_last(np.where(mid, np.maximum(heat, 0.0), 0.0))
    cooling = sum_last(np.where(cold, heat, 0.0))
    Tmax, Tmin = T_max[..., 0], T_min[..., 0]
    gradient = Tmax > Tmin
    T_2 = min_last(np.where(cold, np.inf, T))
    warm_absorbs = any_last(~cold & (heat > 0))
    engine = gradient & (power > atol) & (Q_in > atol)
    fridge = gradient & (power < -atol) & (cooling > atol) & ~warm_absorbs
    eff = np.where(engine, power / np.where(engine, Q_in, 1.0), np.nan)
    cop = np.where(fridge, cooling / np.where(fridge, -power, 1.0), np.nan)
    carnot_eff = 1.0 - Tmin / Tmax
    carnot_cop = np.where(gradient, Tmin / np.where(gradient, T_2 - Tmin, 1.0), np.nan)
    arrays = [np.array(a, dtype=np.float64) for a in (power, Q_in, eff, carnot_eff, cooling, cop, carnot_cop)]
    for a in arrays:
        a.setflags(write=False)
    return Performance(*arrays)

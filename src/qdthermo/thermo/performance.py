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
  is > 0, ``P < 0`` and no warmer lead absorbs heat beyond round-off (a work-driven
  refrigerator); bounded by ``carnot_cop = T_min / (T_2 - T_min)`` with
  ``T_2`` the lowest lead temperature above ``T_min`` (NaN when isothermal).
  With two temperatures (the paper's setup) ``T_2 = T_max`` and this is
  Eq. 58's bound ``T_b / (T_t - T_b)``.

Both bounds follow from Sigma_dot >= 0 for any number of leads: for the
engine, ``P <= Q_H (1 - T_min/T_max) + sum_mid Q_m (1 - T_min/T_m) <= eta_C Q_in``;
for the refrigerator, heat rejected at temperatures >= T_2 gives
``Q_c (1/T_min - 1/T_2) <= W / T_2``.

When efficiency and COP are NaN although the signs say engine/refrigerator
--------------------------------------------------------------------------
A ratio of two currents is only meaningful where both are resolved by
double-precision arithmetic.  :func:`current_resolution` bounds the
round-off of the power and heat currents (relative round-off of the one-way
fluxes, plus the absolute error left by rates and populations that underflow
below the smallest normal double, ~2.2e-308); efficiency and COP are NaN
where the power, heat input or cooling power do not exceed it.  As a final
guard, an efficiency above ``carnot_efficiency`` or a COP above
``carnot_cop`` would mean negative entropy production: by the second law it
is round-off, and is reported as NaN too.  (Both rules together: the
figures of merit that are returned are never above their Carnot bounds.)
The rule and its error model are documented in ``docs/physics.md`` (section 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo._reduce import any_last, max_last, min_last, sum_last

__all__ = ["Performance", "performance", "current_resolution", "RESOLUTION_MARGIN"]

Array = NDArray[np.float64]

_FI = np.finfo(np.float64)

#: Safety margin of the resolution floor over the estimated round-off: a power
#: or heat current above :func:`current_resolution` has a relative error below
#: ~1/RESOLUTION_MARGIN.
RESOLUTION_MARGIN = 1e3

#: Beyond this ``|w - mu|/T`` (= -ln of the smallest subnormal double) a Fermi
#: factor underflows: its round-off is then the absolute ``tiny`` term.
_X_UNDERFLOW = float(-np.log(_FI.smallest_subnormal))


def current_resolution(one_way_flux: ArrayLike, channel_energy: ArrayLike, channel_mu: ArrayLike,
                       channel_temperature: ArrayLike, channel_rate: ArrayLike) -> Array:
    """Smallest power or heat current [energy x rate] that double precision resolves.

    Parameters
    ----------
    one_way_flux
        ``(..., n_channels)`` ``F_c = k^+ P_i + k^- P_j`` of each channel [rate].
    channel_energy, channel_mu, channel_temperature
        ``(..., n_channels)`` transition energy ``w``, and the chemical
        potential and temperature of the channel's lead [energy].
    channel_rate
        ``(..., n_channels)`` rate scale ``K_c = k^+ + k^-`` of each channel
        (= its coupling Gamma) [rate].

    Returns
    -------
    numpy.ndarray
        ``(...)``, a pure function of its arguments, always > 0::

            R = m * [ rho * sum_c E_c F_c + tiny * sum_c E_c K_c + n_channels * subnormal ]
            rho = eps * (16 + n_channels + sum_c min(|w_c - mu_c| / T_c, x_u))
            E_c = |w_c| + |mu_c|

        with ``eps`` the double epsilon (2.2e-16), ``tiny`` the smallest
        normal double (2.2e-308), ``subnormal`` the smallest subnormal
        (4.9e-324), ``x_u = -ln(subnormal)`` (744.4) and
        ``m = RESOLUTION_MARGIN`` (1e3).

    Raises
    ------
    ValueError
        If the arguments have no trailing channel axis (scalars).

    Notes
    -----
    Error model of a channel's net flux ``k^+ P_i - k^- P_j``:

    * relative: a rate ``Gamma f(x)`` with ``x = (w - mu)/T`` inherits the
      rounding of ``x``, a relative error ``~eps |x|`` (the condition number
      of ``exp``), up to ``|x| = x_u`` where ``f`` underflows; the
      populations, built from all rates (and, on the log-space route,
      exponentiated from logarithms down to -x_u), carry the sum of these;
      hence ``rho`` times the one-way flux ``F_c``;
    * absolute: a Fermi factor or a population below the smallest normal
      double is subnormal or lost; the flux error is then at most ``tiny``
      times the channel's rate scale ``K_c``.  This term keeps the floor from
      underflowing together with the fluxes it judges (where ``F_c`` itself
      underflows, ``rho F_c`` would be 0);
    * power ``-sum mu J_N`` and heat ``sum (w - mu) J_c`` weight the flux
      errors by at most ``|w| + |mu|``; the last term covers the absolute
      rounding of sums of subnormal numbers.

    The margin ``m`` makes the floor conservative: currents above it are
    trusted to ~1/m, so a ratio of two of them (efficiency, COP) to ~2/m.

    Examples
    --------
    One channel carrying a one-way flux 0.1 at Gamma = 1: currents above
    ~2e-13 are resolved.

    >>> from qdthermo.thermo import current_resolution
    >>> floor = current_resolution([0.1], [0.5], [0.0], [1.0], [1.0])
    >>> bool(0 < floor < 1e-12)
    True
    """
    F = np.asarray(one_way_flux, dtype=np.float64)
    w = np.asarray(channel_energy, dtype=np.float64)
    mu = np.asarray(channel_mu, dtype=np.float64)
    T = np.asarray(channel_temperature, dtype=np.float64)
    K = np.asarray(channel_rate, dtype=np.float64)
    F, w, mu, T, K = np.broadcast_arrays(F, w, mu, T, K)
    if F.ndim == 0:
        raise ValueError("current_resolution needs arrays with a trailing channel axis")
    n = F.shape[-1]
    E = np.abs(w) + np.abs(mu)
    with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
        x = np.minimum(np.abs(w - mu) / T, _X_UNDERFLOW)
        x = np.where(np.isnan(x), _X_UNDERFLOW, x)
        rho = float(_FI.eps) * (16.0 + n + sum_last(x))
        out = RESOLUTION_MARGIN * (rho * sum_last(E * F) + float(_FI.tiny) * sum_last(E * K)
                                   + n * float(_FI.smallest_subnormal))
    return np.asarray(out, dtype=np.float64)


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

    Examples
    --------
    A single-level engine: each electron takes eps - mu_L from the hot lead and
    does work mu_R - mu_L, so the efficiency is 0.5/2 = 0.25 (Carnot: 0.5):

    >>> import qdthermo as qd
    >>> perf = qd.solve(qd.single_dot(eps=2.0, T={"L": 2.0, "R": 1.0}, mu={"L": 0.0, "R": 0.5})).performance
    >>> round(float(perf.efficiency), 6), float(perf.carnot_efficiency), bool(perf.power > 0)
    (0.25, 0.5, True)
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
    currents (:func:`current_resolution`): efficiency and COP are NaN where
    the power, heat input or cooling power do not exceed it (a ratio of
    round-off noise is not an efficiency).  Independently of ``atol``, an
    efficiency above ``carnot_efficiency`` or a COP above ``carnot_cop`` is
    NaN: the second law forbids it, so it can only be round-off.
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
    warm_absorbs = any_last(~cold & (heat > np.asarray(atol)[..., None]))  # beyond round-off
    engine = gradient & (power > atol) & (Q_in > atol)
    fridge = gradient & (power < -atol) & (cooling > atol) & ~warm_absorbs
    eff = np.where(engine, power / np.where(engine, Q_in, 1.0), np.nan)
    cop = np.where(fridge, cooling / np.where(fridge, -power, 1.0), np.nan)
    carnot_eff = 1.0 - Tmin / Tmax
    carnot_cop = np.where(gradient, Tmin / np.where(gradient, T_2 - Tmin, 1.0), np.nan)
    # the second law as a last guard: beyond Carnot is round-off (NaN compares False: stays NaN)
    eff = np.where(eff <= carnot_eff, eff, np.nan)
    cop = np.where(cop <= carnot_cop, cop, np.nan)
    arrays = [np.array(a, dtype=np.float64) for a in (power, Q_in, eff, carnot_eff, cooling, cop, carnot_cop)]
    for a in arrays:
        a.setflags(write=False)
    return Performance(*arrays)

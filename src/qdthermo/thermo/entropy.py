"""Entropy, entropy flow and entropy production (PHYSICS.md section 5).

* System entropy ``S = -sum_i P_i ln P_i`` [k_B].
* Entropy flow from the reservoirs ``sum_nu J_Q^nu / T_nu`` [k_B x rate].
* Microscopic (Schnakenberg) entropy production, valid at any time::

      Sigma_dot = sum_c (a_c - b_c) ln(a_c / b_c),  a_c = k^+ P_i,  b_c = k^- P_j

  with ``ln(a/b) = ln(k^+/k^-) + ln P_i - ln P_j`` and the local-detailed-
  balance log-ratio ``-(w - mu)/T`` taken directly (never as the log of a
  ratio of rounded rates), so a vanishing rate (``k^+`` underflowing to 0 at
  low temperature) still gives the exact finite term.  A channel with
  ``a == b`` (including a closed channel, Gamma = 0) contributes exactly 0.
  A channel whose two one-way fluxes are both below 1e-290 times the largest
  rate at that point (populations beyond double range, e.g. ~exp(-750) at low
  temperature) contributes 0: its true term is below 1e-287 of the rates.
  The only infinite value is the physical one: a population that is exactly
  zero while probability flows into it (e.g. at t = 0 from a pure state),
  where ``Sigma_dot = +inf``; it is never NaN.
* Macroscopic form at steady state ``Sigma_dot = -sum_nu J_Q^nu / T_nu``.

Identity at every time: ``dS/dt = Sigma_dot + sum_nu J_Q^nu / T_nu``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from qdthermo._reduce import max_last, sum_last
from qdthermo._special import xlogy
from qdthermo.kinetics.rates import Rates
from qdthermo.model.system import System
from qdthermo.thermo.currents import one_way_fluxes

__all__ = ["system_entropy", "entropy_rate", "entropy_flow", "schnakenberg_terms", "entropy_production"]

Array = NDArray[np.float64]


def system_entropy(P: Array) -> Array:
    """Shannon entropy ``-sum_i P_i ln P_i`` [k_B] over the last axis (0 ln 0 = 0).

    Parameters
    ----------
    P
        Populations, probabilities on the last axis.

    Returns
    -------
    numpy.ndarray
        The entropy [k_B], shape ``P.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from qdthermo.thermo import system_entropy
    >>> bool(np.isclose(system_entropy(np.array([0.5, 0.5])), np.log(2)))
    True
    >>> system_entropy(np.array([[1.0, 0.0], [0.0, 1.0]])).tolist() == [0.0, 0.0]   # pure states
    True
    """
    return -xlogy(P, P).sum(axis=-1)


def entropy_rate(W: Array, P: Array) -> Array:
    """``dS/dt = -sum_i (W P)_i ln P_i`` [k_B x rate].

    ``W`` is ``(*shape, n, n)``; ``P`` is ``(*shape, [n_times,] n)`` and may
    carry one extra axis before the state axis (time), in which case ``W``
    must have that axis inserted already.  ``+inf`` where probability flows
    into an empty state; never NaN.

    Parameters
    ----------
    W
        Rate matrix [rate], ``(*shape, n, n)``.
    P
        Populations, ``(*shape, [n_times,] n)``.

    Returns
    -------
    numpy.ndarray
        dS/dt [k_B x rate], shape ``P.shape[:-1]``.

    Examples
    --------
    The system entropy is stationary in the steady state:

    >>> import qdthermo as qd
    >>> from qdthermo.thermo import entropy_rate
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> bool(abs(entropy_rate(res.rate_matrix, res.populations)) < 1e-12)
    True
    """
    dP = np.einsum("...ij,...j->...i", W, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        lnP = np.log(P)
        terms = np.where(dP == 0.0, 0.0, -dP * np.where(P > 0, lnP, -np.inf))
    return terms.sum(axis=-1)


def entropy_flow(heat_current: Array, lead_temperature: Array) -> Array:
    """Entropy flow ``sum_nu J_Q^nu / T_nu`` [k_B x rate] from per-lead arrays ``(..., n_leads)``.

    Parameters
    ----------
    heat_current
        Heat currents per lead [energy x rate], positive into the system, ``(..., n_leads)``.
    lead_temperature
        Lead temperatures k_B T [energy], ``(..., n_leads)``.

    Returns
    -------
    numpy.ndarray
        The entropy flow [k_B x rate], shape ``(...)``.

    Examples
    --------
    In a steady state the entropy production balances the entropy flow:

    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.thermo import entropy_flow
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> flow = entropy_flow(res.heat_current_array, res.system.lead_temperature)
    >>> bool(np.isclose(flow, -res.entropy_production))
    True
    """
    return sum_last(heat_current / lead_temperature)


#: one-way fluxes below this times the point's largest rate are beyond double precision (see below)
_NEGLIGIBLE = 1e-290


def schnakenberg_terms(system: System, k: Rates, P: Array) -> Array:
    """Per-channel terms ``(a - b) ln(a/b) >= 0`` of the Schnakenberg entropy production.

    Shape ``(..., n_channels)`` [k_B x rate]; see the module docstring for the
    numerically stable evaluation.
    """
    Pi, Pj = system.on_channels(P)
    a, b = one_way_fluxes(system, k, P)
    # both one-way fluxes below double range relative to the point's rates: the term is < 1e-287 of them
    zero = np.maximum(a, b) < _NEGLIGIBLE * max_last(k.plus + k.minus, keepdims=True)
    zero |= a == b  # incl. closed channels and empty states on both sides: exactly 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(Pi)
        log_ratio -= np.log(Pj)
        log_ratio += k.log_ratio
        a -= b
        a *= log_ratio
    # a != b with both populations empty cannot happen; remaining NaN are physical (+inf)
    terms = np.where(zero, 0.0, np.where(np.isnan(a), np.inf, a))
    return np.maximum(terms, 0.0, out=terms)


def entropy_production(system: System, k: Rates, P: Array) -> Array:
    """Schnakenberg entropy production rate ``Sigma_dot >= 0`` [k_B x rate], shape ``P.shape[:-1]``.

    Parameters
    ----------
    system
        A finalized system.
    k
        Its transition rates [rate].
    P
        Populations ``(*shape, n_states)``.

    Returns
    -------
    numpy.ndarray
        Sigma_dot [k_B x rate], shape ``P.shape[:-1]``.

    Examples
    --------
    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.thermo import entropy_production
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> sigma = entropy_production(res.system, res.rates, res.populations)
    >>> round(float(sigma), 6), bool(np.isclose(sigma, res.entropy_production))
    (0.007535, True)
    """
    return sum_last(schnakenberg_terms(system, k, P))

"""The serial double dot: two single-level dots in series with coherent interdot hopping.

Dot ``L`` is tunnel-coupled to lead ``L``, dot ``R`` to lead ``R``; an
electron crosses the device only by hopping ``t (c_L^+ c_R + h.c.)`` between
the dots (a :class:`~qdthermo.model.device.Tunnel`).  The dots are spinless
(one level each) and repel each other capacitively with ``U n_L n_R``.

Solve it with a density-matrix approach: ``qd.solve(dev, approach="global")``
or ``approach="local"`` (docs/coherent.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from numpy.typing import ArrayLike

from qdthermo._validate import as_real_array
from qdthermo.model.device import Device, Dot, Interaction, Lead, Tunnel

__all__ = ["serial_double_dot"]

_LEADS = ("L", "R")


def _by_lead(name: str, value: Any) -> dict[str, Any]:
    """One value per lead from a scalar/array or a dict ``{"L": .., "R": ..}``."""
    if not isinstance(value, Mapping):
        return {lead: value for lead in _LEADS}
    unknown = [k for k in value if k not in _LEADS]
    if unknown:
        raise ValueError(f"{name}: unknown lead name(s) {unknown}; allowed leads: {list(_LEADS)}")
    missing = [k for k in _LEADS if k not in value]
    if missing:
        raise ValueError(f"{name}: no value for lead(s) {missing}; give one for each of {list(_LEADS)}")
    return {lead: value[lead] for lead in _LEADS}


def serial_double_dot(
    eps_L: ArrayLike,
    eps_R: ArrayLike,
    tunnel: ArrayLike,
    U: ArrayLike = 0.0,
    T: ArrayLike | Mapping[str, ArrayLike] = 1.0,
    mu: ArrayLike | Mapping[str, ArrayLike] = 0.0,
    gamma: ArrayLike | Mapping[str, ArrayLike] = 1.0,
) -> Device:
    """Two spinless dots in series, ``lead L - dot L - dot R - lead R``.

    ``H = eps_L n_L + eps_R n_R + U n_L n_R + t (c_L^+ c_R + c_R^+ c_L)``.

    Parameters
    ----------
    eps_L, eps_R
        Dot levels [energy unit].
    tunnel
        Interdot hopping amplitude t [energy unit] (real).
    U
        Interdot Coulomb interaction [energy unit], >= 0.
    T, mu
        Lead temperatures (> 0) and chemical potentials [energy unit]: one
        value or a dict ``{"L": ..., "R": ...}``.
    gamma
        Tunnel couplings to the leads [rate unit]: one value or a dict by lead.

    Returns
    -------
    Device
        Reference lead ``R``; forces/fluxes aliased ``E`` and ``N`` (lead L).

    Raises
    ------
    ValueError
        If a parameter is not real, a temperature is not > 0, U or a
        coupling is negative.

    Examples
    --------
    A bias mu_L - mu_R = 1 drives a current through the coherently coupled
    dots; the device needs a density-matrix approach.

    >>> import qdthermo as qd
    >>> dev = qd.serial_double_dot(eps_L=0.0, eps_R=0.0, tunnel=0.5, mu={"L": 0.5, "R": -0.5})
    >>> dev.tunnels
    (Tunnel(dots=('L', 'R'), amplitude=array(0.5)),)
    >>> res = qd.solve(dev, approach="global")
    >>> round(float(res.particle_current["L"]), 4)
    0.1155
    """
    as_real_array("eps_L (level of dot L)", eps_L)
    as_real_array("eps_R (level of dot R)", eps_R)
    Ts, mus, gammas = _by_lead("T", T), _by_lead("mu", mu), _by_lead("gamma", gamma)
    return Device(
        dots=(Dot("L", eps_L, "spinless"), Dot("R", eps_R, "spinless")),
        leads=tuple(Lead(n, n, Ts[n], mus[n], gammas[n]) for n in _LEADS),
        interactions=(Interaction(("L", "R"), coulomb=U),),
        tunnels=(Tunnel(("L", "R"), amplitude=tunnel),),
        reference_lead="R",
        name="serial_double_dot",
        aliases={"E:L": "E", "N:L": "N"},
        parallel_pair=("E", "N"),
        parameters={"eps_L": eps_L, "eps_R": eps_R, "tunnel": tunnel, "U": U, "T": T, "mu": mu, "gamma": gamma},
    )

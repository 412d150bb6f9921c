"""Preset devices built on the general :class:`~qdthermo.model.device.Device`.

* :func:`three_terminal` - the seed paper's device: dot L (spin down) with
  leads ``t`` and ``b``, dot R (spin up) with lead ``r``.
* :func:`coupled_transport` - the same device parametrised by the two
  mutually parallel forces (F_E, F_N) of PHYSICS.md section 7.
* :func:`single_dot` - one level between leads ``L`` and ``R``.
* :func:`sanchez_buttiker` - the Sanchez-Buttiker energy harvester
  (PRB 83, 085428 (2011)) in the three-terminal geometry, with
  energy-dependent tunnel couplings.

Every numeric argument may be a scalar or an array; arrays broadcast.
Units: energies, temperatures (k_B T), chemical potentials in the energy
unit; couplings in the rate unit.

Examples
--------
:data:`PRESETS` lists the names a sweep (or ``qdthermo sweep``) accepts:

>>> from qdthermo.sweeps import PRESETS
>>> "three_terminal" in PRESETS and "single_dot" in PRESETS
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from qdthermo._validate import as_real_array, check_positive
from qdthermo.model.device import Coupling, Device, Dot, Interaction, Lead
from qdthermo.model.registry import REGISTRY, ParameterSpec, PresetNames, preset_spec, register_preset
from qdthermo.units import ENERGY, RATE

__all__ = ["PRESETS", "preset_function", "three_terminal", "coupled_transport", "single_dot", "sanchez_buttiker"]

#: the registered preset names (``qd.<name>``), a live view of :data:`~qdthermo.model.registry.REGISTRY`
PRESETS = PresetNames()

_INF = float("inf")


def _level(name: str, what: str) -> ParameterSpec:
    return ParameterSpec(name, ENERGY, what)


def _interaction() -> list[ParameterSpec]:
    return [ParameterSpec("U", ENERGY, "interdot Coulomb interaction", low=0.0, low_closed=True),
            ParameterSpec("J", ENERGY, "interdot spin exchange", low=0.0, low_closed=True)]


def _lead_tables(*, transitions: bool) -> list[ParameterSpec]:
    return [
        ParameterSpec("T", ENERGY, "temperature k_B T", low=0.0, per_lead=True),
        ParameterSpec("mu", ENERGY, "chemical potential", per_lead=True),
        _gamma(per_lead=True, transitions=transitions),
    ]


def _gamma(*, per_lead: bool, transitions: bool = False) -> ParameterSpec:
    return ParameterSpec("gamma", RATE, "tunnel coupling", low=0.0, low_closed=True, per_lead=per_lead,
                         per_transition=transitions)

_PAPER_LEADS = ("t", "b", "r")
_PAPER_DOT = {"t": "L", "b": "L", "r": "R"}
#: paper transition names (w_ji as "i->j") for each lead of the three-terminal device
_PAPER_TRANSITIONS = {"t": ("1->2", "3->4"), "b": ("1->2", "3->4"), "r": ("1->3", "2->4")}
_PAPER_ALIASES = {"E:t": "E", "E:r": "R", "N:t": "N"}


def _per_lead(name: str, value: Any, leads: tuple[str, ...], default: Any = None) -> dict[str, Any]:
    """Expand a scalar/array or a dict keyed by lead name into one value per lead."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in leads]
        if unknown:
            raise ValueError(f"{name}: unknown lead name(s) {unknown}; allowed leads: {list(leads)}")
        out = {}
        for lead in leads:
            if lead in value:
                out[lead] = value[lead]
            elif default is not None:
                out[lead] = default
            else:
                raise ValueError(f"{name}: no value for lead {lead!r}; give one for each of {list(leads)}")
        return out
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required (one value or a dict by lead name {list(leads)})")
        value = default
    return {lead: value for lead in leads}


def _couplings(gamma: Any, leads: tuple[str, ...]) -> dict[str, Coupling]:
    """Couplings per lead from one value, a dict by lead, or a dict by (lead, transition)."""
    if not isinstance(gamma, Mapping):
        return {lead: gamma for lead in leads}
    per_lead: dict[str, Any] = {}
    per_transition: dict[str, dict[str, Any]] = {}
    for key, value in gamma.items():
        if isinstance(key, tuple):
            if len(key) != 2 or key[0] not in leads:
                raise ValueError(
                    f"gamma: key {key!r} must be a lead name or a (lead, transition) pair "
                    f"with lead in {list(leads)}"
                )
            per_transition.setdefault(key[0], {})[str(key[1])] = value
        elif key in leads:
            per_lead[key] = value
        else:
            raise ValueError(f"gamma: unknown lead name {key!r}; allowed leads: {list(leads)}")
    out: dict[str, Coupling] = {}
    for lead in leads:
        if lead in per_transition:
            mapping = dict(per_transition[lead])
            if lead in per_lead:  # lead-wide value fills the transitions not given
                for tr in _PAPER_TRANSITIONS.get(lead, ()):
                    alt = _paper_to_occupation(tr)
                    if tr not in mapping and alt not in mapping:
                        mapping[tr] = per_lead[lead]
            out[lead] = mapping
        elif lead in per_lead:
            out[lead] = per_lead[lead]
        else:
            raise ValueError(f"gamma: no coupling for lead {lead!r}; give one for each of {list(leads)}")
    return out


def _paper_to_occupation(tr: str) -> str:
    labels = {"1": "00", "2": "10", "3": "01", "4": "11"}
    i, j = tr.split("->")
    return f"{labels[i]}->{labels[j]}"


@register_preset(
    leads=_PAPER_LEADS, dots=("L", "R"),
    parameters=[_level("eps_L", "level energy of dot L"), _level("eps_R", "level energy of dot R"),
                *_interaction(), *_lead_tables(transitions=True),
                ParameterSpec("reference_lead", "", "reference lead of the force-flux basis",
                              choices=_PAPER_LEADS)],
)
def three_terminal(
    eps_L: ArrayLike,
    eps_R: ArrayLike,
    U: ArrayLike = 0.0,
    J: ArrayLike = 0.0,
    T: ArrayLike | Mapping[str, ArrayLike] = 1.0,
    mu: ArrayLike | Mapping[str, ArrayLike] = 0.0,
    gamma: Any = 1.0,
    *,
    reference_lead: str = "b",
) -> Device:
    """The seed paper's three-terminal Coulomb-coupled double dot.

    Dot L (spin down) is coupled to leads ``t`` and ``b``; dot R (spin up) to
    lead ``r``.  States ``"00", "10", "01", "11"`` (occupations of L, R) are
    the paper's ``|1>..|4>`` with energies 0, eps_L, eps_R, eps_L + eps_R + U_eff,
    U_eff = U - J/4.

    Parameters
    ----------
    eps_L, eps_R
        Level energies [energy unit].
    U, J
        Interdot Coulomb interaction and spin exchange [energy unit], >= 0.
    T, mu
        Temperatures (> 0) and chemical potentials [energy unit]: one value
        for all leads or a dict by lead name ``{"t": ..., "b": ..., "r": ...}``.
    gamma
        Tunnel couplings [rate unit], >= 0: one value, a dict by lead name,
        or a dict keyed by ``(lead, transition)`` where transition is
        ``"1->2"``, ``"3->4"`` (leads t, b) or ``"1->3"``, ``"2->4"`` (lead r),
        equivalently ``"00->10"`` etc.  Lead-name keys fill the transitions
        not given explicitly.  Values may also be callables ``Gamma(w)``.
    reference_lead
        Reference lead of the force-flux basis (default ``"b"``: the paper's
        ``F_E, F_R, F_N``).

    Returns
    -------
    Device
        With forces/fluxes aliased ``E`` (lead t energy), ``R`` (lead r
        energy), ``N`` (lead t particles) when ``reference_lead="b"``.

    Raises
    ------
    ValueError
        If a parameter is not real, a temperature is not > 0, U, J or a
        coupling is negative, or a dict names an unknown lead or transition.

    Examples
    --------
    The paper's device with a hot top lead: heat flows from t, through
    dot L, into b; dot R (on the lead r at the same temperature) carries none.

    >>> import qdthermo as qd
    >>> dev = qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0})
    >>> dev.lead_names
    ('t', 'b', 'r')
    >>> res = qd.solve(dev)
    >>> res.forces
    {'F_E': 0.5, 'F_R': 0.0, 'F_N': 0.0}
    >>> round(float(res.particle_current["t"]), 4), bool(abs(res.particle_current["r"]) < 1e-12)
    (0.0579, True)
    """
    as_real_array("eps_L (level of dot L)", eps_L)  # validate under the preset's own names
    as_real_array("eps_R (level of dot R)", eps_R)
    leads = _PAPER_LEADS
    Ts = _per_lead("T", T, leads)
    mus = _per_lead("mu", mu, leads)
    gammas = _couplings(gamma, leads)
    device_leads = tuple(
        Lead(name, _PAPER_DOT[name], Ts[name], mus[name], gammas[name]) for name in leads
    )
    return Device(
        dots=(Dot("L", eps_L, "down"), Dot("R", eps_R, "up")),
        leads=device_leads,
        interactions=(Interaction(("L", "R"), U, J),),
        reference_lead=reference_lead,
        name="three_terminal",
        aliases=_PAPER_ALIASES if reference_lead == "b" else {},
        parallel_pair=("E", "N") if reference_lead == "b" else None,
        parameters={"eps_L": eps_L, "eps_R": eps_R, "U": U, "J": J, "T": T, "mu": mu, "gamma": gamma},
    )


@register_preset(
    leads=_PAPER_LEADS, dots=("L", "R"),
    parameters=[
        ParameterSpec("F_E", "1/energy", "energy force F_E = 1/T_ref - 1/T_t", note="F_E < 1/T_ref"),
        ParameterSpec("F_N", "1", "particle force F_N = mu_t/T_t - mu_ref/T_ref"),
        ParameterSpec("eps_L", ENERGY, "level energy of dot L", low=0.0),
        _level("eps_R", "level energy of dot R"), *_interaction(),
        ParameterSpec("T_ref", ENERGY, "temperature of the reference leads b, r", low=0.0),
        ParameterSpec("mu_ref", ENERGY, "chemical potential of the reference leads b, r"),
        _gamma(per_lead=True, transitions=True),
    ],
)
def coupled_transport(
    F_E: ArrayLike,
    F_N: ArrayLike,
    eps_L: ArrayLike = 1.0,
    eps_R: ArrayLike = 1.0,
    U: ArrayLike = 0.0,
    J: ArrayLike = 0.0,
    T_ref: ArrayLike = 1.0,
    mu_ref: ArrayLike = 0.0,
    gamma: Any = 1.0,
) -> Device:
    """The paper's device driven by the two mutually parallel forces (section 7).

    The non-parallel force is switched off, ``T_r = T_b = T_ref`` (F_R = 0),
    ``mu_b = mu_r = mu_ref``, and lead ``t`` follows from the forces:

    ``1/T_t = 1/T_ref - F_E``,  ``mu_t = T_t (F_N + mu_ref/T_ref)``.

    Parameters
    ----------
    F_E
        Energy force 1/T_b - 1/T_t [1/energy]; must be < 1/T_ref.
    F_N
        Particle force mu_t/T_t - mu_b/T_b [dimensionless].
    eps_L
        Level of dot L [energy unit], > 0 (the paper's convention; x and
        the scaled force F~_E = eps_L F_E are defined with it).
    eps_R, U, J, gamma
        As in :func:`three_terminal`.
    T_ref, mu_ref
        Temperature (> 0) and chemical potential of the reference leads b, r.

    Returns
    -------
    Device
        Its ``parameters`` also hold ``F_E_scaled`` = eps_L F_E, ``x`` =
        (eps_L + U_eff)/eps_L, ``U_eff``, ``T_t`` and ``mu_t``.

    Raises
    ------
    ValueError
        If F_E >= 1/T_ref: the top lead would need a negative or infinite
        temperature.

    Examples
    --------
    Two forces and a strong exchange: the levels swap (x < 0).

    >>> import qdthermo as qd
    >>> dev = qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0)
    >>> float(dev.parameters["x"]), float(dev.parameters["T_t"]), float(dev.parameters["mu_t"])
    (-2.0, 2.0, 0.5)
    >>> qd.solve(dev).forces
    {'F_E': 0.5, 'F_R': 0.0, 'F_N': 0.25}
    """
    F_E_arr = as_real_array("F_E (energy force)", F_E)
    F_N_arr = as_real_array("F_N (particle force)", F_N)
    T_ref_arr = as_real_array("T_ref (temperature of the reference leads b, r)", T_ref)
    check_positive("T_ref (temperature of the reference leads b, r)", T_ref_arr)
    mu_ref_arr = as_real_array("mu_ref (chemical potential of the reference leads b, r)", mu_ref)
    eps_L_arr = as_real_array("eps_L (level of dot L)", eps_L)
    check_positive("eps_L (level of dot L; the paper's convention eps_L > 0)", eps_L_arr)
    inv_T_t = 1.0 / T_ref_arr - F_E_arr
    bad = ~(inv_T_t > 0)
    if np.any(bad):
        F_bad = float(np.broadcast_to(F_E_arr, bad.shape)[bad].flat[0])
        lim = float(np.broadcast_to(1.0 / T_ref_arr, bad.shape)[bad].flat[0])
        raise ValueError(
            f"F_E = {F_bad!r} implies a non-positive temperature of lead t "
            f"(1/T_t = 1/T_ref - F_E <= 0); allowed range: F_E < 1/T_ref = {lim!r}"
        )
    T_t = 1.0 / inv_T_t
    mu_t = T_t * (F_N_arr + mu_ref_arr / T_ref_arr)
    U_eff = np.asarray(U, dtype=float) - np.asarray(J, dtype=float) / 4.0
    device = three_terminal(
        eps_L, eps_R, U, J,
        T={"t": T_t, "b": T_ref_arr, "r": T_ref_arr},
        mu={"t": mu_t, "b": mu_ref_arr, "r": mu_ref_arr},
        gamma=gamma,
    )
    params = {
        "F_E": F_E, "F_N": F_N, "eps_L": eps_L, "eps_R": eps_R, "U": U, "J": J,
        "T_ref": T_ref, "mu_ref": mu_ref, "gamma": gamma,
        "F_E_scaled": eps_L_arr * F_E_arr, "x": (eps_L_arr + U_eff) / eps_L_arr,
        "U_eff": U_eff, "T_t": T_t, "mu_t": mu_t,
    }
    return Device(
        dots=device.dots, leads=device.leads, interactions=device.interactions,
        reference_lead="b", name="coupled_transport", aliases=_PAPER_ALIASES,
        parallel_pair=("E", "N"), parameters=params,
    )


@register_preset(
    leads=("L", "R"), dots=("dot",),
    parameters=[_level("eps", "single-particle level energy"), *_lead_tables(transitions=False),
                ParameterSpec("species", "", "particle species label of the dot")],
)
def single_dot(
    eps: ArrayLike,
    T: ArrayLike | Mapping[str, ArrayLike] = 1.0,
    mu: ArrayLike | Mapping[str, ArrayLike] = 0.0,
    gamma: Any = 1.0,
    *,
    species: str = "down",
) -> Device:
    """One single-level dot between leads ``L`` and ``R`` (reference lead ``R``).

    Parameters
    ----------
    eps
        Level energy [energy unit].
    T, mu
        Temperatures (> 0) and chemical potentials [energy unit]: one value
        or a dict ``{"L": ..., "R": ...}``.
    gamma
        Tunnel couplings [rate unit]: one value, or a dict by lead name.
    species
        Particle species label of the dot.

    Returns
    -------
    Device
        Forces/fluxes aliased ``E`` (energy, lead L) and ``N`` (particles,
        lead L): F_E = 1/T_R - 1/T_L, F_N = mu_L/T_L - mu_R/T_R.

    Raises
    ------
    ValueError
        If a parameter is not real, a temperature is not > 0 or a coupling
        is negative.

    Examples
    --------
    A thermoelectric dot: the hot lead L drives electrons through a level
    above the common chemical potential.

    >>> import numpy as np, qdthermo as qd
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> res.state_labels
    ('0', '1')
    >>> np.round(res.populations, 4)
    array([0.5923, 0.4077])
    >>> round(float(res.particle_current["L"]), 4), round(float(res.heat_current["L"]), 4)
    (0.0301, 0.0151)

    Batch first: an array of levels gives arrays of the same shape.

    >>> qd.solve(qd.single_dot(eps=np.linspace(-2, 2, 5))).populations.shape
    (5, 2)
    """
    as_real_array("eps (level of the dot)", eps)  # validate under the preset's own name
    leads = ("L", "R")
    Ts = _per_lead("T", T, leads)
    mus = _per_lead("mu", mu, leads)
    gammas = _couplings(gamma, leads)
    return Device(
        dots=(Dot("dot", eps, species),),
        leads=tuple(Lead(n, "dot", Ts[n], mus[n], gammas[n]) for n in leads),
        reference_lead="R",
        name="single_dot",
        aliases={"E:L": "E", "N:L": "N"},
        parallel_pair=("E", "N"),
        parameters={"eps": eps, "T": T, "mu": mu, "gamma": gamma},
    )


@register_preset(
    leads=_PAPER_LEADS, dots=("L", "R"),
    parameters=[
        _level("eps_L", "level energy of the conductor dot L"), _level("eps_R", "level energy of the gate dot R"),
        ParameterSpec("U", ENERGY, "interdot Coulomb interaction", low=0.0, low_closed=True),
        ParameterSpec("T", ENERGY, "temperature of the conductor leads t, b", low=0.0),
        ParameterSpec("T_hot", ENERGY, "temperature of the hot lead r", low=0.0),
        ParameterSpec("V", ENERGY, "bias voltage mu_t - mu_b"),
        ParameterSpec("gamma", RATE, "tunnel coupling of the conductor leads t, b", low=0.0, low_closed=True),
        ParameterSpec("gamma_hot", RATE, "tunnel coupling of the hot lead r", low=0.0, low_closed=True),
        ParameterSpec("asymmetry", "1", "energy-filter asymmetry of the couplings", low=-1.0, high=1.0,
                      low_closed=True, high_closed=True),
    ],
)
def sanchez_buttiker(
    eps_L: ArrayLike,
    eps_R: ArrayLike,
    U: ArrayLike,
    T: ArrayLike = 1.0,
    T_hot: ArrayLike = 2.0,
    *,
    V: ArrayLike = 0.0,
    gamma: ArrayLike = 1.0,
    gamma_hot: ArrayLike = 1.0,
    asymmetry: ArrayLike = 1.0,
) -> Device:
    """The Sanchez-Buttiker three-terminal energy harvester (PRB 83, 085428).

    Dot L is the conductor between lead ``t`` (left, mu = +V/2) and lead
    ``b`` (right, mu = -V/2), both at temperature ``T``; dot R is the gate
    dot coupled to the hot lead ``r`` at ``T_hot``.  Each transferred energy
    quantum U from the hot lead is rectified into a particle current by
    energy-dependent tunnelling:

    * lead t: Gamma (1 + a)/2 when R is empty (00->10), Gamma (1 - a)/2 when R is full (01->11);
    * lead b: Gamma (1 - a)/2 when R is empty, Gamma (1 + a)/2 when R is full;

    with ``a = asymmetry`` in [-1, 1].  For ``|a| = 1`` (perfect energy filter)
    every electron carries exactly one quantum: J_N^t = a J_E^r / U
    (tight coupling).  Dots are spinless (no exchange term).

    Parameters
    ----------
    eps_L, eps_R
        Conductor and gate levels [energy unit].
    U
        Interdot Coulomb interaction [energy unit], >= 0.
    T, T_hot
        Temperature of the conductor leads and of the hot lead [energy unit], > 0.
    V
        Bias [energy unit]: mu_t = V/2, mu_b = -V/2.
    gamma, gamma_hot
        Conductor and hot-lead couplings [rate unit], >= 0.
    asymmetry
        Energy-filter asymmetry a in [-1, 1].

    Returns
    -------
    Device
        Dots ``L``, ``R``; leads ``t``, ``b`` (on L) and ``r`` (on R).

    Raises
    ------
    ValueError
        If ``asymmetry`` is outside [-1, 1], a temperature is not > 0 or a
        coupling is negative.

    Examples
    --------
    A perfect energy filter (a = 1) turns heat from the hot lead into a
    current from t to b without bias, one electron per quantum U:

    >>> import qdthermo as qd
    >>> res = qd.solve(qd.sanchez_buttiker(eps_L=0.5, eps_R=0.5, U=1.0, T=1.0, T_hot=2.0))
    >>> round(float(res.particle_current["t"]), 4), round(float(res.heat_current["r"]), 4)
    (0.0112, 0.0112)
    """
    as_real_array("eps_L (level of the conductor dot L)", eps_L)  # validate under the preset's own names
    as_real_array("eps_R (level of the gate dot R)", eps_R)
    a = as_real_array("asymmetry (energy-filter asymmetry a)", asymmetry)
    bad = (a < -1) | (a > 1)
    if np.any(bad):
        raise ValueError(
            f"asymmetry (energy-filter asymmetry a) must lie in [-1, 1], got {float(a[bad].flat[0])!r}"
        )
    g = as_real_array("gamma (conductor coupling)", gamma)
    half_V = as_real_array("V (bias)", V) / 2.0
    lo, hi = g * (1 - a) / 2, g * (1 + a) / 2
    t_coupling = {"00->10": hi, "01->11": lo}
    b_coupling = {"00->10": lo, "01->11": hi}
    return Device(
        dots=(Dot("L", eps_L, "spinless"), Dot("R", eps_R, "spinless")),
        leads=(
            Lead("t", "L", T, half_V, t_coupling),
            Lead("b", "L", T, -half_V, b_coupling),
            Lead("r", "R", T_hot, 0.0, gamma_hot),
        ),
        interactions=(Interaction(("L", "R"), U, 0.0),),
        reference_lead="b",
        name="sanchez_buttiker",
        aliases=_PAPER_ALIASES,
        parallel_pair=("E", "N"),
        parameters={"eps_L": eps_L, "eps_R": eps_R, "U": U, "T": T, "T_hot": T_hot, "V": V,
                    "gamma": gamma, "gamma_hot": gamma_hot, "asymmetry": asymmetry},
    )


def callable_name(func: Callable[..., Any]) -> str:
    """``module.qualname`` of a device function that is not a registered preset."""
    module = getattr(func, "__module__", None) or ""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    return f"{module}.{qualname}" if module and module != "builtins" else str(qualname)


def preset_function(preset: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    """Name and function of a preset given by name (``"coupled_transport"``) or as a function.

    A registered preset gives its registered name; any other callable (a
    user's function returning a :class:`~qdthermo.model.device.Device`) is
    returned as it is, named ``module.qualname``.

    Raises
    ------
    ValueError
        If ``preset`` is a string that names no registered preset, or neither
        a string nor a callable.
    """
    if isinstance(preset, str) or not callable(preset):
        if not isinstance(preset, str):
            raise ValueError(f"a preset must be a name ({', '.join(REGISTRY)}) or a function returning a "
                             f"Device, got {preset!r}")
        spec = preset_spec(preset)
        assert spec is not None
        return spec.name, spec.function
    spec = preset_spec(preset)
    if spec is not None:
        return spec.name, spec.function
    return callable_name(preset), preset

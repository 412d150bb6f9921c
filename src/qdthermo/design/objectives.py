"""Objective and constraint names: registered observables and performance attributes, read batch-first.

A name is one of

* a performance attribute (:class:`~qdthermo.thermo.Performance`): ``power``,
  ``heat_input``, ``efficiency``, ``carnot_efficiency``, ``cooling_power``,
  ``cop``, ``carnot_cop``;
* a registered observable without trailing dimensions
  (:data:`qdthermo.thermo.OBSERVABLES`, e.g. ``entropy_production``);
* ``<observable>_<label>`` for one entry of an observable with one trailing
  dimension or a dict value, labelled as in ``to_xarray()``
  (``heat_current_L``, ``fluxes_J_N``, ``forces_F_E``, ``regime_J_N``).

NaN values (an efficiency where the device is no engine, points without a
steady state) are never feasible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.thermo import OBSERVABLES, Performance, SteadyState

__all__ = ["PERFORMANCE", "Entry", "allowed_names", "resolve", "read", "check_constraints"]

#: where a name's values come from: ("performance", attribute) or (observable, label/index or None)
Entry = tuple[str, Any]

Array = NDArray[np.float64]

#: the performance attributes usable as objectives or constraints
PERFORMANCE = tuple(f.name for f in fields(Performance))


def _labels(result: SteadyState, dim: str) -> tuple[str, ...]:
    fb = result.force_basis
    return {"state": result.state_labels, "lead": result.lead_names, "channel": result.channel_labels,
            "force": fb.force_names, "flux": fb.flux_names}.get(dim, ())


def _entries(result: SteadyState) -> dict[str, Entry]:
    """name -> (observable, label or None) of every scalar quantity of ``result``."""
    out: dict[str, Entry] = {name: ("performance", name) for name in PERFORMANCE}
    for name, obs in OBSERVABLES.items():
        if name in out or not obs.applies(result):
            continue
        if len(obs.dims) == 0:
            value = result.observable(name)
            if isinstance(value, Mapping):
                out.update({f"{name}_{key}": (name, key) for key in value})
            else:
                out[name] = (name, None)
        elif len(obs.dims) == 1:
            out.update({f"{name}_{label}": (name, k) for k, label in enumerate(_labels(result, obs.dims[0]))})
    return out


def allowed_names(result: SteadyState) -> list[str]:
    """Every name usable as an objective or constraint for results like ``result``."""
    return list(_entries(result))


def resolve(role: str, name: Any, result: SteadyState) -> Entry:
    """Where the quantity ``name`` is read from, for results like ``result`` (a small probe).

    Raises
    ------
    ValueError
        If ``name`` is not allowed, naming the role (``maximize``, ...), the value and the allowed names.
    """
    entries = _entries(result)
    if not isinstance(name, str) or name not in entries:
        raise ValueError(f"{role} = {name!r} is not a registered observable or performance attribute of "
                         f"device {result.system.name!r}; allowed: {list(entries)}")
    return entries[name]


def read(result: SteadyState, entry: Entry) -> Array:
    """The quantity at ``entry`` (see :func:`resolve`) as a float array of the result's batch shape.

    NaN where undefined (efficiency of a non-engine, points without a steady state).
    """
    source, key = entry
    if source == "performance":
        value = getattr(result.performance, key)
    else:
        value = result.observable(source)
        if isinstance(value, Mapping):
            value = value[key] if key is not None else value
        elif key is not None:
            value = np.asarray(value)[..., key]
    out = np.asarray(value, dtype=np.float64)
    return np.broadcast_to(out, result.shape)


def check_constraints(constraints: Mapping[str, Any] | None,
                      result: SteadyState) -> dict[str, tuple[Entry, float, float]]:
    """Validate ``{name: (lo, hi)}`` (either bound may be None) into ``{name: (entry, lo, hi)}``.

    A missing bound becomes -inf or +inf.

    Raises
    ------
    ValueError
        For an unknown name, or bounds that are not numbers/None, are NaN, or have lo > hi.
    """
    if constraints is not None and not isinstance(constraints, Mapping):
        raise ValueError(f"constraints = {constraints!r} must be a dict name -> (lo, hi)")
    out: dict[str, tuple[Entry, float, float]] = {}
    for name, bounds in (constraints or {}).items():
        entry = resolve("constraints key", name, result)
        rng = "(lo, hi) with lo <= hi, either one None (no bound)"
        try:
            lo_raw, hi_raw = bounds
            lo = -math.inf if lo_raw is None else float(lo_raw)
            hi = math.inf if hi_raw is None else float(hi_raw)
        except (TypeError, ValueError):
            raise ValueError(f"constraints[{name!r}] = {bounds!r} must be a pair; allowed: {rng}") from None
        if math.isnan(lo) or math.isnan(hi) or lo > hi or (lo_raw is None and hi_raw is None):
            raise ValueError(f"constraints[{name!r}] = {bounds!r}: allowed: {rng}, at least one bound given")
        out[name] = (entry, lo, hi)
    return out

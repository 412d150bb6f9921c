"""The TOML file of ``qdthermo sweep``: schema, parsing and checking.

The same schema as ``qdthermo point --config`` (the parameter language of
:mod:`qdthermo.model.parameters`), where any value may also be swept::

    preset = "coupled_transport"   # required: a preset of qdthermo
    chunk_points = 65536           # optional: points per chunk
    scheduler = "local"            # optional: "serial", "local" or a Dask address (--scheduler wins)

    [parameters]                   # the preset's arguments, in grid order (or at the top level)
    eps_L = 1.0                                 # a number or a string: fixed
    U = [0.0, 0.5, 1.0]                         # an array of numbers: swept over these values
    F_E = { start = -1.0, stop = 0.5, num = 1000 }              # swept, evenly spaced
    gamma = { start = 0.01, stop = 10, num = 50, spacing = "log" }  # swept, log spaced
    T = { t = 2.0, r = { start = 1, stop = 2, num = 5 } }  # per lead: each entry as above
    mu_t = [0.0, 0.1]                           # one lead's entry by its flat name

A lead left out of a per-lead table takes the preset's default (``T_b = 1``
above); a per-lead parameter without a default needs every lead.  Every
mistake raises :class:`ConfigError` naming the key (``parameters.F_E.num``),
the value and what is allowed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qdthermo.model.parameters import ParameterError, flatten_table, resolve_name, to_kwargs
from qdthermo.model.registry import REGISTRY, PresetSpec, format_value
from qdthermo.sweeps.plan import PRESETS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ConfigError", "SweepConfig", "load_config", "parse_config"]

_TOP = {"preset": "a preset name", "parameters": "a table of preset arguments (or give them at the top level)",
        "chunk_points": "a positive integer", "scheduler": "'serial', 'local' or a Dask scheduler address"}
_RANGE = {"start", "stop", "num", "spacing"}
_SPACINGS = ("linear", "log")


class ConfigError(ValueError):
    """A bad key or value in a sweep configuration; the message names it."""


@dataclass(frozen=True)
class SweepConfig:
    """A parsed sweep configuration: ``qd.sweep(preset, chunk_points=..., scheduler=..., **parameters)``."""

    preset: str
    parameters: dict[str, Any]
    chunk_points: int | None = None
    scheduler: str | None = None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range(key: str, table: Mapping[str, Any]) -> np.ndarray:
    unknown = [k for k in table if k not in _RANGE]
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}: unknown key; a range has keys start, stop, num and "
                          f"optionally spacing")
    for k in ("start", "stop", "num"):
        if k not in table:
            raise ConfigError(f"{key}.{k}: missing; a range needs start, stop and num")
    start, stop, num = table["start"], table["stop"], table["num"]
    for k, v in (("start", start), ("stop", stop)):
        if not _is_number(v):
            raise ConfigError(f"{key}.{k}: must be a number, got {v!r}")
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise ConfigError(f"{key}.num: must be a positive integer, got {num!r}")
    spacing = table.get("spacing", "linear")
    if spacing not in _SPACINGS:
        raise ConfigError(f"{key}.spacing: must be one of {list(_SPACINGS)}, got {spacing!r}")
    if spacing == "log":
        if not (start > 0 and stop > 0):
            raise ConfigError(f"{key}: a log range needs start > 0 and stop > 0, got start={start!r}, stop={stop!r}")
        return np.geomspace(start, stop, num)
    return np.linspace(start, stop, num)


def _value(key: str, value: Any, per_lead: bool) -> Any:
    if _is_number(value) or isinstance(value, str):
        return value
    if isinstance(value, list):
        bad = [v for v in value if not _is_number(v)]
        if not value or bad:
            raise ConfigError(f"{key}: an array of swept values must hold at least one number and only "
                              f"numbers, got {value!r}")
        return np.asarray(value, dtype=float)
    if isinstance(value, Mapping):
        if _RANGE & set(value):
            return _range(key, value)
        if per_lead:
            return {k: _value(f"{key}.{k}", v, per_lead=False) for k, v in value.items()}
    allowed = "a number, a string, an array of numbers or a range table {start, stop, num}"
    if per_lead:
        allowed += ", or a table by lead name of those"
    raise ConfigError(f"{key}: must be {allowed}; got {value!r}")


def parse_config(data: Mapping[str, Any], source: str = "config") -> SweepConfig:
    """Check a decoded TOML document and turn it into a :class:`SweepConfig`.

    Raises
    ------
    ConfigError
        Naming the offending key, its value and what is allowed.
    """
    def err(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}")

    if "preset" not in data:
        raise err(f"missing key 'preset' ({_TOP['preset']})")
    preset = data["preset"]
    if not isinstance(preset, str) or preset not in PRESETS:
        raise err(f"preset: unknown preset {format_value(preset)}; allowed: {', '.join(PRESETS)}")
    spec = REGISTRY[preset]
    top = {k: v for k, v in data.items() if k not in _TOP}
    unknown = [k for k in top if not _is_parameter(spec, k)]
    if unknown:
        raise err(f"unknown key {unknown[0]!r}; allowed keys: " + ", ".join(f"{k} ({v})" for k, v in _TOP.items())
                  + f", or a parameter of {preset}: {', '.join(spec.names)}")
    if "parameters" not in data and not top:
        raise err(f"missing key 'parameters' ({_TOP['parameters']})")
    chunk_points = data.get("chunk_points")
    if chunk_points is not None and (not isinstance(chunk_points, int) or isinstance(chunk_points, bool)
                                     or chunk_points < 1):
        raise err(f"chunk_points: must be a positive integer, got {chunk_points!r}")
    scheduler = data.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler):
        raise err(f"scheduler: must be 'serial', 'local' or a Dask scheduler address such as 'tcp://host:8786', "
                  f"got {scheduler!r}")
    params = data.get("parameters", {})
    if not isinstance(params, Mapping):
        raise err(f"parameters: must be a table of preset arguments, got {format_value(params)}")
    both = sorted(set(params) & set(top))
    if both:
        raise err(f"{both[0]}: given both at the top level and in [parameters]; give it once")
    params = {**params, **top}

    from qdthermo.sweeps.plan import make_plan, preset_function

    try:
        parameters = {name: _value(f"parameters.{name}", v, per_lead=True) for name, v in params.items()}
        parameters = _language(spec, parameters)
        make_plan(preset_function(preset)[0], parameters, chunk_points)  # names, shapes, types
    except ConfigError as exc:
        raise err(str(exc)) from None
    except ParameterError as exc:  # "T_t = -1.0: ..." -> "parameters.T_t = -1.0: ..."
        sep = "." if re.match(r"^[\w\[\]>-]+ = ", str(exc)) else ": "
        raise err(f"parameters{sep}{exc}") from None
    except ValueError as exc:
        raise err(f"parameters: {exc}") from None
    return SweepConfig(preset, parameters, chunk_points, scheduler)


def _is_parameter(spec: PresetSpec, name: str) -> bool:
    try:
        resolve_name(spec, name)
    except ParameterError:
        return False
    return True


def _language(spec: PresetSpec, parameters: dict[str, Any]) -> dict[str, Any]:
    """Flat names (``T_t``) folded into tables, missing leads defaulted, values checked against their ranges."""
    from qdthermo.sweeps.plan import _check_signature

    names: dict[str, None] = {}
    for name in parameters:
        try:
            names[resolve_name(spec, name).param] = None
        except ParameterError as exc:
            if not str(exc).startswith("unknown parameter"):
                raise
            names[name] = None  # named below with the preset's allowed parameters
    try:
        _check_signature(spec.name, spec.function, names)
    except ValueError as exc:
        raise ConfigError(f"parameters: {exc}") from None
    return to_kwargs(spec, flatten_table(spec, parameters))


def load_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep configuration file (see the module docstring).

    Raises
    ------
    ConfigError
        If the file is not valid TOML or breaks the schema.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(path))

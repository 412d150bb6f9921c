"""The TOML file of ``qdthermo sweep``: schema, parsing and checking.

::

    preset = "coupled_transport"   # required: a preset of qdthermo
    chunk_points = 65536           # optional: points per chunk
    scheduler = "local"            # optional: "serial", "local" or a Dask address (--scheduler wins)

    [parameters]                   # required: the preset's arguments, in grid order
    eps_L = 1.0                                 # a number or a string: fixed
    U = [0.0, 0.5, 1.0]                         # an array of numbers: swept over these values
    F_E = { start = -1.0, stop = 0.5, num = 1000 }              # swept, evenly spaced
    gamma = { start = 0.01, stop = 10, num = 50, spacing = "log" }  # swept, log spaced
    T = { t = 2.0, b = 1.0, r = { start = 1, stop = 2, num = 5 } }  # per lead: each entry as above

See ``docs/sweeps.md``.  Every mistake raises :class:`ConfigError` naming
the key (``parameters.F_E.num``), the value and what is allowed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qdthermo.sweep.plan import PRESETS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ConfigError", "SweepConfig", "load_config", "parse_config"]

_TOP = {"preset": "a preset name", "parameters": "a table of preset arguments",
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

    unknown = [k for k in data if k not in _TOP]
    if unknown:
        raise err(f"unknown key {unknown[0]!r}; allowed keys: " + ", ".join(f"{k} ({v})" for k, v in _TOP.items()))
    for key in ("preset", "parameters"):
        if key not in data:
            raise err(f"missing key {key!r} ({_TOP[key]})")
    preset = data["preset"]
    if preset not in PRESETS:
        raise err(f"preset: unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
    chunk_points = data.get("chunk_points")
    if chunk_points is not None and (not isinstance(chunk_points, int) or isinstance(chunk_points, bool)
                                     or chunk_points < 1):
        raise err(f"chunk_points: must be a positive integer, got {chunk_points!r}")
    scheduler = data.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler):
        raise err(f"scheduler: must be 'serial', 'local' or a Dask scheduler address such as 'tcp://host:8786', "
                  f"got {scheduler!r}")
    params = data["parameters"]
    if not isinstance(params, Mapping):
        raise err(f"parameters: must be a table of preset arguments, got {params!r}")

    from qdthermo.sweep.plan import make_plan, preset_function

    try:
        parameters = {name: _value(f"parameters.{name}", v, per_lead=True) for name, v in params.items()}
        make_plan(preset_function(preset)[0], parameters, chunk_points)  # names, shapes, types
    except ConfigError as exc:
        raise err(str(exc)) from None
    except ValueError as exc:
        raise err(f"parameters: {exc}") from None
    return SweepConfig(preset, parameters, chunk_points, scheduler)


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

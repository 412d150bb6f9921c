"""The ``qdthermo`` command line.

Sub-commands live next to the code they drive and are registered here:
``point`` and ``info`` (this module), ``sweep`` (:mod:`qdthermo.sweep.command`),
``plot`` (:mod:`qdthermo.plot.command`), ``paper`` (:mod:`qdthermo.paper.command`).

``qdthermo point`` solves one parameter point of a preset device and prints
its populations, currents and thermodynamics::

    qdthermo point -p eps_L=1 -p eps_R=1 -p U=0.5 -p T.t=2
    qdthermo point --preset coupled_transport -p F_E=0.3 -p F_N=0.1 --json
    qdthermo point --config point.toml -p U=0.2

A configuration file is TOML whose keys are the preset's parameters;
parameters that take one value per lead are tables, and per-transition
couplings nested tables::

    preset = "three_terminal"      # optional; --preset wins
    eps_L = 1.0
    eps_R = 1.0
    U = 0.5
    [T]
    t = 2.0
    b = 1.0
    r = 1.0
    [gamma]
    b = 1.0
    r = 1.0
    [gamma.t]                      # coupling of lead t per transition
    "1->2" = 1.0
    "3->4" = 0.2

On the command line the same is ``-p T.t=2.0`` and ``-p 'gamma.t.3->4=0.2'``
(quote it: ``>`` is a shell redirection);
a dotted entry leaves the other leads at the file's (or the preset's
default) value.  Units: energies, temperatures (k_B T) and chemical
potentials in one energy unit, couplings in the rate unit
(:mod:`qdthermo.units`); currents are positive from the lead into the system.
"""

from __future__ import annotations

import inspect
import json
import math
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import numpy as np

from qdthermo import __version__
from qdthermo.model.presets import PRESETS, preset_function

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qdthermo")
def main() -> None:
    """qdthermo: quantum thermodynamics of coupled transport in quantum-dot devices."""


# ----------------------------------------------------------------------------- presets
#: preset name -> lead names of the parameters that take one value per lead
_PRESET_LEADS: dict[str, tuple[str, ...]] = {
    "three_terminal": ("t", "b", "r"),
    "coupled_transport": ("t", "b", "r"),
    "single_dot": ("L", "R"),
    "sanchez_buttiker": (),
}
#: preset name -> parameters that accept a table by lead (``T.t=2``)
_PER_LEAD: dict[str, frozenset[str]] = {
    "three_terminal": frozenset({"T", "mu", "gamma"}),
    "coupled_transport": frozenset({"gamma"}),
    "single_dot": frozenset({"T", "mu", "gamma"}),
    "sanchez_buttiker": frozenset(),
}
#: parameters that accept per-transition couplings (``gamma.t.1->2=0.5``)
_PER_TRANSITION: dict[str, frozenset[str]] = {
    "three_terminal": frozenset({"gamma"}),
    "coupled_transport": frozenset({"gamma"}),
    "single_dot": frozenset(),
    "sanchez_buttiker": frozenset(),
}


def _signature(name: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(preset_function(name)[1]).parameters)


def _method_names() -> list[str]:
    from qdthermo.kinetics import Method

    return [m.value for m in Method]


# ------------------------------------------------------------------------ parameters
Params = dict[str, Any]


def _number(label: str, value: Any, where: str) -> float:
    """One finite-or-not real number (validation of ranges is the preset's job)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a list (scalars only)" if isinstance(value, list) else repr(value)
        raise click.BadParameter(f"{label} must be a number, got {kind}", param_hint=where)
    return float(value)


def _parse_value(label: str, text: str, is_string: bool, where: str) -> Any:
    if is_string:
        return text
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(
            f"{label} must be a number (scalars only), got {text!r}", param_hint=where
        ) from None


def _check_name(preset: str, name: str, where: str) -> inspect.Parameter:
    sig = _signature(preset)
    if name not in sig:
        allowed = ", ".join(sig)
        raise click.BadParameter(
            f"unknown parameter {name!r} for preset {preset}; allowed parameters: {allowed}", param_hint=where
        )
    return sig[name]


def _is_string(p: inspect.Parameter) -> bool:
    return isinstance(p.default, str)


def _table_from_toml(preset: str, name: str, table: Mapping[str, Any], where: str) -> dict[Any, Any]:
    """A TOML table of a per-lead parameter -> {lead: v} / {(lead, transition): v}."""
    if name not in _PER_LEAD[preset]:
        raise click.BadParameter(
            f"parameter {name!r} of preset {preset} takes one number, not a table", param_hint=where
        )
    out: dict[Any, Any] = {}
    for lead, value in table.items():
        if isinstance(value, Mapping):
            if name not in _PER_TRANSITION[preset]:
                raise click.BadParameter(
                    f"{name}.{lead}: parameter {name!r} of preset {preset} takes no per-transition table",
                    param_hint=where,
                )
            for tr, v in value.items():
                out[(lead, tr)] = _number(f"{name}.{lead}.{tr}", v, where)
        else:
            out[lead] = _number(f"{name}.{lead}", value, where)
    return out


def _load_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"{path}: not valid TOML: {exc}", param_hint="'--config'") from None
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="'--config'") from None
    return data


def _params_from_config(preset: str, data: Mapping[str, Any], path: Path) -> Params:
    where = f"'--config' ({path.name})"
    params: Params = {}
    for name, value in data.items():
        if name in ("preset", "method"):
            continue
        p = _check_name(preset, name, where)
        if isinstance(value, Mapping):
            params[name] = _table_from_toml(preset, name, value, where)
        elif _is_string(p):
            if not isinstance(value, str):
                raise click.BadParameter(f"{name} must be a string, got {value!r}", param_hint=where)
            params[name] = value
        else:
            params[name] = _number(name, value, where)
    return params


def _expand(preset: str, name: str, current: Any) -> dict[Any, Any]:
    """The per-lead table a dotted entry modifies: the current one, or a scalar spread over the leads."""
    if isinstance(current, dict):
        return dict(current)
    if current is None or current is inspect.Parameter.empty:
        return {}
    return {lead: current for lead in _PRESET_LEADS[preset]}


def _apply_overrides(preset: str, params: Params, entries: tuple[str, ...]) -> Params:
    where = "'--param'"
    sig = _signature(preset)
    out = dict(params)
    for entry in entries:
        if "=" not in entry:
            raise click.BadParameter(f"{entry!r} is not of the form NAME=VALUE", param_hint=where)
        key, text = entry.split("=", 1)
        key, text = key.strip(), text.strip()
        parts = key.split(".")
        name = parts[0]
        p = _check_name(preset, name, where)
        if len(parts) == 1:
            out[name] = _parse_value(name, text, _is_string(p), where)
            continue
        if name not in _PER_LEAD[preset]:
            raise click.BadParameter(
                f"{key!r}: parameter {name!r} of preset {preset} takes one number (no '.LEAD')", param_hint=where
            )
        if len(parts) > 3 or (len(parts) == 3 and name not in _PER_TRANSITION[preset]):
            raise click.BadParameter(
                f"{key!r}: expected {name}.LEAD"
                + (f" or {name}.LEAD.TRANSITION" if name in _PER_TRANSITION[preset] else ""),
                param_hint=where,
            )
        if not all(parts[1:]):
            raise click.BadParameter(f"{key!r}: empty lead or transition name", param_hint=where)
        table = _expand(preset, name, out.get(name, sig[name].default))
        value = _parse_value(key, text, False, where)
        table[parts[1] if len(parts) == 2 else (parts[1], parts[2])] = value
        out[name] = table
    return out


def _missing(preset: str, params: Params) -> list[str]:
    return [
        n for n, p in _signature(preset).items()
        if p.default is inspect.Parameter.empty and n not in params
    ]


# ----------------------------------------------------------------------------- output
def _scalar(a: Any) -> float:
    return float(np.asarray(a))


def _fmt(x: Any) -> str:
    if isinstance(x, str):
        return x
    v = float(x) + 0.0  # no "-0"
    if math.isnan(v):
        return "nan"
    return f"{v:.10g}"


def _table(headers: list[str], rows: list[list[Any]], indent: str = "  ") -> str:
    cells = [headers] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    numeric = [bool(rows) and all(not isinstance(row[k], str) for row in rows) for k in range(len(headers))]
    lines = []
    for r, row in enumerate(cells):
        parts = [
            c.rjust(widths[k]) if numeric[k] else c.ljust(widths[k])
            for k, c in enumerate(row)
        ]
        lines.append(indent + "  ".join(parts).rstrip())
        if r == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plain_key(key: Any) -> str:
    return f"{key[0]}.{key[1]}" if isinstance(key, tuple) else str(key)


def _flat_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as flat ``name`` / ``name.lead`` / ``name.lead.transition`` -> value."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{name}.{_plain_key(k)}"] = v
        else:
            out[name] = value
    return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {_plain_key(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, str) or x is None:
        return x
    v = float(np.asarray(x))
    return None if not math.isfinite(v) else v


def _report(preset: str, method: str, params: Params, res: Any) -> dict[str, Any]:
    """Everything ``point`` prints, as plain Python scalars (NaN kept as float NaN)."""
    import qdthermo as qd

    s = res.system
    derived = {k: v for k, v in res.device.parameters.items() if k not in _signature(preset)}
    perf = res.performance
    regime = None
    if res.device.parallel_pair is not None:
        regime = {name: qd.Regime(int(code)).name for name, code in res.regime.items()}
    return {
        "preset": preset,
        "method": method,
        "parameters": _flat_params(params),
        "derived": {k: _scalar(v) for k, v in derived.items()},
        "energies": {lab: _scalar(s.energies[..., k]) for k, lab in enumerate(res.state_labels)},
        "populations": {lab: _scalar(res.populations[..., k]) for k, lab in enumerate(res.state_labels)},
        "temperature": {lead: _scalar(s.lead_temperature[..., k]) for k, lead in enumerate(res.lead_names)},
        "chemical_potential": {lead: _scalar(s.lead_chemical_potential[..., k])
                               for k, lead in enumerate(res.lead_names)},
        "particle_current": {lead: _scalar(v) for lead, v in res.particle_current.items()},
        "energy_current": {lead: _scalar(v) for lead, v in res.energy_current.items()},
        "heat_current": {lead: _scalar(v) for lead, v in res.heat_current.items()},
        "entropy_production": _scalar(res.entropy_production),
        "entropy_production_macro": _scalar(res.entropy_production_macro),
        "entropy_flow": _scalar(res.entropy_flow),
        "forces": {k: _scalar(v) for k, v in res.forces.items()},
        "fluxes": {k: _scalar(v) for k, v in res.fluxes.items()},
        "regime": regime,
        "performance": {name: _scalar(getattr(perf, name)) for name in
                        ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop")},
    }


def _render(r: Mapping[str, Any]) -> str:
    out = [f"qdthermo point: preset {r['preset']}, method {r['method']}", ""]
    out.append("Parameters")
    out.append(_table(["name", "value"], [[k, v] for k, v in r["parameters"].items()]))
    if r["derived"]:
        out += ["", "Derived parameters"]
        out.append(_table(["name", "value"], [[k, v] for k, v in r["derived"].items()]))
    out += ["", "Populations"]
    out.append(_table(["state", "energy", "population"],
                      [[lab, r["energies"][lab], p] for lab, p in r["populations"].items()]))
    out += ["", "Currents (positive from the lead into the system)"]
    out.append(_table(
        ["lead", "T", "mu", "particle J_N", "energy J_E", "heat J_Q"],
        [[lead, r["temperature"][lead], r["chemical_potential"][lead], r["particle_current"][lead],
          r["energy_current"][lead], r["heat_current"][lead]] for lead in r["particle_current"]],
    ))
    out += ["", "Thermodynamics"]
    out.append(_table(["quantity", "value"], [
        ["entropy production (micro, Schnakenberg)", r["entropy_production"]],
        ["entropy production (macro, -sum J_Q/T)", r["entropy_production_macro"]],
        ["entropy flow (sum J_Q/T)", r["entropy_flow"]],
    ]))
    out += ["", "Forces and fluxes"]
    out.append(_table(["force", "value", "flux", "value"], [
        [f, fv, j, jv] for (f, fv), (j, jv) in zip(r["forces"].items(), r["fluxes"].items())
    ]))
    if r["regime"] is not None:
        out += ["", "Regimes"]
        out.append(_table(["flux", "regime"], [[k, v] for k, v in r["regime"].items()]))
    out += ["", "Performance"]
    out.append(_table(["quantity", "value"], [[k, v] for k, v in r["performance"].items()]))
    return "\n".join(out)


# ---------------------------------------------------------------------------- commands
@main.command()
@click.option("--preset", type=click.Choice(PRESETS), default=None,
              help="Preset device (default: the config file's 'preset', else three_terminal).")
@click.option("--config", "-c", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="TOML file whose keys are the preset's parameters.")
@click.option("--param", "-p", "entries", multiple=True, metavar="NAME=VALUE",
              help="Set a parameter (repeatable; overrides the file). Per lead: T.t=2; "
                   "per transition: gamma.t.1->2=0.5.")
@click.option("--method", type=click.Choice(_method_names()), default=None,
              help="Steady-state method (default: the config file's 'method', else auto).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (NaN as null).")
def point(preset: str | None, config: Path | None, entries: tuple[str, ...], method: str | None,
          as_json: bool) -> None:
    """Solve one parameter point and print populations, currents and thermodynamics.

    Parameters are the keyword arguments of the preset (for example
    eps_L, eps_R, U, J, T, mu, gamma for three_terminal); scalars only.
    """
    import qdthermo as qd

    data = _load_config(config) if config is not None else {}
    for key in ("preset", "method"):
        if key in data and not isinstance(data[key], str):
            raise click.BadParameter(f"{key} must be a string, got {data[key]!r}", param_hint="'--config'")
    preset = preset or data.get("preset") or "three_terminal"
    if preset not in PRESETS:
        raise click.BadParameter(f"unknown preset {preset!r}; allowed: {', '.join(PRESETS)}",
                                 param_hint="'--config'")
    method = method or data.get("method") or "auto"
    if method not in _method_names():
        raise click.BadParameter(f"unknown method {method!r}; allowed: {', '.join(_method_names())}",
                                 param_hint="'--config'")
    params = _params_from_config(preset, data, config) if config is not None else {}
    params = _apply_overrides(preset, params, entries)
    missing = _missing(preset, params)
    if missing:
        raise click.UsageError(
            f"missing parameter(s) {', '.join(missing)} of preset {preset}: give them as "
            f"--param NAME=VALUE or as keys of the --config file"
        )
    try:
        device = preset_function(preset)[1](**params)
    except ValueError as exc:
        raise click.UsageError(f"invalid parameters for preset {preset}: {exc}") from None
    if device.shape != ():
        raise click.UsageError(f"qdthermo point takes scalar parameters only; they broadcast to shape {device.shape}")
    try:
        res = qd.solve(device, method=method)
        report = _report(preset, method, params, res)
    except ValueError as exc:
        raise click.ClickException(f"cannot solve this point: {exc}") from None
    if as_json:
        click.echo(json.dumps(_jsonable(report), indent=2, allow_nan=False))
    else:
        click.echo(_render(report))


_INFO_PACKAGES = ("numpy", "scipy", "xarray", "zarr", "dask", "matplotlib", "click", "qutip")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


@main.command()
def info() -> None:
    """Print the versions of qdthermo, Python, the platform and the main dependencies."""
    rows: list[list[Any]] = [
        ["qdthermo", __version__],
        ["python", f"{platform.python_version()} ({platform.python_implementation()})"],
        ["platform", platform.platform()],
    ]
    rows += [[name, _version(name)] for name in _INFO_PACKAGES]
    click.echo(_table(["component", "version"], rows, indent=""))


# ------------------------------------------------------------------------ registration
def _register() -> None:
    import importlib

    for module, name in (
        ("qdthermo.sweep.command", "sweep"),
        ("qdthermo.plot.command", "plot"),
        ("qdthermo.paper.command", "paper"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        main.add_command(getattr(mod, name))


_register()

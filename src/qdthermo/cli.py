"""The ``qdthermo`` command line.

Sub-commands live next to the code they drive and are registered here:
``point`` and ``info`` (this module), ``sweep`` (:mod:`qdthermo.sweeps.command`),
``plot`` (:mod:`qdthermo.plot.command`), ``paper`` (:mod:`qdthermo.paper.command`),
``explore`` (this module; the server is :mod:`qdthermo.explore`).

``qdthermo point`` solves one parameter point of a preset device and prints
its populations, currents and thermodynamics::

    qdthermo point --set eps_L=1 --set eps_R=1 --set U=0.5 --set T_t=2
    qdthermo point --preset coupled_transport --set F_E=0.3 --set F_N=0.1 --json
    qdthermo point --config docs/examples/my_device.toml --set U=0.2

Parameters use the one parameter language of qdthermo
(:mod:`qdthermo.model.parameters`): a preset parameter by its name, one
lead's entry of a per-lead parameter as ``T_t``, ``mu_L``, ``gamma_r`` (the
dimension names of sweeps), one transition's coupling as ``gamma_t[1->2]``
(quote it: ``>`` is a shell redirection).  A configuration file is TOML
whose keys are the preset's parameters, per-lead parameters as tables::

    preset = "three_terminal"      # optional; --preset wins
    eps_L = 1.0
    eps_R = 1.0
    U = 0.5
    [T]                            # leads left out take the preset's default
    t = 2.0
    [gamma.t]                      # coupling of lead t per transition
    "1->2" = 1.0
    "3->4" = 0.2

The old spelling ``-p T.t=2`` still works and prints a deprecation note.
Units: energies, temperatures (k_B T) and chemical potentials in one energy
unit, couplings in the rate unit (:mod:`qdthermo.units`); currents are
positive from the lead into the system.
"""

from __future__ import annotations

import inspect
import json
import math
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import numpy as np

from qdthermo import __version__
from qdthermo.model.parameters import (
    ParameterError,
    flatten_table,
    legacy_name,
    parse_text_value,
    resolve_name,
    set_entry,
    split_assignment,
    to_entries,
    to_kwargs,
)
from qdthermo.model.presets import PRESETS, preset_function
from qdthermo.model.registry import REGISTRY, PresetSpec, format_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["main"]


class _OneLineError(click.ClickException):
    """A usage error shown as one ``Error: ...`` line (exit status 2, as click's usage errors)."""

    exit_code = 2


def _one_line(exc: click.UsageError) -> _OneLineError:
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return _OneLineError(exc.format_message() + hint)


class _Group(click.Group):
    """The ``qdthermo`` group: every error of it and its commands is one ``Error: ...`` line."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qdthermo")
def main() -> None:
    """qdthermo: quantum thermodynamics of coupled transport in quantum-dot devices."""


# ----------------------------------------------------------------------------- presets
def _signature(name: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(preset_function(name)[1]).parameters)


def _method_names() -> list[str]:
    from qdthermo.kinetics import Method

    return [m.value for m in Method]


# ------------------------------------------------------------------------ parameters
Params = dict[str, Any]

#: keys of a point configuration file that are not preset parameters
_POINT_KEYS = ("preset", "method", "parameters")


def _load_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"--config {path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"--config {path}: {exc.strerror}") from None
    return data


def _scalar_only(name: str, value: Any) -> None:
    """``point`` takes one number (or a string) per entry."""
    if isinstance(value, str):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a list (scalars only)" if isinstance(value, list) else format_value(value)
        raise ParameterError(f"{name} must be a number (scalars only), got {kind}")


def _config_entries(spec: PresetSpec, data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The preset parameters of a point configuration file as flat entries."""
    params = {k: v for k, v in data.items() if k not in _POINT_KEYS}
    table = data.get("parameters", {})
    if not isinstance(table, Mapping):
        raise ParameterError(f"{path.name}: parameters must be a table of preset parameters")
    both = sorted(set(params) & set(table))
    if both:
        raise ParameterError(f"{path.name}: {both[0]!r} is given both at the top level and in [parameters]")
    return flatten_table(spec, {**table, **params}, where=f"{path.name}: ")


def _apply(spec: PresetSpec, entries: dict[str, Any], items: tuple[str, ...], *, legacy: bool) -> None:
    """Apply ``--set NAME=VALUE`` (or old ``-p`` spellings) to the flat entries, in order."""
    option = "-p/--param" if legacy else "--set"
    spelt = []
    for item in items:
        name, raw = split_assignment(item, option)
        if legacy:
            name = legacy_name(spec, name)
            spelt.append(f"--set {name}={raw}")
        key = resolve_name(spec, name)
        if spec[key.param].is_string:
            value: Any = raw
        else:
            value = parse_text_value(raw)
            if isinstance(value, str):
                raise ParameterError(f"{key.name} must be a number (scalars only), got {raw!r}")
        set_entry(spec, entries, key, value)
    if spelt:  # one line on stderr, not a Python warning
        click.echo("Deprecated: -p/--param is now --set, per lead NAME_LEAD: " + " ".join(spelt), err=True)


def _point_kwargs(spec: PresetSpec, data: Mapping[str, Any], config: Path | None,
                  legacy: tuple[str, ...], entries_set: tuple[str, ...]) -> Params:
    entries = _config_entries(spec, data, config) if config is not None else {}
    _apply(spec, entries, legacy, legacy=True)
    _apply(spec, entries, entries_set, legacy=False)
    return to_kwargs(spec, entries, check=_scalar_only)


def _preset_help() -> str:
    lines = []
    for spec in REGISTRY.values():
        names = ", ".join(p.name + ("_LEAD" if p.per_lead else "") for p in spec.parameters)
        lines.append(f"{spec.name} (leads {', '.join(spec.leads)}): {names}")
    return "; ".join(lines)


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
    return f"{key[0]}[{key[1]}]" if isinstance(key, tuple) else str(key)


def _flat_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as flat names of the parameter language: ``T_t``, ``gamma_t[1->2]``."""
    return to_entries(None, params)


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
        **_currents_resolved(res),
        "entropy_production": _scalar(res.entropy_production),
        "entropy_production_macro": _scalar(res.entropy_production_macro),
        "entropy_flow": _scalar(res.entropy_flow),
        "forces": {k: _scalar(v) for k, v in res.forces.items()},
        "fluxes": {k: _scalar(v) for k, v in res.fluxes.items()},
        "regime": regime,
        "performance": {name: _scalar(getattr(perf, name)) for name in
                        ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop")},
        "observables": _registered(res),
    }


#: a printed current below this times the one-way flux through its lead is round-off, printed as 0
_ROUND_OFF = 1e-12


def _currents_resolved(res: Any) -> dict[str, dict[str, float]]:
    """Per-lead currents as plain scalars, with values below round-off (e.g. 3e-17) printed as exactly 0.

    The scale of a lead's particle current is the sum of its channels' one-way fluxes
    ``k^+ P_i + k^- P_j``; of its energy and heat currents the same weighted by ``|w| + |mu|``.
    """
    from qdthermo.thermo.currents import one_way_fluxes

    s = res.system
    forward, backward = one_way_fluxes(s, res.rates, res.populations)
    flow = forward + backward
    scale_N = s.lead_sum(flow)
    scale_E = s.lead_sum(flow * (np.abs(s.channel_energy) + np.abs(s.channel_chemical_potential)))
    out: dict[str, dict[str, float]] = {}
    for name, values, scale in (("particle_current", res.particle_current_array, scale_N),
                                ("energy_current", res.energy_current_array, scale_E),
                                ("heat_current", res.heat_current_array, scale_E)):
        out[name] = {lead: 0.0 if abs(float(values[..., k])) <= _ROUND_OFF * float(scale[..., k])
                     else _scalar(values[..., k]) for k, lead in enumerate(res.lead_names)}
    return out


def _fluctuation_report(fl: Any) -> dict[str, Any]:
    """Cumulants, Fano factors and TUR ratios of every counted quantity, as plain scalars."""
    out: dict[str, Any] = {}
    for q in fl.counting:
        row = {f"C{k}": _scalar(fl.cumulant(k, q)) for k in range(1, fl.order + 1)}
        if fl.order >= 2:
            row["fano"] = _scalar(fl.fano[q])
            row["tur"] = _scalar(fl.tur[q]) if q in fl.tur else float("nan")
        out[q] = row
    return out


def _registered(res: Any) -> dict[str, Any]:
    """Registered observables beyond the built-in ones (e.g. user-defined), as plain scalars."""
    from qdthermo.thermo.registry import OBSERVABLES

    out: dict[str, Any] = {}
    for name, obs in OBSERVABLES.items():
        if name in _BUILTIN_SECTIONS or obs.dims or not obs.applies(res):
            continue
        value = res.observable(name)
        if isinstance(value, Mapping):
            out.update({f"{name}_{k}": _scalar(v) for k, v in value.items()})
        else:
            out[name] = _scalar(value)
    return out


#: observables printed in their own sections of ``qdthermo point``
_BUILTIN_SECTIONS = frozenset({
    "populations", "energy", "channel_flux", "particle_current", "energy_current", "heat_current",
    "entropy_production", "entropy_flow", "forces", "fluxes", "regime", "power", "efficiency",
    "carnot_efficiency", "cooling_power", "cop", "carnot_cop"})


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
    if r.get("observables"):
        out += ["", "Other registered observables"]
        out.append(_table(["name", "value"], [[k, v] for k, v in r["observables"].items()]))
    if r.get("fluctuations"):
        rows = list(r["fluctuations"].items())
        cols = list(rows[0][1])
        out += ["", "Counting statistics (C_k = d^k lambda/d(i chi)^k, rates; no factor 2; TUR >= 2)"]
        out.append(_table(["quantity", *cols], [[q, *(row[c] for c in cols)] for q, row in rows]))
    return "\n".join(out)


# ---------------------------------------------------------------------------- commands
@main.command()
@click.option("--preset", type=click.Choice(PRESETS), default=None,
              help="Preset device (default: the config file's 'preset', else three_terminal).")
@click.option("--config", "-c", "config", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="TOML file whose keys are the preset's parameters ([T], [mu], [gamma] "
                                 "tables by lead; example: docs/examples/my_device.toml).")
@click.option("--set", "-s", "entries_set", multiple=True, metavar="NAME=VALUE",
              help="Set a parameter (repeatable; overrides the file). Per lead: T_t=2, mu_L=0.1; "
                   "per transition: 'gamma_t[1->2]=0.5'.")
@click.option("--param", "-p", "entries", multiple=True, metavar="NAME=VALUE",
              help="Deprecated spelling of --set (T.t=2 for T_t=2).")
@click.option("--method", type=click.Choice(_method_names()), default=None,
              help="Steady-state method (default: the config file's 'method', else auto).")
@click.option("--fluctuations", "with_fluctuations", is_flag=True,
              help="Also print the counting statistics: cumulants C1..C_K of every counted quantity "
                   "(N_, E_, Q_ per lead, the conjugate fluxes, entropy), Fano factors and TUR ratios.")
@click.option("--order", type=click.IntRange(min=1), default=2, show_default=True,
              help="Highest cumulant order K printed with --fluctuations.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (NaN as null).")
def point(preset: str | None, config: Path | None, entries_set: tuple[str, ...], entries: tuple[str, ...],
          method: str | None, with_fluctuations: bool, order: int, as_json: bool) -> None:
    """Solve one parameter point and print populations, currents and thermodynamics.

    Parameters are the keyword arguments of the preset, scalars only; one
    lead's entry of a per-lead parameter is NAME_LEAD (T_t, mu_b, gamma_r).
    A lead not given takes the preset's default.  Run 'qdthermo presets' for
    every preset's parameters, units and allowed ranges.
    """
    import qdthermo as qd

    if config is not None and not config.is_file():
        raise click.ClickException(f"--config {config}: no such file")
    data = _load_config(config) if config is not None else {}
    for key in ("preset", "method"):
        if key in data and not isinstance(data[key], str):
            raise click.ClickException(f"--config {config}: {key} must be a string, got {format_value(data[key])}")
    preset = preset or data.get("preset") or "three_terminal"
    if preset not in PRESETS:
        raise click.ClickException(f"--config {config}: unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
    method = method or data.get("method") or "auto"
    if method not in _method_names():
        raise click.ClickException(f"--config {config}: unknown method {method!r}; allowed: "
                                   f"{', '.join(_method_names())}")
    spec = REGISTRY[preset]
    try:
        params = _point_kwargs(spec, data, config, entries, entries_set)
    except ParameterError as exc:
        raise click.ClickException(f"{exc} (give parameters as --set NAME=VALUE or as keys of the --config "
                                   "file)" if str(exc).startswith("missing") else str(exc)) from None
    try:
        device = spec.function(**params)
    except ValueError as exc:
        raise click.ClickException(f"invalid parameters for preset {preset}: {exc}") from None
    if device.shape != ():
        raise click.ClickException(f"qdthermo point takes scalar parameters only; they broadcast to shape "
                                   f"{device.shape}")
    try:
        res = qd.solve(device, method=method)
        report = _report(preset, method, params, res)
        if with_fluctuations:
            report["fluctuations"] = _fluctuation_report(qd.fluctuations(device, order=order, method=method))
    except ValueError as exc:
        raise click.ClickException(f"cannot solve this point: {exc}") from None
    if as_json:
        click.echo(json.dumps(_jsonable(report), indent=2, allow_nan=False))
    else:
        click.echo(_render(report))


@main.command()
@click.argument("name", required=False)
def presets(name: str | None) -> None:
    """List the presets, or one preset's parameters with units, defaults and allowed ranges."""
    if name is None:
        rows: list[list[Any]] = [[s.name, ", ".join(s.leads), s.summary] for s in REGISTRY.values()]
        click.echo(_table(["preset", "leads", "description"], rows, indent=""))
        return
    if name not in REGISTRY:
        raise click.ClickException(f"unknown preset {name!r}; allowed: {', '.join(REGISTRY)}")
    spec = REGISTRY[name]
    click.echo(f"{spec.name}: {spec.summary}")
    click.echo(f"leads: {', '.join(spec.leads)}; dots: {', '.join(spec.dots)}")
    rows = []
    for p in spec.parameters:
        label = p.name + (f" ({', '.join(p.name + '_' + lead for lead in spec.leads)})" if p.per_lead else "")
        default = "required" if p.required else format_value(p.default)
        rng = p.range_text() + (f"; {p.note}" if p.note else "")
        rows.append([label, p.units, default, rng, p.long_name])
    click.echo(_table(["parameter", "units", "default", "allowed", "description"], rows, indent=""))


_INFO_PACKAGES = ("numpy", "scipy", "xarray", "zarr", "dask", "matplotlib", "click", "qutip")


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _range(text: str) -> tuple[float | None, float | None]:
    """``"LO:HI"``, ``"LO:"`` or ``":HI"`` -> bounds (None for an open side)."""
    if ":" not in text:
        raise click.BadParameter(f"{text!r} is not a range LO:HI (either side may be empty)")
    lo, hi = text.split(":", 1)
    try:
        return (float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a range of numbers LO:HI") from None


def _named_ranges(items: tuple[str, ...], option: str) -> dict[str, tuple[float | None, float | None]]:
    out = {}
    for item in items:
        name, _, text = item.partition("=")
        if not name or not text:
            raise click.BadParameter(f"{item!r}: expected NAME=LO:HI", param_hint=option)
        out[name.strip()] = _range(text)
    return out


@main.command()
@click.option("--preset", type=click.Choice(PRESETS), required=True, help="Preset device.")
@click.option("--maximize", default=None, metavar="QUANTITY",
              help="Observable or performance attribute to maximize (power, efficiency, cooling_power, cop, ...).")
@click.option("--minimize", default=None, metavar="QUANTITY", help="... or to minimize.")
@click.option("--vary", "vary_items", multiple=True, metavar="NAME=LO:HI", required=True,
              help="A parameter to vary in [LO, HI], in the parameter language (eps, mu_L, T_t, ...); repeatable.")
@click.option("--set", "-s", "entries_set", multiple=True, metavar="NAME=VALUE",
              help="A fixed parameter, as for 'qdthermo point'; repeatable.")
@click.option("--constraint", "constraint_items", multiple=True, metavar="QUANTITY=LO:HI",
              help="Keep a quantity in [LO, HI] (either side may be empty: efficiency=0.3:); repeatable.")
@click.option("--samples", type=click.IntRange(min=8), default=1024, show_default=True,
              help="Candidates evaluated in one batch before the local refinement.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the candidate sequence.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (NaN as null).")
def optimize(preset: str, maximize: str | None, minimize: str | None, vary_items: tuple[str, ...],
             entries_set: tuple[str, ...], constraint_items: tuple[str, ...], samples: int, seed: int,
             as_json: bool) -> None:
    """Find the global optimum of one quantity over a box of parameters (engine/refrigerator design).

    Example: qdthermo optimize --preset single_dot --maximize power --vary eps=-10:10 --vary mu_L=-5:5
    --set T_L=1 --set T_R=0.5
    """
    import qdthermo as qd

    if (maximize is None) == (minimize is None):
        raise click.UsageError("give exactly one of --maximize QUANTITY or --minimize QUANTITY")
    spec = REGISTRY[preset]
    vary: dict[str, tuple[float, float]] = {}
    for name, (lo, hi) in _named_ranges(vary_items, "--vary").items():
        if lo is None or hi is None:
            raise click.BadParameter(f"{name}: a --vary range needs both ends, got {lo}:{hi}", param_hint="--vary")
        vary[name] = (lo, hi)
    try:
        # the varied names take their range's midpoint here (required parameters), then vary overrides them
        mid = tuple(f"{name}={(lo + hi) / 2!r}" for name, (lo, hi) in vary.items())
        fixed = {k: v for k, v in _point_kwargs(spec, {}, None, (), entries_set + mid).items() if k not in vary}
        opt = qd.optimize(spec.function, maximize=maximize, minimize=minimize, vary=vary,
                          constraints=_named_ranges(constraint_items, "--constraint") or None,
                          samples=samples, seed=seed, **fixed)
    except (ParameterError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    perf = {name: _scalar(getattr(opt.performance, name)) for name in
            ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop")}
    for name, side in opt.on_bound.items():
        click.echo(f"warning: {name} sits on its {side} bound {vary[name][0 if side == 'lower' else 1]:g}: "
                   "widen the range", err=True)
    report = {"preset": preset, "objective": opt.objective, "sense": opt.sense, "value": opt.value,
              "parameters": dict(opt.parameters), "performance": perf, "on_bound": dict(opt.on_bound),
              "evaluations": opt.evaluations}
    if as_json:
        click.echo(json.dumps(_jsonable(report), indent=2, allow_nan=False))
        return
    click.echo(f"qdthermo optimize: {opt.sense} {opt.objective} of preset {preset} = {_fmt(opt.value)} "
               f"({opt.evaluations} points evaluated)")
    click.echo(_table(["parameter", "value"], [[k, v] for k, v in opt.parameters.items()]))
    click.echo("")
    click.echo(_table(["quantity", "value"], [[k, v] for k, v in perf.items()]))


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


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to serve on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1 lets other machines use the explorer.")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
def explore(port: int, host: str, no_browser: bool) -> None:
    """Serve a local web page to explore a preset live: regime map, currents, cut, NetCDF, command."""
    from qdthermo.explore import serve

    try:
        serve(host, port, open_browser=not no_browser)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                                   "(try another --port, or --port 0 for any free one)") from None


# ------------------------------------------------------------------------ registration
def _register() -> None:
    import importlib

    for module, name in (
        ("qdthermo.sweeps.command", "sweep"),
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

"""The parameter language of ``point``, ``sweep`` and ``paper``: names, ``NAME=VALUE``, TOML tables.

Names
    A preset parameter by its name (``eps_L``, ``U``); one lead's entry of a
    per-lead parameter by the parameter and the lead joined by ``_``
    (``T_t``, ``mu_L``, ``gamma_r``: the dimension names of sweeps); one
    transition's coupling as ``gamma_t[1->2]``.

Command line
    ``--set NAME=VALUE`` (repeatable); values in TOML syntax or plain
    numbers (``2``, ``-0.5``, ``1e-3``); string parameters take their text
    (``--set reference_lead=t``).

TOML
    Top-level keys are preset parameters; a per-lead parameter is a table by
    lead (``[T]`` with ``t = 2.0``), a per-transition coupling a nested table
    (``[gamma.t]`` with ``"1->2" = 0.5``); the flat names (``T_t = 2.0``)
    work too.  A lead left out of a table takes the preset's default for
    that parameter; a parameter without a default needs every lead.

Every mistake raises :class:`ParameterError` (a :class:`ValueError`) naming
the parameter, the value and what is allowed.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qdthermo.model.registry import REQUIRED, PresetSpec, format_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Key", "ParameterError", "entry_name", "flatten_table", "legacy_name", "parse_text_value",
    "resolve_name", "set_entry", "split_assignment", "to_kwargs", "to_entries",
]

_TRANSITION = re.compile(r"^(?P<base>.+)\[(?P<tr>[^\]]+)\]$")


class ParameterError(ValueError):
    """A bad parameter name or value; the message names it, the value and what is allowed."""


@dataclass(frozen=True)
class Key:
    """Where one entry goes: a parameter, optionally one lead of it, optionally one transition."""

    param: str
    lead: str | None = None
    transition: str | None = None

    @property
    def name(self) -> str:
        """The entry's name in the parameter language (``T_t``, ``gamma_t[1->2]``)."""
        return entry_name(self.param, self.lead, self.transition)


def entry_name(param: str, lead: str | None = None, transition: str | None = None) -> str:
    """``T`` / ``T_t`` / ``gamma_t[1->2]``."""
    name = param if lead is None else f"{param}_{lead}"
    return name if transition is None else f"{name}[{transition}]"


def split_assignment(text: str, option: str = "--set") -> tuple[str, str]:
    """``"NAME=VALUE"`` -> ``("NAME", "VALUE")``, both stripped.

    Raises
    ------
    ParameterError
        If there is no ``=`` or the name is empty.
    """
    if "=" not in text:
        raise ParameterError(f"{option}: {text!r} is not of the form NAME=VALUE (write name=value, e.g. eps_L=1)")
    name, raw = (s.strip() for s in text.split("=", 1))
    if not name:
        raise ParameterError(f"{option}: {text!r} has no name before '='")
    return name, raw


def parse_text_value(raw: str) -> Any:
    """A command-line value: TOML syntax (``2``, ``[1, 2]``, ``"b"``, ``nan``), a float, or the plain text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _leads_text(spec: PresetSpec, param: str) -> str:
    return ", ".join(entry_name(param, lead) for lead in spec.leads)


def _unknown(spec: PresetSpec, name: str) -> ParameterError:
    return ParameterError(f"unknown parameter {name!r} for preset {spec.name}; allowed parameters: "
                          + ", ".join(_allowed_names(spec)))


def _allowed_names(spec: PresetSpec) -> list[str]:
    out = []
    for p in spec.parameters:
        out.append(p.name)
        if p.per_lead:
            out.append(_leads_text(spec, p.name))
    return out


def resolve_name(spec: PresetSpec, name: str) -> Key:
    """The :class:`Key` of a name of the parameter language.

    Raises
    ------
    ParameterError
        For an unknown name (listing the allowed ones), an unknown lead, a
        per-lead or per-transition entry of a parameter that takes one number.
    """
    transition = None
    m = _TRANSITION.match(name)
    if m:
        name, transition = m.group("base"), m.group("tr").strip()
    if name in spec:
        if transition is not None:
            raise ParameterError(f"{name}[{transition}]: a per-transition value needs a lead: "
                                 f"{entry_name(name, spec.leads[0] if spec.leads else 'LEAD', transition)}")
        return Key(name)
    for p in sorted(spec.parameters, key=lambda q: -len(q.name)):
        prefix = p.name + "_"
        if not name.startswith(prefix):
            continue
        lead = name[len(prefix):]
        if not p.per_lead:
            if lead in spec.leads:
                raise ParameterError(f"{name!r}: parameter {p.name!r} of preset {spec.name} takes one number, "
                                     f"not one per lead")
            continue
        if lead not in spec.leads:
            raise ParameterError(f"{name!r}: unknown lead {lead!r} of {p.name}; allowed leads: "
                                 f"{', '.join(spec.leads)} ({_leads_text(spec, p.name)})")
        if transition is not None and not p.per_transition:
            raise ParameterError(f"{name}[{transition}]: parameter {p.name!r} of preset {spec.name} takes "
                                 "one value per lead, not per transition")
        return Key(p.name, lead, transition)
    raise _unknown(spec, name if transition is None else f"{name}[{transition}]")


def legacy_name(spec: PresetSpec, dotted: str) -> str:
    """The name of an old ``-p`` spelling: ``T.t`` -> ``T_t``, ``gamma.t.1->2`` -> ``gamma_t[1->2]``.

    Raises
    ------
    ParameterError
        For a dotted entry of a parameter that takes one number, or too many parts.
    """
    parts = dotted.split(".")
    if len(parts) == 1:
        return dotted
    param = parts[0]
    if param in spec and not spec[param].per_lead:
        raise ParameterError(f"{dotted!r}: parameter {param!r} of preset {spec.name} takes one number "
                             "(no '.LEAD')")
    if not all(parts[1:]) or len(parts) > 3:
        raise ParameterError(f"{dotted!r}: expected {param}.LEAD or {param}.LEAD.TRANSITION")
    return entry_name(param, parts[1], parts[2] if len(parts) == 3 else None)


def set_entry(spec: PresetSpec, entries: dict[str, Any], key: Key, value: Any) -> None:
    """Set one entry; a whole parameter replaces its per-lead entries, a lead its per-transition ones."""
    for name in list(entries):
        k = resolve_name(spec, name)
        if k.param == key.param and (key.lead is None or (key.transition is None and k.lead == key.lead)):
            del entries[name]
    entries[key.name] = value


def flatten_table(
    spec: PresetSpec,
    data: Mapping[str, Any],
    *,
    where: str = "",
    is_value: Callable[[Mapping[str, Any]], bool] = lambda table: False,
) -> dict[str, Any]:
    """A TOML document's preset parameters as flat entries ``{"eps_L": 1.0, "T_t": 2.0, ...}``.

    Parameters
    ----------
    spec
        The preset.
    data
        Keys are parameter names or flat entry names; a per-lead parameter
        may be a table by lead, whose entries may be tables by transition.
    where
        Prefix of error messages (``"point.toml: "``).
    is_value
        Whether a table is itself a value (a sweep's ``{start, stop, num}``
        range) rather than a table by lead.

    Raises
    ------
    ParameterError
        For unknown names or leads and tables where one number is needed.
    """
    out: dict[str, Any] = {}

    def fail(exc: ParameterError) -> ParameterError:
        return ParameterError(f"{where}{exc}")

    for name, value in data.items():
        try:
            key = resolve_name(spec, name)
        except ParameterError as exc:
            raise fail(exc) from None
        if not isinstance(value, Mapping) or is_value(value):
            set_entry(spec, out, key, value)
            continue
        p = spec[key.param]
        if key.lead is None and p.per_lead:
            for lead, v in value.items():
                sub = entry_name(key.param, lead)
                try:
                    k = resolve_name(spec, sub)
                except ParameterError as exc:
                    raise fail(exc) from None
                if isinstance(v, Mapping) and not is_value(v):
                    for tr, x in v.items():
                        if not p.per_transition:
                            raise fail(ParameterError(f"{sub}: parameter {key.param!r} of preset {spec.name} "
                                                      "takes one value per lead, not a table by transition"))
                        set_entry(spec, out, Key(key.param, lead, str(tr)), x)
                else:
                    set_entry(spec, out, k, v)
        elif key.lead is not None and key.transition is None and p.per_transition:
            for tr, x in value.items():
                set_entry(spec, out, Key(key.param, key.lead, str(tr)), x)
        else:
            raise fail(ParameterError(f"parameter {name!r} of preset {spec.name} takes one number, not a table"))
    return out


def to_kwargs(
    spec: PresetSpec,
    entries: Mapping[str, Any],
    *,
    check: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Flat entries -> keyword arguments of the preset function, checked against the specification.

    A per-lead parameter becomes a dict by lead; leads not given take the
    plain entry (``T = 1.0``), else the preset's default; a parameter without
    a default needs every lead.  Per-transition entries become
    ``(lead, transition)`` keys.  Parameters not given are left out (the
    function's defaults apply).

    Parameters
    ----------
    check
        ``check(name, value)`` run on every value before the range check
        (e.g. "scalars only"); it may raise :class:`ParameterError`.

    Raises
    ------
    ParameterError
        For an unknown name, a value outside its allowed range, a missing
        required parameter or lead.
    """
    keys = {name: resolve_name(spec, name) for name in entries}
    out: dict[str, Any] = {}
    for name, value in entries.items():
        key = keys[name]
        if check is not None:
            check(name, value)
        try:
            spec[key.param].check(value, key.name)
        except ParameterError:
            raise
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        out.setdefault(key.param, None)
    for param in list(out):
        p = spec[param]
        mine = {n: k for n, k in keys.items() if k.param == param}
        if all(k.lead is None for k in mine.values()):
            out[param] = entries[param]
            continue
        base = entries.get(param, p.default)
        table: dict[Any, Any] = {}
        for lead in spec.leads:
            lead_keys = [n for n, k in mine.items() if k.lead == lead]
            if not lead_keys:
                if base is REQUIRED:
                    raise ParameterError(f"{param}: no value for lead {lead!r}; {param} has no default, so it "
                                         f"needs every lead: {_leads_text(spec, param)}")
                table[lead] = base
                continue
            if base is not REQUIRED and all(mine[n].transition is not None for n in lead_keys):
                table[lead] = base  # the lead-wide value fills the transitions not given
            for n in lead_keys:
                k = mine[n]
                table[lead if k.transition is None else (lead, k.transition)] = entries[n]
        out[param] = table
    missing = [n for n in spec.required if n not in out]
    if missing:
        raise ParameterError(f"missing parameter(s) {', '.join(missing)} of preset {spec.name}")
    return out


def to_entries(spec: PresetSpec | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments -> flat entries (``{"T": {"t": 2}}`` -> ``{"T_t": 2}``), for reports."""
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if isinstance(value, Mapping):
            for k, v in value.items():
                lead, tr = (k if isinstance(k, tuple) else (k, None))
                out[entry_name(name, str(lead), None if tr is None else str(tr))] = v
        else:
            out[name] = value
    return out


def check_finite_number(name: str, value: Any) -> float:
    """``value`` as a finite float, or :class:`ParameterError` ("must be a finite number")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} = {format_value(value)}: must be a number")
    if not math.isfinite(value):
        raise ParameterError(f"{name} = {format_value(value)}: must be a finite number")
    return float(value)


def parse_assignments(items: Iterable[str], option: str = "--set") -> list[tuple[str, Any]]:
    """``["a=1", "b=[2, 3]"]`` -> ``[("a", 1), ("b", [2, 3])]`` (values by :func:`parse_text_value`)."""
    return [(name, parse_text_value(raw)) for name, raw in (split_assignment(t, option) for t in items)]

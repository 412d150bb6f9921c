"""The preset registry: one specification per preset device.

Each preset is registered once, with :func:`register_preset`, next to its
function.  Its :class:`PresetSpec` names the function, its parameters (a
:class:`ParameterSpec` each: units from :mod:`qdthermo.units`, long name,
default, allowed range, whether it takes one value per lead), its lead names
and its dot names.  The command line, sweeps, configuration files and the
paper read this registry; nothing else keeps per-preset tables.

Registering a new preset::

    from qdthermo.model.registry import ParameterSpec, register_preset
    from qdthermo.units import ENERGY

    @register_preset(
        leads=("L", "R"), dots=("dot",),
        parameters=[ParameterSpec("eps", ENERGY, "level energy"),
                    ParameterSpec("T", ENERGY, "temperature k_B T", default=1.0, low=0.0, per_lead=True)],
    )
    def my_dot(eps, T=1.0):
        ...

It is then ``qdthermo point --preset my_dot``, a ``preset = "my_dot"`` in
every configuration file, and ``qd.sweep(my_dot, ...)`` with units on the
swept coordinates.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import numpy as np

__all__ = [
    "REQUIRED", "ParameterSpec", "PresetSpec", "PresetNames", "REGISTRY", "format_value",
    "preset_spec", "register_preset",
]


class _Required:
    """Sentinel: a parameter without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: default of a parameter that must be given
REQUIRED: Any = _Required()

F = TypeVar("F", bound=Callable[..., Any])


def format_value(value: Any) -> str:
    """A value as plain text for messages: ``-1.0``, ``nan``, ``'b'`` (never ``np.float64(nan)``)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_value(value.item())
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value)


def _bound(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of a preset.

    Attributes
    ----------
    name
        Keyword argument of the preset function.
    units
        Units name of :mod:`qdthermo.units` (``"energy"``, ``"rate"``, ``"1"``, ``"1/energy"``).
    long_name
        Human-readable description.
    default
        Default value, or :data:`REQUIRED`.
    low, high
        Allowed range; ``low_closed`` / ``high_closed`` say whether the bound
        itself is allowed.  Infinite bounds are always open.
    per_lead
        Whether the parameter takes one value per lead (``T_t``, ``mu_L``, ``gamma_r``).
    per_transition
        Whether a lead's value may be given per transition (``gamma_t[1->2]``).
    choices
        For a string parameter: the allowed values (empty for numbers).
    note
        A constraint the range cannot express (for example ``F_E < 1/T_ref``).
    """

    name: str
    units: str
    long_name: str
    default: Any = REQUIRED
    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    per_lead: bool = False
    per_transition: bool = False
    choices: tuple[str, ...] = ()
    note: str = ""

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is REQUIRED

    @property
    def is_string(self) -> bool:
        """Whether the parameter takes a string (``reference_lead``, ``species``)."""
        return bool(self.choices) or isinstance(self.default, str)

    def range_text(self, label: str | None = None) -> str:
        """The allowed range, e.g. ``0 < T_t < inf`` or ``-1 <= asymmetry <= 1``."""
        label = label or self.name
        if self.is_string:
            return f"{label} in {{{', '.join(self.choices)}}}" if self.choices else f"{label} a string"
        lo = "<=" if self.low_closed and math.isfinite(self.low) else "<"
        hi = "<=" if self.high_closed and math.isfinite(self.high) else "<"
        return f"{_bound(self.low)} {lo} {label} {hi} {_bound(self.high)}"

    def _kind(self) -> str:
        if self.low == 0 and self.high == math.inf:
            return "non-negative" if self.low_closed else "positive"
        if math.isinf(self.low) and math.isinf(self.high):
            return "finite"
        return "in the allowed range"

    def check(self, value: Any, label: str | None = None) -> None:
        """Raise :class:`ValueError` unless every element of ``value`` is allowed.

        The message names the parameter (``label``, default its name), the
        first offending value and the allowed range; a NaN or an infinity is
        reported as "must be a finite number".
        """
        label = label or self.name
        if self.is_string:
            if not isinstance(value, str):
                raise ValueError(f"{label} = {format_value(value)}: must be a string"
                                 + (f" ({self.range_text(label)})" if self.choices else ""))
            if self.choices and value not in self.choices:
                raise ValueError(f"{label} = {value!r}: allowed values are {', '.join(self.choices)}")
            return
        if callable(value):  # energy-dependent couplings are the preset's business
            return
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{label} = {format_value(value)}: must be a number") from None
        bad = ~np.isfinite(arr)
        if np.any(bad):
            raise ValueError(f"{label} = {format_value(arr[bad].flat[0])}: must be a finite number")
        lo_ok = arr >= self.low if self.low_closed else arr > self.low
        hi_ok = arr <= self.high if self.high_closed else arr < self.high
        bad = ~(lo_ok & hi_ok)
        if np.any(bad):
            kind = self._kind()
            what = f"must be {kind}" if kind != "in the allowed range" else "outside the allowed range"
            raise ValueError(f"{label} = {format_value(arr[bad].flat[0])}: {what} "
                             f"(allowed range: {self.range_text(label)})")


@dataclass(frozen=True)
class PresetSpec:
    """Specification of one preset: its function, parameters, leads and dots.

    Attributes
    ----------
    name
        Preset name (``qd.<name>``, ``--preset NAME``, ``preset = "NAME"``).
    function
        The function that builds the :class:`~qdthermo.model.device.Device`.
    parameters
        Every keyword argument of ``function``, in signature order.
    leads, dots
        Lead and dot names of the devices it builds.
    """

    name: str
    function: Callable[..., Any]
    parameters: tuple[ParameterSpec, ...]
    leads: tuple[str, ...]
    dots: tuple[str, ...]
    _by_name: dict[str, ParameterSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.parameters})

    def __getitem__(self, name: str) -> ParameterSpec:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in signature order."""
        return tuple(p.name for p in self.parameters)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the parameters without a default."""
        return tuple(p.name for p in self.parameters if p.required)

    @property
    def summary(self) -> str:
        """First line of the function's docstring."""
        doc = inspect.getdoc(self.function) or ""
        return doc.splitlines()[0] if doc else self.name


class _Registry(Mapping[str, PresetSpec]):
    """Preset name -> :class:`PresetSpec`, in registration order."""

    def __init__(self) -> None:
        self._specs: dict[str, PresetSpec] = {}

    def __getitem__(self, name: str) -> PresetSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def add(self, spec: PresetSpec) -> None:
        """Register ``spec`` (a name registered again replaces the old specification)."""
        self._specs[spec.name] = spec


#: every registered preset, by name
REGISTRY = _Registry()


class PresetNames(Sequence[str]):
    """A live, read-only view of the registered preset names (``PRESETS``)."""

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return tuple(REGISTRY)[i]

    def __len__(self) -> int:
        return len(REGISTRY)

    def __repr__(self) -> str:
        return repr(tuple(REGISTRY))

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, (tuple, list, PresetNames)) else other)

    def __hash__(self) -> int:
        return hash(tuple(self))


def register_preset(
    *,
    leads: Sequence[str],
    dots: Sequence[str],
    parameters: Sequence[ParameterSpec],
    name: str | None = None,
) -> Callable[[F], F]:
    """Decorator: register a preset function with its specification.

    Parameters
    ----------
    leads, dots
        Lead and dot names of the devices the function builds.
    parameters
        One :class:`ParameterSpec` per keyword argument of the function (in
        any order; stored in signature order).  Defaults are read from the
        signature when the spec gives none.
    name
        Preset name (default: the function's name).

    Raises
    ------
    ValueError
        If the specifications and the function's signature disagree.
    """
    def decorate(func: F) -> F:
        sig = inspect.signature(func).parameters
        given = {p.name: p for p in parameters}
        if set(given) != set(sig):
            raise ValueError(f"preset {func.__name__}: parameter specs {sorted(given)} do not match the "
                             f"signature {sorted(sig)}")
        specs = []
        for pname, p in sig.items():
            spec = given[pname]
            default = REQUIRED if p.default is inspect.Parameter.empty else p.default
            if spec.default is REQUIRED and default is not REQUIRED:
                spec = ParameterSpec(**{**spec.__dict__, "default": default})
            specs.append(spec)
        REGISTRY.add(PresetSpec(name or func.__name__, func, tuple(specs), tuple(leads), tuple(dots)))
        return func

    return decorate


def preset_spec(preset: str | Callable[..., Any]) -> PresetSpec | None:
    """The specification of a preset given by name or as its function; None if not registered.

    Raises
    ------
    ValueError
        If ``preset`` is a string that names no registered preset.
    """
    if isinstance(preset, str):
        if preset not in REGISTRY:
            raise ValueError(f"unknown preset {preset!r}; allowed: {', '.join(REGISTRY)} "
                             "(by name or as qd.<name>)")
        return REGISTRY[preset]
    for spec in REGISTRY.values():
        if spec.function is preset:
            return spec
    return None

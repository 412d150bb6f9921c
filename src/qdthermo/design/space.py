"""The design space: flat parameter names -> bounds, unit-cube coordinates, preset keyword arguments.

``vary`` keys are the names of sweep dimensions (:mod:`qdthermo.sweeps`):

* a plain argument of the device function (``"eps"``, ``"U"``, ``"eps_L"``,
  ``"T_ref"``, ``"T_hot"``); a per-lead argument given plainly (``"T"``)
  varies every lead together;
* ``<param>_<lead>`` for an entry of a per-lead argument (``T``, ``mu`` or
  ``gamma`` given as a dict by lead): ``"mu_L"``, ``"T_R"``, ``"gamma_t"``.
  The entry overrides the fixed value of that lead only; ``gamma_<lead>``
  replaces every transition-resolved coupling of that lead.

A plain argument name always wins over a split (``T_hot`` of
:func:`~qdthermo.model.sanchez_buttiker` is its own argument).  The mapping
lives in one function, :func:`vary_mapper`, so that it can be replaced by a
shared parameter parser.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PER_LEAD", "Space", "vary_mapper", "check_bounds"]

Array = NDArray[np.float64]

#: preset arguments that may be given as a dict by lead name
PER_LEAD = ("T", "mu", "gamma")

#: physical lower limits of a varied parameter, by preset argument: (limit, strict)
_LOWER_LIMIT = {"T": (0.0, True), "T_ref": (0.0, True), "T_hot": (0.0, True),
                "gamma": (0.0, False), "gamma_hot": (0.0, False), "U": (0.0, False), "J": (0.0, False)}


def _accepts_mapping(param: inspect.Parameter) -> bool:
    """Whether a preset argument is annotated to take a dict (by lead)."""
    ann = param.annotation
    text = ann if isinstance(ann, str) else getattr(ann, "__name__", repr(ann))
    return "Mapping" in str(text) or str(text) in ("Any", "typing.Any")


def vary_mapper(func: Callable[..., Any], fixed: Mapping[str, Any], names: tuple[str, ...],
                lead_names: tuple[str, ...]) -> Callable[[Mapping[str, Array]], dict[str, Any]]:
    """Check the flat names ``names`` against ``func`` and return the keyword-argument builder.

    Parameters
    ----------
    func
        The device function (a preset such as :func:`~qdthermo.model.single_dot`).
    fixed
        Its fixed keyword arguments (per-lead ones as one value or a dict by lead).
    names
        The varied flat names (see the module docstring).
    lead_names
        The device's lead names.

    Returns
    -------
    callable
        ``build(values) -> kwargs``: ``values`` maps each name to an array;
        the result is ``fixed`` with those entries overridden.

    Raises
    ------
    ValueError
        For a name that is neither an argument nor ``<per-lead argument>_<lead>``,
        naming the allowed names.
    """
    sig = inspect.signature(func).parameters
    numeric = [n for n, p in sig.items()
               if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and not isinstance(p.default, str)]
    per_lead = [n for n in PER_LEAD if n in sig and _accepts_mapping(sig[n])]
    allowed = numeric + [f"{p}_{lead}" for p in per_lead for lead in lead_names]
    targets: dict[str, tuple[str, str | None]] = {}
    for name in names:
        if name in numeric:
            targets[name] = (name, None)
            continue
        param, _, lead = name.partition("_")
        if param in per_lead and lead in lead_names:
            targets[name] = (param, lead)
            continue
        raise ValueError(f"vary: unknown parameter {name!r} for {getattr(func, '__name__', func)!r}; "
                         f"allowed: {allowed}")

    def build(values: Mapping[str, Array]) -> dict[str, Any]:
        kwargs = dict(fixed)
        for name, (param, lead) in targets.items():
            if lead is None:
                kwargs[param] = values[name]
                continue
            base = kwargs.get(param, sig[param].default)
            if isinstance(base, Mapping):
                entries = {k: v for k, v in base.items() if not (isinstance(k, tuple) and k[0] == lead)}
            else:
                entries = {ld: base for ld in lead_names}
            entries[lead] = values[name]
            kwargs[param] = entries
        return kwargs

    return build


def check_bounds(name: str, value: Any) -> tuple[float, float]:
    """``vary[name]`` as ``(lo, hi)``: two finite numbers, lo < hi, within the parameter's physical range.

    Raises
    ------
    ValueError
        Naming the parameter, its value and the allowed range.
    """
    base = name if name in _LOWER_LIMIT else name.partition("_")[0]
    limit, strict = _LOWER_LIMIT.get(base, (-math.inf, False))
    rng = (f"finite lo < hi with lo {'>' if strict else '>='} {limit}" if limit > -math.inf
           else "finite lo < hi")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"vary[{name!r}] = {value!r} must be a pair (lo, hi); allowed range: {rng}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"vary[{name!r}] = {value!r}: bounds must be {rng}")
    if lo < limit or (strict and lo == limit):
        raise ValueError(f"vary[{name!r}] = {value!r}: bounds must be {rng} "
                         f"({name} {'>' if strict else '>='} {limit})")
    return lo, hi


@dataclass(frozen=True)
class Space:
    """Box bounds of the varied parameters and the map from the unit cube.

    Attributes
    ----------
    names
        Varied parameter names, in the order of ``vary``.
    lo, hi
        ``(d,)`` lower and upper bounds.
    """

    names: tuple[str, ...]
    lo: Array
    hi: Array

    @classmethod
    def from_vary(cls, vary: Mapping[str, Any]) -> Space:
        """Validate ``vary`` (name -> (lo, hi)) into a space."""
        if not isinstance(vary, Mapping) or not vary:
            raise ValueError(f"vary = {vary!r} must be a non-empty dict name -> (lo, hi)")
        bounds = [check_bounds(str(k), v) for k, v in vary.items()]
        return cls(tuple(str(k) for k in vary), np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds]))

    @property
    def dim(self) -> int:
        """Number of varied parameters."""
        return len(self.names)

    def to_x(self, u: Array) -> Array:
        """Parameters ``(..., d)`` from unit-cube coordinates (clipped into the box)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        return np.asarray(np.clip(self.lo + u * (self.hi - self.lo), self.lo, self.hi))

    def to_u(self, x: Array) -> Array:
        """Unit-cube coordinates of parameters ``(..., d)``."""
        return np.asarray((np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo))

    def on_bound(self, x: Array, rtol: float = 1e-6) -> dict[str, str]:
        """``{name: "lower" | "upper"}`` for parameters within ``rtol`` x range of a bound."""
        tol = rtol * (self.hi - self.lo)
        out = {}
        for k, name in enumerate(self.names):
            if x[k] - self.lo[k] <= tol[k]:
                out[name] = "lower"
            elif self.hi[k] - x[k] <= tol[k]:
                out[name] = "upper"
        return out

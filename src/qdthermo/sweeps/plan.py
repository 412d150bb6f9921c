"""Sweep plans: preset arguments -> grid axes, fixed values, chunk geometry, identity.

A :class:`Plan` is the small, picklable description of a sweep that travels
to every worker.  It never holds the grid itself: the arguments of one chunk
are rebuilt from the chunk's range of flat (C-order) point indices with
:func:`numpy.unravel_index` (:meth:`Plan.kwargs_for`), so memory does not
depend on the size of the grid.

A chunk is a rectangular block of the grid that is also a contiguous range
of flat point indices: the axes after the split axis are whole, the split
axis is cut into pieces, the axes before it have length 1 in a block.  Each
chunk is exactly one Zarr chunk of every stored variable, so chunks never
share a Zarr chunk and can be written in any order, by any process, and
rewritten idempotently.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.model.presets import PRESETS, preset_function
from qdthermo.model.registry import format_value, preset_spec
from qdthermo.units import QUANTITIES

__all__ = ["Axis", "DEFAULT_CHUNK_POINTS", "PRESETS", "Plan", "axis_attrs", "make_plan", "preset_function"]

#: default number of grid points per chunk (2**16; see ``docs/sweeps.md`` for the memory bound)
DEFAULT_CHUNK_POINTS = 1 << 16

#: format version of the store layout (part of the sweep identity)
SPEC_FORMAT = 1


@dataclass(frozen=True)
class Axis:
    """One swept dimension.

    Attributes
    ----------
    name
        Dimension name: the preset argument (``"F_E"``) or, for an entry of a
        dict-valued argument, the argument and the key joined by ``_``
        (``T={"t": [...]}`` -> ``"T_t"``).
    param, key
        The preset argument and the key inside it (None for a plain argument).
    values
        Read-only float64 coordinate values.
    """

    name: str
    param: str
    key: Any
    values: NDArray[np.float64] = field(repr=False)

    @property
    def size(self) -> int:
        """Number of values."""
        return int(self.values.shape[0])


@dataclass(frozen=True)
class _AxisRef:
    """Placeholder for axis ``index`` inside :attr:`Plan.template`."""

    index: int


def _dim_name(param: str, key: Any) -> str:
    if key is None:
        return param
    parts = key if isinstance(key, tuple) else (key,)
    raw = "_".join([param, *(str(p) for p in parts)])
    return re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z_]", "_", raw)).strip("_")


def axis_attrs(axis: Axis, preset: str | Callable[..., Any] | None = None) -> dict[str, str]:
    """``units`` and ``long_name`` of a swept coordinate.

    From the preset registry's specification of the parameter when
    ``preset`` is a registered preset, else from :data:`qdthermo.units.QUANTITIES`;
    a parameter of a user's function found in neither has empty units.
    """
    spec = preset_spec(preset) if preset is not None else None
    if spec is not None and axis.param in spec:
        units, long_name = spec[axis.param].units, spec[axis.param].long_name
    elif axis.param in QUANTITIES:
        units, long_name = QUANTITIES[axis.param]
    else:
        return {"units": "", "long_name": axis.name}
    if axis.key is not None:
        key = axis.key if isinstance(axis.key, tuple) else (axis.key,)
        long_name = f"{long_name} ({', '.join(map(str, key))})"
    return {"units": units, "long_name": long_name}


def _check_signature(name: str, func: Callable[..., Any], params: Mapping[str, Any]) -> None:
    try:
        ps = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    kinds = {p.kind for p in ps.values()}
    unknown = [k for k in params if k not in ps]
    if unknown and inspect.Parameter.VAR_KEYWORD not in kinds:
        raise ValueError(f"unknown parameter(s) {unknown} for preset {name!r}; allowed: {list(ps)}")
    missing = [n for n, p in ps.items() if p.default is inspect.Parameter.empty and n not in params
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise ValueError(f"preset {name!r} needs parameter(s) {missing}")


def _is_array_like(value: Any) -> bool:
    """Lists, tuples and arrays of one or more dimensions (0-d arrays are scalars)."""
    if isinstance(value, (list, tuple)):
        return True
    return not isinstance(value, (str, bytes)) and hasattr(value, "__array__") and np.ndim(value) > 0


def _fixed(label: str, value: Any) -> Any:
    """A fixed value as a plain float or string."""
    if isinstance(value, str):
        return value
    if callable(value):
        raise ValueError(f"{label}: a callable (energy-dependent coupling) cannot be used in a sweep")
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{label} must be a real number, a string or a 1-D array of numbers, "
                         f"got {format_value(value)}")
    return float(arr)


def _axis_values(label: str, value: Any) -> NDArray[np.float64]:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"{label} must be a scalar (fixed) or a 1-D array (swept), got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{label}: a swept parameter needs at least one value, got an empty array")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{label}: swept values must be real numbers, got {format_value(value)}")
    out = np.array(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{label}: swept values must be finite, got {format_value(out[~np.isfinite(out)][0])}")
    out.setflags(write=False)
    return out


def _chunk_shape(shape: tuple[int, ...], chunk_points: int) -> tuple[int, ...]:
    """Block shape: trailing axes whole, one axis split, leading axes of length 1."""
    cs = [1] * len(shape)
    inner = 1
    for ax in reversed(range(len(shape))):
        if inner * shape[ax] <= chunk_points:
            cs[ax] = shape[ax]
            inner *= shape[ax]
        else:
            cs[ax] = max(1, chunk_points // inner)
            break
    return tuple(cs)


def _fill(value: Any, pick: Callable[[int], Any]) -> Any:
    if isinstance(value, _AxisRef):
        return pick(value.index)
    if isinstance(value, dict):
        return {k: _fill(v, pick) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to compute any chunk of a sweep (see the module docstring).

    Attributes
    ----------
    preset
        Preset name (one of :data:`PRESETS`), or the user's function that
        builds the device (it travels to the workers by pickling, so a
        process pool or Dask needs a module-level function).
    template
        The preset arguments in the order given, each swept value replaced
        by a reference to its :class:`Axis`.
    axes
        The swept dimensions in grid order (outer product, first is slowest).
    chunk_points
        Requested points per chunk.
    chunk_shape
        Block shape of one chunk (= the Zarr chunk shape over the swept dims).
    """

    preset: str | Callable[..., Any]
    template: Mapping[str, Any]
    axes: tuple[Axis, ...]
    chunk_points: int
    chunk_shape: tuple[int, ...]

    @property
    def name(self) -> str:
        """Preset name, or ``module.qualname`` of a user's function."""
        return preset_function(self.preset)[0]

    @property
    def function(self) -> Callable[..., Any]:
        """The function that builds the device."""
        return preset_function(self.preset)[1]

    @property
    def dims(self) -> tuple[str, ...]:
        """Names of the grid dimensions."""
        return tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape."""
        return tuple(a.size for a in self.axes)

    @property
    def n_points(self) -> int:
        """Number of grid points."""
        return math.prod(self.shape)

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return tuple(-(-n // c) for n, c in zip(self.shape, self.chunk_shape))

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return math.prod(self.chunk_grid)

    def chunk_slices(self, k: int) -> tuple[slice, ...]:
        """Block of chunk ``k`` in the grid, one slice per dimension."""
        idx = np.unravel_index(k, self.chunk_grid) if self.axes else ()
        return tuple(slice(int(i) * c, min((int(i) + 1) * c, n))
                     for i, c, n in zip(idx, self.chunk_shape, self.shape))

    def chunk_range(self, k: int) -> tuple[int, int]:
        """Flat (C-order) point range ``[start, stop)`` of chunk ``k``."""
        sl = self.chunk_slices(k)
        start = 0
        for s, n in zip(sl, self.shape):
            start = start * n + s.start
        return start, start + math.prod(s.stop - s.start for s in sl)

    def kwargs_for(self, start: int, stop: int) -> dict[str, Any]:
        """Preset arguments of the flat points ``start..stop-1`` (swept ones as 1-D arrays)."""
        idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), self.shape) if self.axes else ()
        vals = [a.values[i] for a, i in zip(self.axes, idx)]
        return {name: _fill(v, vals.__getitem__) for name, v in self.template.items()}

    def axis_kwargs(self, i: int, values: NDArray[np.float64]) -> dict[str, Any]:
        """Preset arguments with axis ``i`` = ``values`` and every other axis at its first value."""
        def pick(j: int) -> Any:
            return values if j == i else float(self.axes[j].values[0])

        return {name: _fill(v, pick) for name, v in self.template.items()}

    def fixed(self) -> dict[str, Any]:
        """Fixed parameters, named like the axes (``T_b``), in the order given."""
        out: dict[str, Any] = {}
        for name, v in self.template.items():
            if isinstance(v, dict):
                out.update({_dim_name(name, k): x for k, x in v.items() if not isinstance(x, _AxisRef)})
            elif not isinstance(v, _AxisRef):
                out[name] = v
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-able identity of the sweep: preset, parameters, axes (with a hash of their values), chunking."""
        from qdthermo import __version__

        def enc(v: Any) -> Any:
            if isinstance(v, _AxisRef):
                return {"axis": self.axes[v.index].name}
            if isinstance(v, dict):
                return {_dim_name("", k): enc(x) for k, x in v.items()}
            return v

        return {
            "format": SPEC_FORMAT,
            "qdthermo_version": __version__,
            "preset": self.name,
            "parameters": {name: enc(v) for name, v in self.template.items()},
            "axes": [
                {"name": a.name, "size": a.size, "first": float(a.values[0]), "last": float(a.values[-1]),
                 "sha256": hashlib.sha256(a.values.astype("<f8").tobytes()).hexdigest()}
                for a in self.axes
            ],
            "chunk_points": self.chunk_points,
            "chunk_shape": list(self.chunk_shape),
        }


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def fingerprint(spec: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``spec``."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()


def make_plan(preset: str | Callable[..., Any], params: Mapping[str, Any], chunk_points: int | None) -> Plan:
    """Split ``params`` into swept axes (1-D array-likes) and fixed values; fix the chunking.

    A dict-valued argument (``T={"t": [...], "b": 1.0, "r": 1.0}``) may hold
    swept entries; each becomes an axis named ``<argument>_<key>``.

    Raises
    ------
    ValueError
        Unknown preset or parameter, a missing required parameter, a value
        that is neither a number, a string, a 1-D array of numbers nor a dict
        of those, an empty or non-finite axis, or a bad ``chunk_points``.
    """
    name, func = preset_function(preset)
    _check_signature(name, func, params)
    if chunk_points is None:
        chunk_points = DEFAULT_CHUNK_POINTS
    if isinstance(chunk_points, bool) or not isinstance(chunk_points, (int, np.integer)) or chunk_points < 1:
        raise ValueError(f"chunk_points must be a positive integer, got {format_value(chunk_points)}")

    axes: list[Axis] = []
    template: dict[str, Any] = {}

    def entry(param: str, key: Any, value: Any, label: str) -> Any:
        if not _is_array_like(value):
            return _fixed(label, value)
        axes.append(Axis(_dim_name(param, key), param, key, _axis_values(label, value)))
        return _AxisRef(len(axes) - 1)

    for param, value in params.items():
        if isinstance(value, Mapping):
            template[param] = {k: entry(param, k, v, f"{param}[{k!r}]") for k, v in value.items()}
        else:
            template[param] = entry(param, None, value, param)

    spec = preset_spec(func)
    if spec is not None:  # the registry's ranges, named as the sweep's dims (T_t = -1.0: must be positive ...)
        for param, value in template.items():
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for key, v in entries:
                label = _dim_name(param, key) if key is None or not isinstance(key, tuple) else \
                    f"{param}_{key[0]}[{key[1]}]"
                spec[param].check(axes[v.index].values if isinstance(v, _AxisRef) else v, label)
    names = [a.name for a in axes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:  # pragma: no cover - only with contrived dict keys ("a b" and "a_b")
        raise ValueError(f"swept parameters give duplicate dimension name(s) {dup}")
    shape = tuple(a.size for a in axes)
    return Plan(preset=name if spec is not None else func, template=template, axes=tuple(axes),
                chunk_points=int(chunk_points), chunk_shape=_chunk_shape(shape, int(chunk_points)))

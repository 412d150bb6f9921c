"""The explorer's JSON API as plain functions: presets, the map, the point, the NetCDF download.

Every request is stateless: a query names the preset, the values of its
parameters (flat names of the parameter language, :mod:`qdthermo.model.parameters`)
and what to draw.  Bad input raises :class:`QueryError` (a 400 with one line
naming the parameter); nothing here keeps state between requests.

Query (JSON object)::

    {"preset": "coupled_transport",
     "values": {"F_E": 0.3, "F_N": "0.1", "U": 0.5},      # numbers, or the text of a field
     "map": {"x": "F_E", "y": "F_N", "x_range": [-2, 0.9], "y_range": [-3, 3], "n": 201,
             "quantity": "regime"},
     "cut": {"param": "F_N", "range": [-3, 3], "quantity": "J_N"}}
"""

from __future__ import annotations

import base64
import io
import math
import shlex
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import qdthermo as qd
from qdthermo.model.parameters import ParameterError, parse_text_value, resolve_name, to_kwargs
from qdthermo.model.registry import REGISTRY, PresetSpec, format_value
from qdthermo.plot.palette import DIVERGING, REGIME_COLORS, REGIME_LABELS, SEQUENTIAL, clean_round_off

__all__ = ["QueryError", "compute_map", "compute_point", "netcdf_bytes", "presets_payload"]

#: largest map side accepted (a 401 x 401 map is ~0.6 s)
MAX_N = 401
#: code of a map pixel without a unique steady state (drawn black)
INVALID = 255
#: a map whose every |value| is at most this is round-off of an exact zero (rate units)
ZERO = 1e-12
#: values the explorer starts from where a parameter has no default
_START = {"F_E": 0.3, "F_N": 0.1, "eps_L": 1.0, "eps_R": 1.0, "eps": 0.5, "U": 0.5}
#: slider ranges where the units' generic range does not fit
_SLIDER = {"F_E": (-3.0, 0.95), "asymmetry": (-1.0, 1.0), "U": (0.0, 10.0), "J": (0.0, 15.0)}


class QueryError(ValueError):
    """A bad request: the message is one line for the page (HTTP 400)."""


# --------------------------------------------------------------------------- presets
def _entries(spec: PresetSpec) -> list[tuple[str, Any]]:
    """(entry name, parameter spec) of every scalar field: per-lead parameters one field per lead."""
    out: list[tuple[str, Any]] = []
    for p in spec.parameters:
        if p.per_lead:
            out += [(f"{p.name}_{lead}", p) for lead in spec.leads]
        else:
            out.append((p.name, p))
    return out


def _slider(name: str, p: Any) -> tuple[float, float]:
    if name in _SLIDER:
        return _SLIDER[name]
    base = name.split("_")[0]
    if p.units == "rate" or base in ("T", "gamma") or name.startswith("T_"):
        lo, hi = 0.0, 5.0
    else:
        lo, hi = -5.0, 5.0
    lo = max(lo, p.low) if math.isfinite(p.low) else lo
    hi = min(hi, p.high) if math.isfinite(p.high) else hi
    if lo == p.low and not p.low_closed:
        lo += 0.05
    if hi == p.high and not p.high_closed:
        hi -= 0.05
    return lo, hi


def _start(name: str, p: Any) -> Any:
    if not p.required:
        return p.default
    return _START.get(name, 1.0)


def _quantities(res: Any) -> dict[str, Callable[[Any], Any]]:
    """Name -> function of a result, for every scalar quantity the map and the cut can show."""
    def item(attr: str, key: str) -> Callable[[Any], Any]:
        return lambda r: getattr(r, attr)[key]

    def perf(name: str) -> Callable[[Any], Any]:
        return lambda r: getattr(r.performance, name)

    out: dict[str, Callable[[Any], Any]] = {flux: item("fluxes", flux) for flux in res.fluxes}
    for kind in ("particle_current", "energy_current", "heat_current"):
        for lead in res.lead_names:
            out[f"{kind}_{lead}"] = item(kind, lead)
    out["entropy_production"] = lambda r: r.entropy_production
    for name in ("power", "efficiency", "cooling_power", "cop"):
        out[name] = perf(name)
    return out


def presets_payload() -> dict[str, Any]:
    """Every preset with its fields (units, range, start value), map and cut defaults, quantities."""
    presets = []
    for spec in REGISTRY.values():
        fields = []
        for name, p in _entries(spec):
            lo, hi = _slider(name, p)
            fields.append({
                "name": name, "units": p.units or "-", "long_name": p.long_name
                + (f" of lead {name[len(p.name) + 1:]}" if p.per_lead else ""),
                "value": _start(name, p), "default": None if p.required else p.default,
                "choices": list(p.choices), "string": p.is_string,
                "range": p.range_text(name) + (f"; {p.note}" if p.note else ""),
                "slider": [lo, hi],
            })
        numeric = [f["name"] for f in fields if not f["string"]]
        values = {f["name"]: f["value"] for f in fields}
        res = qd.solve(spec.function(**_kwargs(spec, values)))
        quantities = list(_quantities(res))
        parallel = res.device.parallel_pair is not None
        sl = {f["name"]: f["slider"] for f in fields}
        lead = spec.leads[0]
        if "F_E" in spec and "F_N" in spec:  # the force plane
            x, y = "F_E", "F_N"
            x_range, y_range = [-2.0, 0.9], [-3.0, 3.0]
        elif f"T_{lead}" in sl and f"mu_{lead}" in sl:  # the plane of one lead's temperature and potential
            x, y = f"T_{lead}", f"mu_{lead}"
            x_range, y_range = [0.2, 4.0], [-3.0, 3.0]
        else:
            x, y = numeric[0], numeric[1]
            x_range, y_range = list(sl[x]), list(sl[y])
            parallel = False  # no force plane: an observable shows more than the regimes
        map_q = "regime" if parallel else "power" if "power" in quantities else quantities[0]
        cut_q = "J_N" if "J_N" in quantities else quantities[0]
        presets.append({
            "name": spec.name, "summary": spec.summary, "leads": list(spec.leads), "fields": fields,
            "quantities": (["regime"] if res.device.parallel_pair is not None else []) + quantities,
            "map": {"x": x, "y": y, "x_range": x_range, "y_range": y_range, "n": 201, "quantity": map_q},
            "cut": {"param": y, "range": y_range, "quantity": cut_q},
        })
    legend = [{"code": int(r), "name": REGIME_LABELS[r], "color": REGIME_COLORS[r]} for r in qd.Regime]
    return {"presets": presets, "regimes": legend}


# --------------------------------------------------------------------------- parsing
def _spec(query: Mapping[str, Any]) -> PresetSpec:
    if not isinstance(query, Mapping):
        raise QueryError("the request must be a JSON object")
    name = query.get("preset")
    if not isinstance(name, str) or name not in REGISTRY:
        raise QueryError(f"unknown preset {name!r}; allowed: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def _value(spec: PresetSpec, name: str, raw: Any) -> Any:
    key = resolve_name(spec, name)
    if key.transition is not None:
        raise ParameterError(f"{name}: per-transition couplings are not in the explorer (use qdthermo point)")
    if spec[key.param].is_string:
        if not isinstance(raw, str):
            raise ParameterError(f"{name} = {format_value(raw)}: must be a string")
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ParameterError(f"{name}: empty field (give a number)")
        value = parse_text_value(text)
        if isinstance(value, str):
            raise ParameterError(f"{name} must be a number, got {raw!r}")
        raw = value
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ParameterError(f"{name} must be a number, got {format_value(raw)}")
    return float(raw)


def _values(spec: PresetSpec, query: Mapping[str, Any]) -> dict[str, Any]:
    values = query.get("values", {})
    if not isinstance(values, Mapping):
        raise QueryError("values must be an object of NAME: VALUE")
    return {str(name): _value(spec, str(name), raw) for name, raw in values.items()}


def _kwargs(spec: PresetSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    return to_kwargs(spec, values)


def _device(spec: PresetSpec, values: Mapping[str, Any]) -> Any:
    kwargs = _kwargs(spec, values)
    try:
        return spec.function(**kwargs)
    except ValueError as exc:
        raise QueryError(f"invalid parameters for preset {spec.name}: {exc}") from None


def _axis(spec: PresetSpec, values: Mapping[str, Any], block: Mapping[str, Any], key: str,
          range_key: str, n: int) -> tuple[str, np.ndarray]:
    name = block.get(key)
    if not isinstance(name, str):
        raise QueryError(f"{key}: name a parameter of preset {spec.name}")
    k = resolve_name(spec, name)
    if spec[k.param].is_string or k.transition is not None:
        raise QueryError(f"{key} = {name!r}: the axis must be a numeric parameter")
    rng = block.get(range_key)
    if not (isinstance(rng, list) and len(rng) == 2):
        raise QueryError(f"{range_key}: give [low, high]")
    lo, hi = (_number(f"{range_key} of {name}", v) for v in rng)
    if not lo < hi:
        raise QueryError(f"{range_key} of {name}: low {lo:g} must be below high {hi:g}")
    if name == "F_E" and "T_ref" in spec:  # F_E < 1/T_ref: the map stops just short of it
        t_ref = float(values.get("T_ref", spec["T_ref"].default))
        if t_ref > 0:
            hi = min(hi, 0.98 / t_ref)
            if not lo < hi:
                raise QueryError(f"{range_key} of F_E: the whole range is at or above 1/T_ref = {1 / t_ref:g}")
    return name, np.linspace(lo, hi, n)


def _number(what: str, v: Any) -> float:
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            raise QueryError(f"{what} must be a number, got {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise QueryError(f"{what} must be a finite number, got {format_value(v)}")
    return float(v)


def _grid_size(block: Mapping[str, Any]) -> int:
    n = block.get("n", 201)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_N:
        raise QueryError(f"n = {format_value(n)}: the map side must be an integer from 2 to {MAX_N}")
    return n


def _block(query: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    block = query.get(name)
    if not isinstance(block, Mapping):
        raise QueryError(f"{name}: missing or not an object")
    return block


# ------------------------------------------------------------------------------ map
def _solve_map(query: Mapping[str, Any]) -> tuple[PresetSpec, dict[str, Any], Any, str, np.ndarray, str,
                                                     np.ndarray, str]:
    spec = _spec(query)
    values = _values(spec, query)
    block = _block(query, "map")
    n = _grid_size(block)
    xname, xs = _axis(spec, values, block, "x", "x_range", n)
    yname, ys = _axis(spec, values, block, "y", "y_range", n)
    if resolve_name(spec, xname) == resolve_name(spec, yname):
        raise QueryError(f"x and y are both {xname}: choose two different parameters")
    grid = {**values, xname: xs[:, None], yname: ys[None, :]}
    res = qd.solve(_device(spec, grid))
    quantity = block.get("quantity", "regime")
    return spec, values, res, xname, xs, yname, ys, str(quantity)


def _rgba(colors: list[str]) -> list[list[int]]:
    return [[int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16), 255] for c in colors]


def _lut(name: str) -> list[list[int]]:
    import matplotlib

    cmap = matplotlib.colormaps[name]
    rgba = (np.asarray(cmap(np.linspace(0.0, 1.0, 255))) * 255).round().astype(int)
    return [list(map(int, c)) for c in rgba] + [[0, 0, 0, 255]]


def _image(a: np.ndarray) -> str:
    """(x, y) array -> base64 of the uint8 image rows, top row = highest y."""
    return base64.b64encode(np.ascontiguousarray(a.T[::-1], dtype=np.uint8).tobytes()).decode("ascii")


def compute_map(query: Mapping[str, Any]) -> dict[str, Any]:
    """The map: one batched solve over the (x, y) grid, as uint8 codes per layer (base64)."""
    t0 = time.perf_counter()
    spec, values, res, xname, xs, yname, ys, quantity = _solve_map(query)
    layers: list[dict[str, Any]] = []
    if quantity == "regime":
        if res.device.parallel_pair is None:
            raise QueryError(f"quantity 'regime': preset {spec.name} has no parallel force pair; choose an "
                             "observable")
        lut = [[0, 0, 0, 255]] * 256
        for r in qd.Regime:
            lut[int(r)] = _rgba([REGIME_COLORS[r]])[0]
        valid = np.asarray(res.valid)
        for flux, codes in res.regime.items():
            c = np.where(valid, np.asarray(codes), INVALID)
            layers.append({"name": f"regime of {flux}", "kind": "regime", "data": _image(c), "lut": lut,
                           "counts": {qd.Regime(k).name: int(np.sum(c == k)) for k in range(len(qd.Regime))}})
    else:
        table = _quantities(res)
        if quantity not in table:
            raise QueryError(f"quantity {quantity!r} unknown; allowed: regime (force-plane presets), "
                             f"{', '.join(table)}")
        v = clean_round_off(np.broadcast_to(np.asarray(table[quantity](res), dtype=float), (len(xs), len(ys))))
        finite = np.isfinite(v)
        lo = float(v[finite].min()) if finite.any() else 0.0
        hi = float(v[finite].max()) if finite.any() else 0.0
        name = quantity
        if max(-lo, hi) <= ZERO:  # round-off of a zero everywhere: no colour scale on noise
            v = np.where(finite, 0.0, v)
            lo = hi = 0.0
            name = f"{quantity} = 0 everywhere (|values| <= {ZERO:g}: round-off)"
        if lo < 0 < hi or lo == hi == 0.0:  # signed: symmetric diverging scale, zero in the middle
            m = max(-lo, hi) or 1.0
            scaled, lut, scale = (v / m + 1.0) / 2.0, _lut(DIVERGING), [-m, m]
        else:
            span = hi - lo if hi > lo else 1.0
            scaled, lut, scale = (v - lo) / span, _lut(SEQUENTIAL), [lo, hi]
        codes = np.where(finite, np.clip(np.nan_to_num(scaled) * 254.0, 0, 254).round(), INVALID)
        layer: dict[str, Any] = {"name": name, "kind": "scalar", "data": _image(codes), "lut": lut,
                                 "scale": scale if hi > lo else None}
        layers.append(layer)
    return {
        "x": xname, "y": yname, "x_range": [float(xs[0]), float(xs[-1])], "y_range": [float(ys[0]), float(ys[-1])],
        "n": len(xs), "quantity": quantity, "layers": layers, "seconds": time.perf_counter() - t0,
    }


# ---------------------------------------------------------------------------- point
def _f(x: Any) -> float | None:
    v = float(np.asarray(x)) + 0.0
    return v if math.isfinite(v) else None


def command(spec: PresetSpec, values: Mapping[str, Any]) -> str:
    """The ``qdthermo point`` command of this point (entries that differ from the preset's defaults)."""
    parts = ["qdthermo", "point", "--preset", spec.name]
    for name, value in values.items():
        p = spec[resolve_name(spec, name).param]
        if not p.required and value == p.default:
            continue
        text = value if isinstance(value, str) else format_value(float(value))
        parts += ["--set", shlex.quote(f"{name}={text}")]
    return " ".join(parts)


def compute_point(query: Mapping[str, Any]) -> dict[str, Any]:
    """Currents, entropy production, performance and regimes at the point, the cut and the command."""
    t0 = time.perf_counter()
    spec = _spec(query)
    values = _values(spec, query)
    res = qd.solve(_device(spec, values))
    perf = res.performance
    leads = res.lead_names
    # round-off of a zero current (1e-17 next to 1e-2) is shown as 0
    j_n, j_e, j_q = (clean_round_off([getattr(res, kind)[lead] for lead in leads])
                     for kind in ("particle_current", "energy_current", "heat_current"))
    out: dict[str, Any] = {
        "command": command(spec, values),
        "currents": [{"lead": lead, "T": _f(res.system.lead_temperature[..., k]),
                      "mu": _f(res.system.lead_chemical_potential[..., k]),
                      "J_N": _f(j_n[k]), "J_E": _f(j_e[k]), "J_Q": _f(j_q[k])} for k, lead in enumerate(leads)],
        "thermo": {"entropy production (micro)": _f(res.entropy_production),
                   "entropy production (macro, -sum J_Q/T)": _f(res.entropy_production_macro),
                   "entropy flow": _f(res.entropy_flow)},
        "forces": {k: _f(v) for k, v in res.forces.items()},
        "fluxes": dict(zip(res.fluxes, map(_f, clean_round_off(list(res.fluxes.values()))))),
        "regime": ({k: qd.Regime(int(v)).name for k, v in res.regime.items()}
                   if res.device.parallel_pair is not None else None),
        "performance": {name: _f(getattr(perf, name)) for name in
                        ("power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop")},
        "valid": bool(np.asarray(res.valid)),
    }
    cut = query.get("cut")
    if cut is not None:
        if not isinstance(cut, Mapping):
            raise QueryError("cut: not an object")
        name, xs = _axis(spec, values, cut, "param", "range", 201)
        quantity = cut.get("quantity")
        table = _quantities(res)
        if quantity not in table:
            raise QueryError(f"cut quantity {quantity!r} unknown; allowed: {', '.join(table)}")
        r = qd.solve(_device(spec, {**values, name: xs}))
        ys = clean_round_off(np.broadcast_to(np.asarray(table[quantity](r), dtype=float), xs.shape))
        here = _f(table[quantity](res))
        out["cut"] = {"param": name, "quantity": quantity, "x": [float(x) for x in xs],
                      "y": [_f(y) for y in ys], "x0": float(values.get(name, np.nan)) if name in values else None,
                      "y0": here}
    out["seconds"] = time.perf_counter() - t0
    return out


# --------------------------------------------------------------------------- NetCDF
def netcdf_bytes(query: Mapping[str, Any]) -> tuple[str, bytes]:
    """The map's grid as a NetCDF file: every observable, the regimes, the parameters and the command."""
    from qdthermo.paper._common import netcdf_engine

    spec, values, res, xname, xs, yname, ys, _ = _solve_map(query)
    ds = res.to_xarray(dims=(xname, yname), coords={xname: xs, yname: ys})
    if res.device.parallel_pair is not None:
        for flux, codes in res.regime.items():
            ds[f"regime_{flux}"] = ((xname, yname), np.asarray(codes, dtype=np.int8), {
                "units": "1", "long_name": f"response regime of {flux}",
                "flag_values": [int(r) for r in qd.Regime], "flag_meanings": " ".join(r.name for r in qd.Regime)})
    ds = ds.drop_vars([v for v in ds.data_vars if ds[v].dtype == bool]).assign(
        valid=((xname, yname), np.asarray(res.valid, dtype=np.int8) * np.ones((len(xs), len(ys)), np.int8),
               {"units": "1", "long_name": "1 where the point has a unique steady state"}))
    ds.attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in ds.attrs.items()
                if isinstance(v, (str, int, float, bool))}
    ds.attrs.update({"preset": spec.name, "source": "qdthermo explore",
                     "point_command": command(spec, values),
                     **{f"parameter_{k}": v for k, v in values.items()}})
    engine = netcdf_engine()
    buf = io.BytesIO()
    if engine == "scipy":
        ds.to_netcdf(buf, engine="scipy")
    else:
        ds.to_netcdf(buf, engine="h5netcdf")
    return f"qdthermo_{spec.name}_{xname}_{yname}.nc", buf.getvalue()

"""The Zarr store of a sweep: layout, identity check, completion record, opening.

Layout (Zarr format 3, uncompressed, readable with :func:`xarray.open_zarr`;
written without the ``zarr`` package, see :mod:`qdthermo.sweeps._rawzarr`):

* one array per observable, dims = the swept parameters, then the
  observable's own dims (``state``, ``lead``, ...); over the swept dims its
  Zarr chunk is exactly one sweep chunk (:attr:`Plan.chunk_shape`);
* the coordinates of the swept dims and the labels of the other dims;
* ``chunk_done`` (dim ``sweep_chunk``, bool): a chunk is marked only after
  all its data are written, by the process driving the sweep;
* root attributes: the solver's dataset attributes, the fixed parameters,
  and ``qdthermo_sweep_spec`` (JSON: preset, parameters, axes with a SHA-256
  of their values, chunking, qdthermo version, observables) with its SHA-256
  ``qdthermo_sweep_fingerprint``.

The layout is written to a sibling directory first and renamed into place,
so a store that exists is complete.  Zarr writes every chunk file
atomically (temporary file, then rename); temporary files left by a killed
run are removed on resume.  Nothing in the store depends on the order in
which chunks finish, so a resumed store is byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.sweeps._rawzarr import array_metadata, encode, group_metadata, raw_array, write_chunk_file, write_metadata
from qdthermo.sweeps._worker import Job, zarr_v3
from qdthermo.sweeps.plan import axis_attrs, canonical_json

__all__ = ["create_store", "describe_mismatch", "open_sweep", "read_done", "read_spec", "sweep_status",
           "write_done"]

DONE = "chunk_done"
SPEC_ATTR = "qdthermo_sweep_spec"
FINGERPRINT_ATTR = "qdthermo_sweep_fingerprint"
_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.partial$")


def dataset_attrs(job: Job, spec: dict[str, Any], fp: str) -> dict[str, Any]:
    """Dataset attributes: the solver's, the preset, the fixed parameters, the sweep identity."""
    attrs: dict[str, Any] = dict(job.schema.attrs)
    attrs["preset"] = job.plan.name
    names = []
    for name, value in job.plan.fixed().items():
        key = f"param_{name}" if name in attrs else name
        attrs[key] = value
        names.append(key)
    attrs["fixed_parameters"] = " ".join(names)
    attrs["swept_parameters"] = " ".join(job.plan.dims)
    attrs[SPEC_ATTR] = canonical_json(spec)
    attrs[FINGERPRINT_ATTR] = fp
    return attrs


def coords(job: Job, *, store: bool = False) -> dict[str, Any]:
    """Coordinates of a sweep's dataset: swept values, then the observables' labels.

    For a store, string labels are objects (Zarr's variable-length strings,
    which have a Zarr 3 specification; fixed-width ones do not).
    """
    out: dict[str, Any] = {a.name: (a.name, np.array(a.values), axis_attrs(a, job.plan.preset))
                           for a in job.plan.axes}
    for dim, (labels, at) in job.schema.labels.items():
        text = store and all(isinstance(v, str) for v in labels)
        out[dim] = (dim, np.array(labels, dtype=object if text else None), at)
    return out


def _compression() -> dict[str, Any]:  # pragma: no cover - Zarr 2 (Python 3.10)
    """LZ4 level 1 with byte shuffle, for the format 2 stores of Zarr 2 (format 3 stores are uncompressed)."""
    from numcodecs import Blosc

    return {"compressor": Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE)}


def create_store(path: Path, job: Job, attrs: dict[str, Any]) -> None:
    """Write the layout of a new store at ``path`` (built aside, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.creating"):  # left by a run killed while creating
        shutil.rmtree(stale, ignore_errors=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.creating")
    try:
        if zarr_v3():
            _write_layout(tmp, job, attrs)
        else:  # pragma: no cover - Zarr 2 (Python 3.10)
            _write_layout_xarray(tmp, job, attrs)
        try:
            os.rename(tmp, path)
        except OSError:
            if path.exists():
                raise ValueError(f"store {str(path)!r} was created by another process meanwhile; "
                                 "run one sweep per store at a time") from None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fill_attrs(dtype: np.dtype[Any]) -> tuple[Any, dict[str, Any]]:
    """Zarr fill value and CF ``_FillValue`` attribute of a variable, as :meth:`xarray.Dataset.to_zarr` writes them."""
    if dtype.kind == "f":
        return float("nan"), {"_FillValue": base64.standard_b64encode(np.array(np.nan, dtype=dtype).tobytes()).decode()}
    return None, {}


def _write_layout(tmp: Path, job: Job, attrs: dict[str, Any]) -> None:
    """The store's layout, written directly (no zarr, no xarray): the metadata :meth:`xarray.Dataset.to_zarr` writes.

    Coordinates and ``chunk_done`` are written with their values; every
    observable is an empty array (fill value) chunked as the sweep.  All
    arrays are uncompressed (see :mod:`qdthermo.sweeps._rawzarr` and
    ``docs/sweeps.md``: compression cost more than the rest of the writing).
    """
    plan = job.plan
    write_metadata(tmp, group_metadata(_plain_attrs(attrs)))

    def array(name: str, dims: tuple[str, ...], at: dict[str, Any], dt: np.dtype[Any], shape: tuple[int, ...],
              chunks: tuple[int, ...], values: NDArray[Any] | None = None) -> None:
        fill, extra = _fill_attrs(dt)
        if fill is None:
            fill = "" if dt.kind in "OUT" else np.zeros((), dt).item()
        write_metadata(tmp / name, array_metadata(shape, dt, chunks, fill, {**_plain_attrs(at), **extra}, dims))
        if values is not None:
            write_chunk_file(tmp / name / "c" / "0", encode(values))

    for name, (dim, values, at) in coords(job, store=True).items():
        values = np.asarray(values)
        array(name, (dim,), at, values.dtype, values.shape, values.shape, values)
    for f in job.schema.fields:
        array(f.name, plan.dims + f.dims, f.attrs, np.dtype(f.dtype), plan.shape + f.shape,
              plan.chunk_shape + f.shape)
    done = np.zeros(plan.n_chunks, dtype=bool)
    array(DONE, ("sweep_chunk",), {"long_name": "chunk finished and written (flat chunk index)"}, done.dtype,
          done.shape, done.shape, done)


def _plain_attrs(at: dict[str, Any]) -> dict[str, Any]:
    """Attributes as JSON values (NumPy scalars and arrays to Python)."""
    return json.loads(json.dumps(at, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def _write_layout_xarray(tmp: Path, job: Job, attrs: dict[str, Any]) -> None:  # pragma: no cover - Zarr 2
    """The store's layout through :meth:`xarray.Dataset.to_zarr` (Dask arrays, not computed)."""
    import dask.array as da
    import xarray as xr

    plan = job.plan
    data_vars: dict[str, Any] = {}
    encoding: dict[str, Any] = {}
    for f in job.schema.fields:
        shape = plan.shape + f.shape
        data_vars[f.name] = (plan.dims + f.dims, da.empty(shape, dtype=f.dtype, chunks=shape or ()), f.attrs)
        encoding[f.name] = {"chunks": plan.chunk_shape + f.shape, **_compression()}
    data_vars[DONE] = ("sweep_chunk", np.zeros(plan.n_chunks, dtype=bool),
                       {"long_name": "chunk finished and written (flat chunk index)"})
    encoding[DONE] = {"chunks": (plan.n_chunks,)}
    ds = xr.Dataset(data_vars, coords=coords(job, store=True), attrs=attrs)
    fmt: dict[str, Any] = {"zarr_format": 3} if zarr_v3() else {}
    ds.to_zarr(tmp, mode="w-", compute=False, consolidated=False, encoding=encoding, **fmt)


def read_spec(path: Path) -> tuple[dict[str, Any], str]:
    """Identity (spec, fingerprint) of the sweep store at ``path``.

    Raises
    ------
    ValueError
        If ``path`` is not a qdthermo sweep store.
    """
    if not Path(path).exists():
        raise ValueError(f"path: no sweep store at {str(path)!r} (nothing exists there)")
    try:
        if zarr_v3():  # the group's zarr.json, read directly
            attrs = json.loads((Path(path) / "zarr.json").read_text())["attributes"]
        else:  # pragma: no cover - Zarr 2 (Python 3.10)
            import zarr

            attrs = zarr.open_group(path, mode="r").attrs
        return json.loads(str(attrs[SPEC_ATTR])), str(attrs[FINGERPRINT_ATTR])
    except Exception:
        raise ValueError(f"{str(path)!r} exists and is not a qdthermo sweep store; "
                         "choose another path or remove it") from None


def _show(spec: dict[str, Any], value: Any) -> str:
    """A parameter value of a spec, swept ones as their range."""
    if isinstance(value, dict) and set(value) == {"axis"}:
        ax = next((a for a in spec.get("axes", []) if a["name"] == value["axis"]), None)
        if ax is None:  # pragma: no cover - malformed spec
            return f"swept {value['axis']}"
        return (f"swept, {ax['size']} values from {ax['first']!r} to {ax['last']!r}"
                f" (sha256 {ax['sha256'][:12]})")
    return repr(value)


def describe_mismatch(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between the spec of a store (``old``) and of a call (``new``)."""
    out: list[str] = []
    for key in ("format", "qdthermo_version", "preset"):
        if old.get(key) != new.get(key):
            out.append(f"{key}: store {old.get(key)!r}, now {new.get(key)!r}")

    def compare(label: str, a: Any, b: Any) -> None:
        if isinstance(a, dict) and isinstance(b, dict) and "axis" not in a and "axis" not in b:
            for k in list(a) + [k for k in b if k not in a]:
                compare(f"{label}[{k!r}]", a.get(k, "<not given>"), b.get(k, "<not given>"))
            return
        sa = _show(old, a) if a != "<not given>" else "not given"
        sb = _show(new, b) if b != "<not given>" else "not given"
        if sa != sb:
            out.append(f"parameter {label}: store {sa}, now {sb}")

    op, np_ = old.get("parameters", {}), new.get("parameters", {})
    for name in list(op) + [n for n in np_ if n not in op]:
        compare(name, op.get(name, "<not given>"), np_.get(name, "<not given>"))
    o_axes = [a["name"] for a in old.get("axes", [])]
    n_axes = [a["name"] for a in new.get("axes", [])]
    if not out and o_axes != n_axes:
        out.append(f"order of the swept parameters: store {o_axes}, now {n_axes}")
    for key in ("chunk_points", "chunk_shape", "observables"):
        if old.get(key) != new.get(key):
            out.append(f"{key}: store {old.get(key)!r}, now {new.get(key)!r}")
    return out or ["sweep description differs"]


def read_done(path: Path) -> NDArray[np.bool_]:
    """The ``chunk_done`` record of a store."""
    raw = raw_array(Path(path) / DONE) if zarr_v3() else None
    if raw is not None:
        return np.asarray(raw.read_all(), dtype=bool)
    import zarr

    return np.asarray(zarr.open_array(path, path=DONE, mode="r")[...], dtype=bool)


def write_done(path: Path, done: NDArray[np.bool_]) -> None:
    """Overwrite the ``chunk_done`` record (one small chunk file, replaced atomically)."""
    raw = raw_array(Path(path) / DONE) if zarr_v3() else None
    if raw is not None:
        raw.write((slice(0, done.size),), done)
        return
    import zarr

    zarr.open_array(path, path=DONE, mode="r+")[...] = done


def remove_partial_files(path: Path) -> int:
    """Remove temporary chunk files left by a killed writer; return how many."""
    n = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            if _PARTIAL.search(name):
                os.unlink(os.path.join(dirpath, name))
                n += 1
    return n


def sweep_status(store: str | os.PathLike[str]) -> dict[str, Any]:
    """Progress of a sweep store: ``{"chunks_done", "n_chunks", "complete", "fingerprint"}``.

    Parameters
    ----------
    store
        Path of the Zarr store written by :func:`qdthermo.sweep`.

    Returns
    -------
    dict
        ``chunks_done`` and ``n_chunks`` (int), ``complete`` (bool), ``fingerprint`` (str).

    Raises
    ------
    ValueError
        If ``store`` is not a sweep store.

    Examples
    --------
    >>> import os, tempfile, numpy as np, qdthermo as qd
    >>> from qdthermo.sweeps import sweep_status
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "dot.zarr")
    ...     _ = qd.sweep("single_dot", store=path, eps=np.linspace(-2, 2, 5), progress=False, scheduler="serial")
    ...     status = sweep_status(path)
    >>> status["chunks_done"], status["n_chunks"], status["complete"]
    (1, 1, True)
    """
    path = Path(store)
    _, fp = read_spec(path)
    done = read_done(path)
    return {"chunks_done": int(done.sum()), "n_chunks": int(done.size), "complete": bool(done.all()),
            "fingerprint": fp}


def open_sweep(store: str | os.PathLike[str]) -> Any:
    """Open a sweep store lazily (dask-backed) as an :class:`xarray.Dataset`.

    Values of chunks not yet finished read as NaN (0 for the integer
    regimes); :func:`sweep_status` tells whether the store is complete.

    Parameters
    ----------
    store
        Path of the Zarr store written by :func:`qdthermo.sweep`.

    Returns
    -------
    xarray.Dataset
        Every observable with its dimensions, coordinates, ``units`` and ``long_name``.

    Raises
    ------
    ValueError
        If ``store`` is not a sweep store.

    Examples
    --------
    >>> import os, tempfile, numpy as np, qdthermo as qd
    >>> from qdthermo.sweeps import open_sweep
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "dot.zarr")
    ...     _ = qd.sweep("single_dot", store=path, eps=np.linspace(-2, 2, 5), T={"L": 2.0, "R": 1.0},
    ...                  progress=False, scheduler="serial")
    ...     ds = open_sweep(path)
    ...     print(ds["heat_current"].dims, ds["heat_current"].attrs["units"])
    ...     print(bool((ds["entropy_production"] >= 0).all()))
    ('eps', 'lead') energy*rate
    True
    """
    import xarray as xr

    path = Path(store)
    spec, _ = read_spec(path)
    ds = xr.open_zarr(path, consolidated=False).drop_vars(DONE)
    ds = ds[[f[0] for f in spec["observables"]["fields"]]]  # the order of to_xarray
    # variable-length strings come back as objects: make the labels plain strings, as from to_xarray
    fix = {name: (name, np.array([str(v) for v in c.values]), c.attrs)
           for name, c in ds.coords.items() if c.dtype.kind in "OT"}
    return ds.assign_coords(fix) if fix else ds

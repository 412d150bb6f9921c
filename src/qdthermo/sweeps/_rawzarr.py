"""Zarr format 3 without the ``zarr`` package: metadata and uncompressed chunks, written and read directly.

A sweep store's arrays are uncompressed (codec ``bytes`` alone), so a chunk
file is the C-order bytes of the chunk, padded to the full chunk shape with
the fill value at the edges of the grid (the Zarr 3 regular chunk grid).
Writing those files directly costs half the CPU of a write through
zarr-python, and ``qdthermo sweep`` never imports ``zarr`` (~0.2 s).  String
coordinates use the ``vlen-utf8`` codec.  Chunk files are written as Zarr's
``LocalStore`` writes them: to ``<key>.<32 hex>.partial``, then renamed, so a
killed writer leaves no torn chunk (the partial files are removed on resume).

Stores made by earlier versions (compressed arrays) are written through
``zarr`` instead: :func:`raw_array` tells which arrays this module handles.
"""

from __future__ import annotations

import json
import math
import os
import struct
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RawArray", "array_metadata", "encode", "group_metadata", "raw_array", "write_chunk_file",
           "write_metadata"]

META = "zarr.json"


def _fill_json(dtype: np.dtype[Any], fill: Any) -> Any:
    """A fill value in the JSON spelling of Zarr 3."""
    if dtype.kind == "f":
        f = float(fill)
        return "NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity") if math.isinf(f) else f
    if dtype.kind == "b":
        return bool(fill)
    if dtype.kind in "iu":
        return int(fill)
    return str(fill)


def _data_type(dtype: np.dtype[Any]) -> str:
    """Zarr 3 data type name: ``float64``, ``int8``, ``bool``, ``string`` (variable-length UTF-8)."""
    if dtype.kind in "OUT":
        return "string"
    return "bool" if dtype.kind == "b" else dtype.name


def _bytes_codec(dtype: np.dtype[Any]) -> dict[str, Any]:
    if dtype.kind in "OUT":
        return {"name": "vlen-utf8", "configuration": {}}
    if dtype.itemsize == 1:
        return {"name": "bytes"}
    return {"name": "bytes", "configuration": {"endian": "little"}}


def group_metadata(attributes: dict[str, Any]) -> dict[str, Any]:
    """The ``zarr.json`` of a group."""
    return {"attributes": attributes, "zarr_format": 3, "node_type": "group"}


def array_metadata(shape: tuple[int, ...], dtype: np.dtype[Any], chunks: tuple[int, ...], fill: Any,
                   attributes: dict[str, Any], dims: tuple[str, ...]) -> dict[str, Any]:
    """The ``zarr.json`` of an uncompressed array (what ``zarr`` writes with ``compressors=None``)."""
    return {
        "shape": list(shape), "data_type": _data_type(dtype),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": _fill_json(dtype, fill), "codecs": [_bytes_codec(dtype)], "attributes": attributes,
        "dimension_names": list(dims), "zarr_format": 3, "node_type": "array", "storage_transformers": [],
    }


def write_metadata(node: Path, meta: dict[str, Any]) -> None:
    """Write ``node/zarr.json`` (the directory is made if needed)."""
    node.mkdir(parents=True, exist_ok=True)
    (node / META).write_text(json.dumps(meta, indent=2, allow_nan=False))


class RawArray:
    """An uncompressed Zarr 3 array of a local store: its chunk files written and read directly.

    Parameters
    ----------
    node
        Directory of the array (holding its ``zarr.json``).
    meta
        Its metadata (the parsed ``zarr.json``).
    """

    def __init__(self, node: Path, meta: dict[str, Any]) -> None:
        self.node = node
        self.shape = tuple(int(n) for n in meta["shape"])
        self.chunks = tuple(int(n) for n in meta["chunk_grid"]["configuration"]["chunk_shape"])
        self.dtype = np.dtype(meta["data_type"]).newbyteorder("<")
        fill = meta["fill_value"]
        self.fill = float(fill) if self.dtype.kind == "f" else fill

    def _key(self, index: tuple[int, ...]) -> Path:
        return self.node.joinpath("c", *(str(i) for i in index)) if index else self.node / "c"

    def write(self, block: tuple[slice, ...], values: NDArray[Any]) -> None:
        """Write ``values`` into ``block``: whole chunks of the leading dims, whole trailing dims.

        ``values`` may be any view (transposed, broadcast): it is copied once, into the
        C-order bytes of the full chunk (padded with the fill value at the grid's edge).
        """
        lead = len(block)
        index = tuple(s.start // c for s, c in zip(block, self.chunks)) + (0,) * (len(self.shape) - lead)
        edge = self.chunks[:lead] != tuple(s.stop - s.start for s in block)
        if edge:
            out = np.full(self.chunks, self.fill, dtype=self.dtype)
            out[tuple(slice(0, s.stop - s.start) for s in block)] = values
        else:
            out = np.ascontiguousarray(values, dtype=self.dtype)
            if out.shape != self.chunks:
                raise ValueError(f"chunk of shape {out.shape} for an array chunked {self.chunks}")
        write_chunk_file(self._key(index), out.data)

    def read_all(self) -> NDArray[Any]:
        """The whole array (fill value where a chunk was never written)."""
        out = np.full(self.shape, self.fill, dtype=self.dtype)
        grid = [range(-(-n // c)) for n, c in zip(self.shape, self.chunks)]
        for index in np.ndindex(*(len(g) for g in grid)):
            try:
                raw = self._key(index).read_bytes()
            except FileNotFoundError:
                continue
            chunk = np.frombuffer(raw, dtype=self.dtype).reshape(self.chunks)
            sl = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, self.chunks, self.shape))
            out[sl] = chunk[tuple(slice(0, s.stop - s.start) for s in sl)]
        return out


def raw_array(node: Path) -> RawArray | None:
    """The array at ``node`` if this module can write it (uncompressed, numeric, default keys), else None."""
    try:
        meta = json.loads((node / META).read_text())
    except (OSError, ValueError):
        return None
    codecs = meta.get("codecs", [])
    if (meta.get("zarr_format") != 3 or len(codecs) != 1 or codecs[0].get("name") != "bytes"
            or codecs[0].get("configuration", {}).get("endian", "little") != "little"
            or meta.get("chunk_key_encoding", {}).get("configuration", {}).get("separator") != "/"
            or meta.get("chunk_key_encoding", {}).get("name") != "default" or meta.get("storage_transformers")
            or meta.get("data_type") == "string"):
        return None
    return RawArray(node, meta)


def write_chunk_file(key: Path, data: Any) -> None:
    """Write one chunk file atomically (``<key>.<32 hex>.partial``, then renamed), as Zarr's LocalStore does."""
    key.parent.mkdir(parents=True, exist_ok=True)
    tmp = key.with_suffix(f".{uuid.uuid4().hex}.partial")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, key)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode(values: NDArray[Any]) -> bytes:
    """The chunk bytes of a 1-D array written whole: raw little-endian, or ``vlen-utf8`` for strings."""
    if values.dtype.kind in "OUT":
        items = [str(v).encode() for v in values.ravel()]
        return struct.pack("<I", len(items)) + b"".join(struct.pack("<I", len(b)) + b for b in items)
    return np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()

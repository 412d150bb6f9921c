"""Shared small sweeps and comparisons for the sweep tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

#: a small coupled-transport phase diagram (13 x 11 points)
PARAMS: dict[str, Any] = dict(F_E=np.linspace(-1.0, 0.5, 13), F_N=np.linspace(-2.0, 2.0, 11), eps_L=1.0, J=12.0)

#: identity attributes that legitimately differ between two chunkings
IDENTITY = ("qdthermo_sweep_spec", "qdthermo_sweep_fingerprint")


def assert_same_results(a: xr.Dataset, b: xr.Dataset, *, ignore_identity: bool = False) -> None:
    """Bit-for-bit equal variables and coordinates, equal attributes everywhere."""
    assert list(a.data_vars) == list(b.data_vars)
    assert dict(a.sizes) == dict(b.sizes)
    for name in list(a.variables):
        va, vb = a[name], b[name]
        assert va.dims == vb.dims, name
        x, y = np.asarray(va.values), np.asarray(vb.values)
        if x.dtype.kind in "OUT":
            assert [str(v) for v in x.ravel()] == [str(v) for v in y.ravel()], name
        else:
            assert x.dtype == y.dtype, name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
        assert va.attrs == vb.attrs, name
    skip = IDENTITY if ignore_identity else ()
    assert {k: v for k, v in a.attrs.items() if k not in skip} == {k: v for k, v in b.attrs.items() if k not in skip}


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Every file of a directory tree, relative path -> content."""
    out = {}
    for dirpath, _, files in os.walk(path):
        for name in files:
            full = Path(dirpath) / name
            out[str(full.relative_to(path))] = full.read_bytes()
    return out

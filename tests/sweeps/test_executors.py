"""Executors and the direct (uncompressed) chunk writes: edge chunks, the writer thread's errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

import qdthermo as qd
from qdthermo.sweeps import _worker, executors, sweep_status
from qdthermo.sweeps.plan import make_plan
from tests.sweeps.helpers import PARAMS, assert_same_results


def test_edge_chunks_are_padded_and_read_back_by_zarr(tmp_path: Path) -> None:
    """13 x 11 points in chunks of 2 x 11: the last chunk is padded to the full chunk shape."""
    path = tmp_path / "s.zarr"
    ds = qd.sweep(qd.coupled_transport, store=path, chunk_points=22, scheduler="serial", progress=False, **PARAMS)
    mem = qd.sweep(qd.coupled_transport, chunk_points=22, scheduler="serial", progress=False, **PARAMS)
    assert_same_results(ds.load(), mem, ignore_identity=True)
    meta = json.loads((path / "populations" / "zarr.json").read_text())
    assert meta["codecs"] == [{"name": "bytes", "configuration": {"endian": "little"}}]
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [2, 11, 4]
    assert (path / "populations" / "c" / "6" / "0" / "0").stat().st_size == 2 * 11 * 4 * 8  # padded edge chunk
    arr = zarr.open_array(path, path="populations", mode="r")
    np.testing.assert_array_equal(arr[...], mem.populations.values)


def test_writer_thread_errors_reach_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job: _worker.Job, k: int, data: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_worker, "write_chunk", broken)
    with pytest.raises(OSError, match="disk full"):
        qd.sweep(qd.coupled_transport, store=tmp_path / "s.zarr", chunk_points=22, scheduler="serial",
                 progress=False, **PARAMS)
    assert sweep_status(tmp_path / "s.zarr")["chunks_done"] == 0  # created by the writer thread, nothing marked


def test_small_grids_run_in_this_process() -> None:
    plan = make_plan(qd.coupled_transport, dict(PARAMS), 11)
    with executors.choose(plan, None, compiled=False) as ex:
        assert isinstance(ex, executors.Serial)
    with executors.choose(plan, None, compiled=True) as ex:
        assert isinstance(ex, executors.Serial)

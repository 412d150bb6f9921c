"""The Dask path (a local cluster standing in for a real one) gives the in-process results exactly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import qdthermo as qd
from qdthermo.sweeps import open_sweep
from tests.sweeps.helpers import PARAMS, assert_same_results, tree_bytes

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster


def test_dask_address_equals_in_process(cluster, tmp_path: Path) -> None:
    ref_path = tmp_path / "ref.zarr"
    ref = qd.sweep(qd.coupled_transport, store=ref_path, chunk_points=20, scheduler="serial", progress=False,
                   **PARAMS)
    path = tmp_path / "dask.zarr"
    ds = qd.sweep(qd.coupled_transport, store=path, chunk_points=20, scheduler=cluster.scheduler_address,
                  progress=False, **PARAMS)
    assert_same_results(ds.load(), ref.load())
    assert tree_bytes(path) == tree_bytes(ref_path)

    mem = qd.sweep(qd.coupled_transport, chunk_points=20, scheduler=cluster.scheduler_address, progress=False,
                   **PARAMS)  # results come back through the scheduler
    assert_same_results(mem, ref.load())


def test_dask_client_given_by_the_caller(cluster, tmp_path: Path) -> None:
    ref = qd.sweep(qd.coupled_transport, chunk_points=30, scheduler="serial", progress=False, **PARAMS)
    path = tmp_path / "s.zarr"
    with distributed.Client(cluster) as client:
        qd.sweep(qd.coupled_transport, store=path, chunk_points=30, scheduler=client, progress=False, **PARAMS)
        assert client.status == "running"  # a client given by the caller stays open
    assert_same_results(open_sweep(path).load(), ref)


def test_scheduler_local_starts_and_stops_a_cluster() -> None:
    ref = qd.sweep(qd.coupled_transport, chunk_points=40, scheduler="serial", progress=False, **PARAMS)
    ds = qd.sweep(qd.coupled_transport, chunk_points=40, scheduler="local", progress=False, **PARAMS)
    assert_same_results(ds, ref)

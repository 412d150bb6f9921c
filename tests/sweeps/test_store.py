"""Streaming into a Zarr store: same results, resume after Ctrl-C or SIGKILL bit for bit, refusal of other sweeps."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import qdthermo as qd
from qdthermo.sweeps import _worker, open_sweep, sweep_status
from qdthermo.sweeps._worker import zarr_v3
from qdthermo.sweeps.store import read_done
from tests.sweeps.helpers import PARAMS, assert_same_results, tree_bytes


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted store of PARAMS, 13 chunks of 11 points."""
    path = tmp_path_factory.mktemp("ref") / "ref.zarr"
    qd.sweep(qd.coupled_transport, store=path, chunk_points=11, scheduler="serial", progress=False, **PARAMS)
    return path


def test_store_equals_in_memory(reference: Path) -> None:
    mem = qd.sweep(qd.coupled_transport, chunk_points=11, progress=False, scheduler="serial", **PARAMS)
    ds = open_sweep(reference)
    assert_same_results(ds.load(), mem)
    assert sweep_status(reference) == {"chunks_done": 13, "n_chunks": 13, "complete": True,
                                       "fingerprint": ds.attrs["qdthermo_sweep_fingerprint"]}
    # the store is plain Zarr 3 that xarray reads without qdthermo
    raw = xr.open_zarr(reference, consolidated=False)
    assert raw.populations.dims == ("F_E", "F_N", "state")
    assert raw.populations.encoding["chunks"] == (1, 11, 4)


def test_ctrl_c_then_resume_is_bit_identical(tmp_path: Path, reference: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.zarr"
    original = _worker.compute_chunk
    calls: list[int] = []
    interrupt_at = [5]

    def interrupted(job, k):
        calls.append(k)
        if k == interrupt_at[0]:
            interrupt_at[0] = -1  # Ctrl-C once, while chunk 5 is computed
            raise KeyboardInterrupt
        return original(job, k)

    monkeypatch.setattr(_worker, "compute_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        qd.sweep(qd.coupled_transport, store=path, chunk_points=11, scheduler="serial", progress=False, **PARAMS)
    done = read_done(path)
    assert done.sum() == 5 and done[:5].all()  # what finished before Ctrl-C is recorded

    calls.clear()
    ds = qd.sweep(qd.coupled_transport, store=path, scheduler="serial", progress=False, **PARAMS)
    assert sorted(calls) == list(range(5, 13))  # finished chunks are not recomputed
    assert tree_bytes(path) == tree_bytes(reference)
    assert_same_results(ds.load(), open_sweep(reference).load())

    calls.clear()  # a complete store: nothing to do
    qd.sweep(qd.coupled_transport, store=path, progress=False, **PARAMS)
    assert calls == []


_KILL_PARAMS = dict(F_E=np.linspace(-1.0, 0.5, 60), F_N=np.linspace(-2.0, 2.0, 100), eps_L=1.0, J=12.0)

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import qdthermo as qd

    if __name__ == "__main__":
        qd.sweep(qd.coupled_transport, store=sys.argv[1], chunk_points=50, progress=False,
                 scheduler=None if sys.argv[2] == "default" else sys.argv[2],
                 F_E=np.linspace(-1.0, 0.5, 60), F_N=np.linspace(-2.0, 2.0, 100), eps_L=1.0, J=12.0)
""")


@pytest.fixture(scope="module")
def kill_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted store of the run that the kill tests interrupt (120 chunks)."""
    path = tmp_path_factory.mktemp("kill") / "ref.zarr"
    qd.sweep(qd.coupled_transport, store=path, chunk_points=50, scheduler="serial", progress=False, **_KILL_PARAMS)
    return path


def _some_chunk_done(path: Path) -> bool:
    """Whether the store at ``path`` records at least one finished chunk (False while it is being created)."""
    if not (path / "chunk_done").exists():
        return False
    try:
        return bool(read_done(path).any())
    except Exception:  # noqa: BLE001 - the record is being written; look again
        return False


def _interrupt(script: Path, path: Path, scheduler: str, sig: signal.Signals) -> int:
    """Run the sweep script, send ``sig`` once a chunk is recorded (SIGKILL to the driver, SIGINT to the group,
    as Ctrl-C in a terminal); its exit status (0: it finished before the signal arrived)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script), str(path), scheduler], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _some_chunk_done(path):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.005)
        if sig == signal.SIGKILL:
            proc.send_signal(sig)
        else:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        return int(proc.returncode)
    finally:
        if proc.poll() is None:  # pragma: no cover - only on failure
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.parametrize("scheduler", ["processes", "default"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_bit_identical(tmp_path: Path, kill_reference: Path, sig: signal.Signals,
                                          scheduler: str) -> None:
    """A run killed (SIGKILL to the driver only, or Ctrl-C to the group), then resumed.

    On the process pool, and in process (the default for this small grid: each chunk is written by a
    background thread while the next is computed).
    """
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    path = tmp_path / "s.zarr"
    for _attempt in range(3):  # a run that finished before the signal arrived (a loaded machine) is run again
        shutil.rmtree(path, ignore_errors=True)
        if _interrupt(script, path, scheduler, sig) != 0:
            break
    else:  # pragma: no cover - only on failure
        pytest.fail("the sweep finished before the signal three times")
    time.sleep(0.3)  # orphaned pool workers exit within 0.2 s of the driver's death
    done = read_done(path)
    assert 0 < done.sum() < done.size  # interrupted part-way

    ds = qd.sweep(qd.coupled_transport, store=path, progress=False,  # resumed as it ran
                  scheduler=None if scheduler == "default" else scheduler, **_KILL_PARAMS)
    assert tree_bytes(path) == tree_bytes(kill_reference)
    assert_same_results(ds.load(), open_sweep(kill_reference).load())


def test_leftover_temporary_files_are_removed(tmp_path: Path, reference: Path) -> None:
    import shutil

    path = tmp_path / "s.zarr"
    shutil.copytree(reference, path)
    if zarr_v3():  # Zarr 3 writes a chunk aside as <key>.<hex>.partial, then renames it
        partial = path / "populations" / "c" / "0" / f"0.{'ab' * 16}.partial"
        partial.write_bytes(b"torn write")
        qd.sweep(qd.coupled_transport, store=path, progress=False, **PARAMS)
        assert not partial.exists()
        assert tree_bytes(path) == tree_bytes(reference)

    stale = tmp_path / ".new.zarr.123.abcd1234.creating"  # a run killed while creating its store
    stale.mkdir()
    qd.sweep(qd.single_dot, store=tmp_path / "new.zarr", eps=[0.0, 1.0], progress=False)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.zarr", "s.zarr"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(eps_L=2.0), r"parameter eps_L: store 1\.0, now 2\.0"),
        (dict(J=None), r"parameter J: store 12\.0, now not given"),
        (dict(U=0.5), r"parameter U: store not given, now 0\.5"),
        (dict(F_E=np.linspace(-1.0, 0.4, 13)),
         r"parameter F_E: store swept, 13 values from -1\.0 to 0\.5 .*, now swept, 13 values from -1\.0 to 0\.4"),
        (dict(F_N=0.0), r"parameter F_N: store swept, 11 values .*, now 0\.0"),
        (dict(chunk_points=12), r"chunk_points: store 11, now 12"),
    ],
)
def test_store_of_another_sweep_is_refused(reference: Path, change: dict, match: str) -> None:
    before = tree_bytes(reference)
    kwargs = {**PARAMS, **change}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    with pytest.raises(ValueError, match=rf"store '.*ref\.zarr' was made with different sweep arguments.*{match}"):
        qd.sweep(qd.coupled_transport, store=reference, progress=False, **kwargs)
    assert tree_bytes(reference) == before


def test_swapped_axis_order_and_other_preset_are_refused(reference: Path) -> None:
    swapped = {"F_N": PARAMS["F_N"], "F_E": PARAMS["F_E"], "eps_L": 1.0, "J": 12.0}
    order = r"order of the swept parameters: store \['F_E', 'F_N'\], now \['F_N', 'F_E'\]"
    with pytest.raises(ValueError, match=order):
        qd.sweep(qd.coupled_transport, store=reference, progress=False, **swapped)
    with pytest.raises(ValueError, match=r"preset: store 'coupled_transport', now 'single_dot'"):
        qd.sweep(qd.single_dot, store=reference, progress=False, eps=[0.0, 1.0])


def test_existing_empty_directory_is_a_new_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ds = qd.sweep(qd.single_dot, store=tmp_path / "empty", eps=[0.0, 1.0], scheduler="serial", progress=False)
    assert sweep_status(tmp_path / "empty")["complete"] and ds.sizes["eps"] == 2


def test_path_that_is_not_a_sweep_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("not a store")  # an empty directory is accepted (above)
    with pytest.raises(ValueError, match=r"'.*notes' exists and is not a qdthermo sweep store"):
        qd.sweep(qd.single_dot, store=tmp_path / "notes", eps=[0.0], progress=False)
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_zarr(tmp_path / "other.zarr", zarr_format=3 if zarr_v3() else 2,
                                                          consolidated=False)
    with pytest.raises(ValueError, match=r"is not a qdthermo sweep store"):
        qd.sweep(qd.single_dot, store=tmp_path / "other.zarr", eps=[0.0], progress=False)


def test_missing_store_is_named_as_missing(tmp_path: Path) -> None:
    for read in (open_sweep, sweep_status):
        with pytest.raises(ValueError, match=r"path: no sweep store at '.*absent.zarr' \(nothing exists there\)"):
            read(tmp_path / "absent.zarr")

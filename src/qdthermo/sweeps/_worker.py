"""The work done for one chunk: rebuild its arguments, solve, export, write.

Runs in the calling process, in the local process pool or on Dask workers;
everything it needs travels in one small picklable :class:`Job`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.sweeps._rawzarr import RawArray, raw_array
from qdthermo.sweeps.plan import Plan, preset_function

__all__ = ["Field", "Job", "Schema", "compute_chunk", "probe", "run_chunk", "write_chunk"]

#: private name of the flat point dimension while a chunk is solved
_POINT = "__point__"


def _plain(value: Any) -> Any:
    """An attribute value as plain JSON-able Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Field:
    """One observable: the grid dims, then ``dims`` of shape ``shape`` (``state``, ``lead``, ...)."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: str
    attrs: dict[str, Any]


@dataclass(frozen=True)
class Schema:
    """Layout of the results, learnt by solving the first grid point (:func:`probe`).

    Attributes
    ----------
    fields
        The observables, in the order of :meth:`~qdthermo.thermo.result.SteadyState.to_xarray`.
    labels
        dim -> (labels, attrs) of the observables' own dims (``state``, ``lead``, ...).
    attrs
        Dataset attributes from ``to_xarray``.
    """

    fields: tuple[Field, ...]
    labels: dict[str, tuple[list[Any], dict[str, Any]]]
    attrs: dict[str, Any]

    def spec(self) -> dict[str, Any]:
        """JSON-able summary that enters the sweep identity."""
        return {"fields": [[f.name, list(f.dims), list(f.shape), f.dtype] for f in self.fields],
                "labels": {d: [str(v) for v in vals] for d, (vals, _) in self.labels.items()}}

    def bytes_per_point(self) -> int:
        """Bytes of results per grid point (uncompressed)."""
        return sum(math.prod(f.shape) * np.dtype(f.dtype).itemsize for f in self.fields)


@dataclass(frozen=True)
class Job:
    """A plan, its schema, where the results go (``store=None``: back to the caller) and the steady-state route."""

    plan: Plan
    schema: Schema
    store: str | None = None
    run_id: str = ""
    method: str = "auto"


def _solve(plan: Plan, start: int, stop: int, method: str = "auto") -> Any:
    """Solve the flat points ``start..stop-1``; their variables, labels and attributes as plain NumPy.

    The variables are those of :meth:`~qdthermo.thermo.result.SteadyState.to_xarray` (same names,
    order, dims, dtypes and attributes), each ``(n_points, *field shape)``; no xarray is imported.
    """
    from qdthermo.thermo.solver import solve

    result = solve(preset_function(plan.preset)[1](**plan.kwargs_for(start, stop)), method=method)
    scalar = result.shape == ()  # no swept parameter: one point
    variables, labels, attrs = result._export_parts(() if scalar else (_POINT,))
    if scalar:
        variables = {name: ((_POINT, *dims), np.asarray(arr)[None], at) for name, (dims, arr, at) in variables.items()}
    return variables, labels, attrs


def probe(plan: Plan, method: str = "auto") -> Schema:
    """Solve the first grid point to learn the observables (names, dims, dtypes, attributes).

    ``method`` is the steady-state route of the chunks: the probe takes the same one, so
    that its dtypes, shapes and attributes (``steady_state_route``) are those of every chunk.
    """
    variables, labels, attrs = _solve(plan, 0, 1, method)
    fields = tuple(
        Field(str(name), tuple(str(d) for d in dims[1:]), tuple(int(n) for n in arr.shape[1:]),
              np.dtype(arr.dtype).str, _plain(dict(at)))
        for name, (dims, arr, at) in variables.items()
    )
    used = [d for dims, _, _ in variables.values() for d in dims[1:]]
    order = list(dict.fromkeys([*used, *labels]))  # the dims of the dataset to_xarray would build
    return Schema(fields, {d: (_plain(list(labels[d][1])), _plain(dict(labels[d][2]))) for d in order if d in labels},
                  _plain(dict(attrs)))


def compute_chunk(job: Job, k: int) -> dict[str, NDArray[Any]]:
    """Results of chunk ``k``: one ``(*block, *field.shape)`` array per observable.

    The arrays are views where possible (the compiled route's results are point-last:
    transposed views); whoever stores them copies them once (:func:`write_chunk`, the
    in-memory result, pickling to the driver).
    """
    plan = job.plan
    start, stop = plan.chunk_range(k)
    variables, _, _ = _solve(plan, start, stop, job.method)
    block = tuple(s.stop - s.start for s in plan.chunk_slices(k))
    out: dict[str, NDArray[Any]] = {}
    for f in job.schema.fields:
        arr = variables[f.name][1]
        if arr.shape[1:] != f.shape:
            raise ValueError(f"chunk {k}: observable {f.name!r} has shape {arr.shape[1:]} per point, "
                             f"expected {f.shape}")
        out[f.name] = arr.astype(f.dtype, copy=False).reshape(block + f.shape)
    return out


def zarr_v3() -> bool:
    """Whether Zarr 3 is installed: on Python >= 3.11 (the dependency pins of ``pyproject.toml``).

    Zarr 2 (format 2 stores) otherwise.  Decided without importing ``zarr`` (~0.2 s).
    """
    return sys.version_info >= (3, 11)


#: the store's arrays of the current run, opened once per process: run id, then name -> RawArray
#: (uncompressed: written directly) or zarr AsyncArray (a store of an earlier version)
_ARRAYS: dict[str, Any] = {}
_ARRAYS_LOCK = threading.Lock()


def _arrays(job: Job) -> dict[str, Any]:
    assert job.store is not None
    with _ARRAYS_LOCK:
        if _ARRAYS.get("run_id") != job.run_id:
            _ARRAYS.clear()
            _ARRAYS.update({f.name: raw_array(Path(job.store) / f.name) for f in job.schema.fields})
            if any(a is None for a in _ARRAYS.values()):
                from zarr.api.asynchronous import open_array
                from zarr.core.sync import sync

                for name in [n for n, a in _ARRAYS.items() if a is None]:
                    _ARRAYS[name] = sync(open_array(store=job.store, path=name, mode="r+",
                                                    config={"write_empty_chunks": True}))
            _ARRAYS["run_id"] = job.run_id
        return dict(_ARRAYS)


@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """Context: BLAS on one thread while a chunk is computed.

    The solver's matrix products are many small ones; OpenBLAS threads (which
    spin while waiting) then only contend with the other workers of the sweep:
    one thread per worker gave 2.5x the throughput on 2 cores.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def run_chunk(job: Job, k: int) -> tuple[int, dict[str, NDArray[Any]] | None]:
    """Compute chunk ``k``; write it into the store (one Zarr chunk per variable) or return it."""
    with _one_blas_thread():
        data = compute_chunk(job, k)
    if job.store is None:
        return k, data
    write_chunk(job, k, data)
    return k, None


def write_chunk(job: Job, k: int, data: dict[str, NDArray[Any]]) -> None:
    """Write chunk ``k`` into the store: one Zarr chunk file per variable.

    Uncompressed arrays (every store of this version) are written directly, one
    file each (:class:`~qdthermo.sweeps._rawzarr.RawArray`: one copy into the chunk's
    C-order bytes, no ``zarr``).  The arrays of a compressed store (made by an earlier
    version, being resumed) are written through Zarr, concurrently, in one trip to its
    event loop.  Thread-safe: the in-process executor writes from a background thread
    while the next chunk is computed.
    """
    import asyncio

    assert job.store is not None
    sl = job.plan.chunk_slices(k)
    if not zarr_v3():  # Zarr 2 (Python 3.10): one synchronous write per variable
        import zarr

        group: Any = zarr.open_group(job.store, mode="r+")
        for name, arr in data.items():
            group[name][sl] = arr
        return

    arrays = _arrays(job)
    others = {}
    for name, arr in data.items():
        if isinstance(arrays[name], RawArray):
            arrays[name].write(sl, arr)
        else:
            others[name] = np.ascontiguousarray(arr)
    if not others:
        return
    from zarr.core.sync import sync

    async def write() -> None:
        await asyncio.gather(*(arrays[name].setitem(sl, arr) for name, arr in others.items()))

    sync(write())


# ------------------------------------------------------------ process pool
def _watch_driver(driver: int, ppid: int) -> None:  # pragma: no cover - runs in pool workers
    """Exit when the driver dies: after a SIGKILL, pool workers would otherwise wait forever."""
    while True:
        time.sleep(0.2)
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
        if os.getppid() != ppid:
            os._exit(1)


#: glibc's mallopt parameters and defaults (``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``: 128 KiB each)
_M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD, _GLIBC_DEFAULT = -3, -1, 128 << 10


def _libc() -> Any:
    """glibc through ctypes, or None (another C library, or not Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - glibc has it
        libc.malloc_trim  # noqa: B018
        return libc
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None


def keep_freed_memory() -> None:
    """glibc: serve the chunk's arrays from the heap and keep freed memory for the next chunk.

    Otherwise every large temporary is a fresh ``mmap`` whose pages fault in
    again on each chunk (15-30% of a worker's CPU time; a third of the compiled
    route's).  Peak memory is unchanged: it is reached on the first chunk either
    way.  Called in worker processes that the sweep owns, and in this process
    for the duration of an in-process sweep (:func:`freed_memory_kept`).
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 512 << 20)


@contextlib.contextmanager
def freed_memory_kept() -> Iterator[None]:
    """Context: :func:`keep_freed_memory` in this process, then glibc's defaults again and the heap trimmed.

    The chunks computed in this process (the compiled route's) reuse the memory
    of the previous chunk instead of faulting fresh pages in (0.2 us of system
    time per point, 40% of the compute).  On leaving, the thresholds return to
    glibc's default values and the memory kept is given back to the system.
    """
    libc = _libc()
    if libc is None:  # pragma: no cover - not glibc
        yield
        return
    keep_freed_memory()
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT)
        libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_DEFAULT)
        libc.malloc_trim(0)


def single_threaded_codecs() -> None:
    """One compression thread per worker: the pool already runs one worker per core."""
    try:
        import numcodecs.blosc

        numcodecs.blosc.set_nthreads(1)
    except ImportError:  # pragma: no cover - Blosc comes with zarr
        pass


def init_pool_worker(driver: int) -> None:  # pragma: no cover - runs in pool workers
    """Pool initializer: leave Ctrl-C to the driver, exit with the driver, tune malloc, one compute thread.

    The pool already runs one worker per core: a compiled kernel in a worker
    runs on one thread (``NUMBA_NUM_THREADS``, read when Numba is first imported).
    """
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_driver, args=(driver, os.getppid()), daemon=True).start()
    keep_freed_memory()
    single_threaded_codecs()


def warm_up(plan: Plan) -> None:  # pragma: no cover - runs in pool workers
    """Solve the first point once, so that lazy imports and caches are ready for the first chunk."""
    _solve(plan, 0, 1)

"""``qd.sweep``: a preset on the outer-product grid of its array arguments, in chunks, locally or on Dask."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.sweeps import _worker, executors
from qdthermo.sweeps._worker import Job
from qdthermo.sweeps.plan import Plan, fingerprint, make_plan
from qdthermo.sweeps.store import (
    coords,
    create_store,
    dataset_attrs,
    describe_mismatch,
    open_sweep,
    read_done,
    read_spec,
    remove_partial_files,
    write_done,
)

__all__ = ["sweep", "write_sweep"]

#: seconds between two writes of the ``chunk_done`` record
_DONE_FLUSH_S = 0.25


def sweep(
    preset: str | Callable[..., Any],
    *,
    store: str | os.PathLike[str] | None = None,
    chunk_points: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    **params: Any,
) -> Any:
    """Solve a preset on the outer-product grid of its array-valued parameters.

    Every 1-D array-like parameter becomes a dimension of the result (outer
    product, in the order given; the first varies slowest); scalars and
    strings stay fixed.  A dict-valued parameter may hold swept entries:
    ``T={"t": np.linspace(1, 2, 5), "b": 1.0, "r": 1.0}`` gives a dimension
    ``T_t``.

    Parameters
    ----------
    preset
        A registered preset (``qd.coupled_transport``, ``qd.three_terminal``,
        ``qd.single_dot``, ``qd.sanchez_buttiker``, or its name as a string)
        or any function that returns a :class:`~qdthermo.model.device.Device`
        from keyword arguments: ``qd.sweep(my_device, a=np.linspace(0.5, 1.5,
        7), b=[0.0, 1.0], scheduler="serial")`` gives dims ``a``, ``b``.  The
        function travels to the workers by pickling: with the default process
        pool or Dask it must be defined at module level in an importable
        module (or in the script run as ``__main__`` under the
        ``if __name__ == "__main__":`` guard); a lambda or a nested function
        needs ``scheduler="serial"``.
    store
        Path of a Zarr store to stream the results into.  If it exists and
        was made with the same arguments, the sweep resumes: finished chunks
        are skipped, and the final store is byte-identical to that of an
        uninterrupted run.  A store made with other arguments is refused
        (``ValueError`` naming what differs).  Without a store the result is
        assembled in memory.
    chunk_points
        Points per chunk (default 65536, or 131072 where the compiled route
        solves the chunks; when resuming, the store's).  A
        chunk is a block of the grid whose trailing dimensions are whole.
    scheduler
        ``None`` (default): one worker process per local core, except for
        grids of fewer than 400 000 points, which run in this process
        (starting workers would cost more than they gain), and for chunks
        solved by the compiled route (it runs on every core itself);
        ``"processes"``:
        one worker process per local core whatever the grid; ``"serial"``:
        in this process; ``"local"``: a new Dask ``LocalCluster``; any other
        string: the address of a running Dask scheduler
        (``"tcp://host:8786"``); or a ``distributed.Client``.  On a cluster
        the store path must be visible to every worker (shared filesystem).
    progress
        Show a progress bar (points done, rate, ETA) on stderr.
    **params
        Arguments of the preset.

    Returns
    -------
    xarray.Dataset
        Dims named after the swept parameters (coordinates with ``units``
        and ``long_name``), then the observables' own dims (``state``,
        ``lead``, ``channel``, ``force``, ``flux``); every variable of
        :meth:`~qdthermo.thermo.result.SteadyState.to_xarray`.  Fixed
        parameters are attributes (``fixed_parameters`` lists them).  With a
        store, the dataset is opened lazily from it.

    Raises
    ------
    ValueError
        Unknown preset or parameter; a function that does not return a
        Device; a function that cannot be sent to worker processes; a Dask
        scheduler address that does not answer within 3 s; a value the preset refuses (each axis is
        checked against the fixed parameters before any work; a bad
        combination of two swept values fails when its chunk is solved); a
        store made with other arguments; an in-memory result larger than
        half the RAM.

    Notes
    -----
    Peak memory does not depend on the grid size: a worker holds one chunk
    (about 1.6 kB per point while solving and writing), the driver the axis
    values and one byte per chunk.  With a store the total is about
    ``0.25 GiB + n_workers x (0.11 GiB + 1.6 kB x chunk_points)``, ~0.7 GiB
    on 2 cores at the default ``chunk_points``; without a store the result
    (~300 B per point) comes on top.  See ``docs/sweeps.md``.  Scripts using
    the default process pool must guard their entry point with
    ``if __name__ == "__main__":``, as for any multiprocessing code.

    Examples
    --------
    Five levels of a thermoelectric dot, in memory (``scheduler="serial"``:
    no worker processes for a grid this small):

    >>> import numpy as np, qdthermo as qd
    >>> ds = qd.sweep(qd.single_dot, eps=np.linspace(-2, 2, 5), T={"L": 2.0, "R": 1.0},
    ...               progress=False, scheduler="serial")
    >>> ds["particle_current"].dims, ds["eps"].attrs["units"]
    (('eps', 'lead'), 'energy')
    >>> bool((ds["entropy_production"] >= 0).all())
    True

    Into a resumable Zarr store (running it again resumes or reopens it):

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = qd.sweep("single_dot", store=os.path.join(tmp, "dot.zarr"), eps=np.linspace(-2, 2, 5),
    ...                   progress=False, scheduler="serial")
    ...     print(dict(ds.sizes)["eps"])
    5
    """
    result = write_sweep(preset, store=store, chunk_points=chunk_points, scheduler=scheduler, progress=progress,
                         **params)
    return result if store is None else open_sweep(store)


def write_sweep(
    preset: str | Callable[..., Any],
    *,
    store: str | os.PathLike[str] | None = None,
    chunk_points: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    **params: Any,
) -> Any:
    """:func:`sweep` without opening the store at the end (``qdthermo sweep`` needs no xarray).

    Returns
    -------
    xarray.Dataset or dict
        Without a store, the dataset of :func:`sweep`; with a store, ``{swept dim: size}``.
    """
    if _bootstrapping_worker():  # a worker importing an unguarded script: stop it quietly, the driver explains
        raise SystemExit(1)
    path = Path(store) if store is not None else None
    existing = read_spec(path) if path is not None and _exists(path) else None
    if existing is not None and chunk_points is None:
        chunk_points = existing[0].get("chunk_points")
    if chunk_points is None:
        chunk_points = _default_chunk_points(make_plan(preset, params, None))
    plan = make_plan(preset, params, chunk_points)
    _validate_axes(plan)
    finished = path is not None and existing is not None and bool(read_done(path).all())
    compiled = _use_compiled(plan)
    # worker processes (if any) start while the driver probes and prepares the store
    with executors.Serial() if finished else executors.choose(plan, scheduler, compiled) as ex:
        method = "compiled" if compiled else "auto"
        schema = _worker.probe(plan, method)  # the chunks' route: the same variables, dtypes and attributes
        spec = {**plan.spec(), "observables": schema.spec()}
        fp = fingerprint(spec)
        job = Job(plan, schema, None if path is None else str(path), uuid.uuid4().hex, method)
        attrs = dataset_attrs(job, spec, fp)

        if path is None:
            need = plan.n_points * schema.bytes_per_point()
            mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            if need > mem // 2:
                raise ValueError(f"the result needs {need / 2**30:.1f} GiB in memory (more than half of the "
                                 f"{mem / 2**30:.1f} GiB of RAM); pass store=PATH to stream it to disk")
            arrays = {f.name: np.empty(plan.shape + f.shape, dtype=f.dtype) for f in schema.fields}

            def add(k: int, data: Any) -> None:
                sl = plan.chunk_slices(k)
                for name, arr in data.items():
                    arrays[name][sl] = arr

            _run(ex, job, np.zeros(plan.n_chunks, dtype=bool), progress, add, lambda: None, None)
            import xarray as xr

            data_vars = {f.name: (plan.dims + f.dims, arrays[f.name], f.attrs) for f in schema.fields}
            return xr.Dataset(data_vars, coords=coords(job), attrs=attrs)

        prepare: Callable[[], None] | None = None
        if existing is not None:
            old, old_fp = existing
            if old_fp != fp:
                raise ValueError(f"store {str(path)!r} was made with different sweep arguments and is not "
                                 "reused: " + "; ".join(describe_mismatch(old, spec))
                                 + ". Use another store path or remove the old store.")
            remove_partial_files(path)
            done = read_done(path)
        else:  # created by the executor (a writer thread) while the first chunk is computed
            store_path = path

            def prepare() -> None:
                create_store(store_path, job, attrs)

            done = np.zeros(plan.n_chunks, dtype=bool)

        last = [time.monotonic(), False]  # time of the last flush, anything to flush

        def flush() -> None:
            if last[1]:
                write_done(path, done)
                last[:] = [time.monotonic(), False]

        def mark(k: int, data: Any) -> None:
            done[k] = True
            last[1] = True
            if time.monotonic() - last[0] >= _DONE_FLUSH_S:
                flush()

        _run(ex, job, done.copy(), progress, mark, flush, prepare)
    return dict(zip(plan.dims, plan.shape))


def _exists(path: Path) -> bool:
    """Whether ``path`` holds something: an empty directory is a new store."""
    if path.is_dir():
        return any(path.iterdir())
    return path.exists()


def _bootstrapping_worker() -> bool:
    """Whether this process is a spawned worker still importing the parent's ``__main__``.

    A spawned worker has imported :mod:`multiprocessing` already; elsewhere it is not imported for this.
    """
    mp = sys.modules.get("multiprocessing")
    return mp is not None and bool(getattr(mp.current_process(), "_inheriting", False))


#: networks with more states than this are swept one point per task (each point is a sparse solve)
LARGE_NETWORK_STATES = 256


#: default points per chunk where the chunks are solved by the compiled route (it runs large batches best)
COMPILED_CHUNK_POINTS = 1 << 17

#: grids with at least this many points are solved by the compiled route where it is available
COMPILED_MIN_POINTS = 400_000


def _default_chunk_points(plan: Plan) -> int | None:
    """One point per chunk for large networks (the first point's device tells the size), else the default.

    Where the steady-state route ``"auto"`` takes the compiled route for a
    chunk of :data:`COMPILED_CHUNK_POINTS` points (Numba available, a small
    network), chunks are that large, so that every chunk is solved there.
    """
    try:
        device = plan.function(**plan.kwargs_for(0, 1))
        dots = device.dots
    except Exception:  # not a device, or bad parameters: the probe reports it with its own message
        return None
    if 2 ** len(dots) > LARGE_NETWORK_STATES:
        return 1
    return COMPILED_CHUNK_POINTS if _use_compiled(plan) else None


def _use_compiled(plan: Plan) -> bool:
    """Whether the chunks are solved by the compiled route (``qd.solve(..., method="compiled")``).

    For grids of at least :data:`COMPILED_MIN_POINTS` points whose device the
    route ``"auto"`` would give to the compiled route in a large batch (Numba
    available, 2..256 states).  ``"auto"`` takes it only from 10^6 points per
    call, where one call amortises the one-off cost (Numba's import, the
    compiled code's load); a sweep pays it once for all its chunks.  The route
    runs on every core (Numba threads): the sweep then computes in this
    process, writing each chunk while the next is computed.
    """
    from qdthermo.kinetics import steady

    threshold = getattr(steady, "COMPILED_MIN_POINTS", None)
    if threshold is None or plan.n_points < COMPILED_MIN_POINTS:
        return False
    from qdthermo.kinetics.network import network

    try:
        device = plan.function(**plan.kwargs_for(0, 1))
        return bool(steady.choose_route(network(device.finalized()), threshold) == "compiled")
    except Exception:  # noqa: BLE001 - any doubt: the NumPy routes
        return False


def _validate_axes(plan: Plan) -> None:
    """Build the device along each axis (the others at their first value) so that bad values fail now."""
    from qdthermo.model.device import Device

    func = plan.function
    device = func(**plan.kwargs_for(0, 1))
    if not isinstance(device, Device):
        raise ValueError(f"{plan.name} returned {type(device).__name__}, not a qdthermo Device: qd.sweep needs "
                         "a preset or a function that builds a qd.Device from its keyword arguments")
    for i, axis in enumerate(plan.axes):
        for a in range(1, axis.size, plan.chunk_points):
            func(**plan.axis_kwargs(i, axis.values[a:a + plan.chunk_points]))


# ------------------------------------------------------------- executors
def _run(ex: Any, job: Job, done: NDArray[np.bool_], progress: bool, add: Callable[[int, Any], None],
         flush: Callable[[], None], prepare: Callable[[], None] | None) -> None:
    """Run the chunks not ``done`` on ``ex``; hand each result to ``add``; ``flush`` at the end or on Ctrl-C.

    ``prepare`` (the store's creation, or None) runs before the first chunk is written, on the
    executor (in this process: on the writer thread, while the first chunk is computed).
    """
    plan = job.plan
    pending = [int(k) for k in np.flatnonzero(~done)]
    if not pending:
        if prepare is not None:
            prepare()
        return
    if progress:
        from tqdm import tqdm
    else:  # no bar: no tqdm import
        tqdm = _NoBar

    def size(k: int) -> int:
        a, b = plan.chunk_range(k)
        return b - a

    initial = plan.n_points - sum(size(k) for k in pending)
    with tqdm(total=plan.n_points, initial=initial, unit="pt", unit_scale=True, desc="sweep",
              disable=not progress, file=sys.stderr, smoothing=0.1, dynamic_ncols=True) as bar:
        try:
            for k, data in ex.run(job, pending, prepare):
                add(k, data)
                bar.update(size(k))
        except KeyboardInterrupt:
            for k, data in ex.drain():
                add(k, data)
            raise
        finally:
            flush()


class _NoBar:
    """What :func:`_run` uses of a ``tqdm`` bar, doing nothing (``progress=False``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        """Nothing to show."""

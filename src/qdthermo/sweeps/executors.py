"""Where the chunks of a sweep run: this process, a pool of local worker processes, or a Dask cluster.

:func:`choose` picks the executor from the grid: in this process (:class:`Serial`) for
grids of fewer than :data:`POOL_MIN_POINTS` points, where starting worker processes
(~1 s) costs more than it gains, and for chunks solved by the compiled route (it already
runs on every core); else one worker process per core (:class:`Pool`), which starts
in the background while the driver probes the grid and creates the store.  In this
process, a writer thread creates the store while the first chunk is computed, then
writes each chunk while the next is computed (a bounded queue: at most
:data:`_WRITES_IN_FLIGHT` chunks wait for their write).

Every executor reports a chunk (``run`` yields it) only once its data are written,
so an interruption loses nothing and marks nothing unwritten.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from qdthermo.model.registry import format_value
from qdthermo.sweeps import _worker
from qdthermo.sweeps._worker import Job
from qdthermo.sweeps.plan import Plan

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["POOL_MIN_POINTS", "Dask", "Pool", "Serial", "choose", "n_cores"]

#: what an executor runs before the first chunk is written (the store's creation), or None
Prepare = Callable[[], None] | None

def n_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)



#: seconds to wait for a Dask scheduler given by address
CONNECT_TIMEOUT_S = 3.0

_GUARD = ("the worker processes of the sweep could not start: a script that calls qd.sweep with the default "
          "process pool must guard its entry point with 'if __name__ == \"__main__\":' (the workers import "
          "the script again), or pass scheduler=\"serial\"")


def check_picklable(plan: Plan) -> None:
    """A user's device function must reach the worker processes."""
    import pickle

    func = plan.preset
    if isinstance(func, str):
        return
    name = plan.name
    problem = None
    try:
        pickle.dumps(func)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        problem = str(exc) or type(exc).__name__
    main = sys.modules.get("__main__")
    if problem is None and getattr(func, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
        problem = "it is defined in an interactive session, which worker processes cannot import"
    if problem is not None:
        raise ValueError(f"the device function {name} cannot be sent to worker processes ({problem}); define "
                         "it at module level in an importable module, or pass scheduler=\"serial\"")



# ------------------------------------------------------------- executors
class Serial:
    """Chunks in this process; with a store, a writer thread creates it, then writes each chunk as the next is computed.

    The writer thread takes chunks from a bounded queue: the computing thread
    waits while :data:`_WRITES_IN_FLIGHT` chunks are handed over and not yet
    written (memory: one chunk each).  A chunk is reported only once written;
    an error of the writer (the store's creation included) is raised in the
    computing thread at the next chunk.
    """

    def __init__(self) -> None:
        self.todo: queue.Queue[tuple[int, Any] | None] = queue.Queue(maxsize=_WRITES_IN_FLIGHT)
        self.written: queue.SimpleQueue[tuple[int, BaseException | None]] = queue.SimpleQueue()
        self.in_flight = 0
        self.writer: threading.Thread | None = None

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self, job: Job, prepare: Prepare) -> None:
        self.writer = threading.Thread(target=self._write_loop, args=(job, prepare), daemon=True,
                                       name="qdthermo-sweep-writer")
        self.writer.start()

    def _write_loop(self, job: Job, prepare: Prepare) -> None:
        failed: BaseException | None = None
        try:
            if prepare is not None:
                prepare()
        except BaseException as exc:  # noqa: BLE001 - handed to the computing thread
            failed = exc
        while (item := self.todo.get()) is not None:
            k, data = item
            if failed is None:
                try:
                    _worker.write_chunk(job, k, data)
                except BaseException as exc:  # noqa: BLE001 - handed to the computing thread
                    failed = exc
                    self.written.put((k, exc))
                    continue
            del item, data
            self.written.put((k, failed))

    def _stop(self) -> None:
        if self.writer is not None:
            self.todo.put(None)
            self.writer.join()
            self.writer = None

    def run(self, job: Job, ks: Iterable[int], prepare: Prepare = None) -> Iterator[tuple[int, Any]]:
        """Compute the chunks ``ks``; yield ``(k, data)`` (no store) or ``(k, None)`` once written."""
        if job.store is None:
            if prepare is not None:
                prepare()
            for k in ks:
                yield _worker.run_chunk(job, k)
            return
        self._start(job, prepare)
        with _worker.freed_memory_kept():  # each chunk reuses the memory of the previous one
            for k in ks:
                with _worker._one_blas_thread():
                    data = _worker.compute_chunk(job, k)
                self.todo.put((k, data))
                self.in_flight += 1
                del data
                while self.in_flight > _WRITES_IN_FLIGHT or (self.in_flight and not self.written.empty()):
                    yield self._next()
            while self.in_flight:
                yield self._next()

    def _next(self) -> tuple[int, None]:
        k, exc = self.written.get()
        self.in_flight -= 1
        if exc is not None:
            raise exc
        return k, None

    def drain(self) -> list[tuple[int, Any]]:
        """After Ctrl-C: finish the writes under way, report those that succeeded."""
        self._stop()
        out = []
        while self.in_flight:
            k, exc = self.written.get()
            self.in_flight -= 1
            if exc is None:
                out.append((k, None))
        return out


#: chunks computed and waiting for their write in the in-process executor (memory: one chunk each)
_WRITES_IN_FLIGHT = 1

#: grids with fewer points run in this process: starting worker processes (~1 s) costs more than it gains
POOL_MIN_POINTS = 400_000


class Pool:
    """Chunks on a pool of local worker processes (at most two chunks per worker in flight)."""

    def __init__(self, plan: Plan, n_workers: int) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["qdthermo.sweeps._worker", "qdthermo.thermo.solver"])
        self.limit = 2 * n_workers
        self.pool = ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_worker.init_pool_worker,
                                        initargs=(os.getpid(),))
        # start the workers in the background (the fork server imports qdthermo first) while the
        # driver probes and prepares the store; each solves one point to be ready for its first chunk
        self.starting = threading.Thread(target=lambda: [self.pool.submit(_worker.warm_up, plan)
                                                         for _ in range(n_workers)], daemon=True)
        self.starting.start()
        self.pending: dict[Future[Any], int] = {}

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.starting.join()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, job: Job, ks: Iterable[int], prepare: Prepare = None) -> Iterator[tuple[int, Any]]:
        """Submit the chunks ``ks`` (the store prepared meanwhile the workers start); yield them as they finish."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if prepare is not None:
            prepare()
        self.starting.join()
        it = iter(ks)
        started = False
        while True:
            try:
                while len(self.pending) < self.limit and (k := next(it, None)) is not None:
                    self.pending[self.pool.submit(_worker.run_chunk, job, k)] = k
                if not self.pending:
                    return
                finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
                results = []
                for f in finished:
                    del self.pending[f]
                    results.append(f.result())
            except BrokenProcessPool:
                self.pending.clear()
                if not started and _unguarded_script():
                    raise RuntimeError(_GUARD) from None
                raise RuntimeError("a worker process of the sweep died (out of memory or killed?); the chunks "
                                   "finished so far are kept in the store; run again to resume") from None
            started = True
            yield from results

    def drain(self) -> list[tuple[int, Any]]:
        """After Ctrl-C: cancel what has not started, keep what finishes."""
        from concurrent.futures import wait

        for f in self.pending:
            f.cancel()
        wait(self.pending)
        out = [f.result() for f in self.pending if not f.cancelled() and f.exception() is None]
        self.pending.clear()
        return out


class Dask:
    """Chunks on a Dask distributed cluster (an address, a Client, or a new LocalCluster)."""

    def __init__(self, scheduler: Any) -> None:
        import logging

        from distributed import Client, LocalCluster

        self.cluster = None
        self.own_client = not isinstance(scheduler, Client)
        if isinstance(scheduler, Client):
            self.client = scheduler
        elif scheduler == "local":
            self.cluster = LocalCluster(n_workers=n_cores(), threads_per_worker=1, processes=True,
                                        dashboard_address=":0", silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
            self.client.run(_worker.keep_freed_memory)  # our own worker processes
        else:
            self.client = _connect(Client, scheduler)
        self.pending: dict[Any, int] = {}

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pending:
            self.client.cancel(list(self.pending))
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def run(self, job: Job, ks: Iterable[int], prepare: Prepare = None) -> Iterator[tuple[int, Any]]:
        """Submit the chunks ``ks`` to the cluster, at most two per thread in flight; yield them as they finish."""
        from distributed import as_completed

        if prepare is not None:
            prepare()
        remote_job = self.client.scatter(job, broadcast=True, hash=False)
        it = iter(ks)
        limit = 2 * max(1, sum(self.client.nthreads().values()))
        ac = as_completed()

        def submit() -> None:
            k = next(it, None)
            if k is not None:
                f = self.client.submit(_worker.run_chunk, remote_job, k, key=f"qdthermo-sweep-{job.run_id}-{k}",
                                       pure=False)
                self.pending[f] = k
                ac.add(f)

        for _ in range(limit):
            submit()
        for f in ac:
            del self.pending[f]
            result = f.result()
            f.release()
            yield result
            submit()

    def drain(self) -> list[tuple[int, Any]]:
        if self.pending:
            self.client.cancel(list(self.pending))
            self.pending.clear()
        return []


def _unguarded_script() -> bool:
    """Whether the driver runs a script (its workers re-import it) rather than a console or a module."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None))


def _connect(client: Any, address: str) -> Any:
    """A ``distributed.Client`` for ``address``, or one clear error within :data:`CONNECT_TIMEOUT_S`."""
    import logging

    quiet = [logging.getLogger(n) for n in ("distributed.client", "distributed.comm.tcp", "distributed.core")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.CRITICAL)
    try:
        return client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"no Dask scheduler answers at {address} within {CONNECT_TIMEOUT_S:g} s "
                         f"({type(exc).__name__}); start one ('dask scheduler'), check the address, or use "
                         "--scheduler local (a new local cluster) or serial") from None
    except ValueError as exc:
        raise ValueError(f"{address!r} is not a Dask scheduler address such as tcp://host:8786 ({exc})") from None
    finally:
        for log, level in zip(quiet, levels):
            log.setLevel(level)


def choose(plan: Plan, scheduler: Any, compiled: bool) -> Any:
    """The executor of ``scheduler`` (see :func:`qdthermo.sweep`); ``compiled``: the chunks take the compiled route."""
    if scheduler == "serial":
        return Serial()
    if scheduler is None:
        n = min(n_cores(), plan.n_chunks)
        if n <= 1:
            return Serial()
        check_picklable(plan)  # also for small grids: the same function must work for any grid size
        if plan.n_points < POOL_MIN_POINTS or compiled:
            return Serial()  # small, or the compiled route (it already runs on every core)
        return Pool(plan, n)
    if scheduler == "processes":
        n = max(1, min(n_cores(), plan.n_chunks))
        check_picklable(plan)
        return Pool(plan, n)
    from distributed import Client

    if (isinstance(scheduler, str) and scheduler) or isinstance(scheduler, Client):
        check_picklable(plan)
        return Dask(scheduler)
    raise ValueError(f"scheduler must be None, 'serial', 'local', 'processes', the address of a Dask scheduler "
                     f"('tcp://host:8786') or a distributed.Client, got {format_value(scheduler)}")

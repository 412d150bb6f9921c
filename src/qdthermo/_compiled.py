"""Compiled kernels: one place that knows about Numba.

Every compiled route of qdthermo is a plain Python function decorated with
:func:`kernel`.  The decorator

* compiles lazily, on the first call (importing qdthermo compiles nothing);
* caches the machine code on disk (``cache=True``) where the package folder,
  or ``NUMBA_CACHE_DIR``, is writable, and silently compiles in memory where it
  is not (a read-only installation works, it only recompiles per process);
* is the identity when Numba is missing or disabled: :func:`available` is then
  False and callers use their NumPy route (the reference route, always present).

Set ``QDTHERMO_NO_NUMBA=1`` to disable compiled routes (the NumPy routes are used).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["available", "deferred", "kernel", "prange", "threads", "run_blocks", "warm"]

F = TypeVar("F", bound=Callable[..., Any])


@lru_cache(maxsize=1)
def available() -> bool:
    """True if Numba can be imported and compiled routes are not disabled (``QDTHERMO_NO_NUMBA``)."""
    if os.environ.get("QDTHERMO_NO_NUMBA", "").strip() not in ("", "0"):
        return False
    return importlib.util.find_spec("numba") is not None


_WARM: list[bool] = []  # non-empty once a kernel has been set up in this process


def warm() -> bool:
    """True once a kernel has been compiled or loaded in this process.

    Numba is then imported and its compiler set up (~1 s, paid once per process): a further kernel
    costs only its own first call (loading its on-disk cache, ~0.05 s).  Routes whose compiled and
    NumPy forms give the same results bit for bit may take the compiled one for smaller batches then.
    """
    return bool(_WARM)


def prange(*args: int) -> range:
    """``numba.prange`` inside compiled kernels, ``range`` in plain Python."""
    return range(*args)


class _Deferred:
    """Something a kernel uses that needs Numba to build (an intrinsic): built when a kernel using it compiles."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._compiled: Any = None

    @property
    def compiled(self) -> Any:
        """The built object (built on first access)."""
        if self._compiled is None:
            self._compiled = self._build()
        return self._compiled


def deferred(build: Callable[[], Any]) -> Any:
    """A kernel global built by ``build()`` (which may import Numba) when the first kernel using it compiles."""
    return _Deferred(build)


class _Lazy(_Deferred):
    """A kernel compiled on its first call (Numba is imported only then)."""

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = func
        self._options = options
        self._compiled: Callable[..., Any] | None = None
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def _compile(self) -> Callable[..., Any]:
        import numba

        glb = self.py_func.__globals__
        if glb.get("prange") is prange:  # the kernel's module imported our prange: give it Numba's
            glb["prange"] = numba.prange
        deps = {inspect.getfile(self.py_func)}
        for name in self.py_func.__code__.co_names:  # a kernel calling kernels: compile the callees first
            value = glb.get(name)
            if isinstance(value, _Deferred) and value is not self:
                glb[name] = value.compiled
                value = glb[name]
            deps |= _DEPS.get(id(value), frozenset())
        options = {"nogil": True, "fastmath": False, **self._options}
        dispatcher = numba.njit(cache=False, **options)(self.py_func)
        _DEPS[id(dispatcher)] = frozenset(deps)
        try:
            dispatcher._cache = _cache(self.py_func, frozenset(deps))  # as Dispatcher.enable_caching()
        except RuntimeError:  # "no locator available": no writable cache location (read-only installation)
            pass  # compiled in memory, per process
        return dispatcher  # type: ignore[no-any-return]

    @property
    def compiled(self) -> Callable[..., Any]:
        """The compiled function (compiles on first access)."""
        if self._compiled is None:
            self._compiled = self._compile()
            _WARM.append(True)
        return self._compiled

    def __call__(self, *args: Any) -> Any:
        return self.compiled(*args)


#: compiled kernel (by id) -> the source files its machine code depends on (its own and its callees')
_DEPS: dict[int, frozenset[str]] = {}


def _stamp(files: frozenset[str]) -> tuple[tuple[str, float, int], ...]:
    """Modification time and size of every file: a cached kernel is reused only while all are unchanged."""
    return tuple((f, (st := os.stat(f)).st_mtime, st.st_size) for f in sorted(files))


def _cache(py_func: Callable[..., Any], deps: frozenset[str]) -> Any:
    """Numba's on-disk cache of ``py_func``, invalidated when any file in ``deps`` changes.

    Numba's own cache checks only the kernel's source file, so machine code that inlines a kernel of
    another module would be reused stale after that module changed; here the stamp covers every file.
    """
    from numba.core import caching

    def stamped(base: type) -> type:
        return type(f"Stamped{base.__name__}", (base,), {"get_source_stamp": lambda self: _stamp(deps)})

    impl = type("StampedImpl", (caching.CompileResultCacheImpl,), {"_locator_classes": [
        stamped(cls) for cls in caching.CompileResultCacheImpl._locator_classes]})
    return type("StampedFunctionCache", (caching.FunctionCache,), {"_impl_class": impl,
                                                                   "load_overload": _load_overload})(py_func)


def _load_overload(self: Any, sig: Any, target_context: Any) -> Any:
    """``FunctionCache.load_overload`` without loading Numba's compiler registries first.

    Numba's version refreshes the target context (imports every lowering registry, ~0.6 s, a third of it
    SciPy's BLAS check) before it reads the cache, although machine code read from the cache needs only
    the runtime (NRT) and the C symbols the context installs when it is created.  Here only the runtime is
    initialised; the registries are loaded when something is compiled (Numba's compiler refreshes the
    context itself).  Any failure: Numba's own path.
    """
    from numba.core.runtime import rtsys

    try:
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
    except Exception:  # noqa: BLE001 - anything unexpected: load as Numba does
        target_context.refresh()
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def kernel(**options: Any) -> Callable[[F], F]:
    """Decorate a compiled kernel (``numba.njit`` options, e.g. ``parallel=True``); lazily compiled.

    Callers must check :func:`available` first and use their NumPy route when it is False.
    """
    def deco(func: F) -> F:
        return _Lazy(func, options)  # type: ignore[return-value]
    return deco


@lru_cache(maxsize=1)
def threads() -> int:
    """Worker threads of :func:`run_blocks`: ``NUMBA_NUM_THREADS`` if set, else the CPUs this process may use."""
    try:
        n = int(os.environ.get("NUMBA_NUM_THREADS", "0"))
    except ValueError:
        n = 0
    if n <= 0:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, n)


_POOL: dict[int, ThreadPoolExecutor] = {}  # process id -> pool (a forked child makes its own)


def _pool() -> ThreadPoolExecutor:
    pid = os.getpid()
    if pid not in _POOL:
        _POOL.clear()
        _POOL[pid] = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="qdthermo-kernel")
    return _POOL[pid]


def run_blocks(func: Callable[..., Any], n: int, *args: Any, block: int = 4096) -> None:
    """Call ``func(start, stop, *args)`` over ``[0, n)`` in blocks, on :func:`threads` threads.

    ``func`` is a serial ``nogil`` kernel writing disjoint rows of its outputs: the blocks run
    concurrently (the kernel releases the GIL), so a serial kernel, much cheaper to compile than
    a ``parallel=True`` one, uses every core.  At most ``16 x threads()`` blocks of at least ``block`` points
    (a work queue: a thread slowed by other load takes fewer).
    """
    if isinstance(func, _Lazy):
        func = func.compiled  # compile here, not in the pool's threads
    workers = threads()
    size = max(block, -(-n // (16 * workers)))
    bounds = [(start, min(n, start + size)) for start in range(0, n, size)]
    if workers == 1 or len(bounds) <= 1:
        for start, stop in bounds:
            func(start, stop, *args)
        return
    for future in [_pool().submit(func, start, stop, *args) for start, stop in bounds]:
        future.result()

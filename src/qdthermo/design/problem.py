"""The batch-first design problem shared by :func:`~qdthermo.design.optimum` and :func:`~qdthermo.design.front`.

A :class:`Problem` turns ``(n, d)`` parameter points into ONE device batch of
shape ``(n,)``, solves it once and reads the requested quantities.  Search
runs in unit-cube coordinates ``u`` (``x = lo + u (hi - lo)``), so that
step sizes and tolerances do not depend on the parameters' units.

Local refinement of its points is in :mod:`qdthermo.design.refine`.
"""

from __future__ import annotations

import inspect
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.design.lockstep import Ask, lockstep
from qdthermo.design.objectives import Entry, check_constraints, read, resolve
from qdthermo.design.space import Space, vary_mapper
from qdthermo.model.device import Device
from qdthermo.model.presets import PRESETS, preset_function
from qdthermo.thermo import InvalidPointsWarning, SteadyState, solve

__all__ = ["Problem", "Evaluation", "sample", "device_function", "run_jointly", "joint"]

Array = NDArray[np.float64]

def device_function(preset: str | Callable[..., Device]) -> Callable[..., Device]:
    """The device function: a preset given by name or as ``qd.<name>``, or any callable returning a Device."""
    if isinstance(preset, str) or preset in [preset_function(p)[1] for p in PRESETS]:
        return preset_function(preset)[1]
    if not callable(preset):
        raise ValueError(f"preset = {preset!r} must be a preset name ({', '.join(PRESETS)}) or a device function")
    return preset


@dataclass(frozen=True)
class Evaluation:
    """Quantities at ``n`` points, from one solve.

    Attributes
    ----------
    x
        ``(n, d)`` parameters.
    values
        ``(n, m)`` the problem's quantities (objectives), NaN where undefined.
    constraints
        ``(n, k)`` the constrained quantities.
    feasible
        ``(n,)`` every value finite and every constraint within its bounds.
    violation
        ``(n,)`` summed constraint violation in units of each constraint's
        scale (inf where a constrained value is NaN; 0 where feasible
        apart from undefined objectives).
    """

    x: Array
    values: Array
    constraints: Array
    feasible: NDArray[np.bool_]
    violation: Array


@dataclass
class Problem:
    """Device function, fixed values, design space, quantities and constraints.

    Built by :meth:`create`, which validates every input against a probe
    solve of one point (the centre of the box).
    """

    func: Callable[..., Device]
    space: Space
    build: Callable[[Mapping[str, Array]], dict[str, Any]]
    entries: tuple[Entry, ...]
    names: tuple[str, ...]
    constraint_names: tuple[str, ...]
    constraint_entries: tuple[Entry, ...]
    c_lo: Array
    c_hi: Array
    c_scale: Array = field(default_factory=lambda: np.ones(0))
    evaluations: int = 0

    @classmethod
    def create(cls, preset: str | Callable[..., Device], vary: Mapping[str, Any], fixed: Mapping[str, Any],
               quantities: Mapping[str, str], constraints: Mapping[str, Any] | None) -> Problem:
        """Validate the inputs; ``quantities`` maps each name to its role (``"maximize"``, ...) for messages."""
        func = device_function(preset)
        space = Space.from_vary(vary)
        sig = inspect.signature(func).parameters
        overlap = [n for n in space.names if n in fixed]
        if overlap:
            raise ValueError(f"parameter(s) {overlap} are both varied and fixed; give each once")
        centre = {n: float(v) for n, v in zip(space.names, space.to_x(np.full(space.dim, 0.5)))}
        try:
            probe_device = func(**fixed, **{n: v for n, v in centre.items() if n in sig})
        except TypeError as exc:
            raise ValueError(f"cannot build {getattr(func, '__name__', func)!r} from the fixed values "
                             f"{sorted(fixed)} and the varied {list(space.names)}: {exc}") from None
        build = vary_mapper(func, fixed, space.names, probe_device.lead_names)
        problem = cls(func, space, build, (), (), (), (), np.zeros(0), np.zeros(0))
        probe = problem.solve(space.to_x(np.full((1, space.dim), 0.5)))
        entries = tuple(resolve(role, name, probe) for name, role in quantities.items())
        cons = check_constraints(constraints, probe)
        problem.entries, problem.names = entries, tuple(quantities)
        problem.constraint_names = tuple(cons)
        problem.constraint_entries = tuple(c[0] for c in cons.values())
        problem.c_lo = np.array([c[1] for c in cons.values()])
        problem.c_hi = np.array([c[2] for c in cons.values()])
        problem.c_scale = np.ones(len(cons))
        return problem

    def kwargs(self, x: Array) -> dict[str, Any]:
        """Keyword arguments of the device function at parameters ``x`` (``(n, d)`` or ``(d,)``)."""
        x = np.asarray(x, dtype=np.float64)
        return self.build({n: x[..., k] for k, n in enumerate(self.space.names)})

    def solve(self, x: Array) -> SteadyState:
        """One solve of the device batch at ``x`` (``(n, d)``; ``(d,)`` for a scalar device).

        Points without a steady state are NaN (their warning is not repeated here: they are infeasible).
        """
        x = np.asarray(x, dtype=np.float64)
        ask = getattr(_JOINT, "ask", None)
        if ask is not None:  # inside run_jointly: the coordinator solves it
            result: SteadyState = ask(("solve", self, x))
            return result
        return self._solve(x)

    def _solve(self, x: Array) -> SteadyState:
        device = self.func(**self.kwargs(x))
        if device.shape != x.shape[:-1]:
            raise ValueError(f"the fixed parameters must be scalars (or dicts of scalars): the device has shape "
                             f"{device.shape}, expected {x.shape[:-1]} from the varied parameters")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InvalidPointsWarning)
            result = solve(device)
        self.evaluations += int(np.prod(x.shape[:-1]))
        return result

    def measure(self, result: SteadyState, x: Array, rows: slice = slice(None)) -> Evaluation:
        """Read the quantities and constraints of a solved batch at ``x`` (``(n, d)``): its ``rows``."""
        n = x.shape[0]
        values = (np.stack([read(result, e)[rows] for e in self.entries], axis=-1) if self.entries
                  else np.zeros((n, 0)))
        cons = (np.stack([read(result, e)[rows] for e in self.constraint_entries], axis=-1)
                if self.constraint_entries else np.zeros((n, 0)))
        violation = self._violation(cons)
        feasible = np.all(np.isfinite(values), axis=-1) & (violation == 0.0)
        return Evaluation(x, values, cons, feasible, violation)

    def _violation(self, cons: Array) -> Array:
        with np.errstate(invalid="ignore"):
            excess = np.maximum(np.maximum(self.c_lo - cons, cons - self.c_hi), 0.0) / self.c_scale
        return np.asarray(np.where(np.isnan(cons), np.inf, excess).sum(axis=-1))

    def evaluate(self, x: Array) -> Evaluation:
        """Solve and measure the ``(n, d)`` points ``x`` (clipped into the box) in one batch."""
        x = self.space.to_x(self.space.to_u(np.atleast_2d(x)))
        ask = getattr(_JOINT, "ask", None)
        if ask is not None:  # inside run_jointly: solved with the other problems' points
            ev: Evaluation = ask(("evaluate", self, x))
            return ev
        return self.measure(self._solve(x), x)

    def set_scales(self, ev: Evaluation) -> Evaluation:
        """Set the constraint scales from a sample (typical magnitude of each constraint); ``ev`` rescored."""
        scales = []
        for j in range(len(self.constraint_names)):
            c = ev.constraints[:, j]
            c = c[np.isfinite(c)]
            bound = [abs(b) for b in (self.c_lo[j], self.c_hi[j]) if math.isfinite(b)]
            typical = max(bound + [float(np.max(np.abs(c))) if c.size else 0.0])
            scales.append(typical if typical > 0 else 1.0)
        self.c_scale = np.array(scales)
        return Evaluation(ev.x, ev.values, ev.constraints, ev.feasible, self._violation(ev.constraints))


def sample(space: Space, n: int, seed: int | None) -> Array:
    """``(n', d)`` scrambled Sobol points in the unit cube (n' = n rounded up to a power of two), plus the centre."""
    from scipy.stats import qmc  # lazy: scipy.stats takes ~0.7 s to import

    m = max(int(math.ceil(math.log2(max(n, 2)))), 1)
    u = qmc.Sobol(space.dim, scramble=True, seed=seed).random_base2(m)
    return np.vstack([np.full((1, space.dim), 0.5), u])


# ---------------------------------------------------------------- several problems, one solve per round
#: per thread: the ``ask`` of the :func:`run_jointly` task running on it
_JOINT = threading.local()


def joint() -> bool:
    """True on a thread of a :func:`run_jointly` task (its evaluations are batched with the other tasks')."""
    return getattr(_JOINT, "ask", None) is not None


def _same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are one fixed value (the same object, or equal scalars / strings)."""
    if a is b:
        return True
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return isinstance(a, Mapping) and isinstance(b, Mapping) and a.keys() == b.keys() and all(
            _same(a[k], b[k]) for k in a)
    try:
        return bool(np.ndim(a) == 0 and np.ndim(b) == 0 and type(a) is type(b) and a == b)
    except (TypeError, ValueError):
        return False


def _combined(kwargs: Sequence[Mapping[Any, Any]], sizes: Sequence[int]) -> dict[Any, Any] | None:
    """One keyword set for the points of several problems (each value an array over all points), or None.

    A value that is the same for every problem is kept as it is; a numeric one that differs is
    broadcast to each problem's points and concatenated (per-lead dicts entry by entry).  None
    when the keys differ or a value cannot be stacked (a non-numeric value).
    """
    keys = kwargs[0].keys()
    if any(k.keys() != keys for k in kwargs):
        return None
    out: dict[Any, Any] = {}
    for key in keys:
        values = [k[key] for k in kwargs]
        if all(_same(values[0], v) for v in values[1:]):
            out[key] = values[0]
            continue
        if all(isinstance(v, Mapping) for v in values):  # per-lead values: stacked lead by lead
            inner = _combined(values, sizes)
            if inner is None:
                return None
            out[key] = inner
            continue
        try:
            parts = [np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v, n in zip(values, sizes)]
        except (TypeError, ValueError):
            return None
        out[key] = np.concatenate(parts)
    return out


def _evaluate_group(requests: Sequence[tuple[Problem, Array]]) -> list[Evaluation]:
    """Evaluate the points of problems that share one device function in ONE solve (else one by one)."""
    sizes = [x.shape[0] for _, x in requests]
    kwargs = _combined([p.kwargs(x) for p, x in requests], sizes)
    try:
        device = requests[0][0].func(**kwargs) if kwargs is not None else None
    except (TypeError, ValueError):  # the device function wants scalars for what differs
        device = None
    if device is None or device.shape != (sum(sizes),):
        return [p.measure(p._solve(x), x) for p, x in requests]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InvalidPointsWarning)
        result = solve(device)
    ends = np.cumsum([0, *sizes])
    out = []
    for (p, x), a, b in zip(requests, ends[:-1], ends[1:]):
        out.append(p.measure(result, x, slice(int(a), int(b))))
        p.evaluations += int(b - a)
    return out


def _answer(requests: list[tuple[str, Problem, Array]]) -> list[Any]:
    """The coordinator of :func:`run_jointly`: solves alone, evaluations grouped by device function."""
    replies: list[Any] = [None] * len(requests)
    groups: dict[int, list[int]] = {}
    for i, (kind, p, x) in enumerate(requests):
        if kind == "solve":
            replies[i] = p._solve(x)
        else:
            groups.setdefault(id(p.func), []).append(i)
    for idx in groups.values():
        for i, ev in zip(idx, _evaluate_group([(requests[i][1], requests[i][2]) for i in idx])):
            replies[i] = ev
    return replies


@contextmanager
def _joined(ask: Ask) -> Iterator[None]:
    _JOINT.ask = ask
    try:
        yield
    finally:
        del _JOINT.ask


def run_jointly(tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run independent design computations (``qd.optimize``, ``qd.pareto``, ...) with their solves batched.

    Each task runs on its own thread in lock-step (:func:`~qdthermo.design.lockstep.lockstep`);
    every :meth:`Problem.evaluate` of a task waits for the others, and the points of all
    problems with the same device function are solved as ONE device batch (the fixed values
    that differ between the problems, e.g. a level, become per-point arrays, so the device
    function must accept arrays for them; otherwise each problem is solved alone).  Each
    point's values are those of its own solve, so every task returns what it returns alone.

    Parameters
    ----------
    tasks
        Zero-argument callables.

    Returns
    -------
    list
        Their results, in order (an exception of a task is raised after all have ended).
    """
    def wrap(task: Callable[[], Any]) -> Callable[[Ask], Any]:
        def run(ask: Ask) -> Any:
            with _joined(ask):
                return task()
        return run

    from qdthermo.design.refine import quiet_bounds  # the filter every refinement sets, once for all threads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InvalidPointsWarning)
        quiet_bounds()
        return lockstep([wrap(t) for t in tasks], _answer)

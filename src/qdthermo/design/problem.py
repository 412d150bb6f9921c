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
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.design.objectives import Entry, check_constraints, read, resolve
from qdthermo.design.space import Space, vary_mapper
from qdthermo.model.device import Device
from qdthermo.model.presets import PRESETS, preset_function
from qdthermo.thermo import InvalidPointsWarning, SteadyState, solve

__all__ = ["Problem", "Evaluation", "sample", "device_function"]

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
        device = self.func(**self.kwargs(x))
        if device.shape != x.shape[:-1]:
            raise ValueError(f"the fixed parameters must be scalars (or dicts of scalars): the device has shape "
                             f"{device.shape}, expected {x.shape[:-1]} from the varied parameters")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InvalidPointsWarning)
            result = solve(device)
        self.evaluations += int(np.prod(x.shape[:-1]))
        return result

    def measure(self, result: SteadyState, x: Array) -> Evaluation:
        """Read the quantities and constraints of a solved batch at ``x`` (``(n, d)``)."""
        n = x.shape[0]
        values = np.stack([read(result, e) for e in self.entries], axis=-1) if self.entries else np.zeros((n, 0))
        cons = (np.stack([read(result, e) for e in self.constraint_entries], axis=-1)
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
        return self.measure(self.solve(x), x)

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

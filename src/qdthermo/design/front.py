"""``qd.pareto``: the Pareto front of two or more objectives over a box of device parameters.

Method (batch-first):

1. evaluate ``samples`` scrambled Sobol candidates in ONE solve; points
   where an objective is NaN or a constraint fails are infeasible;
2. refine the end of each objective (its single-objective optimum, as in
   :func:`~qdthermo.design.optimum`);
3. for two objectives, refine ``refine`` interior points by the
   epsilon-constraint scalarisation: optimise the first objective subject to
   the second being at least (maximised) or at most (minimised) a level,
   levels evenly spaced between the two ends, each seeded from the best
   candidate that meets its level;
4. keep the non-dominated feasible points of everything evaluated, drop
   duplicates, sort by the first objective (ascending) and solve them as
   one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.design.optimum import _concat, search_all
from qdthermo.design.problem import Evaluation, Problem, sample
from qdthermo.design.refine import Job, refine_many
from qdthermo.model.device import Device
from qdthermo.thermo import OBSERVABLES, SteadyState

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["ParetoFront", "pareto", "non_dominated"]

Array = NDArray[np.float64]

_SENSES = {"max": "maximize", "maximize": "maximize", "min": "minimize", "minimize": "minimize"}


@dataclass(frozen=True, eq=False)
class ParetoFront:
    """The frozen result of :func:`pareto`.

    Attributes
    ----------
    objectives, senses
        Objective names and ``"maximize"``/``"minimize"`` for each.
    parameters
        Read-only ``{name: (n_front,) array}`` of the varied parameters along the front.
    values
        ``(n_front, n_objectives)`` read-only objective values (own units and
        sign), sorted by the first objective, ascending.
    result
        The front solved as one batch: a :class:`~qdthermo.thermo.SteadyState`
        of shape ``(n_front,)``.
    bounds
        Read-only ``{name: (lo, hi)}``, the box searched.
    evaluations
        Number of device points solved.

    Examples
    --------
    >>> import qdthermo as qd
    >>> front = qd.pareto(qd.single_dot, objectives=("power", "efficiency"),
    ...                   vary={"eps": (0.0, 5.0), "mu_L": (-3.0, 0.0)}, samples=64, refine_points=0,
    ...                   T={"L": 2.0, "R": 1.0}, mu={"L": 0.0, "R": 0.0})
    >>> front.objectives, sorted(front.parameters), front.bounds["eps"]
    (('power', 'efficiency'), ['eps', 'mu_L'], (0.0, 5.0))
    >>> n = len(front.values)
    >>> front.values.shape == (n, 2) and front.result.shape == (n,)
    True
    """

    objectives: tuple[str, ...]
    senses: tuple[str, ...]
    parameters: Mapping[str, Array]
    values: Array
    result: SteadyState
    bounds: Mapping[str, tuple[float, float]]
    evaluations: int

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def to_xarray(self) -> "xr.Dataset":
        """The front as an :class:`xarray.Dataset` along the dimension ``point``.

        Every registered observable of :attr:`result` (with units), the
        objectives (also those read from an entry such as ``heat_current_L``)
        and the varied parameters as coordinates of ``point``.
        """
        coords = {name: ("point", np.asarray(v)) for name, v in self.parameters.items()}
        ds = self.result.to_xarray(dims=("point",), coords=coords)
        for k, name in enumerate(self.objectives):
            if name not in ds:
                base = next((o for o in OBSERVABLES if name.startswith(o + "_")), None)
                attrs = {"units": OBSERVABLES[base].units} if base else {}
                ds[name] = ("point", np.asarray(self.values[:, k]), {**attrs, "long_name": name})
        ds.attrs.update(objectives=",".join(self.objectives), senses=",".join(self.senses),
                        description="Pareto front (non-dominated points), sorted by the first objective")
        return ds


def non_dominated(scores: Array, chunk: int = 512) -> NDArray[np.bool_]:
    """``(n,)`` mask of the rows of ``scores`` ``(n, m)`` that no other row dominates (all minimised).

    Row j dominates row i if it is <= in every column and < in one.  Rows
    with a NaN are never non-dominated.  Batch evaluation in chunks of rows.
    """
    s = np.asarray(scores, dtype=np.float64)
    ok = np.all(np.isfinite(s), axis=1)
    f = s[ok]
    keep = np.ones(f.shape[0], dtype=bool)
    for start in range(0, f.shape[0], chunk):
        block = f[start:start + chunk, None, :]
        le = np.all(f[None, :, :] <= block, axis=-1)
        lt = np.any(f[None, :, :] < block, axis=-1)
        keep[start:start + chunk] = ~np.any(le & lt, axis=1)
    out = np.zeros(s.shape[0], dtype=bool)
    out[np.flatnonzero(ok)[keep]] = True
    return out


def _objectives(objectives: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(objectives, str):
        raise ValueError(f"objectives = {objectives!r} must name at least two quantities, "
                         f"e.g. ('power', 'efficiency')")
    items = (objectives.items() if isinstance(objectives, Mapping)
             else [(name, "maximize") for name in objectives])
    out: dict[str, str] = {}
    for name, sense in items:
        if sense not in _SENSES:
            raise ValueError(f"objectives[{name!r}] = {sense!r}; allowed: 'maximize' ('max') or 'minimize' ('min')")
        if name in out:
            raise ValueError(f"objectives: {name!r} is given twice")
        out[name] = _SENSES[sense]
    if len(out) < 2:
        raise ValueError(f"objectives = {objectives!r} must name at least two quantities (a Pareto front of one "
                         f"objective is its optimum: use qd.optimize)")
    return out


def _front(ev: Evaluation, signs: Array) -> NDArray[np.intp]:
    """Indices of the non-dominated, distinct feasible points, sorted by the first objective (ascending)."""
    scores = np.where(ev.feasible[:, None], ev.values * signs, np.nan)
    idx = np.flatnonzero(non_dominated(scores))
    _, first = np.unique(ev.values[idx], axis=0, return_index=True)
    idx = idx[np.sort(first)]
    return idx[np.argsort(ev.values[idx, 0], kind="stable")]


def pareto(
    preset: str | Callable[..., Device],
    *,
    objectives: Sequence[str] | Mapping[str, str],
    vary: Mapping[str, tuple[float, float]],
    constraints: Mapping[str, tuple[float | None, float | None]] | None = None,
    samples: int = 2048,
    refine_points: int = 8,
    seed: int | None = 0,
    **fixed: Any,
) -> ParetoFront:
    """The Pareto front of two or more objectives of a device over a box of its parameters.

    Parameters
    ----------
    preset, vary, constraints, seed, **fixed
        As in :func:`~qdthermo.design.optimum`.
    objectives
        Names of the quantities (as for ``optimize``'s objective), all
        maximised (``("power", "efficiency")``), or a dict name ->
        ``"maximize"``/``"minimize"`` (``{"power": "max", "entropy_production": "min"}``).
    samples
        Number of scrambled Sobol candidates evaluated in one batch (rounded
        up to a power of two).
    refine_points
        Interior points refined by the epsilon-constraint method (two
        objectives only; 0 for none).  The ends are always refined.

    Returns
    -------
    ParetoFront
        ``parameters``, ``values`` ``(n_front, n_objectives)`` sorted by the
        first objective (ascending), ``result`` and ``to_xarray()``.

    Raises
    ------
    ValueError
        For fewer than two objectives, an unknown objective, constraint or
        ``vary`` name, bad bounds, or when no candidate is feasible.

    Notes
    -----
    The front is the non-dominated subset of the points evaluated (a
    discrete approximation): between refined points its resolution is that
    of the sample.

    Examples
    --------
    Power against efficiency of a thermoelectric dot (hot lead L); every
    point of the front stays below Carnot, 1 - T_R/T_L = 0.5:

    >>> import numpy as np, qdthermo as qd
    >>> front = qd.pareto(qd.single_dot, objectives=("power", "efficiency"),
    ...                   vary={"eps": (0.0, 5.0), "mu_L": (-3.0, 0.0)}, samples=64, refine_points=0,
    ...                   T={"L": 2.0, "R": 1.0}, mu={"L": 0.0, "R": 0.0})
    >>> front.senses
    ('maximize', 'maximize')
    >>> bool(np.all(np.diff(front.values[:, 0]) >= 0)), bool(np.all(front.values[:, 1] <= 0.5))
    (True, True)
    """
    senses = _objectives(objectives)
    problem = Problem.create(preset, vary, fixed, senses, constraints)
    if samples < 1 or refine_points < 0:
        raise ValueError(f"samples = {samples!r} must be >= 1 and refine_points = {refine_points!r} >= 0")
    signs = np.array([-1.0 if s == "maximize" else 1.0 for s in senses.values()])
    ev = problem.set_scales(problem.evaluate(problem.space.to_x(sample(problem.space, samples, seed))))
    if not np.any(ev.feasible):
        raise ValueError(f"no feasible point found for objectives {list(senses)} over vary={dict(vary)!r} "
                         f"({ev.x.shape[0]} candidates; every objective must be defined and the constraints met)")
    # the ends: each objective's own optimum (every refinement in one lock-step group)
    everything = _concat(ev, search_all(problem, [(k, float(signs[k])) for k in range(len(senses))], ev, starts=2))
    if len(senses) == 2 and refine_points > 0:
        everything = _concat(everything, _epsilon(problem, everything, signs, refine_points))
    idx = _front(everything, signs)
    x = everything.x[idx]
    result = problem.solve(x)
    values = np.array(everything.values[idx])
    values.setflags(write=False)
    params = {}
    for k, name in enumerate(problem.space.names):
        col = np.array(x[:, k])
        col.setflags(write=False)
        params[name] = col
    space = problem.space
    return ParetoFront(
        objectives=tuple(senses), senses=tuple(senses.values()), parameters=MappingProxyType(params),
        values=values, result=result,
        bounds=MappingProxyType({n: (float(a), float(b)) for n, a, b in zip(space.names, space.lo, space.hi)}),
        evaluations=problem.evaluations,
    )


def _epsilon(problem: Problem, ev: Evaluation, signs: Array, count: int) -> Evaluation:
    """Refine ``count`` interior front points: optimise objective 0 with objective 1 held beyond a level."""
    idx = _front(ev, signs)
    s = ev.values[idx] * signs  # minimised scores along the front; s[:, 1] decreases as s[:, 0] increases
    lo1, hi1 = float(np.min(s[:, 1])), float(np.max(s[:, 1]))
    if not hi1 > lo1:
        return problem.evaluate(np.zeros((0, problem.space.dim)))
    scale = float(np.max(np.abs(ev.values[idx, 0]))) or 1.0
    penalty = float(np.max(s[:, 0]) / scale + 1.0)
    u = problem.space.to_u(ev.x[idx])
    jobs = []
    for level in np.linspace(lo1, hi1, count + 2)[1:-1]:
        meets = s[:, 1] <= level
        seed = int(np.flatnonzero(meets)[np.argmin(s[meets, 0])])
        bound = level * signs[1]  # the level in the objective's own sign
        extra = ((1, bound, np.inf),) if signs[1] < 0 else ((1, -np.inf, bound),)
        jobs.append(Job(u[seed], 0, float(signs[0]), scale, penalty, extra))
    return problem.evaluate(problem.space.to_x(np.array(refine_many(problem, jobs))))

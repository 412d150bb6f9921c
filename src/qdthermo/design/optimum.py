"""``qd.optimize``: the global optimum of one observable over a box of device parameters.

Method (batch-first):

1. validate everything against a probe solve of the box centre;
2. evaluate ``samples`` scrambled Sobol points (plus the centre) in ONE
   :func:`~qdthermo.thermo.solver` call; NaN values and violated constraints
   are infeasible;
3. refine the best ``starts`` distinct feasible points (the least violating
   ones if none is feasible) with :func:`scipy.optimize.minimize`
   (L-BFGS-B, or SLSQP with constraints) on batched finite-difference
   gradients, all starts in lock-step (:mod:`qdthermo.design.refine`);
4. evaluate the refined points in one batch and keep the best feasible
   point among them and the samples.

The optimum is therefore never worse than the best sample, and its
parameters always lie inside the box (refined points are clipped to it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.design.problem import Evaluation, Problem, sample
from qdthermo.design.refine import Job, refine_many
from qdthermo.model.device import Device
from qdthermo.thermo import Performance, SteadyState

__all__ = ["Optimum", "optimize"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Optimum:
    """The frozen result of :func:`optimize`.

    Attributes
    ----------
    parameters
        Read-only ``{name: value}`` of the varied parameters at the optimum
        (names as in ``vary``; units of the preset argument).
    value
        The objective at the optimum, in its own units and sign (not negated
        for ``maximize``).
    objective, sense
        The objective's name and ``"maximize"`` or ``"minimize"``.
    result
        The solved scalar :class:`~qdthermo.thermo.SteadyState` at the optimum
        (``result.device`` is the optimal device).
    constraints
        Read-only ``{name: value}`` of each constrained quantity at the optimum.
    on_bound
        Read-only ``{name: "lower" | "upper"}`` for each varied parameter
        within 1e-6 x its range of a bound (empty for an interior optimum).
        An optimum on a bound usually means the box is too small.
    bounds
        Read-only ``{name: (lo, hi)}``, the box searched.
    evaluations
        Number of device points solved (samples, probe and refinement).

    Examples
    --------
    >>> import qdthermo as qd
    >>> opt = qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-10, 10), "mu_L": (-5, 5)},
    ...                   T={"L": 1.0, "R": 0.5}, mu={"L": 0.0, "R": 0.0})
    >>> opt.objective, opt.sense, dict(opt.on_bound)               # an interior optimum
    ('power', 'maximize', {})
    >>> bool(opt.value > 0), bool(abs(opt.value - opt.result.performance.power) < 1e-12)
    (True, True)
    """

    parameters: Mapping[str, float]
    value: float
    objective: str
    sense: str
    result: SteadyState
    constraints: Mapping[str, float]
    on_bound: Mapping[str, str]
    bounds: Mapping[str, tuple[float, float]]
    evaluations: int

    @property
    def performance(self) -> Performance:
        """Engine/refrigerator figures of merit at the optimum (0-d arrays)."""
        return self.result.performance

    @property
    def device(self) -> Device:
        """The optimal device."""
        return self.result.device

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.parameters.items())
        bound = f", on_bound={dict(self.on_bound)}" if self.on_bound else ""
        return f"Optimum({self.sense} {self.objective}={self.value:.6g} at {params}{bound})"


def _sense(maximize: str | None, minimize: str | None) -> tuple[str, str]:
    if (maximize is None) == (minimize is None):
        raise ValueError(f"give exactly one of maximize= or minimize= (got maximize={maximize!r}, "
                         f"minimize={minimize!r})")
    return ("maximize", maximize) if maximize is not None else ("minimize", minimize)  # type: ignore[return-value]


def _distinct(order: NDArray[np.intp], u: Array, count: int, min_dist: float = 0.1) -> list[int]:
    """Up to ``count`` indices from ``order`` (best first) at least ``min_dist`` apart (inf-norm in u)."""
    chosen: list[int] = []
    for i in order:
        if all(np.max(np.abs(u[i] - u[j])) >= min_dist for j in chosen):
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return chosen


def best_index(ev: Evaluation, index: int, sign: float) -> int | None:
    """Index of the best feasible point of ``ev`` for ``sign * values[:, index]`` minimised (None if none)."""
    if not np.any(ev.feasible):
        return None
    score = np.where(ev.feasible, sign * ev.values[:, index], np.inf)
    return int(np.argmin(score))


def _jobs(problem: Problem, index: int, sign: float, ev: Evaluation, starts: int,
          extra: tuple[tuple[int, float, float], ...] = ()) -> list[Job]:
    """The refinements of the best ``starts`` distinct points of the sample ``ev`` for one objective."""
    u = problem.space.to_u(ev.x)
    f = sign * ev.values[:, index]
    finite = ev.feasible
    scale = float(np.max(np.abs(f[finite]))) if np.any(finite) else float(np.nanmax(np.abs(f), initial=0.0))
    scale = scale if scale > 0 else 1.0
    penalty = float(np.max(f[finite]) / scale + 1.0) if np.any(finite) else 1.0
    if np.any(finite):
        order = np.argsort(np.where(finite, f, np.inf), kind="stable")[: int(np.sum(finite))]
    else:
        order = np.argsort(np.where(np.isfinite(f), ev.violation, np.inf), kind="stable")
    return [Job(u[i], index, sign, scale, penalty, extra) for i in _distinct(order, u, starts)]


def search(problem: Problem, index: int, sign: float, ev: Evaluation, starts: int,
           extra: tuple[tuple[int, float, float], ...] = ()) -> Evaluation:
    """Refine the best ``starts`` distinct points of the sample ``ev``; return the refined points, evaluated."""
    return search_all(problem, [(index, sign)], ev, starts, extra)


def search_all(problem: Problem, targets: list[tuple[int, float]], ev: Evaluation, starts: int,
               extra: tuple[tuple[int, float, float], ...] = ()) -> Evaluation:
    """:func:`search` for each ``(index, sign)`` of ``targets``, every refinement in one lock-step group.

    The refined points come in the order of ``targets`` (as one :func:`search` after the other), evaluated
    as one batch.
    """
    jobs = [job for index, sign in targets for job in _jobs(problem, index, sign, ev, starts, extra)]
    refined = refine_many(problem, jobs)
    if not refined:
        return problem.evaluate(np.zeros((0, problem.space.dim)))
    return problem.evaluate(problem.space.to_x(np.array(refined)))


def _concat(a: Evaluation, b: Evaluation) -> Evaluation:
    return Evaluation(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in
                        ("x", "values", "constraints", "feasible", "violation")))


def optimize(
    preset: str | Callable[..., Device],
    *,
    vary: Mapping[str, tuple[float, float]],
    maximize: str | None = None,
    minimize: str | None = None,
    constraints: Mapping[str, tuple[float | None, float | None]] | None = None,
    samples: int = 1024,
    starts: int = 4,
    seed: int | None = 0,
    **fixed: Any,
) -> Optimum:
    """Maximise or minimise one quantity of a device over a box of its parameters.

    Parameters
    ----------
    preset
        A preset (``qd.single_dot``, ``"three_terminal"``, ...) or any function
        of keyword arguments returning a :class:`~qdthermo.model.Device`.
    vary
        ``{name: (lo, hi)}``: the parameters searched and their bounds, lo < hi,
        finite (temperatures > 0, couplings and interactions >= 0).  Names are
        sweep-dimension names: a plain argument (``"eps"``, ``"U"``) or a
        per-lead entry ``<param>_<lead>`` of ``T``, ``mu`` or ``gamma``
        (``"mu_L"``, ``"T_R"``, ``"gamma_t"``), which overrides that lead's
        fixed value.
    maximize, minimize
        Exactly one: the objective's name, a performance attribute (``power``,
        ``efficiency``, ``cooling_power``, ``cop``, ``heat_input``, ...), a
        scalar registered observable (``entropy_production``) or one entry
        ``<observable>_<label>`` (``heat_current_L``, ``fluxes_J_N``).  Units
        are the quantity's own (power in energy x rate).  Points where the
        objective is NaN (efficiency of a device that is not an engine, COP
        of one that is not a refrigerator) are infeasible.
    constraints
        Optional ``{name: (lo, hi)}`` bounds on quantities (names as for the
        objective), either bound None: ``{"efficiency": (0.3, None)}``.  NaN
        never satisfies a constraint.
    samples
        Number of quasi-random (scrambled Sobol) candidates evaluated in one
        batch (rounded up to a power of two); increase it for many parameters
        or narrow optima.
    starts
        Number of distinct best candidates refined locally.
    seed
        Seed of the Sobol scrambling (results are reproducible for a fixed seed).
    **fixed
        The device function's other arguments (scalars, or dicts by lead).

    Returns
    -------
    Optimum
        Frozen: ``parameters``, ``value``, ``performance``, ``result``,
        ``constraints``, ``on_bound``.

    Raises
    ------
    ValueError
        For an unknown objective, constraint or ``vary`` name, bad bounds, a
        parameter both fixed and varied, or when no candidate satisfies the
        constraints.

    Notes
    -----
    The search is global in the sense of a dense multi-start: a basin that
    no Sobol candidate falls into can be missed.  Refinement converges the
    parameters to ~1e-8 of the box size for smooth objectives (central
    differences, step 1e-6 of the box), so derived quantities such as the
    efficiency at maximum power are accurate to ~1e-7.

    Examples
    --------
    >>> import qdthermo as qd
    >>> opt = qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-10, 10), "mu_L": (-5, 5)},
    ...                   T={"L": 1.0, "R": 0.5}, mu={"L": 0.0, "R": 0.0}, gamma=1.0)
    >>> bool(opt.performance.efficiency <= opt.performance.carnot_efficiency)
    True
    """
    sense, name = _sense(maximize, minimize)
    sign = -1.0 if sense == "maximize" else 1.0
    problem = Problem.create(preset, vary, fixed, {name: sense}, constraints)
    if samples < 1 or starts < 1:
        raise ValueError(f"samples = {samples!r} and starts = {starts!r} must be >= 1")
    ev = problem.evaluate(problem.space.to_x(sample(problem.space, samples, seed)))
    ev = problem.set_scales(ev)
    refined = search(problem, 0, sign, ev, starts)
    everything = _concat(ev, refined)
    best = best_index(everything, 0, sign)
    if best is None:
        where = ", ".join(f"{k} in [{float(lo)!r}, {float(hi)!r}]" for k, lo, hi in
                          zip(problem.constraint_names, problem.c_lo, problem.c_hi))
        raise ValueError(f"no feasible point found for {sense}={name!r} over vary={dict(vary)!r} "
                         f"({everything.x.shape[0]} candidates; the objective must be defined"
                         f"{' and ' + where if where else ''})")
    x = everything.x[best]
    result = problem.solve(x)
    space = problem.space
    return Optimum(
        parameters=MappingProxyType({n: float(v) for n, v in zip(space.names, x)}),
        value=float(everything.values[best, 0]),
        objective=name,
        sense=sense,
        result=result,
        constraints=MappingProxyType({n: float(v) for n, v in zip(problem.constraint_names,
                                                                  everything.constraints[best])}),
        on_bound=MappingProxyType(space.on_bound(x)),
        bounds=MappingProxyType({n: (float(a), float(b)) for n, a, b in zip(space.names, space.lo, space.hi)}),
        evaluations=problem.evaluations,
    )

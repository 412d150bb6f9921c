"""Local refinement of design points: many SLSQP / L-BFGS-B runs, their evaluations batched in lock-step.

:func:`refine_many` minimises ``sign * value / scale`` from several start
points with :func:`scipy.optimize.minimize` (L-BFGS-B without constraints,
SLSQP with them).  Each merit evaluation needs a central finite-difference
gradient: a batch of ``2 d + 1`` points (one-sided at a bound or next to an
undefined value).  The runs are independent, so they advance in lock-step
(:func:`qdthermo.design.lockstep.lockstep`): at each round the gradient
batches of every run still going are solved as ONE device batch by
:meth:`~qdthermo.design.problem.Problem.evaluate`.  Each run gets the values
it would get alone (the points of a batch are solved independently), so the
result equals that of the runs one after the other, with a fraction of the
solves.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from qdthermo.design.lockstep import Ask, lockstep, sequential
from qdthermo.design.problem import Evaluation, Problem, joint

__all__ = ["FD_STEP", "Job", "refine", "refine_many"]

Array = NDArray[np.float64]

#: step of the finite-difference gradient in unit-cube coordinates
FD_STEP = 1e-6

#: the fields of an :class:`~qdthermo.design.problem.Evaluation`, row-indexed
_FIELDS = ("x", "values", "constraints", "feasible", "violation")


@dataclass(frozen=True)
class Job:
    """One local refinement: minimise ``sign * quantity[index] / scale`` from ``u0``.

    Attributes
    ----------
    u0
        ``(d,)`` start point in unit-cube coordinates.
    index, sign, scale
        The quantity minimised, its sign (-1 to maximise) and normalisation.
    penalty
        Merit value where the quantity is undefined (NaN).
    extra
        Epsilon constraints ``(quantity index, lo, hi)``: ``lo <= quantity <= hi``.
    """

    u0: Array
    index: int
    sign: float
    scale: float
    penalty: float
    extra: tuple[tuple[int, float, float], ...] = ()


def _gradient_points(u: Array) -> tuple[Array, Array, Array]:
    """``(2d+1, d)`` points u, u + h e_i, u - h e_i (clipped) and the forward/backward steps."""
    d = u.size
    plus = np.clip(u + FD_STEP * np.eye(d), 0.0, 1.0)
    minus = np.clip(u - FD_STEP * np.eye(d), 0.0, 1.0)
    return np.vstack([u[None, :], plus, minus]), np.diag(plus) - u, u - np.diag(minus)


def _fd(f0: Array, fp: Array, fm: Array, sp: Array, sm: Array) -> Array:
    """Central difference where both sides are usable, else one-sided, else 0. Shapes ``(d, ...)``."""
    sp_ = sp.reshape(sp.shape + (1,) * (fp.ndim - 1))
    sm_ = sm.reshape(sm.shape + (1,) * (fm.ndim - 1))
    okp = np.isfinite(fp) & (sp_ > 0) & np.isfinite(f0)
    okm = np.isfinite(fm) & (sm_ > 0) & np.isfinite(f0)
    with np.errstate(invalid="ignore", divide="ignore"):
        central = (fp - fm) / (sp_ + sm_)
        forward = (fp - f0) / sp_
        backward = (f0 - fm) / sm_
    g = np.where(okp & okm, central, np.where(okp, forward, np.where(okm, backward, 0.0)))
    return np.asarray(np.moveaxis(g, 0, -1))


class _OutOfBudget(Exception):
    """A local refinement used its evaluation budget (e.g. SLSQP circling an infeasible region)."""


@dataclass
class _Merit:
    """Normalised objective ``sign * value / scale`` (NaN -> penalty) and constraint margins, cached per point.

    ``fetch(u_points) -> Evaluation`` evaluates a ``(2d+1, d)`` batch of unit-cube points.
    """

    problem: Problem
    job: Job
    fetch: Callable[[Array], Evaluation]
    budget: int = 150  # merit evaluations (each one batch of 2d + 1 points)
    cache: dict[bytes, tuple[float, Array, Array, Array]] = field(default_factory=dict)
    points: dict[bytes, Array] = field(default_factory=dict)

    def best(self) -> Array:
        """The best point seen: feasible with the lowest merit, else the least violating."""
        def rank(key: bytes) -> tuple[float, float]:
            f, _, margins, _ = self.cache[key]
            short = float(np.sum(np.minimum(margins, 0.0)))
            return (-short, f)
        return self.points[min(self.cache, key=rank)]

    @property
    def n_problem_margins(self) -> int:
        """How many of the margins (the first ones) belong to the problem's constraints, not the job's ``extra``."""
        p = self.problem
        return sum(math.isfinite(p.c_lo[j]) + math.isfinite(p.c_hi[j]) for j in range(len(p.constraint_names)))

    def _margins(self, ev: Evaluation) -> Array:
        """``(n, k')`` constraint margins, >= 0 when satisfied, -1 where the value is NaN."""
        p = self.problem
        cols = []
        for j in range(len(p.constraint_names)):
            c = ev.constraints[:, j]
            if math.isfinite(p.c_lo[j]):
                cols.append((c - p.c_lo[j]) / p.c_scale[j])
            if math.isfinite(p.c_hi[j]):
                cols.append((p.c_hi[j] - c) / p.c_scale[j])
        for q, lo, hi in self.job.extra:
            v = ev.values[:, q]
            s = max(abs(lo), abs(hi) if math.isfinite(hi) else 0.0, 1e-300)
            if math.isfinite(lo):
                cols.append((v - lo) / s)
            if math.isfinite(hi):
                cols.append((hi - v) / s)
        m = np.stack(cols, axis=-1) if cols else np.zeros((ev.x.shape[0], 0))
        return np.where(np.isnan(m), -1.0, m)

    def at(self, u: Array) -> tuple[float, Array, Array, Array]:
        key = np.asarray(u, dtype=np.float64).tobytes()
        if key not in self.cache:
            if len(self.cache) >= self.budget:
                raise _OutOfBudget
            pts, sp, sm = _gradient_points(np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0))
            ev = self.fetch(pts)
            f = self.job.sign * ev.values[:, self.job.index] / self.job.scale
            margins = self._margins(ev)
            d = u.size
            grad = _fd(f[0], f[1:d + 1], f[d + 1:], sp, sm)
            jac = _fd(margins[0], margins[1:d + 1], margins[d + 1:], sp, sm).reshape(margins.shape[1], d)
            f0 = float(f[0]) if np.isfinite(f[0]) else self.job.penalty
            self.cache[key] = (f0, grad, margins[0], jac)
            self.points[key] = np.clip(np.array(u, dtype=np.float64), 0.0, 1.0)
        return self.cache[key]


def _task(problem: Problem, job: Job, maxiter: int) -> Callable[[Ask], Array]:
    """One refinement as a :func:`~qdthermo.design.lockstep.lockstep` task: its final point (clipped)."""
    def run(ask: Ask) -> Array:
        merit = _Merit(problem, job, ask)
        constrained = bool(problem.constraint_names) or bool(job.extra)
        try:
            x = _run(merit, job.u0, [(0.0, 1.0)] * problem.space.dim, constrained, maxiter)
            if problem.constraint_names:
                x = _feasible(merit, np.clip(x, 0.0, 1.0))
        except _OutOfBudget:
            x = merit.best()
        return np.clip(x, 0.0, 1.0)
    return run


#: largest constraint shortfall (in units of the constraint's scale) that :func:`_feasible` repairs
FEASIBILITY_REPAIR = 1e-6

#: longest repair step, in unit-cube coordinates (a longer one means the linearisation is not to be trusted)
REPAIR_STEP = 1e-6


def _feasible(merit: _Merit, u: Array) -> Array:
    """``u``, or a feasible point next to it where SLSQP ended just outside an active constraint.

    SLSQP converges onto an active constraint from either side: its last iterate may miss it by
    round-off (a COP of 1.99999999998 for ``cop >= 2``), and a point that violates a constraint of
    the problem is never accepted.  Shortfalls of the problem's constraints up to
    :data:`FEASIBILITY_REPAIR` are repaired by least-norm steps along the gradients of the violated
    margins, overshooting by the shortfall itself, each step at most :data:`REPAIR_STEP` long (at
    most four steps, one evaluation each); if that does not succeed, ``u`` is returned unchanged.
    The job's epsilon constraints (``extra``, the levels of a Pareto scan) are not repaired: the
    caller does not require them.
    """
    k = merit.n_problem_margins
    v = u
    for _ in range(4):
        _, _, m, J = merit.at(v)
        short = np.flatnonzero(m[:k] < 0.0)
        if short.size == 0:
            return v
        if np.min(m[short]) < -FEASIBILITY_REPAIR or not np.all(np.isfinite(J[short])):
            return u
        Ja = J[short]
        step = Ja.T @ np.linalg.lstsq(Ja @ Ja.T, -2.0 * m[short] + 1e-15, rcond=None)[0]
        if not np.linalg.norm(step) <= REPAIR_STEP:
            return u
        v = np.clip(v + step, 0.0, 1.0)
    return u


def _batch(problem: Problem) -> Callable[[list[Array]], list[Evaluation]]:
    """Evaluate the unit-cube point batches of several runs as one device batch; split it back."""
    def evaluate(requests: list[Array]) -> list[Evaluation]:
        ev = problem.evaluate(problem.space.to_x(np.concatenate(requests)))
        ends = np.cumsum([0] + [r.shape[0] for r in requests])
        return [Evaluation(*(getattr(ev, f)[a:b] for f in _FIELDS)) for a, b in zip(ends[:-1], ends[1:])]
    return evaluate


def refine_many(problem: Problem, jobs: Sequence[Job], maxiter: int = 100, batched: bool = True) -> list[Array]:
    """Locally minimise each job's merit within the unit cube; the runs advance in lock-step.

    L-BFGS-B without constraints, SLSQP with the problem's constraints and
    the job's ``extra`` epsilon constraints.  Returns each run's final point
    in unit-cube coordinates (clipped); the caller re-evaluates and keeps it
    only if it is feasible and better.  A run that needs more than 150 merit
    evaluations (each a batch of ``2 d + 1`` points) stops at the best point
    it has seen.

    Parameters
    ----------
    problem
        The design problem (its constraint scales already set).
    jobs
        The refinements.
    maxiter
        Iteration limit of each scipy run.
    batched
        True: the runs' evaluations are solved together (:func:`~qdthermo.design.lockstep.lockstep`);
        False: one run after the other (the reference the batched runs reproduce).

    Returns
    -------
    list of numpy.ndarray
        The ``(d,)`` final point of each job.
    """
    tasks = [_task(problem, job, maxiter) for job in jobs]
    run = lockstep if batched else sequential
    if joint():  # run_jointly set the filter for every thread: a context here would interleave with others'
        return run(tasks, _batch(problem))
    with warnings.catch_warnings():  # here, not in the tasks' threads: their contexts would interleave
        quiet_bounds()
        return run(tasks, _batch(problem))


def quiet_bounds() -> None:
    """Ignore scipy's warning about steps outside the bounds (the points are clipped to the box)."""
    warnings.filterwarnings("ignore", message="Values in x were outside bounds", category=RuntimeWarning)


def refine(problem: Problem, u0: Array, index: int, sign: float, scale: float, penalty: float,
           extra: tuple[tuple[int, float, float], ...] = (), maxiter: int = 100) -> Array:
    """One refinement (:func:`refine_many` of one :class:`Job`): its final point in unit-cube coordinates."""
    return refine_many(problem, [Job(np.asarray(u0, dtype=np.float64), index, sign, scale, penalty, extra)],
                       maxiter)[0]


def _run(merit: _Merit, u0: Array, bounds: list[tuple[float, float]], constrained: bool, maxiter: int) -> Array:
    """One scipy run; its final point."""
    from scipy.optimize import minimize as _scipy_minimize  # lazy: ~0.7 s to import

    if constrained:
        res = _scipy_minimize(lambda u: merit.at(u)[0], u0, jac=lambda u: merit.at(u)[1], method="SLSQP",
                              bounds=bounds, options={"maxiter": maxiter, "ftol": 1e-13},
                              constraints=[{"type": "ineq", "fun": lambda u: merit.at(u)[2],
                                            "jac": lambda u: merit.at(u)[3]}])
    else:
        res = _scipy_minimize(lambda u: merit.at(u)[:2], u0, jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-11})
    return np.asarray(res.x, dtype=np.float64)

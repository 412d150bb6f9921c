"""Batched refinement (``design.refine``): lock-step runs equal sequential ones, in fewer solves."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.design.optimum import _jobs
from qdthermo.design.problem import Problem, sample
from qdthermo.design.refine import refine, refine_many


def _problem(constraints=None):
    problem = Problem.create(qd.single_dot, {"eps": (0.0, 5.0), "mu_L": (-3.0, 0.0)},
                             {"T": {"L": 2.0, "R": 1.0}, "mu": {"L": 0.0, "R": 0.0}}, {"power": "maximize"},
                             constraints)
    ev = problem.set_scales(problem.evaluate(problem.space.to_x(sample(problem.space, 64, 0))))
    return problem, ev


def test_refine_many_lockstep_equals_sequential_runs():
    for constraints in (None, {"efficiency": (0.2, None)}):  # L-BFGS-B, SLSQP
        problem, ev = _problem(constraints)
        jobs = _jobs(problem, 0, -1.0, ev, starts=4)
        assert len(jobs) > 1
        before = problem.evaluations
        seq = refine_many(problem, jobs, batched=False)
        n_seq = problem.evaluations - before
        lock = refine_many(problem, jobs)
        assert problem.evaluations - before == 2 * n_seq  # the same points solved
        for a, b in zip(seq, lock):
            assert np.array_equal(a, b)
        single = refine(problem, jobs[0].u0, 0, -1.0, jobs[0].scale, jobs[0].penalty)
        assert np.array_equal(single, seq[0])


def test_a_run_ending_just_outside_an_active_constraint_is_repaired(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLSQP may stop a round-off short of an active constraint (COP 1.99999999998 for COP >= 2); the
    refinement then steps onto its feasible side instead of losing the optimum. Here every start is
    nudged so that its run ends just outside: the optimum must still be found, strictly feasible."""
    import qdthermo.design.refine as refine_module

    original = refine_module._run

    def short_of_the_constraint(merit, u0, bounds, constrained, maxiter):  # type: ignore[no-untyped-def]
        x = original(merit, u0, bounds, constrained, maxiter)
        _, _, m, J = merit.at(x)
        active = np.abs(m) < 1e-6
        if np.any(active):  # move a round-off distance to the infeasible side of the active constraint
            g = J[active][0]
            x = np.clip(x - 1e-10 * g / float(g @ g), 0.0, 1.0)
        return x

    monkeypatch.setattr(refine_module, "_run", short_of_the_constraint)
    held = qd.optimize(qd.single_dot, maximize="cooling_power", constraints={"cop": (2.0, None)},
                       vary={"eps": (-10.0, 10.0), "mu_L": (-5.0, 5.0)}, T={"L": 1.0, "R": 0.8}, mu=0.0, gamma=1.0)
    assert float(held.performance.cop) >= 2.0
    assert float(held.performance.cop) == pytest.approx(2.0, abs=1e-6)
    assert held.value == pytest.approx(0.0291657, rel=1e-5)

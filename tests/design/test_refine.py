"""Batched refinement (``design.refine``): lock-step runs equal sequential ones, in fewer solves."""

from __future__ import annotations

import numpy as np

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

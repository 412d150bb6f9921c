"""Several design problems run jointly (``design.problem.run_jointly``): the results of separate runs."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.design.problem import _combined, run_jointly

VARY = {"eps": (0.0, 5.0), "mu_L": (-3.0, 0.0)}


def _optimize(gamma: float):  # type: ignore[no-untyped-def]
    return qd.optimize(qd.single_dot, maximize="power", vary=VARY, constraints={"efficiency": (0.1, None)},
                       T={"L": 2.0, "R": 1.0}, mu={"L": 0.0, "R": 0.0}, gamma=gamma, samples=64, starts=2)


def _front(gamma: float):  # type: ignore[no-untyped-def]
    return qd.pareto(qd.single_dot, objectives=("power", "efficiency"), vary=VARY, samples=64, refine_points=2,
                     T={"L": 2.0, "R": 1.0}, mu={"L": 0.0, "R": 0.0}, gamma=gamma)


def test_run_jointly_equals_separate_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import qdthermo.design.problem as problem

    solves = []
    original = problem.solve
    monkeypatch.setattr(problem, "solve", lambda device: solves.append(device.shape) or original(device))
    tasks = [functools.partial(_optimize, 1.0), functools.partial(_optimize, 2.0), functools.partial(_front, 0.5)]
    alone = [t() for t in tasks]
    n_alone = len(solves)
    together = run_jointly(tasks)
    assert len(solves) - n_alone < 0.75 * n_alone  # gamma became a per-point array: fewer, larger solves
    for a, b in zip(alone[:2], together[:2]):
        assert a.parameters == b.parameters and a.value == b.value and a.evaluations == b.evaluations
    assert np.array_equal(alone[2].values, together[2].values)
    assert alone[2].evaluations == together[2].evaluations


def test_a_device_function_that_wants_scalars_is_solved_alone() -> None:
    def scalar_dot(eps, mu_L, T_L=2.0):  # type: ignore[no-untyped-def]
        return qd.single_dot(eps=eps, mu={"L": mu_L, "R": 0.0}, T={"L": float(T_L), "R": 1.0})

    def run(T_L: float):  # type: ignore[no-untyped-def]
        return qd.optimize(scalar_dot, maximize="power", vary=VARY, T_L=T_L, samples=32, starts=1)

    alone = [run(2.0), run(3.0)]
    together = run_jointly([functools.partial(run, 2.0), functools.partial(run, 3.0)])
    assert [a.value for a in alone] == [b.value for b in together]


def test_combined_keeps_shared_values_and_stacks_differing_ones() -> None:
    both = _combined([{"a": 1.0, "b": np.zeros(2), "T": {"L": 1.0}}, {"a": 2.0, "b": np.ones(3), "T": {"L": 1.0}}],
                     [2, 3])
    assert both is not None and list(both["a"]) == [1, 1, 2, 2, 2] and list(both["b"]) == [0, 0, 1, 1, 1]
    assert both["T"] == {"L": 1.0}
    per_lead = _combined([{"T": {"L": 1.0, "R": 1.0}}, {"T": {"L": 2.0, "R": 1.0}}], [1, 2])
    assert per_lead is not None and list(per_lead["T"]["L"]) == [1, 2, 2] and per_lead["T"]["R"] == 1.0
    assert _combined([{"T": {"L": 1.0}}, {"T": {"R": 1.0}}], [1, 1]) is None
    assert _combined([{"f": "a"}, {"f": "b"}], [1, 1]) is None
    assert _combined([{"a": 1.0}, {"b": 1.0}], [1, 1]) is None


def test_an_error_in_one_task_is_raised() -> None:
    def bad():  # type: ignore[no-untyped-def]
        return qd.optimize(qd.single_dot, maximize="no_such_quantity", vary=VARY)

    with pytest.raises(ValueError):
        run_jointly([functools.partial(_optimize, 2.0), bad])

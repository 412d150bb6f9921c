"""Lock-step runs: batched evaluations give exactly the results of the runs one after the other."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from qdthermo.design.lockstep import lockstep, sequential


def _rosenbrock_task(x0: np.ndarray, method: str):
    """A scipy run whose objective and gradient come from ``ask``."""
    def task(ask):
        res = minimize(lambda x: ask(("f", x)), x0, jac=lambda x: ask(("g", x)), method=method,
                       bounds=[(-2.0, 2.0)] * 2,
                       constraints=[{"type": "ineq", "fun": lambda x: 1.5 - x @ x}] if method == "SLSQP" else ())
        return res.x, res.nit
    return task


def _evaluate(calls):
    def evaluate(requests):
        calls.append(len(requests))
        out = []
        for kind, x in requests:
            x = np.asarray(x)
            if kind == "f":
                out.append(float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2))
            else:
                out.append(np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)]))
        return out
    return evaluate


@pytest.mark.parametrize("method", ["SLSQP", "L-BFGS-B"])
def test_lockstep_equals_sequential_scipy_runs(method):
    starts = [np.array([-1.2, 1.0]), np.array([0.5, -0.5]), np.array([1.5, 1.5]), np.array([0.0, 0.0])]
    seq_calls, lock_calls = [], []
    seq = sequential([_rosenbrock_task(x, method) for x in starts], _evaluate(seq_calls))
    lock = lockstep([_rosenbrock_task(x, method) for x in starts], _evaluate(lock_calls))
    for (xa, na), (xb, nb) in zip(seq, lock):
        assert np.array_equal(xa, xb) and na == nb  # bit for bit
    assert sum(lock_calls) == len(seq_calls)  # the same evaluations ...
    assert len(lock_calls) < len(seq_calls)  # ... in fewer batches
    assert max(lock_calls) == len(starts)


def test_lockstep_raises_the_first_task_error_after_all_end():
    finished = []

    def ok(ask):
        finished.append(ask(1))
        return "ok"

    def bad(ask):
        ask(2)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        lockstep([ok, bad, ok], lambda reqs: reqs)
    assert finished == [1, 1]


def test_an_evaluation_error_reaches_every_waiting_task():
    def task(ask):
        return ask(0)

    def fail(requests):
        raise ZeroDivisionError("no")

    with pytest.raises(ZeroDivisionError):
        lockstep([task, task], fail)
    assert lockstep([], fail) == []

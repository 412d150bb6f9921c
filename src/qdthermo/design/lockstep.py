"""Run many independent iterative computations in lock-step, their evaluations batched.

An optimiser such as :func:`scipy.optimize.minimize` asks for one
evaluation at a time.  When N independent runs each need evaluations of
the same (batchable) function, running them one after the other costs one
call per evaluation of every run.  :func:`lockstep` runs them together:
each run is a *task* ``task(ask) -> result`` executed on its own thread,
and every call ``ask(request)`` blocks until every other live task is also
waiting (or finished); the coordinator (the calling thread) then answers
all waiting requests with ONE call ``evaluate(requests) -> replies`` and
lets the tasks go on.  A task that finishes simply leaves the group.

Only one thread computes at a time between two batches (they share the
interpreter lock; the tasks' own work is small, the batched evaluation is
the cost), the requests of one batch are in task order, and each task sees
exactly the replies it would get from ``evaluate([request])[0]`` as long as
``evaluate`` treats its requests independently: the results equal those of
the sequential runs (:func:`sequential`).

Process-wide state that a task changes (``warnings.catch_warnings``, BLAS
thread limits) must be set by the caller around :func:`lockstep`, not
inside the tasks: their contexts would interleave.

>>> def task(n):
...     return lambda ask: sum(ask(k) for k in range(n))
>>> calls = []
>>> def squares(requests):
...     calls.append(len(requests))
...     return [r * r for r in requests]
>>> lockstep([task(3), task(1), task(2)], squares), calls
([5, 0, 1], [3, 2, 1])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Ask", "lockstep", "sequential"]

R = TypeVar("R")
#: a task's handle on the evaluator: ``ask(request) -> reply``
Ask = Callable[[Any], Any]


class _Failed:
    """A reply that makes ``ask`` raise (the batched evaluation failed)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Group(Generic[R]):
    """The coordinator's shared state: pending requests, replies, finished tasks."""

    def __init__(self, n: int) -> None:
        self.cond = threading.Condition()
        self.pending: dict[int, Any] = {}
        self.done: set[int] = set()
        self.replies: list[Any] = [None] * n
        self.events = [threading.Event() for _ in range(n)]
        self.results: list[Any] = [None] * n
        self.errors: list[BaseException | None] = [None] * n

    def asker(self, i: int) -> Ask:
        def ask(request: Any) -> Any:
            with self.cond:
                self.pending[i] = request
                self.cond.notify()
            self.events[i].wait()
            self.events[i].clear()
            reply, self.replies[i] = self.replies[i], None
            if isinstance(reply, _Failed):
                raise reply.error
            return reply
        return ask

    def body(self, i: int, task: Callable[[Ask], R]) -> None:
        try:
            self.results[i] = task(self.asker(i))
        except BaseException as exc:  # re-raised by the coordinator
            self.errors[i] = exc
        finally:
            with self.cond:
                self.done.add(i)
                self.cond.notify()


def lockstep(tasks: Sequence[Callable[[Ask], R]], evaluate: Callable[[list[Any]], Sequence[Any]]) -> list[R]:
    """Run ``tasks`` together; answer their requests in batches with ``evaluate``.

    Parameters
    ----------
    tasks
        ``task(ask) -> result``; ``ask(request)`` returns that request's reply.
    evaluate
        ``evaluate([request, ...]) -> [reply, ...]`` (same length and order): one
        call per round, for every task waiting at that moment (in task order).

    Returns
    -------
    list
        Each task's result, in task order.

    Raises
    ------
    BaseException
        The first (in task order) exception raised by a task, after every task
        has ended; an exception of ``evaluate`` is raised inside each task that
        waited for that batch (and so reaches the caller the same way).
    """
    n = len(tasks)
    if n == 1:
        return sequential(tasks, evaluate)
    group: _Group[R] = _Group(n)
    threads = [threading.Thread(target=group.body, args=(i, t), daemon=True, name=f"lockstep-{i}")
               for i, t in enumerate(tasks)]
    for t in threads:
        t.start()
    while True:
        with group.cond:
            group.cond.wait_for(lambda: len(group.pending) + len(group.done) == n)
            if not group.pending:
                break
            order = sorted(group.pending)
            requests = [group.pending.pop(i) for i in order]
        try:
            replies: Sequence[Any] = evaluate(requests)
            if len(replies) != len(requests):
                raise ValueError(f"evaluate returned {len(replies)} replies for {len(requests)} requests")
        except BaseException as exc:  # every waiting task raises it
            replies = [_Failed(exc)] * len(requests)
        for i, reply in zip(order, replies):
            group.replies[i] = reply
            group.events[i].set()
    for t in threads:
        t.join()
    for err in group.errors:
        if err is not None:
            raise err
    return list(group.results)


def sequential(tasks: Sequence[Callable[[Ask], R]], evaluate: Callable[[list[Any]], Sequence[Any]]) -> list[R]:
    """The tasks one after the other, each request evaluated alone: what :func:`lockstep` reproduces."""
    return [task(lambda request: evaluate([request])[0]) for task in tasks]

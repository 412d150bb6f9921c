"""``qdthermo._compiled.run_blocks``: every point of the batch exactly once, whatever the block layout."""

from __future__ import annotations

import numpy as np
import pytest

from qdthermo import _compiled


def _count(start: int, stop: int, hits: np.ndarray, order: list[tuple[int, int]]) -> None:
    hits[start:stop] += 1
    order.append((start, stop))


@pytest.mark.parametrize("n", [0, 1, 7, 4096, 4097, 100_003])
@pytest.mark.parametrize("block", [1, 1000, 4096])
def test_every_point_once(n: int, block: int) -> None:
    hits = np.zeros(n, dtype=np.int64)
    order: list[tuple[int, int]] = []
    _compiled.run_blocks(_count, n, hits, order, block=block)
    assert np.all(hits == 1)
    spans = sorted(order)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous, disjoint blocks
    assert len(order) <= max(1, 16 * _compiled.threads(), -(-n // block) if n else 1)
    assert all(stop - start >= min(block, n) or stop == n for start, stop in order)


def test_threads_positive() -> None:
    assert _compiled.threads() >= 1

"""A minimal union-find (disjoint-set forest) over ``range(n)``.

Replaces :class:`scipy.cluster.hierarchy.DisjointSet` in the spanning-tree
searches: importing ``scipy.cluster`` takes ~0.4 s (it loads scipy.spatial),
more than every solve of a small sweep.
"""

from __future__ import annotations

__all__ = ["DisjointSet"]


class DisjointSet:
    """Disjoint sets of the integers ``0..n-1``, each starting alone.

    >>> s = DisjointSet(3)
    >>> s.merge(0, 1), s.merge(1, 0), s.merge(2, 1)
    (True, False, True)
    """

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def _root(self, a: int) -> int:
        parent = self._parent
        while parent[a] != a:
            parent[a] = parent[parent[a]]  # path halving
            a = parent[a]
        return a

    def merge(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False if they were already one set."""
        ra, rb = self._root(a), self._root(b)
        if ra == rb:
            return False
        self._parent[max(ra, rb)] = min(ra, rb)
        return True

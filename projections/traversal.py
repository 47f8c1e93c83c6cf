"""The one traversal the read side's queries share (ancestry, reach, downstream, paths):
breadth first from some nodes, through a neighbours function, to a depth limit, as
networkx's `generic_bfs_edges`; it knows nothing of what the nodes are."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

__all__ = ["reach"]

N = TypeVar("N", bound=Hashable)


def reach(
    starts: Iterable[N], neighbours: Callable[[N], Iterable[N]], depth_limit: int | None = None
) -> Iterator[N]:
    """Every node reachable from `starts` (themselves included, first), each once, in
    breadth-first order, following `neighbours` at most `depth_limit` steps (None: any).

    >>> edges = {1: [2, 3], 2: [4], 3: [4], 4: [5]}
    >>> list(reach([1], lambda node: edges.get(node, ())))
    [1, 2, 3, 4, 5]
    >>> list(reach([1], lambda node: edges.get(node, ()), depth_limit=1))
    [1, 2, 3]
    """
    seen: set[N] = set()
    found: list[N] = []
    for start in starts:
        if start not in seen:
            seen.add(start)
            found.append(start)
    if depth_limit is None:  # one list, read as it grows: breadth first, no levels kept
        add, append = seen.add, found.append
        for node in found:
            for neighbour in neighbours(node):
                if neighbour not in seen:
                    add(neighbour)
                    append(neighbour)
        return iter(found)
    return _within(found, seen, neighbours, depth_limit)


def _within(
    level: list[N], seen: set[N], neighbours: Callable[[N], Iterable[N]], depth_limit: int
) -> Iterator[N]:
    """`reach` level by level, up to `depth_limit` steps from `level`."""
    yield from level
    for _ in range(depth_limit):
        if not level:
            return
        upcoming: list[N] = []
        for node in level:
            for neighbour in neighbours(node):
                if neighbour not in seen:
                    seen.add(neighbour)
                    upcoming.append(neighbour)
                    yield neighbour
        level = upcoming

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
    seen = set()
    level: list[N] = []
    for start in starts:
        if start not in seen:
            seen.add(start)
            level.append(start)
            yield start
    depth = 0
    while level and (depth_limit is None or depth < depth_limit):
        depth += 1
        upcoming: list[N] = []
        for node in level:
            for neighbour in neighbours(node):
                if neighbour not in seen:
                    seen.add(neighbour)
                    upcoming.append(neighbour)
                    yield neighbour
        level = upcoming

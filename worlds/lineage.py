"""How deep and how wide the lineage of a world's lots runs, read from a custody state.

Depth is the longest chain of splits and merges from a produced lot (a produced lot has
depth 0, so the longest path from its source is one edge more); fan-in is what feeds a
lot: its distinct ancestor lots and the distinct sources of its produced ancestors. Paths
counts every path from a lot up to each of its ancestors and itself: the rows a recursive
walk of the edges that lists every path (`UNION ALL`) produces for it, which
`bench.queries.PROVENANCE_CTE` avoids by summing at each step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class _Lot(Protocol):
    parents: tuple[str, ...]

    @property
    def source_id(self) -> str | None: ...

    @property
    def created_at(self) -> int: ...


@dataclass(frozen=True)
class FanIn:
    """What feeds one lot."""

    lot_id: str
    ancestors: int  # distinct ancestor lots, itself excluded
    sources: int  # distinct sources of its produced ancestors (or its own)


def _in_order(lots: Mapping[str, _Lot]) -> list[tuple[str, _Lot]]:
    """Lots in the order they were created: parents before children."""
    return sorted(lots.items(), key=lambda item: item[1].created_at)


def depths(lots: Mapping[str, _Lot]) -> dict[str, int]:
    """Every lot's depth: 0 when produced, else one more than its deepest parent."""
    depth: dict[str, int] = {}
    for lot_id, lot in _in_order(lots):
        depth[lot_id] = max((depth[parent] for parent in lot.parents), default=-1) + 1
    return depth


def paths(lots: Mapping[str, _Lot]) -> dict[str, int]:
    """Every lot's count of lineage paths to each ancestor and itself."""
    count: dict[str, int] = {}
    for lot_id, lot in _in_order(lots):
        count[lot_id] = 1 + sum(count[parent] for parent in lot.parents)
    return count


def fan_in(lots: Mapping[str, _Lot], lot_id: str) -> FanIn:
    """The distinct ancestor lots and sources of one lot, by a walk of its parents."""
    seen = {lot_id}
    sources: set[str] = set()
    stack = [lot_id]
    while stack:
        lot = lots[stack.pop()]
        if lot.source_id is not None:
            sources.add(lot.source_id)
        for parent in lot.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return FanIn(lot_id, len(seen) - 1, len(sources))

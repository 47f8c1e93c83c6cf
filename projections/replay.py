"""Replaying the projections as of a position, followed and from scratch: `kpledger replay`.

The digest of every lot's view and provenance and of the alerts as of position P,
once as a server following the log keeps them, and once replayed from scratch in
one go: they must agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.log import LogEntry, LogReader, canonical_json
from projections import alerts as alert_rules
from projections import compliance, retractions
from projections import provenance as queries
from projections.custody import Custody
from projections.operators import operator_view
from projections.reads import Reads, View
from projections.value_outliers import DEFAULT_RULE, ValueOutlierRule

__all__ = ["Replay", "replay"]


@dataclass(frozen=True, slots=True)
class Replay:
    """Digests of the projections as of `position`: as a server following the log keeps
    them (entry by entry), and as replayed from scratch in one go. They must agree."""

    position: int
    lots: int
    alerts: int
    incremental: str
    from_scratch: str

    @property
    def same(self) -> bool:
        return self.incremental == self.from_scratch


class _LogUpTo:
    """The log as it stood when its head was `position`."""

    def __init__(
        self, log: LogReader, position: int, progress: Callable[[int], object] | None = None
    ) -> None:
        self._log, self._position, self._progress = log, position, progress

    def head_position(self) -> int:
        return min(self._log.head_position(), self._position)

    def position_of(self, event_id: str) -> int | None:
        find = getattr(self._log, "position_of", None)
        return find(event_id) if callable(find) else None

    def retractions(self) -> list[tuple[int, int]]:
        listed = getattr(self._log, "retractions", None)
        found = listed() if callable(listed) else []
        return [(p, r) for p, r in found if r <= self._position]

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        if after >= self._position:
            return []
        page = self._log.read_log(after, min(limit, self._position - after))
        entries = [entry for entry in page if entry.position <= self._position]
        if self._progress is not None:
            self._progress(len(entries))
        return entries


def replay(
    log: LogReader,
    as_of: int,
    *,
    value_discrepancy: float = alert_rules.VALUE_DISCREPANCY,
    rapid_reexport_days: int = alert_rules.RAPID_REEXPORT_DAYS,
    deadlines: compliance.Deadlines = compliance.DEFAULT_DEADLINES,
    value_outliers: ValueOutlierRule = DEFAULT_RULE,
    progress: Callable[[int], object] | None = None,
) -> Replay:
    """The digest of the projections as of position `as_of`, built both ways.

    The digest is the SHA-256 of the RFC 8785 JSON of every lot's view and
    provenance, of every operator's view (when there are operators) and of the
    alerts, all read as of `as_of` (on its recording date).
    `progress(n)` is called as entries are read, `n` at a time, once for each way.
    """
    followed = Reads(
        _LogUpTo(log, as_of, progress),
        value_discrepancy=value_discrepancy,
        rapid_reexport_days=rapid_reexport_days,
        deadlines=deadlines,
        value_outliers=value_outliers,
    )
    followed.catch_up()

    def snapshot(custody: Custody, view: View) -> dict[str, Any]:
        operators = {
            operator_id: operator_view(custody, operator_id, view.today)
            for operator_id in sorted(custody.operators)
        }
        return {
            **({"operators": operators} if operators else {}),
            "position": view.position,
            "lots": {
                lot_id: {
                    "lot": queries.lot_view(custody, lot_id),
                    "provenance": queries.provenance(custody, lot_id, view.today),
                }
                for lot_id in sorted(custody.lots)
            },
            "alerts": alert_rules.alerts(
                custody,
                today=view.today,
                value_discrepancy=value_discrepancy,
                rapid_reexport_days=rapid_reexport_days,
                deadlines=deadlines,
            ),
        }

    view, incremental = followed.read(lambda view: (view, snapshot(view.custody, view)), as_of)
    scratch = snapshot(
        retractions.from_scratch(
            Custody(value_outliers), log, view.position, _Counted(log, progress)
        ),
        view,
    )
    return Replay(
        position=view.position,
        lots=len(incremental["lots"]),
        alerts=len(incremental["alerts"]),
        incremental=_digest(incremental),
        from_scratch=_digest(scratch),
    )


class _Counted:
    """The log, its reads counted by `progress`."""

    def __init__(self, log: LogReader, progress: Callable[[int], object] | None) -> None:
        self._log, self._progress = log, progress

    def head_position(self) -> int:
        return self._log.head_position()

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        page = self._log.read_log(after, limit)
        if self._progress is not None:
            self._progress(len(page))
        return page


def _digest(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()

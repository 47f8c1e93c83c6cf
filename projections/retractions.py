"""Retractions on the read side: every read answers as if a retracted document had never
been accepted, while the log keeps it.

The read models are not taught to un-apply anything. They are fed the log through one
filter, `Retracted.masked`: an entry retracted at or before the position being read
passes as an entry of no type (it only advances the position), so each projection
builds, from the same code that applies documents, the state of a ledger into which
the retracted document was never posted. `Reads` follows the log as before; when a
retraction arrives it rebuilds its live state through the filter (`rebuilt`), and every
`as_of` replay goes through the same filter, for the retractions made up to its
position only, so that `as_of` before a retraction answers as before it.

What the filter hides is still served where the protocol says so: the log
(`GET /v1/events`, the Merkle tree) is never filtered; a lot's history lists the
retracted documents that named it, with `retracted_by`, and the retractions
(`history`); a certificate whose export was retracted reads `cancelled`
(`cancelled_certificate`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from ledger.errors import LedgerError
from ledger.log import LogEntry, LogReader, read_entries
from projections.custody import Custody
from projections.failures import apply_all
from projections.retracted import CANCELLED, RETRACTION, Retracted
from projections.search import Directory
from projections.statistics import Statistics

__all__ = [
    "CANCELLED",
    "RETRACTION",
    "history",
    "position_of",
    "rebuilt",
    "without_retracted",
]

_log = logging.getLogger(__name__)


def retracted_of(state: Custody) -> Retracted:
    """The retractions a state knows (the live state's, shared by its `as_of` replays)."""
    found = getattr(state, "retracted", None)
    return found if isinstance(found, Retracted) else Retracted()


def position_of(log: LogReader, event_id: str, before: int) -> LogEntry | None:
    """The entry of the document with that `event_id`, before position `before`: asked of
    the ledger's claims when the log is a `Ledger`, else looked for in the log."""
    find = getattr(log, "position_of", None)
    if callable(find):
        position = find(event_id)
        if position is None or position >= before:
            return None
        page = log.read_log(after=position - 1, limit=1)
        return page[0] if page else None
    for entry in read_entries(log, up_to=before - 1):
        if entry.event_id == event_id:
            return entry
    return None


def record(state: Custody, log: LogReader, entry: LogEntry) -> bool:
    """Records the retraction `entry` in the state's `Retracted`; whether the state must be
    rebuilt: it was not known before (`foresee`) and named a document of the log (an
    altered log may not: the audit reports it)."""
    if entry.position in state.retracted.retracted_by.values():
        return False  # foreseen: the document was filtered out when applied
    retracted = position_of(log, entry.document["retracted_event_id"], entry.position)
    if retracted is None:
        _log.warning("retraction %s names no earlier document", entry.position)
        return False
    return state.retracted.add(retracted, entry.position)


def foresee(state: Custody, log: LogReader, head: int) -> bool:
    """Records the retractions the log holds after the state's position, up to `head`,
    before the catch-up meets them (when the log can list them, as a `Ledger` does), so
    that documents they retract are filtered out as they are applied; whether one of
    them retracts a document applied already (the state must then be rebuilt)."""
    listed = getattr(log, "retractions", None)
    if not callable(listed):
        return False
    stale = False
    known = state.retracted.retracted_by
    for retracted, retraction in listed():
        if state.position < retraction <= head and retracted not in known:
            page = log.read_log(after=retracted - 1, limit=1)
            if page:
                state.retracted.add(page[0], retraction)
                stale |= retracted <= state.position
    return stale


Projections = tuple[Custody, Statistics, Directory]


def usable(retracted: Retracted, position: int) -> bool:
    """Whether projections saved at `position` may be fed the rest of the log through the
    filter: no document up to it was retracted after it."""
    return not any(
        document <= position < retraction for document, retraction in retracted.retracted_by.items()
    )


def rebuilt(
    log: LogReader,
    up_to: int,
    retracted: Retracted,
    apply: Callable[[Custody, Statistics, Directory, LogEntry], None],
    start: Projections,
) -> Projections:
    """Projections fed entries 1..up_to through the filter, by `apply`: `start`, fresh or
    saved at a position `usable` for it, fed the entries after it."""
    custody, statistics, directory = start
    custody.retracted = retracted
    after = custody.position
    for entry in retracted.masked(_entries_after(log, after, up_to), up_to):
        apply(custody, statistics, directory, entry)
    return custody, statistics, directory


def _entries_after(log: LogReader, after: int, up_to: int) -> Iterator[LogEntry]:
    while after < up_to and (page := log.read_log(after, min(1000, up_to - after))):
        yield from (entry for entry in page if entry.position <= up_to)
        after = page[-1].position


def without_retracted(
    state: Custody, entries: Iterable[LogEntry], retracted: Retracted, up_to: int
) -> Custody:
    """A fresh custody `state` fed the entries (1..up_to) through the filter (`as_of`
    replays); an entry it cannot apply is `read_model_failed`."""
    apply_all([state.apply], retracted.masked(entries, up_to))
    state.retracted = retracted
    return state


def from_scratch(
    state: Custody, log: LogReader, up_to: int, counted: LogReader | None = None
) -> Custody:
    """A custody state as of `up_to` from the log alone (`kpledger replay`'s from-scratch
    digest): the retractions listed by the ledger's register, or found by a first pass
    over the log; then the entries (read from `counted`, the same log, if given) through
    the filter."""
    retracted = Retracted()
    listed = getattr(log, "retractions", None)
    if callable(listed):  # a `Ledger`: its register lists them
        for position, retraction in listed():
            page = log.read_log(after=position - 1, limit=1)
            if retraction <= up_to and page:
                retracted.add(page[0], retraction)
        return without_retracted(state, read_entries(counted or log, up_to=up_to), retracted, up_to)
    positions: dict[str, LogEntry] = {}
    for entry in read_entries(log, up_to=up_to):
        if entry.type == RETRACTION:
            target = positions.get(entry.document["retracted_event_id"])
            if target is not None:
                retracted.add(target, entry.position)
        else:
            positions[entry.event_id] = replace(entry, document=_kept_fields(entry.document))
    return without_retracted(state, read_entries(counted or log, up_to=up_to), retracted, up_to)


def _kept_fields(document: dict[str, Any]) -> dict[str, Any]:
    """What `Retracted.add` reads of a document (the rest need not stay in memory)."""
    if document["type"] == "export.certified":
        return document
    kept = ("type", "event_id", "lot_id", "lot_ids", "into")
    return {key: document[key] for key in kept if key in document}


def history(
    state: Custody, lot_id: str, up_to: int, entries: Callable[[Iterable[int]], dict[int, LogEntry]]
) -> dict[str, Any]:
    """GET /v1/lots/{lot_id}/history: the lot's entries, the retracted documents that named
    it (each with `retracted_by`) and their retractions, in order of position."""
    lot = state.lots.get(lot_id)
    extra = retracted_of(state).lot_entries(lot_id, up_to)
    if lot is None and not extra:
        raise LedgerError("not_found", f"no lot {lot_id!r}")
    positions = sorted({*(lot.history if lot is not None else ()), *extra})
    found = entries(positions)
    events = []
    for position in positions:
        shown = found[position].to_json()
        retraction = extra.get(position)
        if retraction is not None:
            shown["retracted_by"] = retraction
        events.append(shown)
    return {"lot_id": lot_id, "events": events}

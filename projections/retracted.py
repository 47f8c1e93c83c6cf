"""The retractions a read model knows: which documents are retracted, by which
retraction, and what the reads still show of them (`projections.retractions` feeds the
read models through `Retracted.masked`; this module is what the custody state carries)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from ledger.log import LogEntry
from projections.records import Certificate

__all__ = ["CANCELLED", "HIDDEN", "RETRACTION", "Retracted"]

RETRACTION = "document.retracted"
CANCELLED = "cancelled"
HIDDEN = "document.hidden"
"""The type a retracted entry passes the filter as: no projection applies it."""


def _lots_named(document: Mapping[str, Any]) -> set[str]:
    """Every lot id a document names (the lots a retracted one is listed in the history of)."""
    named: set[str] = set()
    for field in ("lot_id", "lot_ids", "into"):
        value = document.get(field)
        for item in value if isinstance(value, list) else [value]:
            key = item.get("lot_id") if isinstance(item, dict) else item
            if isinstance(key, str):
                named.add(key)
    return named


class Retracted:
    """The retractions of the log up to the live position, as the reads need them."""

    def __init__(self) -> None:
        self.retracted_by: dict[int, int] = {}
        """The position of each retracted document -> the position of its retraction."""
        self.by_lot: dict[str, list[tuple[int, int]]] = {}
        """Lot id -> (position of a retracted document naming it, of its retraction)."""
        self.cancelled: dict[str, tuple[dict[str, Any], int, int]] = {}
        """Certificate id -> (its export's document, the export's position, the
        retraction's position)."""

    def add(self, retracted: LogEntry, retraction: int) -> bool:
        """Takes the retraction at position `retraction` of the `retracted` entry; whether
        it was new."""
        if retracted.position in self.retracted_by:
            return False
        self.retracted_by[retracted.position] = retraction
        for lot_id in _lots_named(retracted.document):
            self.by_lot.setdefault(lot_id, []).append((retracted.position, retraction))
        if retracted.type == "export.certified":
            certificate_id = retracted.document["certificate_id"]
            self.cancelled[certificate_id] = (retracted.document, retracted.position, retraction)
        return True

    def hidden(self, position: int, up_to: int) -> bool:
        """Whether the entry at `position` is retracted by a retraction at or before `up_to`."""
        retraction = self.retracted_by.get(position)
        return retraction is not None and retraction <= up_to

    def masked(self, entries: Iterable[LogEntry], up_to: int) -> Iterator[LogEntry]:
        """The entries as a ledger without the documents retracted up to `up_to` has them:
        a retracted one passes as an entry of no type, at its position."""
        if not self.retracted_by:
            yield from entries
            return
        for entry in entries:
            yield self.mask(entry) if self.hidden(entry.position, up_to) else entry

    @staticmethod
    def mask(entry: LogEntry) -> LogEntry:
        """The entry as it passes the filter when retracted: of no type, at its position."""
        document = {
            "type": HIDDEN,
            "event_id": entry.event_id,
            "occurred_at": entry.document["occurred_at"],
        }
        return replace(entry, document=document)

    def cancelled_certificate(self, certificate_id: str, up_to: int) -> Certificate | None:
        """The certificate as it was issued, if its export was retracted up to `up_to`."""
        found = self.cancelled.get(certificate_id)
        if found is None or found[2] > up_to:
            return None
        document, position, _ = found
        return Certificate(document, position)

    def lot_entries(self, lot_id: str, up_to: int) -> dict[int, int | None]:
        """The positions the history of the lot lists besides the live ones: each retracted
        document naming it (-> its retraction's position) and each retraction (-> None)."""
        found: dict[int, int | None] = {}
        for retracted, retraction in self.by_lot.get(lot_id, ()):
            if retraction <= up_to:
                found[retracted] = retraction
                found[retraction] = None
        return found

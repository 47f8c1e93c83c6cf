"""The journal: the log of accepted documents, stored as events of one sequence.

Entry `n` of the log is the stored event at version `n` of the journal's
sequence: versions are dense positions, and the unique (sequence, version) key
makes two writers racing to append the same position collide, so one retries.
Each document's `event_id` is claimed by a small aggregate, which makes a
resent document recognisable and a reused `event_id` refusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent, event
from eventsourcing.utils import get_topic

from ledger.base import LedgerAggregate, aggregate_id

JOURNAL_ID = aggregate_id("journal", "documents")


@dataclass(frozen=True)
class EntryRecorded(DomainEvent):
    """One accepted document at position `originator_version`, recorded at `timestamp`."""

    document: dict[str, Any]
    recorded_by: str
    events_digest: str
    prev_hash: str
    hash: str


ENTRY_TOPIC = get_topic(EntryRecorded)


class EventIdClaim(LedgerAggregate):
    """The claim of an `event_id` by the document first accepted with it."""

    @staticmethod
    def create_id(event_id: str) -> UUID:
        return aggregate_id("event_id", event_id)

    class Claimed(LedgerAggregate.Created):
        event_id: str
        content_digest: str
        position: int

    @event(Claimed)
    def __init__(self, event_id: str, content_digest: str, position: int) -> None:
        self.event_id = event_id
        self.content_digest = content_digest
        self.position = position

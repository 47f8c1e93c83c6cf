"""The journal: the log of accepted documents, stored as events of one sequence.

Entry `n` of the log is the stored event at version `n` of the journal's
sequence: versions are dense positions, and the unique (sequence, version) key
makes two writers racing to append the same position collide, so one retries.
Each document's `event_id` is claimed by a small aggregate, which makes a
resent document recognisable and a reused `event_id` refusable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEvent, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from ledger.base import LedgerAggregate, aggregate_id
from ledger.log import LogEntry

__all__ = [
    "CLAIM_TOPIC",
    "ENTRY_TOPIC",
    "JOURNAL_ID",
    "EntryRecorded",
    "EventIdClaim",
    "claim_row",
    "decode_row",
    "entry_row",
]

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

_DIGITS = bytes(byte if byte in b"0123456789" else 32 for byte in range(256))
_LONG_RUN = b"0" * 19


def decode_row(position: int, topic: str, state: bytes) -> LogEntry:
    """The log entry a stored journal row holds; raises if it holds none.

    Journal rows are plain JSON but for their timestamp, so they are decoded without
    the transcoder's per-object hook (rebuilding projections reads them all), by orjson:
    it gives what `json.loads` gives but for integers of 19 digits or more (floats),
    so rows with a run of 19 digits, and rows it refuses, are left to `json.loads`.

    >>> row = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2005-06-01T08:00:00+00:00"},'
    >>> row += b'"document":{"lat":6.04,"n":12345678901234567890},"recorded_by":"a",'
    >>> row += b'"events_digest":"e","prev_hash":"p","hash":"h"}'
    >>> entry = decode_row(7, ENTRY_TOPIC, row)
    >>> entry.position, entry.recorded_at.isoformat(), entry.document
    (7, '2005-06-01T08:00:00+00:00', {'lat': 6.04, 'n': 12345678901234567890})
    """
    if topic != ENTRY_TOPIC:
        raise TypeError(f"not a journal entry: {topic}")
    try:
        fields = json.loads(state) if _LONG_RUN in state.translate(_DIGITS) else orjson.loads(state)
    except orjson.JSONDecodeError:  # NaN, a lone surrogate, another encoding than UTF-8...
        fields = json.loads(state)
    stamp = fields["timestamp"]
    if not isinstance(stamp, dict) or stamp.get("_type_") != "datetime_iso":
        raise ValueError("a journal entry's timestamp must be an ISO date-time")
    return LogEntry(
        position,
        datetime.fromisoformat(stamp["_data_"]),
        fields["recorded_by"],
        fields["document"],
        fields["events_digest"],
        fields["prev_hash"],
        fields["hash"],
    )


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


CLAIM_TOPIC = get_topic(EventIdClaim.Claimed)
_CLAIM_STATE = (
    '{{"timestamp":{{"_type_":{kind},"_data_":{timestamp}}},"originator_topic":'
    + encode_basestring(get_topic(EventIdClaim))
    + ',"event_id":{event_id},"content_digest":{digest},"position":{position}}}'
)


def claim_row(
    event_id: str, content_digest: str, position: int, timestamp: tuple[str, str]
) -> StoredEvent:
    """The stored event of a new claim, byte for byte what eventsourcing's mapper stores for
    `EventIdClaim(event_id, content_digest, position)` created at `timestamp` (the name
    and text of its date-time transcoding), without building the aggregate and its event.

    The mapper's JSON encoder writes strings as `encode_basestring` does and integers by
    `int.__repr__`; tests/integration/test_claim_rows.py compares the two.
    """
    kind, text = timestamp
    state = _CLAIM_STATE.format(
        kind=encode_basestring(kind),
        timestamp=encode_basestring(text),
        event_id=encode_basestring(event_id),
        digest=encode_basestring(content_digest),
        position=int.__repr__(position),
    )
    return StoredEvent(
        originator_id=EventIdClaim.create_id(event_id),
        originator_version=1,
        topic=CLAIM_TOPIC,
        state=state.encode("utf8"),
    )


def entry_row(
    position: int,
    timestamp: tuple[str, str],
    document: bytes,
    recorded_by: str,
    events_digest: str,
    prev_hash: str,
    hash: str,
) -> StoredEvent:
    """The stored event of a journal entry, byte for byte what eventsourcing's mapper stores
    for `EntryRecorded` (its `document` given as the mapper's transcoder encodes it, its
    timestamp as the name and text of its date-time transcoding), without building the
    event. `kpledger verify` re-encodes every journal row and compares."""
    kind, text = timestamp
    state = (
        f'{{"timestamp":{{"_type_":{encode_basestring(kind)},"_data_":{encode_basestring(text)}}},'
        '"document":'
    ).encode() + document
    state += (
        f',"recorded_by":{encode_basestring(recorded_by)},'
        f'"events_digest":{encode_basestring(events_digest)},'
        f'"prev_hash":{encode_basestring(prev_hash)},"hash":{encode_basestring(hash)}}}'
    ).encode()
    return StoredEvent(
        originator_id=JOURNAL_ID, originator_version=position, topic=ENTRY_TOPIC, state=state
    )

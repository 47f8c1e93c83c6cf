"""The audit of the stored log: verification, export and import of the hash chain.

`verify` reads every stored row once, in notification order, straight from the
store (never through the aggregates or the read side). Each accepted document
was written as one group of rows: the aggregate events it caused, then its
journal row. For each journal row, in order, it checks that

- the row has the journal entry's topic, decodes with the ledger's own mapper,
  holds exactly the fields of an entry, and its bytes are exactly the ledger's
  encoding of them (so no edit of a journal row goes unnoticed, even one that
  leaves its meaning unchanged);
- its position is the next one (1, 2, 3, ...);
- its `prev_hash` is the previous entry's stored hash (`GENESIS_HASH` first);
- `stored_events_digest` of the rows of its group equals its `events_digest`;
- `entry_hash` of its fields recomputes its stored hash.

API token rows are written outside any group and are not part of the log: they
are skipped, and altering them is not a finding. Rows stored after the last
journal row (an inserted row, or the group of a deleted last entry) are a
finding at the position after the last entry. Verification never raises on
what it reads: every problem is a finding, and the first one is reported.

An UPDATE, DELETE, swap or INSERT of stored rows is caught unless the whole
chain was rewritten from that point on; compare `head` with a value published
earlier to catch that too.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from tqdm import tqdm

from ledger.errors import LedgerError
from ledger.journal import ENTRY_TOPIC, JOURNAL_ID, EntryRecorded
from ledger.keys import SignatureAudit, SignatureCounts
from ledger.log import (
    GENESIS_HASH,
    LogEntry,
    entry_hash,
    read_entries,
    stored_events_digest,
)
from ledger.tokens import TOKEN_TOPICS

if TYPE_CHECKING:
    from ledger.application import Ledger

__all__ = ["AuditError", "Verification", "export_log", "import_log", "verify"]

PAGE_SIZE = 2000
"""Rows read from the store per query, so that memory stays bounded."""

IMPORT_BATCH = 1000
"""Entries replayed per atomic append on import."""

_ENTRY_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(EntryRecorded)
    if field.name not in ("originator_id", "originator_version")
)
_TEXT_FIELDS = ("recorded_by", "events_digest", "prev_hash", "hash")


class AuditError(Exception):
    """An export or import that cannot be done; `position` names the entry at fault, if any."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a chain: `events` entries, the last one's stored hash as `head`.

    When `ok` is false, `first_bad_position` is the first entry that no longer
    verifies and `reason` says why.
    """

    ok: bool
    events: int
    head: str
    first_bad_position: int | None = None
    reason: str | None = None
    signatures: SignatureCounts = dataclasses.field(default_factory=SignatureCounts)
    """The stored signatures checked against the keys as they stood at each position;
    one that does not verify makes `ok` false (`reason` names it when the chain holds)."""

    def to_json(self) -> dict[str, Any]:
        """The answer of `GET /v1/audit/verify`."""
        answer: dict[str, Any] = {
            "ok": self.ok,
            "events": self.events,
            "head": self.head,
            "signatures": self.signatures.to_json(),
        }
        if self.first_bad_position is not None:
            answer["first_bad_position"] = self.first_bad_position
        if not self.ok:
            answer["reason"] = self.reason
        return answer


class _Finding(Exception):
    """Why one entry does not verify."""


class _Chain:
    """Follows entries in order: counts them, keeps the head, remembers the first bad one."""

    def __init__(self) -> None:
        self.events = 0
        self.head = GENESIS_HASH
        self.first_bad_position: int | None = None
        self.reason: str | None = None
        self.signatures = SignatureAudit()

    def add_entry(self, entry: LogEntry) -> None:
        """Checks the next entry as a log file (`kpledger export`) holds it."""
        self.add(
            position=entry.position,
            recorded_at=entry.recorded_at,
            recorded_by=entry.recorded_by,
            document=entry.document,
            events_digest=entry.events_digest,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )

    def add(
        self,
        *,
        position: int,
        recorded_at: datetime,
        recorded_by: str,
        document: dict[str, Any],
        events_digest: str,
        prev_hash: str,
        hash: str,
        stored_digest: str | None = None,
    ) -> None:
        """Checks the next entry; `stored_digest` is the digest of its stored events, if any."""
        expected = self.events + 1
        self.events = expected
        try:
            if position != expected:
                raise _Finding(f"entry {expected} is missing: the next stored one is {position}")
            if prev_hash != self.head:
                raise _Finding("its prev_hash is not the previous entry's hash")
            if stored_digest is not None and stored_digest != events_digest:
                raise _Finding("its stored events differ from its events_digest")
            recomputed = entry_hash(
                prev_hash=prev_hash,
                position=position,
                recorded_at=recorded_at,
                recorded_by=recorded_by,
                document=document,
                events_digest=events_digest,
            )
            if recomputed != hash:
                raise _Finding("its hash does not recompute")
        except _Finding as finding:
            self.fail(expected, str(finding))
        self.signatures.add(position, document)
        self.head = hash

    def add_unreadable(self, reason: str) -> None:
        """The next entry is there but cannot be read."""
        self.events += 1
        self.fail(self.events, reason)

    def fail(self, position: int, reason: str) -> None:
        if self.first_bad_position is None:
            self.first_bad_position, self.reason = position, f"entry {position}: {reason}"

    def result(self) -> Verification:
        signatures = self.signatures.counts
        reason = self.reason if self.reason is not None else signatures.reason
        return Verification(
            ok=self.first_bad_position is None and not signatures.invalid,
            events=self.events,
            head=self.head,
            first_bad_position=self.first_bad_position,
            reason=reason,
            signatures=signatures,
        )


# ------------------------------------------------------------------ verifying the store


def verify(
    ledger: Ledger, page_size: int = PAGE_SIZE, progress: Callable[[int], object] | None = None
) -> Verification:
    """Recomputes the hash chain over every stored row; see the module's docstring.

    `progress(n)` is called as entries are checked, `n` the entries since its last call.
    """
    chain = _Chain()
    group: list[Notification] = []
    try:
        for row in _stored_rows(ledger.recorder, page_size):
            if row.topic in TOKEN_TOPICS:  # tokens are no part of the log
                continue
            if row.originator_id != JOURNAL_ID:
                group.append(row)
                continue
            _check_journal_row(chain, ledger.mapper, row, group)
            group = []
            if progress is not None:
                progress(1)
    except _UnreadableRows as unreadable:
        chain.fail(chain.events + 1, str(unreadable))
    if group:
        chain.fail(
            chain.events + 1,
            f"{len(group)} stored events follow the last entry (inserted, or their entry removed)",
        )
    return chain.result()


class _UnreadableRows(Exception):
    """The store cannot return its rows from some notification id on."""


def _stored_rows(recorder: ApplicationRecorder, page_size: int) -> Iterator[Notification]:
    """Every stored row in notification order, read in pages; a page the store cannot
    return is read again row by row, so that the rows before the bad one are checked."""
    start, limit = 1, page_size
    while True:
        try:
            page = recorder.select_notifications(start, limit)
        except Exception as error:  # e.g. an originator id that is no UUID
            if limit > 1:
                limit = 1
                continue
            raise _UnreadableRows(
                f"the stored row after notification {start - 1} cannot be read ({error!r})"
            ) from None
        if not page:
            return
        yield from page
        start = page[-1].id + 1


def _check_journal_row(
    chain: _Chain, mapper: Mapper[Any], row: Notification, group: Sequence[Notification]
) -> None:
    try:
        fields = _entry_fields(mapper, row)
    except _Finding as finding:
        chain.add_unreadable(str(finding))
        return
    chain.add(
        position=row.originator_version,
        recorded_at=fields["timestamp"],
        recorded_by=fields["recorded_by"],
        document=fields["document"],
        events_digest=fields["events_digest"],
        prev_hash=fields["prev_hash"],
        hash=fields["hash"],
        stored_digest=_group_digest(group),
    )


def _group_digest(group: Sequence[Notification]) -> str:
    """`stored_events_digest` of a group's rows, or a mark that never equals a digest."""
    try:
        return stored_events_digest(
            (event.originator_id, event.originator_version, event.topic, event.state)
            for event in group
        )
    except (TypeError, ValueError, AttributeError):  # e.g. a state stored as text
        return "(unreadable stored events)"


def _entry_fields(mapper: Mapper[Any], row: Notification) -> dict[str, Any]:
    """The fields a journal row holds, decoded by the ledger's mapper; raises `_Finding`."""
    if row.topic != ENTRY_TOPIC:
        raise _Finding(f"its journal row has topic {row.topic!r}")
    try:
        state = row.state
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
        fields = mapper.transcoder.decode(state)
    except Exception as error:  # corrupt bytes are a finding, whatever the decoder raises
        raise _Finding(f"its journal row cannot be decoded ({type(error).__name__})") from None
    if not isinstance(fields, dict) or tuple(fields) != _ENTRY_FIELDS:
        raise _Finding("its journal row does not hold the fields of an entry")
    if not (
        isinstance(fields["timestamp"], datetime)
        and isinstance(fields["document"], dict)
        and all(isinstance(fields[name], str) for name in _TEXT_FIELDS)
    ):
        raise _Finding("its journal row holds a field of the wrong type")
    if mapper.transcoder.encode(fields) != state:
        raise _Finding("its journal row is not stored as the ledger encodes it")
    return fields


# ------------------------------------------------------------------ export and import


def export_log(ledger: Ledger, out: IO[str], progress: bool = False) -> int:
    """Writes every log entry as one JSON object per line; returns how many.

    Raises `AuditError` if an entry cannot be read (run `verify` to see why).
    """
    written = 0
    with tqdm(
        total=ledger.head_position(), unit="entries", file=sys.stderr, disable=not progress
    ) as bar:
        for entry in read_entries(ledger):
            if entry.position != written + 1:
                raise AuditError(f"entry {written + 1} cannot be read", written + 1)
            out.write(json.dumps(_entry_to_json(entry), ensure_ascii=False) + "\n")
            written += 1
            bar.update()
    return written


def import_log(
    ledger: Ledger, lines: Iterable[str] | IO[str], progress: bool = False
) -> Verification:
    """Appends an exported log to an empty store, reproducing every entry and its hash.

    The file is checked first (positions, prev_hash links, recomputed hashes, no
    event_id twice) and a broken file is refused whole, naming its first bad
    position. Then the entries are replayed in atomic batches of `IMPORT_BATCH`,
    the ledger checking every rule and every reproduced hash again; should it
    refuse a batch, the error says how many entries the store then holds. `lines`
    is read twice: pass a sequence or a seekable file. Returns the imported
    chain's count and head.
    """
    held = ledger.head_position()
    if held:
        raise AuditError(f"the store already holds {held} entries: import into an empty store")
    chain = _Chain()
    event_ids: set[str] = set()
    for entry in _file_entries(lines):
        if entry.event_id in event_ids:
            raise AuditError(
                f"the file's entry {entry.position} resends event_id {entry.event_id}",
                entry.position,
            )
        event_ids.add(entry.event_id)
        chain.add_entry(entry)
        if chain.first_bad_position is not None:
            raise AuditError(
                f"the file's chain is broken at {chain.reason}", chain.first_bad_position
            )
    checked = chain.result()
    batch: list[LogEntry] = []
    with tqdm(total=checked.events, unit="entries", file=sys.stderr, disable=not progress) as bar:
        for entry in _file_entries(lines):
            batch.append(entry)
            if len(batch) == IMPORT_BATCH:
                _replay(ledger, batch)
                bar.update(len(batch))
                batch = []
        if batch:
            _replay(ledger, batch)
            bar.update(len(batch))
    return checked


def _replay(ledger: Ledger, batch: Sequence[LogEntry], check_hashes: bool = True) -> None:
    first, last = batch[0].position, batch[-1].position
    try:
        ledger.replay(batch, check_hashes=check_hashes)
    except LedgerError as error:
        raise AuditError(
            f"the ledger refused entries {first} to {last} ({error.code}: {error.message}); "
            f"the store now holds {ledger.head_position()} entries",
            first + error.index,
        ) from None


def _entry_to_json(entry: LogEntry) -> dict[str, Any]:
    return {
        **entry.to_json(),
        "events_digest": entry.events_digest,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _file_entries(lines: Iterable[str] | IO[str]) -> Iterator[LogEntry]:
    """The entries of an exported log, from its first line; raises `AuditError` on a bad line."""
    if isinstance(lines, io.IOBase):
        lines.seek(0)
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = _entry_from_json(json.loads(line))
        except (ValueError, TypeError, KeyError) as error:
            raise AuditError(f"line {number} is not a log entry: {error!r}", count + 1) from None
        count += 1
        yield entry


def _entry_from_json(data: dict[str, Any]) -> LogEntry:
    document = data["document"]
    if not isinstance(document, dict) or not isinstance(data["position"], int):
        raise TypeError("position must be an integer and document an object")
    for name in ("event_id", "type", "occurred_at"):
        if data[name] != document.get(name):
            raise ValueError(f"{name} differs from the document's")
    for name in _TEXT_FIELDS:
        if not isinstance(data[name], str):
            raise TypeError(f"{name} must be a string")
    return LogEntry(
        position=data["position"],
        recorded_at=datetime.fromisoformat(data["recorded_at"]),
        recorded_by=data["recorded_by"],
        document=document,
        events_digest=data["events_digest"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )

"""Capture: one request's documents checked and appended atomically.

A request's documents are checked in order against the aggregates of one
`UnitOfWork` (so later documents see earlier ones) and appended in one insert:
the aggregates' new events, a claim per `event_id`, and one journal entry per
document whose hash chains the previous one. Writers of one process queue on a
lock (group commit): whoever takes it appends every request waiting, in one insert;
if any of them is refused, each is appended alone instead (if the store is away, they
all fail as one rather than wait for it in turn). A concurrent writer makes
the insert collide on the journal's next position; the batch is then checked again
against the new state, so two racing exports of one lot give one success and one
refusal, never both.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
)

from ledger.actors import Actor
from ledger.availability import StoreUnavailable, is_store_away
from ledger.base import recording_clock
from ledger.documents import HANDLING, Document, normalize
from ledger.errors import LedgerError
from ledger.handling import AlertCheck, Changing, UnitOfWork, also_loaded, referenced_ids
from ledger.journal import (
    JOURNAL_ID,
    EntryRecorded,
    EventIdClaim,
    claim_row,
    decode_row,
    entry_row,
)
from ledger.keys import check_signature
from ledger.log import (
    GENESIS_HASH,
    LogEntry,
    canonical_document,
    document_digest,
    entry_hash,
    stored_events_digest,
)
from ledger.lots import Lot
from ledger.normal import legacy_form
from ledger.store import (
    KeptConnection,
    WriteOutcomeUnknown,
    insert_rows,
    select_aggregates_events,
    select_last,
    select_sequence,
)
from ledger.tiles import check_leaf_size

__all__ = ["MAX_ATTEMPTS", "Capture", "Capturer", "Stamp"]

MAX_ATTEMPTS = 20
FORMED = Lot.Formed
"""A lot's first event, the most frequent: written directly (`Lot.Formed.row`)."""
KEPT_AGGREGATES = 10_000
"""How many aggregates a capturer keeps between appends, the last used first."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class Capture:
    """The outcome of a post: how many documents were appended, and the last one's position.

    When every document had been accepted before (`appended` false), `position`
    is the original position of the last of them.
    """

    accepted: int
    position: int
    appended: bool


class Stamp(NamedTuple):
    """A document with when and by whom it is recorded."""

    document: Document
    recorded_at: datetime
    recorded_by: str
    original: tuple[int, str | None] | None = None
    """The position (and hash, unless None) a replayed entry must reproduce."""
    stored: dict[str, Any] | None = None
    """The stored form a replayed entry keeps (`ledger.normal.is_stored_form` of the document,
    checked by whoever stamps it); None: the document's normal form."""


@dataclass
class _Request:
    """One caller's documents waiting for the append lock, and what became of them."""

    stamp: Callable[[], list[Stamp]]
    actor: Actor | None
    monotonic: bool
    verdicts: Any = None  # its signatures checked ahead (`ledger.verifier.Prefetched`)
    capture: Capture | None = None
    error: BaseException | None = None


def _fresh(error: BaseException) -> BaseException:
    """A copy of `error` for another waiting thread to raise (one object, raised in
    several threads at once, would share its traceback); `error` itself if it cannot."""
    try:
        copy = type(error)(*error.args)
    except Exception:
        return error
    copy.__cause__ = error
    return copy


class _Unverified(Exception):
    """An append answered from the kept aggregates cannot be taken as checked: it is
    refused, appends nothing, or took an aggregate as absent without creating it."""


class _StaleConnection(Exception):
    """The kept connection was found broken by an append's first statement, a read."""


@dataclass
class _Head:
    position: int
    hash: str
    recorded_at: datetime | None


def _same_as_legacy(digest: str, normalized: dict[str, Any]) -> bool:
    """Whether a claim's content digest is that of the document as stored before version 3
    (`ledger.normal.legacy_form`): the same content, resent in today's normal form."""
    legacy = legacy_form(normalized)
    return legacy is not None and document_digest(legacy) == digest


def _kept(kept: dict[UUID, Changing], used: dict[UUID, Changing]) -> dict[UUID, Changing]:
    """`kept` with the `used` aggregates, last, and no more than KEPT_AGGREGATES."""
    for aggregate_id, aggregate in used.items():
        kept.pop(aggregate_id, None)
        kept[aggregate_id] = aggregate
    for aggregate_id in list(itertools.islice(kept, max(0, len(kept) - KEPT_AGGREGATES))):
        del kept[aggregate_id]
    return kept


class Capturer:
    """Appends requests' documents to one store's journal, one insert per group."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._stamp_encoding: Transcoding | None = None
        """The mapper's date-time transcoding, when claim rows can be written directly
        (`ledger.journal.claim_row`): a plain JSON transcoder, no cipher, no compression."""
        transcoder = mapper.transcoder
        if isinstance(transcoder, JSONTranscoder) and not (mapper.cipher or mapper.compressor):
            self._stamp_encoding = transcoder.types.get(datetime)
        self._memo: dict[str, Any] = {}
        self._append_lock = threading.Lock()
        self._appended_head: _Head | None = None
        self._aggregates: dict[UUID, Changing] = {}
        """The aggregates the last append loaded or created, as of `_appended_head`."""
        self._kept: dict[UUID, Changing] = {}
        self._assumed: set[UUID] | None = None
        """While an append is answered from `_kept`: the ids it took as absent."""
        self._queue_lock = threading.Lock()
        self._queue: list[_Request] = []
        self._connections = KeptConnection(recorder)
        self._connection: Any = None  # the one an append is using (PostgreSQL), else None
        self._unchecked = False  # the append's connection is the kept one, and unused yet
        self.alert_check: AlertCheck | None = None
        self.poster_roles: Mapping[str, frozenset[str]] = {}
        """The roles of the tokens of each name, as last listed (see `UnitOfWork`)."""
        self.ready: Callable[[], None] = lambda: None
        """Raises when the store is known to be away, before a group is appended."""

    def append(
        self,
        stamp: Callable[[], list[Stamp]],
        actor: Actor | None,
        *,
        monotonic: bool = True,
        verdicts: Any = None,
    ) -> Capture:
        """Appends one request's documents, in one insert with whatever queued behind it.

        `stamp` makes the request's stamped documents when its turn comes; `monotonic`
        keeps `recorded_at` from going back (false for a replay of another log);
        `verdicts` are its signatures checked ahead (`ledger.verifier.Prefetched`).
        """
        request = _Request(stamp, actor, monotonic, verdicts)
        with self._queue_lock:
            self._queue.append(request)
        with self._append_lock:
            if request.capture is None and request.error is None:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._append_group(group)
        if request.error is not None:
            raise request.error
        assert request.capture is not None
        return request.capture

    def close(self) -> None:
        """Gives back the connection kept between appends."""
        with self._append_lock:
            self._connections.close()

    def _read(self, read: Callable[..., _T], *args: Any) -> _T:
        """`read(*args)`; if it is the first statement on the kept connection, lent
        unchecked, and finds it broken, `_StaleConnection` (nothing was written)."""
        first, self._unchecked = self._unchecked, False
        try:
            return read(*args)
        except Exception as error:
            if first and self._connection.broken:
                raise _StaleConnection from error
            raise

    def _load(self, aggregate_ids: Iterable[UUID]) -> Mapping[UUID, Changing | None]:
        wanted = list(aggregate_ids)
        if self._assumed is not None:  # from memory: an aggregate not kept is taken as absent
            kept = self._kept
            found = {aggregate_id: kept.get(aggregate_id) for aggregate_id in wanted}
            self._assumed.update(i for i, aggregate in found.items() if aggregate is None)
            return found
        loaded: dict[UUID, Any] = dict.fromkeys(wanted)
        events = self._read(select_aggregates_events, self._recorder, wanted, self._connection)
        for stored in events:
            event: Any = self._mapper.to_domain_event(stored)
            loaded[event.originator_id] = event.mutate(loaded[event.originator_id])
        return loaded

    def _posted_by(self, position: int, actor: Actor | None) -> bool:
        """Whether the stored entry at `position` was recorded by `actor` (by its token's
        name): its poster may post it again even where the ledger has moved on since (a
        lot it flagged then exported is no longer its own to flag)."""
        if actor is None:
            return True
        found = self._entries(position - 1, 1)
        return bool(found) and found[0].position == position and found[0].recorded_by == actor.name

    def _entries(self, after: int, limit: int) -> list[LogEntry]:
        """Stored log entries after `after`, on the append's connection."""
        return [decode_row(*row) for row in self._rows(after, limit)]

    def _rows(self, after: int, limit: int) -> list[tuple[int, str, bytes]]:
        """Stored journal rows after `after`, on the append's connection."""
        return self._read(
            lambda: select_sequence(
                self._recorder, JOURNAL_ID, after, limit, connection=self._connection
            )
        )

    def _head(self) -> _Head:
        last = self._read(select_last, self._recorder, JOURNAL_ID, self._connection)
        if last is None:
            return _Head(0, GENESIS_HASH, None)
        try:
            entry = decode_row(*last)
        except Exception:
            raise LedgerError(
                "store_unavailable",
                "the log's last entry cannot be read back: the store was altered; "
                "run kpledger verify",
            ) from None
        return _Head(entry.position, entry.hash, entry.recorded_at)

    def _append_group(self, group: list[_Request]) -> None:
        try:
            self.ready()  # the store may have gone away while this group waited
        except Exception as error:
            for request in group:
                request.error = _fresh(error)
            return
        if len(group) > 1:
            try:
                captures = self._with_retries(group)
            except Exception as error:
                if is_store_away(error) or isinstance(
                    error, StoreUnavailable | WriteOutcomeUnknown
                ):
                    # the store is away: alone, each would wait for it in turn
                    for request in group:
                        request.error = _fresh(error)
                    return
                # else somebody's request is refused: take them one at a time
            else:
                for request, capture in zip(group, captures, strict=True):
                    request.capture = capture
                return
        for request in group:
            try:
                request.capture = self._with_retries([request])[0]
            except Exception as error:
                request.error = error

    def _with_retries(self, requests: list[_Request]) -> list[Capture]:
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._append_once(requests)
            except IntegrityError:
                continue  # another process appended first: check again against its outcome
        raise LedgerError("write_conflict", "the store is too busy to append; try again")

    def _append_once(self, requests: list[_Request]) -> list[Capture]:
        """Appends the requests' documents after the head this process appended last, or
        after the stored head. A head made stale by another process's append costs
        nothing: the journal's next position is taken, the insert collides and the
        caller retries after reading it again (as after any failure).

        After the head this process appended last, the requests are first checked
        against the aggregates that append left (`_aggregates`), without reading the
        store, taking any other aggregate as absent. That is sound when the insert
        succeeds: it takes the journal's next position, so nobody appended since, and
        an aggregate taken as absent was created (its first version, a unique key,
        was free). Otherwise (a refusal, nothing to insert, an absent aggregate only
        read) the requests are checked again against the store.

        On PostgreSQL the reads and the insert share one connection, kept between
        appends and lent without the pool's check (a round trip). One broken while it
        was kept (PostgreSQL restarted) fails the append's first read: nothing was
        sent to be written, so the append is made again, once, on a connection the
        pool checks, after the pool replaced its broken ones. Any other failure is the
        caller's, as it was."""
        known, self._appended_head = self._appended_head, None
        kept, self._aggregates = self._aggregates, {}  # a failed append may have changed them
        try:
            if known is not None:
                try:
                    return self._append_on_lent(requests, known, kept)
                except _Unverified:
                    pass
            return self._append_on_lent(requests, known, None)
        except _StaleConnection:
            self.ready()  # broken because the store went away: refused, not waited on again
            self._connections.check_pool()
            return self._append_on_lent(requests, None, None)

    def _append_on_lent(
        self, requests: list[_Request], known: _Head | None, kept: dict[UUID, Changing] | None
    ) -> list[Capture]:
        """One try, after `known` (else the stored head), from the `kept` aggregates if
        given (else the stored ones), on a lent connection."""
        with self._connections.lend() as (connection, checked):
            self._connection, self._unchecked = connection, not checked
            if kept is not None:
                self._kept, self._assumed = kept, set()
            try:
                return self._append_once_on(requests, known)
            finally:
                self._connection, self._unchecked = None, False
                self._kept, self._assumed = {}, None

    def _append_once_on(self, requests: list[_Request], known: _Head | None) -> list[Capture]:
        head = replace(known) if known is not None else self._head()
        work = UnitOfWork(self._load, self._memo)
        work.alerts = self.alert_check
        work.poster_roles = self.poster_roles
        work.entries, work.rows = self._entries, self._rows
        batches = [
            (request.stamp(), request.actor, request.monotonic, request.verdicts)
            for request in requests
        ]
        documents = [stamp.document for stamps, _, _, _ in batches for stamp in stamps]
        work.preload(
            aggregate_id for document in documents for aggregate_id in referenced_ids(document)
        )
        work.preload(also_loaded(documents, work))
        rows: list[StoredEvent] = []
        claims: dict[UUID, tuple[str, int]] = {}
        assumed = self._assumed
        try:
            captures = []
            for stamps, actor, monotonic, verdicts in batches:
                work.verdicts = verdicts
                captures.append(
                    self._append_request(stamps, actor, monotonic, head, work, rows, claims)
                )
        except LedgerError:
            if assumed is not None:
                raise _Unverified from None
            raise
        if assumed is not None:
            created = {row.originator_id for row in rows if row.originator_version == 1}
            if not rows or not assumed <= created:
                raise _Unverified
        if rows:
            self._unchecked = False  # a failure from here on is never made again
            insert_rows(self._recorder, rows, self._connection)
        self._appended_head = head
        self._aggregates = _kept(self._kept if assumed is not None else {}, work.known())
        return captures

    @staticmethod
    def _forbidden_after(stamps: list[Stamp], index: int, work: UnitOfWork) -> None:
        """Raises the first 403 of the documents after `index`: it comes before a 409."""
        for later, stamp in enumerate(stamps[index + 1 :], start=index + 1):
            try:
                check_signature(stamp.document, normalize(stamp.document), work)
                HANDLING[type(stamp.document)].check_jurisdiction(stamp.document, work)
            except LedgerError as forbidden:
                raise forbidden.at(later) from None

    def _append_request(
        self,
        stamps: list[Stamp],
        actor: Actor | None,
        monotonic: bool,
        head: _Head,
        work: UnitOfWork,
        rows: list[StoredEvent],
        claims: dict[UUID, tuple[str, int]],
    ) -> Capture:
        """Checks one request's documents and adds their rows; `head` moves along.

        `claims` holds the claims of this group's new documents (content digest and
        position, by claim id), whose rows are written directly when the mapper allows;
        the stored ones are loaded as `EventIdClaim` aggregates."""
        work.actor = actor
        accepted, last_position = 0, 0
        for index, (document, recorded_at, recorded_by, original, kept) in enumerate(stamps):
            if monotonic and head.recorded_at is not None:
                recorded_at = max(recorded_at, head.recorded_at)
            normalized = normalize(document) if kept is None else kept
            canonical, content_digest = canonical_document(normalized)
            claim_id = EventIdClaim.create_id(document.event_id)
            claim = claims.get(claim_id)  # one of this request's own documents: its actor's
            if claim is None:
                stored = work.get(EventIdClaim, claim_id)
                if stored is not None:
                    claim = (stored.content_digest, stored.position)
                    try:  # a re-post is judged by jurisdiction first, as a new post is
                        HANDLING[type(document)].check_jurisdiction(document, work)
                    except LedgerError as error:
                        if not self._posted_by(stored.position, actor):
                            raise error.at(index) from None
            if claim is not None:
                if claim[0] != content_digest and not _same_as_legacy(claim[0], normalized):
                    self._forbidden_after(stamps, index, work)
                    raise LedgerError(
                        "event_id_reused",
                        f"event_id {document.event_id} was accepted before with other content",
                        index=index,
                        detail={"position": claim[1]},
                    )
                work.take_pending()
                if not accepted:
                    last_position = claim[1]
                continue
            position = head.position + 1
            check_leaf_size(position, recorded_at, recorded_by, normalized, index, canonical)
            work.position = position
            with recording_clock(recorded_at):
                handling = HANDLING[type(document)]
                try:
                    check_signature(document, normalized, work)
                    handling.check_jurisdiction(document, work)
                    handling.handle(document, work)
                except LedgerError as error:
                    if error.status == 409:
                        self._forbidden_after(stamps, index, work)
                    raise error.at(index) from None
                claims[claim_id] = (content_digest, position)
                stamp_encoding = self._stamp_encoding
                encoded_at = (
                    None
                    if stamp_encoding is None
                    else (stamp_encoding.name, stamp_encoding.encode(recorded_at))
                )
                if encoded_at is None:
                    work.add(
                        EventIdClaim(
                            event_id=document.event_id,
                            content_digest=content_digest,
                            position=position,
                        )
                    )
                group = [
                    self._mapper.to_stored_event(event)
                    if encoded_at is None or type(event) is not FORMED
                    else event.row(encoded_at)
                    for event in work.take_pending()
                ]
                if encoded_at is not None:  # the claim's row last, as its event would be
                    group.append(claim_row(document.event_id, content_digest, position, encoded_at))
            events_digest = stored_events_digest(
                (row.originator_id, row.originator_version, row.topic, row.state) for row in group
            )
            chained = entry_hash(
                prev_hash=head.hash,
                position=position,
                recorded_at=recorded_at,
                recorded_by=recorded_by,
                document=normalized,
                events_digest=events_digest,
                digest_of_document=content_digest,
            )
            if original is not None and (
                original[0] != position or (original[1] is not None and original[1] != chained)
            ):
                raise LedgerError(
                    "invalid",
                    f"entry {original[0]} does not reproduce its hash at its position on replay",
                    index=index,
                )
            rows.extend(group)
            if encoded_at is not None:
                rows.append(
                    entry_row(
                        position,
                        encoded_at,
                        self._mapper.transcoder.encode(normalized),
                        recorded_by,
                        events_digest,
                        head.hash,
                        chained,
                    )
                )
            else:
                entry = EntryRecorded(
                    originator_id=JOURNAL_ID,
                    originator_version=position,
                    timestamp=recorded_at,
                    document=normalized,
                    recorded_by=recorded_by,
                    events_digest=events_digest,
                    prev_hash=head.hash,
                    hash=chained,
                )
                rows.append(self._mapper.to_stored_event(entry))
            work.appended.append(
                LogEntry(position, recorded_at, recorded_by, normalized, events_digest, "", "")
            )
            head.position, head.hash, head.recorded_at = position, chained, recorded_at
            accepted, last_position = accepted + 1, position
        return Capture(accepted=accepted, position=last_position, appended=accepted > 0)

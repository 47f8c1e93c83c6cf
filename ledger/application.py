"""Ledger: the event-sourced application that captures custody documents.

`post()` takes one document or a batch, checks roles and every KPCS rule against
the aggregates, and appends the whole batch in one atomic insert: the
aggregates' new events, the claims of the documents' event ids, and one journal
entry per document, chained by hash. A concurrent writer makes the insert
collide on the journal's next position; the batch is then checked again
against the new state, so two racing exports of one lot give one success and
one refusal, never both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, TypeVar, cast
from uuid import UUID

import eventsourcing.persistence
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent, Transcoding

from ledger import documents as docs
from ledger.actors import Actor, Role
from ledger.base import recording_clock
from ledger.certificate import Certificate
from ledger.composition import combine, share
from ledger.embargo import EmbargoRegister
from ledger.errors import LedgerError
from ledger.journal import JOURNAL_ID, EntryRecorded, EventIdClaim, decode_row
from ledger.log import (
    GENESIS_HASH,
    LogEntry,
    document_digest,
    entry_hash,
    stored_events_digest,
)
from ledger.lot import IN_TRANSIT, SEIZED, Lot
from ledger.participant import WITHDRAWN, Participant
from ledger.rules import (
    Place,
    check_authority_of,
    check_declared_origin,
    check_exporter_not_embargoed,
    check_origin_not_embargoed,
    check_role,
    check_usable,
)
from ledger.source import ALLUVIAL_SITE, MINE, Source
from ledger.store import (
    StoreConfig,
    check_reachable,
    insert_rows,
    select_aggregates_events,
    select_sequence,
    store_config,
)
from ledger.tokens import ApiToken, new_token, token_digest

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
T = TypeVar("T", bound=Aggregate)


class FractionAsText(Transcoding):
    """Stores a Fraction exactly, as "numerator/denominator"."""

    type = Fraction
    name = "fraction"

    def encode(self, obj: Fraction) -> str:
        return f"{obj.numerator}/{obj.denominator}"

    def decode(self, data: str) -> Fraction:
        return Fraction(data)


class DateAsISO(Transcoding):
    """Stores a date as YYYY-MM-DD."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DatetimeAsISO(eventsourcing.persistence.DatetimeAsISO):
    """eventsourcing's transcoding of date-times, remembering the last one written: the
    events of a batch share one `recorded_at` object (a date-time equal to it in another
    offset is another object, and is written as itself)."""

    def __init__(self) -> None:
        self._last: tuple[datetime | None, str] = (None, "")

    def encode(self, obj: datetime) -> str:
        last, text = self._last
        if obj is not last:
            text = obj.isoformat()
            self._last = (obj, text)
        return text


@dataclass(frozen=True)
class Capture:
    """The outcome of a post: how many documents were appended, and the last one's position.

    When every document had been accepted before (`appended` false), `position`
    is the original position of the last of them.
    """

    accepted: int
    position: int
    appended: bool


class _Stamp(NamedTuple):
    document: docs.Document
    recorded_at: datetime
    recorded_by: str
    original: tuple[int, str] | None = None  # position and hash a replayed entry must reproduce


@dataclass
class _Request:
    """One caller's documents waiting for the append lock, and what became of them."""

    stamp: Callable[[], list[_Stamp]]
    actor: Actor | None
    monotonic: bool
    capture: Capture | None = None
    error: BaseException | None = None


@dataclass
class _Head:
    position: int
    hash: str
    recorded_at: datetime | None


class UnitOfWork:
    """The aggregates one batch reads and changes, so later documents see earlier ones."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._aggregates: dict[UUID, Aggregate | None] = {}
        self._touched: dict[UUID, Aggregate] = {}

    def get(self, cls: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate as this batch has it so far, or None if it does not exist."""
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self._ledger.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._aggregates[aggregate_id] = None
        aggregate = self._aggregates[aggregate_id]
        if aggregate is None:
            return None
        if not isinstance(aggregate, cls):
            raise TypeError(f"{aggregate_id} is a {type(aggregate).__name__}, not {cls.__name__}")
        self._touched[aggregate_id] = aggregate
        return aggregate

    def preload(self, aggregate_ids: Iterable[UUID]) -> None:
        """Loads (or learns the absence of) many aggregates at once."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in self._aggregates]
        loaded: dict[UUID, Any] = dict.fromkeys(wanted)
        for stored in select_aggregates_events(self._ledger.recorder, wanted):
            event: Any = self._ledger.mapper.to_domain_event(stored)
            loaded[event.originator_id] = event.mutate(loaded[event.originator_id])
        self._aggregates.update(loaded)

    def add(self, aggregate: Aggregate) -> None:
        """A new aggregate, created by the current document."""
        self._aggregates[aggregate.id] = aggregate
        self._touched[aggregate.id] = aggregate

    def take_pending(self) -> list[DomainEventProtocol[UUID]]:
        """The events the current document triggered, in a deterministic order."""
        pending: list[DomainEventProtocol[UUID]] = []
        for aggregate in self._touched.values():
            pending.extend(aggregate.collect_events())
        self._touched.clear()
        return pending


_LOT_FIELDS = ("lot_id", "lot_ids", "into")
_SOURCE_FIELDS = ("source_id", "mine_id", "site_id")
_PARTICIPANT_FIELDS = ("participant", "exporting_participant", "importing_participant")


def referenced_aggregates(document: docs.Document) -> list[UUID]:
    """The ids of the aggregates a document may read or create, to load them in bulk."""
    ids = [EventIdClaim.create_id(document.event_id)]
    fields = vars(document)
    for name in _LOT_FIELDS:
        value = fields.get(name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            lot_id = getattr(item, "lot_id", item)
            if isinstance(lot_id, str):
                ids.append(Lot.create_id(lot_id))
    ids.extend(Source.create_id(fields[name]) for name in _SOURCE_FIELDS if name in fields)
    ids.extend(
        Participant.create_id(fields[name]) for name in _PARTICIPANT_FIELDS if name in fields
    )
    if "certificate_id" in fields:
        ids.append(Certificate.create_id(fields["certificate_id"]))
    if document.type.startswith("embargo."):
        ids.append(EmbargoRegister.create_id())
    return ids


class Ledger(Application[UUID]):
    """The kpledger write side over one store (SQLite file or PostgreSQL database)."""

    name = "Ledger"

    @classmethod
    def open(cls, database_url: str | None) -> Ledger:
        """Opens (creating tables on first use) the store a KPLEDGER_DATABASE_URL names.

        Raises `StoreError` with a one-line message when the store is unusable.
        """
        config = store_config(database_url)
        check_reachable(config)
        return cls(config)

    def __init__(self, config: StoreConfig) -> None:
        self.store = config
        super().__init__(env={**config.env, "CREATE_TABLE": "y"})
        self._places: dict[str, Place] = {}
        self._append_lock = threading.Lock()
        self._appended_head: _Head | None = None
        self._queue_lock = threading.Lock()
        self._queue: list[_Request] = []
        self._actors: dict[str, Actor] = {}
        self._handlers: dict[str, Callable[[Any, Actor | None, UnitOfWork], None]] = {
            "participant.admitted": self._participant_admitted,
            "participant.suspended": self._participant_suspended,
            "participant.reinstated": self._participant_reinstated,
            "participant.withdrawn": self._participant_withdrawn,
            "embargo.declared": self._embargo_declared,
            "embargo.lifted": self._embargo_lifted,
            "mine.registered": self._mine_registered,
            "alluvial_site.registered": self._alluvial_site_registered,
            "alluvial_site.licence_revoked": self._licence_revoked,
            "lot.produced": self._lot_produced,
            "lot.split": self._lot_split,
            "lots.merged": self._lots_merged,
            "export.certified": self._export_certified,
            "import.confirmed": self._import_confirmed,
            "lot.flagged": self._lot_flagged,
            "lot.seized": self._lot_seized,
        }

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(FractionAsText())
        transcoder.register(DateAsISO())
        transcoder.register(DatetimeAsISO())

    # ----------------------------------------------------------------- tokens

    def create_token(self, role: Role, name: str, participant: str | None = None) -> str:
        """Creates an API token and returns it; only its hash is stored."""
        if role == "authority" and participant is None:
            raise ValueError("an authority token needs a participant")
        if role != "authority" and participant is not None:
            raise ValueError("only an authority token is bound to a participant")
        token = new_token()
        digest = token_digest(token)
        self.save(ApiToken(digest=digest, role=role, name=name, participant=participant))
        return token

    def actor_for_token(self, token: str) -> Actor | None:
        """Who holds this token, or None if no such token was created."""
        digest = token_digest(token)
        actor = self._actors.get(digest)
        if actor is None:
            try:
                record: ApiToken = self.repository.get(ApiToken.create_id(digest))
            except AggregateNotFoundError:
                return None
            role = cast(Role, record.role)
            actor = Actor(role=role, name=record.name, participant=record.participant)
            self._actors[digest] = actor
        return actor

    # --------------------------------------------------------------- the log

    def head_position(self) -> int:
        """The position of the last accepted document (0 when the log is empty)."""
        last = self.recorder.select_events(JOURNAL_ID, desc=True, limit=1)
        return last[0].originator_version if last else 0

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries after position `after`; undecodable entries are skipped."""
        entries = []
        for position, topic, state in select_sequence(self.recorder, JOURNAL_ID, after, limit):
            try:
                entries.append(decode_row(position, topic, state))
            except Exception as error:  # a finding for the audit, not a crash of the reader
                log.warning("log entry %s cannot be decoded: %s", position, error)
        return entries

    def _head(self) -> _Head:
        last = self.recorder.select_events(JOURNAL_ID, desc=True, limit=1)
        if not last:
            return _Head(0, GENESIS_HASH, None)
        try:
            entry = decode_row(last[0].originator_version, last[0].topic, last[0].state)
        except Exception:
            raise LedgerError(
                "store_unavailable",
                "the log's last entry cannot be read back: the store was altered; "
                "run kpledger verify",
            ) from None
        return _Head(entry.position, entry.hash, entry.recorded_at)

    # --------------------------------------------------------------- capture

    def post(self, payload: Any, actor: Actor) -> Capture:
        """Validates and captures a request body (one document, or {"events": [...]})."""
        return self.capture(docs.parse_request(payload), actor)

    def capture(self, documents: Sequence[docs.Document], actor: Actor) -> Capture:
        """Appends the documents atomically, or refuses them all with a LedgerError."""
        for index, document in enumerate(documents):
            try:
                check_role(actor, document)
            except LedgerError as error:
                raise error.at(index) from None

        def stamp() -> list[_Stamp]:
            now = datetime.now(UTC)
            return [_Stamp(document, now, actor.name) for document in documents]

        return self._append(stamp, actor)

    def replay(self, entries: Sequence[LogEntry]) -> Capture:
        """Appends entries of another ledger's log as they were recorded there (import).

        Roles and jurisdictions are taken as checked; every other rule is checked again.
        Refuses the whole batch with `LedgerError("invalid")` if an entry does not land at
        its original position with its original hash.
        """
        stamps = [
            _Stamp(
                docs.parse_document(entry.document, index),
                entry.recorded_at,
                entry.recorded_by,
                (entry.position, entry.hash),
            )
            for index, entry in enumerate(entries)
        ]
        return self._append(lambda: stamps, None, monotonic=False)

    def _append(
        self, stamp: Callable[[], list[_Stamp]], actor: Actor | None, *, monotonic: bool = True
    ) -> Capture:
        """Appends one request's documents, in one insert with whatever queued behind it.

        Writers of this process queue on a lock (group commit): whoever takes it appends
        every request waiting, in one transaction. If any of them is refused, each is
        appended alone instead, so one refusal never touches another request.
        """
        request = _Request(stamp, actor, monotonic)
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

    def _append_group(self, group: list[_Request]) -> None:
        if len(group) > 1:
            try:
                captures = self._with_retries(group)
            except Exception:
                pass  # somebody's request is refused: take them one at a time
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
        caller retries after reading it again (as after any failure)."""
        known, self._appended_head = self._appended_head, None
        head = replace(known) if known is not None else self._head()
        work = UnitOfWork(self)
        batches = [(request.stamp(), request.actor, request.monotonic) for request in requests]
        work.preload(
            aggregate_id
            for stamps, _, _ in batches
            for document, *_ in stamps
            for aggregate_id in referenced_aggregates(document)
        )
        rows: list[StoredEvent] = []
        captures = [
            self._append_request(stamps, actor, monotonic, head, work, rows)
            for stamps, actor, monotonic in batches
        ]
        if rows:
            insert_rows(self.recorder, rows)
        self._appended_head = head
        return captures

    def _append_request(
        self,
        stamps: list[_Stamp],
        actor: Actor | None,
        monotonic: bool,
        head: _Head,
        work: UnitOfWork,
        rows: list[StoredEvent],
    ) -> Capture:
        """Checks one request's documents and adds their rows; `head` moves along."""
        accepted, last_position = 0, 0
        for index, (document, recorded_at, recorded_by, original) in enumerate(stamps):
            if monotonic and head.recorded_at is not None:
                recorded_at = max(recorded_at, head.recorded_at)
            normalized = docs.normalize(document)
            content_digest = document_digest(normalized)
            claim = work.get(EventIdClaim, EventIdClaim.create_id(document.event_id))
            if claim is not None:
                if claim.content_digest != content_digest:
                    raise LedgerError(
                        "event_id_reused",
                        f"event_id {document.event_id} was accepted before with other content",
                        index=index,
                        detail={"position": claim.position},
                    )
                work.take_pending()
                if not accepted:
                    last_position = claim.position
                continue
            position = head.position + 1
            with recording_clock(recorded_at):
                try:
                    self._check_jurisdiction(document, actor, work)
                    self._handlers[document.type](document, actor, work)
                except LedgerError as error:
                    if error.status == 409:  # a 403 further on in the batch comes first
                        for later, stamp in enumerate(stamps[index + 1 :], start=index + 1):
                            try:
                                self._check_jurisdiction(stamp.document, actor, work)
                            except LedgerError as forbidden:
                                raise forbidden.at(later) from None
                    raise error.at(index) from None
                work.add(
                    EventIdClaim(
                        event_id=document.event_id,
                        content_digest=content_digest,
                        position=position,
                    )
                )
                group = [self.mapper.to_stored_event(event) for event in work.take_pending()]
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
            if original is not None and original != (position, chained):
                raise LedgerError(
                    "invalid",
                    f"entry {original[0]} does not reproduce its hash at its position on replay",
                    index=index,
                )
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
            rows.extend(group)
            rows.append(self.mapper.to_stored_event(entry))
            head.position, head.hash, head.recorded_at = position, chained, recorded_at
            accepted, last_position = accepted + 1, position
        return Capture(accepted=accepted, position=last_position, appended=accepted > 0)

    # ------------------------------------------------------------- lookups

    def _participant(self, work: UnitOfWork, code: str) -> Participant:
        participant = work.get(Participant, Participant.create_id(code))
        if participant is None:
            raise LedgerError("unknown_participant", f"participant {code} was never admitted")
        return participant

    def _active_participant(self, work: UnitOfWork, code: str) -> Participant:
        participant = self._participant(work, code)
        if not participant.is_active:
            raise LedgerError("participant_inactive", f"participant {code} is {participant.status}")
        return participant

    def _source(self, work: UnitOfWork, source_id: str) -> Source:
        source = work.get(Source, Source.create_id(source_id))
        if source is None:
            raise LedgerError("unknown_source", f"no mine or alluvial site {source_id}")
        return source

    def _lot(self, work: UnitOfWork, lot_id: str) -> Lot:
        lot = work.get(Lot, Lot.create_id(lot_id))
        if lot is None:
            raise LedgerError("unknown_lot", f"no lot {lot_id}")
        return lot

    def _new_lot_id(self, work: UnitOfWork, lot_id: str) -> None:
        if work.get(Lot, Lot.create_id(lot_id)) is not None:
            raise LedgerError("duplicate_id", f"lot {lot_id} already exists")

    def _register(self, work: UnitOfWork) -> EmbargoRegister | None:
        return work.get(EmbargoRegister, EmbargoRegister.create_id())

    def _places_of(self, work: UnitOfWork, lots: Sequence[Lot]) -> dict[str, Place]:
        places: dict[str, Place] = {}
        for lot in lots:
            for source_id in lot.composition:
                place = self._places.get(source_id)
                if place is None:
                    source = self._source(work, source_id)
                    place = Place(source.participant, source.region, source.kind)
                    self._places[source_id] = place
                places[source_id] = place
        return places

    @staticmethod
    def _acting(actor: Actor | None) -> str | None:
        return actor.participant if actor is not None else None

    def _check_jurisdiction(
        self, doc: docs.Document, actor: Actor | None, work: UnitOfWork
    ) -> None:
        """403 unless the actor's participant may act on what the document names.

        The part of the jurisdiction rules that depends on the ledger's state (whose
        source, whose certificate, who holds the lot); names it cannot resolve are
        left to the document's handler, which refuses them with a 409.
        """
        if actor is None:
            return
        if isinstance(doc, docs.LotProduced | docs.AlluvialSiteLicenceRevoked):
            source_id = doc.source_id if isinstance(doc, docs.LotProduced) else doc.site_id
            source = work.get(Source, Source.create_id(source_id))
            if source is not None:
                check_authority_of(actor, source.participant, f"source {source_id}")
        elif isinstance(doc, docs.ImportConfirmed):
            certificate = work.get(Certificate, Certificate.create_id(doc.certificate_id))
            if certificate is not None:
                check_authority_of(
                    actor, certificate.importing_participant, f"the import of {doc.certificate_id}"
                )
        elif isinstance(doc, docs.LotFlagged | docs.LotSeized):
            lot = work.get(Lot, Lot.create_id(doc.lot_id))
            if lot is None or (isinstance(doc, docs.LotFlagged) and actor.role != "authority"):
                return
            receiving = lot.status == IN_TRANSIT and lot.importing_participant == actor.participant
            if isinstance(doc, docs.LotFlagged) or not receiving:
                check_authority_of(actor, lot.holder, f"lot {doc.lot_id}")

    # ------------------------------------------------------------- handlers

    def _participant_admitted(
        self, doc: docs.ParticipantAdmitted, actor: Actor | None, work: UnitOfWork
    ) -> None:
        participant = work.get(Participant, Participant.create_id(doc.participant))
        if participant is None:
            work.add(Participant(code=doc.participant, name=doc.name))
        elif participant.status == WITHDRAWN:
            participant.readmit(name=doc.name)
        else:
            raise LedgerError(
                "duplicate_id", f"participant {doc.participant} is already {participant.status}"
            )

    def _participant_suspended(
        self, doc: docs.ParticipantSuspended, actor: Actor | None, work: UnitOfWork
    ) -> None:
        participant = self._participant(work, doc.participant)
        if participant.status == WITHDRAWN:
            raise LedgerError("participant_inactive", f"participant {doc.participant} withdrew")
        participant.suspend(reason=doc.reason)

    def _participant_reinstated(
        self, doc: docs.ParticipantReinstated, actor: Actor | None, work: UnitOfWork
    ) -> None:
        participant = self._participant(work, doc.participant)
        if participant.status == WITHDRAWN:
            raise LedgerError(
                "participant_inactive",
                f"participant {doc.participant} withdrew: admit it again instead",
            )
        participant.reinstate()

    def _participant_withdrawn(
        self, doc: docs.ParticipantWithdrawn, actor: Actor | None, work: UnitOfWork
    ) -> None:
        participant = self._participant(work, doc.participant)
        if participant.status == WITHDRAWN:
            raise LedgerError(
                "participant_inactive", f"participant {doc.participant} already withdrew"
            )
        participant.withdraw(reason=doc.reason)

    def _embargo_declared(
        self, doc: docs.EmbargoDeclared, actor: Actor | None, work: UnitOfWork
    ) -> None:
        register = self._register(work)
        if register is None:
            register = EmbargoRegister()
            work.add(register)
        if doc.embargo_id in register.embargoes:
            raise LedgerError("duplicate_id", f"embargo {doc.embargo_id} already exists")
        register.declare(
            embargo_id=doc.embargo_id,
            participant=doc.participant,
            region=doc.region,
            effective_from=doc.effective_from,
        )

    def _embargo_lifted(
        self, doc: docs.EmbargoLifted, actor: Actor | None, work: UnitOfWork
    ) -> None:
        register = self._register(work)
        if register is None or doc.embargo_id not in register.embargoes:
            raise LedgerError("unknown_embargo", f"no embargo {doc.embargo_id}")
        embargo = register.embargoes[doc.embargo_id]
        if doc.effective_to < embargo.effective_from:
            raise LedgerError(
                "bad_dates",
                f"effective_to {doc.effective_to} is before effective_from "
                f"{embargo.effective_from}",
            )
        register.lift(embargo_id=doc.embargo_id, effective_to=doc.effective_to)

    def _new_source(
        self,
        work: UnitOfWork,
        source_id: str,
        kind: str,
        participant: str,
        region: str,
        licence_valid_until: date | None,
    ) -> None:
        self._participant(work, participant)
        if work.get(Source, Source.create_id(source_id)) is not None:
            raise LedgerError("duplicate_id", f"source {source_id} already exists")
        work.add(
            Source(
                source_id=source_id,
                kind=kind,
                participant=participant,
                region=region,
                licence_valid_until=licence_valid_until,
            )
        )

    def _mine_registered(
        self, doc: docs.MineRegistered, actor: Actor | None, work: UnitOfWork
    ) -> None:
        self._new_source(work, doc.mine_id, MINE, doc.participant, doc.region, None)

    def _alluvial_site_registered(
        self, doc: docs.AlluvialSiteRegistered, actor: Actor | None, work: UnitOfWork
    ) -> None:
        self._new_source(
            work, doc.site_id, ALLUVIAL_SITE, doc.participant, doc.region, doc.licence.valid_until
        )

    def _licence_revoked(
        self, doc: docs.AlluvialSiteLicenceRevoked, actor: Actor | None, work: UnitOfWork
    ) -> None:
        site = self._source(work, doc.site_id)
        if site.kind != ALLUVIAL_SITE:
            raise LedgerError("unknown_source", f"{doc.site_id} is a mine, not an alluvial site")
        site.revoke_licence(reason=doc.reason, revoked_on=doc.occurred_at.date())

    def _lot_produced(self, doc: docs.LotProduced, actor: Actor | None, work: UnitOfWork) -> None:
        source = self._source(work, doc.source_id)
        day = doc.occurred_at.date()
        if not source.may_produce_on(day):
            raise LedgerError(
                "licence_invalid",
                f"the licence of alluvial site {doc.source_id} is not valid on {day}",
            )
        self._new_lot_id(work, doc.lot_id)
        work.add(
            Lot(
                lot_id=doc.lot_id,
                carats=doc.carats,
                value_usd=doc.value_usd,
                holder=source.participant,
                composition={doc.source_id: Fraction(doc.carats)},
                source_id=doc.source_id,
                parent_lot_ids=[],
            )
        )

    def _lot_split(self, doc: docs.LotSplit, actor: Actor | None, work: UnitOfWork) -> None:
        lot = self._lot(work, doc.lot_id)
        check_usable(lot, self._acting(actor))
        total = sum((part.carats for part in doc.into), Decimal(0))
        if total != lot.carats:
            raise LedgerError(
                "mass_balance",
                f"the parts of lot {lot.lot_id} add up to {total} carats, not {lot.carats}",
            )
        for part in doc.into:
            self._new_lot_id(work, part.lot_id)
        whole = Fraction(lot.carats)
        for part in doc.into:
            work.add(
                Lot(
                    lot_id=part.lot_id,
                    carats=part.carats,
                    value_usd=part.value_usd,
                    holder=lot.holder,
                    composition=share(lot.composition, Fraction(part.carats), whole),
                    source_id=None,
                    parent_lot_ids=[lot.lot_id],
                )
            )
        lot.split(child_lot_ids=[part.lot_id for part in doc.into])

    def _lots_merged(self, doc: docs.LotsMerged, actor: Actor | None, work: UnitOfWork) -> None:
        lots = [self._lot(work, lot_id) for lot_id in doc.lot_ids]
        holder = self._acting(actor) or lots[0].holder
        for lot in lots:
            check_usable(lot, holder)
        if doc.into.lot_id in doc.lot_ids:
            raise LedgerError("duplicate_id", f"lot {doc.into.lot_id} already exists")
        self._new_lot_id(work, doc.into.lot_id)
        work.add(
            Lot(
                lot_id=doc.into.lot_id,
                carats=sum((lot.carats for lot in lots), Decimal(0)),
                value_usd=doc.into.value_usd,
                holder=holder,
                composition=combine(lot.composition for lot in lots),
                source_id=None,
                parent_lot_ids=list(doc.lot_ids),
            )
        )
        for lot in lots:
            lot.merge_into(into_lot_id=doc.into.lot_id)

    def _export_certified(
        self, doc: docs.ExportCertified, actor: Actor | None, work: UnitOfWork
    ) -> None:
        exporter, importer = doc.exporting_participant, doc.importing_participant
        if exporter == importer:
            raise LedgerError("same_participant", f"{exporter} cannot export to itself")
        self._active_participant(work, exporter)
        self._active_participant(work, importer)
        if not doc.certificate_id.startswith(f"{exporter}-"):
            raise LedgerError(
                "bad_certificate_id", f"certificate ids of {exporter} start with '{exporter}-'"
            )
        if work.get(Certificate, Certificate.create_id(doc.certificate_id)) is not None:
            raise LedgerError("duplicate_id", f"certificate {doc.certificate_id} already exists")
        if doc.hs_code not in docs.HS_CODES:
            raise LedgerError(
                "bad_hs_code",
                f"hs_code {doc.hs_code!r} is not one of {', '.join(sorted(docs.HS_CODES))}",
            )
        if doc.expires_on <= doc.issued_on:
            raise LedgerError("bad_dates", "expires_on must be after issued_on")
        lots = [self._lot(work, lot_id) for lot_id in doc.lot_ids]
        for lot in lots:
            check_usable(lot, exporter)
        total = sum((lot.carats for lot in lots), Decimal(0))
        if total != doc.carats:
            raise LedgerError(
                "mass_balance", f"the lots hold {total} carats; the certificate says {doc.carats}"
            )
        places = self._places_of(work, lots)
        check_declared_origin(doc.declared_origin, places.values())
        register = self._register(work)
        embargoes = list(register.embargoes.values()) if register else []
        check_exporter_not_embargoed(exporter, embargoes, doc.issued_on)
        for lot in lots:
            check_origin_not_embargoed(lot, places, embargoes, doc.issued_on)
        work.add(
            Certificate(
                certificate_id=doc.certificate_id,
                exporting_participant=exporter,
                importing_participant=importer,
                lot_ids=list(doc.lot_ids),
                carats=doc.carats,
                value_usd=doc.value_usd,
                issued_on=doc.issued_on,
                expires_on=doc.expires_on,
            )
        )
        for lot in lots:
            lot.ship(certificate_id=doc.certificate_id, importing_participant=importer)

    def _import_confirmed(
        self, doc: docs.ImportConfirmed, actor: Actor | None, work: UnitOfWork
    ) -> None:
        certificate = work.get(Certificate, Certificate.create_id(doc.certificate_id))
        if certificate is None:
            raise LedgerError("unknown_certificate", f"no certificate {doc.certificate_id}")
        importer = certificate.importing_participant
        if certificate.is_confirmed:
            raise LedgerError(
                "already_confirmed",
                f"certificate {doc.certificate_id} was confirmed on {certificate.received_on}",
            )
        self._active_participant(work, importer)
        lots = [self._lot(work, lot_id) for lot_id in certificate.lot_ids]
        for lot in lots:
            if lot.status == SEIZED:
                raise LedgerError("lot_seized", f"lot {lot.lot_id} was seized in transit")
        certificate.confirm_import(
            carats=doc.carats, value_usd=doc.value_usd, received_on=doc.received_on
        )
        for lot in lots:
            lot.receive(certificate_id=doc.certificate_id, holder=importer)

    def _lot_flagged(self, doc: docs.LotFlagged, actor: Actor | None, work: UnitOfWork) -> None:
        self._lot(work, doc.lot_id).flag(reason=doc.reason)

    def _lot_seized(self, doc: docs.LotSeized, actor: Actor | None, work: UnitOfWork) -> None:
        lot = self._lot(work, doc.lot_id)
        if lot.status != IN_TRANSIT:
            check_usable(lot, None)
        lot.seize(reason=doc.reason, by=self._acting(actor))

"""Ledger: the event-sourced application over one store, and little else.

`Ledger.open` opens a store; `post` parses and captures a request (see
`ledger.capture` for how a batch is checked and appended atomically); tokens and
the log are read back here. The rules live with their documents, one module per
family (`ledger.documents.FAMILIES`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

import eventsourcing.persistence
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from ledger import documents as docs
from ledger.actors import Actor, Role
from ledger.availability import Availability, OutcomeUnknown
from ledger.capture import Capture, Capturer, Stamp
from ledger.errors import LedgerError
from ledger.handling import AlertCheck
from ledger.journal import JOURNAL_ID, EventIdClaim, decode_row
from ledger.log import LogEntry
from ledger.normal import is_stored_form, normal_form, signing_input
from ledger.retractions import DocumentRetracted, RetractionRegister
from ledger.store import (
    KeptConnection,
    StoreConfig,
    WriteOutcomeUnknown,
    check_reachable,
    select_aggregates_events,
    select_last,
    select_last_version,
    select_originators_of_topic,
    select_sequence,
    store_config,
    store_timeout,
    tune_pool,
)
from ledger.tokens import ApiToken, TokenState, new_token, token_digest
from ledger.verifier import KNOWN_PUBLIC_KEYS, Verifier

__all__ = ["Capture", "Ledger"]

log = logging.getLogger(__name__)


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
        self._actors: dict[str, TokenState] = {}
        self._used: dict[str, datetime] = {}  # digest: first use since the last note
        self._capturer = Capturer(self.recorder, self.mapper)
        timeout = store_timeout()
        self.availability = Availability(config, timeout=timeout)
        tune_pool(self.recorder, timeout, reachable=lambda: self.availability.reachable)
        self._capturer.ready = self.availability.check
        """Whether the store answers; every use of it below goes through its guard."""
        self.verifier = Verifier()
        """Checks the signatures of large requests ahead, in a process of its own."""
        self._head_connection = KeptConnection(self.recorder)  # `read_head`'s
        self.appended: Callable[[int | None], None] | None = None
        """Told the position each append reached before it returns, or None when one's
        outcome is unknown (`projections.head.WrittenHead`, for a sole writer)."""

    def close(self) -> None:
        """Closes the store, after the capturer gives back the connection it keeps (and
        the signatures' checking process stops)."""
        self.verifier.close()
        self._capturer.close()
        self._head_connection.close()
        super().close()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(FractionAsText())
        transcoder.register(DateAsISO())
        transcoder.register(DatetimeAsISO())

    # ----------------------------------------------------------------- tokens

    def create_token(
        self,
        role: Role,
        name: str,
        participant: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        """Creates an API token and returns it; only its hash is stored. From `expires_at`
        on (an aware instant), it is refused."""
        if role == "authority" and participant is None:
            raise ValueError("an authority token needs a participant")
        if role != "authority" and participant is not None:
            raise ValueError("only an authority token is bound to a participant")
        token = new_token()
        digest = token_digest(token)
        record = ApiToken(digest=digest, role=role, name=name, participant=participant)
        if expires_at is not None:
            record.expire_at(expires_at=expires_at)
        with self.availability.guard():
            self.save(record)
        return token

    def known_actor(self, token: str) -> Actor | None:
        """Who holds this token, if this process has met it before; never reads the store.
        A revoked or expired token is 401 `unauthenticated`."""
        digest = token_digest(token)
        state = self._actors.get(digest)
        if state is None:
            return None
        return self._valid(digest, state)

    def _valid(self, digest: str, state: TokenState) -> Actor:
        if state.revoked:
            raise LedgerError("unauthenticated", "this token was revoked")
        if not state.valid_at(datetime.now(UTC)):
            raise LedgerError("unauthenticated", "this token has expired")
        self._used.setdefault(digest, datetime.now(UTC))
        return state.actor

    def actor_for_token(self, token: str) -> Actor | None:
        """Who holds this token, or None if no such token was created.

        A known token is answered from memory; an unknown one is looked up in the store,
        which raises `StoreUnavailable` at once (or within the store timeout) when it is away.
        """
        actor = self.known_actor(token)
        if actor is None:
            digest = token_digest(token)
            found = self._load_tokens([digest])
            if not found:
                return None
            state = found[0].state
            self._actors[digest] = state
            actor = self._valid(digest, state)
        return actor

    def _load_tokens(self, digests: Sequence[str]) -> list[ApiToken]:
        """The stored tokens of these digests, in one query (one try, as `select_last`)."""
        return self._load_tokens_by_id([ApiToken.create_id(digest) for digest in digests])

    def refresh_tokens(self) -> None:
        """Reads again every token this process met, so that a revocation by another
        process holds here too (a serving process calls it every half second), and notes
        when each was last used, at most once an hour per token."""
        if not self._actors:
            return
        records = self._load_tokens(list(self._actors))
        for record in records:
            self._actors[record.digest] = record.state
        used, self._used = self._used, {}
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        for record in records:
            at = used.get(record.digest)
            last = getattr(record, "last_used", None)
            if at is not None and (last is None or last < hour_ago):
                record.note_use(at=at)
                try:
                    with self.availability.guard():
                        self.save(record)
                except Exception as error:  # another process noted it first: no matter
                    log.debug("the last use of a token was not noted: %s", error)

    def tokens(self) -> list[ApiToken]:
        """Every token ever created, in order of creation (a scan of the stored events)."""
        with self.availability.guard():
            ids = select_originators_of_topic(self.recorder, get_topic(ApiToken.Issued))
        records = self._load_tokens_by_id(ids)
        return sorted(records, key=lambda record: record.created_on)

    def roles_by_name(self) -> dict[str, frozenset[str]]:
        """The roles of the tokens of each name, every token ever created counted."""
        roles: dict[str, set[str]] = {}
        for record in self.tokens():
            roles.setdefault(record.name, set()).add(record.role)
        return {name: frozenset(found) for name, found in roles.items()}

    def _load_tokens_by_id(self, ids: Sequence[UUID]) -> list[ApiToken]:
        with self.availability.guard():
            stored = select_aggregates_events(self.recorder, ids)
        records: dict[Any, Any] = {}
        for row in stored:
            event: Any = self.mapper.to_domain_event(row)
            records[row.originator_id] = event.mutate(records.get(row.originator_id))
        return [record for record in records.values() if isinstance(record, ApiToken)]

    def revoke_tokens(self, records: Sequence[ApiToken]) -> None:
        """Revokes these tokens (from `tokens()`); every process refuses them within a second."""
        now = datetime.now(UTC)
        for record in records:
            if getattr(record, "revoked_at", None) is None:
                record.revoke(at=now)
        with self.availability.guard():
            self.save(*records)

    # --------------------------------------------------------------- the log

    def head_position(self) -> int:
        """The position of the last accepted document (0 when the log is empty)."""
        with self.availability.guard():
            last = select_last(self.recorder, JOURNAL_ID)
        return last[0] if last is not None else 0

    def read_head(self) -> int:
        """`head_position` for one caller at a time (`projections.head.SharedHead`'s): on a
        connection kept between calls and lent without the pool's check, one round trip
        where the pool's check makes two. A kept connection found broken (PostgreSQL
        restarted since) is replaced by a checked one and the query asked again."""
        with self.availability.guard():
            while True:
                with self._head_connection.lend() as (connection, checked):
                    try:
                        return select_last_version(self.recorder, JOURNAL_ID, connection)
                    except Exception:
                        if checked or not connection.broken:
                            raise
                # lent again, checked this time, unless it broke because the store went
                # away (interrupted by the probe): then refused at once, not waited on again
                self.availability.check()

    def position_of(self, event_id: str) -> int | None:
        """The position of the document accepted with that `event_id` (None: none was)."""
        with self.availability.guard():
            stored = select_aggregates_events(self.recorder, [EventIdClaim.create_id(event_id)])
        for row in stored:
            claim: Any = self.mapper.to_domain_event(row)
            return int(claim.position)
        return None

    def retractions(self) -> list[tuple[int, int]]:
        """Every retraction of the log: (position retracted, position of the retraction)."""
        with self.availability.guard():
            stored = select_aggregates_events(self.recorder, [RetractionRegister.create_id()])
        register: Any = None
        for row in stored:
            added: Any = self.mapper.to_domain_event(row)
            register = added.mutate(register)
        return list(register.retractions) if register is not None else []

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries after position `after`; undecodable entries are skipped."""
        entries = []
        with self.availability.guard():
            rows = select_sequence(self.recorder, JOURNAL_ID, after, limit)
        for position, topic, state in rows:
            try:
                entries.append(decode_row(position, topic, state))
            except Exception as error:  # a finding for the audit, not a crash of the reader
                log.warning("log entry %s cannot be decoded: %s", position, error)
        return entries

    # --------------------------------------------------------------- capture

    def attach_alert_check(self, check: AlertCheck) -> None:
        """Gives the rules that name an alert (`alert.reviewed`) the read side's alerts.

        The check is asked inside the append, after the read model caught up with the
        stored log; see `ledger.triage` for what that guarantees.
        """
        self._capturer.alert_check = check

    def post(self, payload: Any, actor: Actor) -> Capture:
        """Validates and captures a request body (one document, or {"events": [...]})."""
        return self.capture(docs.parse_request(payload), actor)

    def capture(self, documents: Sequence[docs.Document], actor: Actor) -> Capture:
        """Appends the documents atomically, or refuses them all with a LedgerError.

        Roles (and the jurisdictions documents name themselves) are checked for the
        whole batch first, so a 403 anywhere in it comes before any 409.
        """
        for index, document in enumerate(documents):
            try:
                docs.HANDLING[type(document)].check_role(actor, document)
            except LedgerError as error:
                raise error.at(index) from None

        if any(isinstance(document, DocumentRetracted) for document in documents):
            self._capturer.poster_roles = self.roles_by_name()
        normals = [normal_form(document) for document in documents]
        verdicts = self.verifier.prefetch(
            [
                (document, public_key, document.signature.value, signing_input(normal))
                for document, normal in zip(documents, normals, strict=True)
                if document.signature is not None
                and (public_key := KNOWN_PUBLIC_KEYS.get(document.signature.key_id)) is not None
            ]
            if self.verifier.worth(sum(document.signature is not None for document in documents))
            else []
        )

        def stamp() -> list[Stamp]:
            now = datetime.now(UTC)
            return [
                Stamp(document, now, actor.name, None, normal)
                for document, normal in zip(documents, normals, strict=True)
            ]

        return self._append(stamp, actor, monotonic=True, verdicts=verdicts)

    def _append(
        self,
        stamp: Callable[[], list[Stamp]],
        actor: Actor | None,
        *,
        monotonic: bool,
        verdicts: Any = None,
    ) -> Capture:
        """The capturer's append under the store's guard: `StoreUnavailable` when nothing
        was appended, `OutcomeUnknown` when the insert was sent and the answer lost."""
        told = self.appended
        try:
            with self.availability.guard():
                try:
                    capture = self._capturer.append(
                        stamp, actor, monotonic=monotonic, verdicts=verdicts
                    )
                except WriteOutcomeUnknown as error:
                    self.availability.mark_unreachable(error)
                    raise self.availability.outcome_unknown() from error
        except LedgerError as refused:
            if told is not None and isinstance(refused, OutcomeUnknown):
                told(None)  # committed or not, nobody can say
            raise
        except BaseException:
            if told is not None:  # not a refusal: the outcome is not known either
                told(None)
            raise
        if told is not None:
            told(capture.position)
        return capture

    def replay(self, entries: Sequence[LogEntry], *, check_hashes: bool = True) -> Capture:
        """Appends entries of another ledger's log as they were recorded there (import).

        Roles and jurisdictions are taken as checked; every other rule is checked again.
        Refuses the whole batch with `LedgerError("invalid")` if an entry does not land at
        its original position with its original hash (its position only, without
        `check_hashes`: a replica, whose entries come from a Merkle tree without hashes,
        rebuilds the chain itself).
        """
        stamps = []
        for index, entry in enumerate(entries):
            document = docs.parse_document(entry.document, index)
            if not is_stored_form(entry.document, document):
                raise LedgerError(
                    "invalid",
                    f"entry {entry.position}'s document is not in the normal form",
                    index=index,
                )
            stamps.append(
                Stamp(
                    document,
                    entry.recorded_at,
                    entry.recorded_by,
                    (entry.position, entry.hash if check_hashes else None),
                    entry.document,
                )
            )
        return self._append(lambda: stamps, None, monotonic=False)

"""Participants and embargoes: the documents of the secretariat, their aggregates, handlers.

A participant (a country, or the EU) is admitted, suspended, reinstated, withdrawn
and admitted again; embargoes on a participant, or one region of it, are declared
and lifted in one register.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import (
    CalendarDate,
    DocumentModel,
    Identifier,
    ParticipantCode,
    Text,
    added_field,
)
from ledger.handling import SECRETARIAT, UnitOfWork, handles
from ledger.protocol import ADMITTED, SUSPENDED, WITHDRAWN, in_force

__all__ = [
    "Embargo",
    "EmbargoDeclared",
    "EmbargoLifted",
    "EmbargoRegister",
    "Participant",
    "ParticipantAdmitted",
    "ParticipantReinstated",
    "ParticipantSuspended",
    "ParticipantWithdrawn",
    "active_participant",
    "embargo_declared",
    "embargo_lifted",
    "embargoes",
    "find_participant",
    "participant_admitted",
    "participant_reinstated",
    "participant_suspended",
    "participant_withdrawn",
]

# -- documents ---------------------------------------------------------------------------


class ParticipantAdmitted(DocumentModel):
    type: Literal["participant.admitted"]
    participant: ParticipantCode
    name: Text


class ParticipantSuspended(DocumentModel):
    type: Literal["participant.suspended"]
    participant: ParticipantCode
    reason: Text


class ParticipantReinstated(DocumentModel):
    type: Literal["participant.reinstated"]
    participant: ParticipantCode


class ParticipantWithdrawn(DocumentModel):
    type: Literal["participant.withdrawn"]
    participant: ParticipantCode
    reason: Text


class EmbargoDeclared(DocumentModel):
    type: Literal["embargo.declared"]
    embargo_id: Identifier
    participant: ParticipantCode
    region: Text | None = added_field()
    reason: Text
    effective_from: CalendarDate


class EmbargoLifted(DocumentModel):
    type: Literal["embargo.lifted"]
    embargo_id: Identifier
    effective_to: CalendarDate


# -- aggregates --------------------------------------------------------------------------


class Participant(LedgerAggregate):
    """A participant of the scheme: admitted, suspended or withdrawn."""

    STORED_MODULE = "ledger.participant"

    @staticmethod
    def create_id(code: str) -> UUID:
        return aggregate_id("participant", code)

    class Admitted(LedgerAggregate.Created):
        code: str
        name: str

    @event(Admitted)
    def __init__(self, code: str, name: str) -> None:
        self.code = code
        self.name = name
        self.status = ADMITTED

    class Readmitted(LedgerAggregate.Event):
        name: str

    def readmit(self, name: str) -> None:
        """Admits a withdrawn participant again; refused while it is a participant."""
        if self.status != WITHDRAWN:
            raise LedgerError("duplicate_id", f"participant {self.code} is already {self.status}")
        self._readmitted(name=name)

    @event(Readmitted)
    def _readmitted(self, name: str) -> None:
        self.name = name
        self.status = ADMITTED

    class Suspended(LedgerAggregate.Event):
        reason: str

    def suspend(self, reason: str) -> None:
        """Suspends it; a withdrawn participant cannot be suspended."""
        self._not_withdrawn("withdrew")
        self._suspended(reason=reason)

    @event(Suspended)
    def _suspended(self, reason: str) -> None:
        self.status = SUSPENDED

    class Reinstated(LedgerAggregate.Event):
        pass

    def reinstate(self) -> None:
        """Lifts a suspension (nothing changes for an admitted one); not after withdrawal."""
        self._not_withdrawn("withdrew: admit it again instead")
        self._reinstated()

    @event(Reinstated)
    def _reinstated(self) -> None:
        self.status = ADMITTED

    class Withdrawn(LedgerAggregate.Event):
        reason: str

    def withdraw(self, reason: str) -> None:
        """Records its withdrawal from the scheme, once."""
        self._not_withdrawn("already withdrew")
        self._withdrawn(reason=reason)

    @event(Withdrawn)
    def _withdrawn(self, reason: str) -> None:
        self.status = WITHDRAWN

    def _not_withdrawn(self, why: str) -> None:
        if self.status == WITHDRAWN:
            raise LedgerError("participant_inactive", f"participant {self.code} {why}")

    @property
    def is_active(self) -> bool:
        """Admitted and neither suspended nor withdrawn: may export and import."""
        return self.status == ADMITTED

    class AuthorityKeyRegistered(LedgerAggregate.Event):
        key_id: str

    @event(AuthorityKeyRegistered)
    def register_authority_key(self, key_id: str) -> None:
        """Records a key of its authorities (`ledger.keys`): from now on they sign."""
        self.authority_keys = [*self.key_ids, key_id]

    @property
    def key_ids(self) -> list[str]:
        """The ids of every key registered for its authorities, in force or not."""
        return list(getattr(self, "authority_keys", ()))


@dataclass(frozen=True)
class Embargo:
    """An embargo on a participant's production, or on one region of it."""

    embargo_id: str
    participant: str
    region: str | None
    effective_from: date
    effective_to: date | None = None

    def in_force_on(self, day: date) -> bool:
        """In force from `effective_from` up to the day before `effective_to`."""
        return in_force(self.effective_from, self.effective_to, day)

    def covers(self, participant: str, region: str) -> bool:
        """Whether a source of `participant` in `region` falls under this embargo."""
        return self.participant == participant and self.region in (None, region)


class EmbargoRegister(LedgerAggregate):
    """The one register of every embargo ever declared (a singleton aggregate)."""

    STORED_MODULE = "ledger.embargo"

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("register", "embargoes")

    class Opened(LedgerAggregate.Created):
        pass

    @event(Opened)
    def __init__(self) -> None:
        self.embargoes: dict[str, Embargo] = {}

    class Declared(LedgerAggregate.Event):
        embargo_id: str
        participant: str
        region: str | None
        effective_from: date

    def declare(
        self, embargo_id: str, participant: str, region: str | None, effective_from: date
    ) -> None:
        """Declares an embargo under a new id."""
        if embargo_id in self.embargoes:
            raise LedgerError("duplicate_id", f"embargo {embargo_id} already exists")
        self._declared(
            embargo_id=embargo_id,
            participant=participant,
            region=region,
            effective_from=effective_from,
        )

    @event(Declared)
    def _declared(
        self, embargo_id: str, participant: str, region: str | None, effective_from: date
    ) -> None:
        self.embargoes[embargo_id] = Embargo(embargo_id, participant, region, effective_from)

    class Lifted(LedgerAggregate.Event):
        embargo_id: str
        effective_to: date

    def lift(self, embargo_id: str, effective_to: date) -> None:
        """Ends an embargo on `effective_to` (not before it began); lifting again moves it."""
        embargo = self.embargoes.get(embargo_id)
        if embargo is None:
            raise LedgerError("unknown_embargo", f"no embargo {embargo_id}")
        if effective_to < embargo.effective_from:
            raise LedgerError(
                "bad_dates",
                f"effective_to {effective_to} is before effective_from {embargo.effective_from}",
            )
        self._lifted(embargo_id=embargo_id, effective_to=effective_to)

    @event(Lifted)
    def _lifted(self, embargo_id: str, effective_to: date) -> None:
        self.embargoes[embargo_id] = replace(self.embargoes[embargo_id], effective_to=effective_to)


# -- lookups other families use ----------------------------------------------------------


def find_participant(work: UnitOfWork, code: str) -> Participant:
    """The participant, or 409 `unknown_participant` if it was never admitted."""
    participant = work.get(Participant, Participant.create_id(code))
    if participant is None:
        raise LedgerError("unknown_participant", f"participant {code} was never admitted")
    return participant


def active_participant(work: UnitOfWork, code: str) -> Participant:
    """The participant, or 409 unless it is admitted and neither suspended nor withdrawn."""
    participant = find_participant(work, code)
    if not participant.is_active:
        raise LedgerError("participant_inactive", f"participant {code} is {participant.status}")
    return participant


def embargoes(work: UnitOfWork) -> list[Embargo]:
    """Every embargo ever declared, in declaration order."""
    register = work.get(EmbargoRegister, EmbargoRegister.create_id())
    return list(register.embargoes.values()) if register is not None else []


# -- handlers ----------------------------------------------------------------------------


@handles(ParticipantAdmitted, roles=SECRETARIAT)
def participant_admitted(doc: ParticipantAdmitted, work: UnitOfWork) -> None:
    participant = work.get(Participant, Participant.create_id(doc.participant))
    if participant is None:
        work.add(Participant(code=doc.participant, name=doc.name))
    else:
        participant.readmit(name=doc.name)


@handles(ParticipantSuspended, roles=SECRETARIAT)
def participant_suspended(doc: ParticipantSuspended, work: UnitOfWork) -> None:
    find_participant(work, doc.participant).suspend(reason=doc.reason)


@handles(ParticipantReinstated, roles=SECRETARIAT)
def participant_reinstated(doc: ParticipantReinstated, work: UnitOfWork) -> None:
    find_participant(work, doc.participant).reinstate()


@handles(ParticipantWithdrawn, roles=SECRETARIAT)
def participant_withdrawn(doc: ParticipantWithdrawn, work: UnitOfWork) -> None:
    find_participant(work, doc.participant).withdraw(reason=doc.reason)


@handles(EmbargoDeclared, roles=SECRETARIAT)
def embargo_declared(doc: EmbargoDeclared, work: UnitOfWork) -> None:
    register = work.get(EmbargoRegister, EmbargoRegister.create_id())
    if register is None:
        register = EmbargoRegister()
        work.add(register)
    register.declare(
        embargo_id=doc.embargo_id,
        participant=doc.participant,
        region=doc.region,
        effective_from=doc.effective_from,
    )


@handles(EmbargoLifted, roles=SECRETARIAT)
def embargo_lifted(doc: EmbargoLifted, work: UnitOfWork) -> None:
    register = work.get(EmbargoRegister, EmbargoRegister.create_id())
    if register is None:
        raise LedgerError("unknown_embargo", f"no embargo {doc.embargo_id}")
    register.lift(embargo_id=doc.embargo_id, effective_to=doc.effective_to)

"""Operators and sanctions: the companies inside a participant, and the listings that bar them.

An operator is a company or cooperative licensed by one participant for some roles.
A document that names an operator (`lot.produced`, `lot.transferred`,
`export.certified`, `import.confirmed`) needs it to belong to the participant its rule
names, to hold the role, to have a licence valid and unrevoked on the document's date,
and not to be under a sanction listing in force on that date: `Operator.check_may_act`.
A listing may name an operator of any participant; it is in force as embargoes are.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, field_validator

from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import CalendarDate, DocumentModel, Identifier, ParticipantCode, Strict, Text
from ledger.handling import SECRETARIAT, UnitOfWork, authority_of, handles
from ledger.participants import find_participant
from ledger.protocol import OPERATOR_ROLES, in_force

__all__ = [
    "Listing",
    "Operator",
    "OperatorLicenceRevoked",
    "OperatorLicensed",
    "Sanction",
    "SanctionLifted",
    "SanctionListed",
    "find_operator",
    "named_operator",
]

# -- documents ---------------------------------------------------------------------------

OperatorRole = Literal["miner", "digger", "buyer", "dealer", "exporter", "importer"]


class OperatorLicence(Strict):
    number: Text
    valid_until: CalendarDate


class OperatorLicensed(DocumentModel):
    type: Literal["operator.licensed"]
    operator_id: Identifier
    participant: ParticipantCode
    name: Text
    roles: Annotated[list[OperatorRole], Field(min_length=1, max_length=len(OPERATOR_ROLES))]
    licence: OperatorLicence

    @field_validator("roles")
    @classmethod
    def _distinct_roles(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles must be distinct")
        return roles


class OperatorLicenceRevoked(DocumentModel):
    type: Literal["operator.licence_revoked"]
    operator_id: Identifier
    reason: Text


class SanctionListed(DocumentModel):
    type: Literal["sanction.listed"]
    listing_id: Identifier
    operator_id: Identifier
    reason: Text
    effective_from: CalendarDate


class SanctionLifted(DocumentModel):
    type: Literal["sanction.lifted"]
    listing_id: Identifier
    effective_to: CalendarDate


# -- aggregates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sanction:
    """A listing of the operator, in force from `effective_from` up to the day before
    `effective_to`."""

    listing_id: str
    effective_from: date
    effective_to: date | None = None

    def in_force_on(self, day: date) -> bool:
        """Whether the listing is in force on `day`."""
        return in_force(self.effective_from, self.effective_to, day)


class Operator(LedgerAggregate):
    """A company or cooperative licensed by one participant, and the listings naming it."""

    STORED_MODULE = "ledger.operator"

    @staticmethod
    def create_id(operator_id: str) -> UUID:
        return aggregate_id("operator", operator_id)

    class Licensed(LedgerAggregate.Created):
        operator_id: str
        participant: str
        roles: list[str]
        licence_valid_until: date

    @event(Licensed)
    def __init__(
        self, operator_id: str, participant: str, roles: list[str], licence_valid_until: date
    ) -> None:
        self._form(operator_id, participant, roles, licence_valid_until)

    def _form(
        self, operator_id: str, participant: str, roles: list[str], licence_valid_until: date
    ) -> None:
        self.forget(erased=False)
        self.operator_id = operator_id
        self.participant = participant
        self.roles = list(roles)
        self.licence_valid_until = licence_valid_until
        self.licence_revoked_on: date | None = None
        self.sanctions: dict[str, Sanction] = {}

    class Reformed(LedgerAggregate.Event):
        operator_id: str
        participant: str
        roles: list[str]
        licence_valid_until: date

    @event(Reformed)
    def reform(
        self, operator_id: str, participant: str, roles: list[str], licence_valid_until: date
    ) -> None:
        """Licenses again an operator whose licensing was retracted (its id was freed)."""
        self._form(operator_id, participant, roles, licence_valid_until)

    class Erased(LedgerAggregate.Event):
        pass

    @event(Erased)
    def erase(self) -> None:
        """The operator's licensing was retracted: it is taken as absent."""
        self.forget(erased=True)

    class LicenceRevoked(LedgerAggregate.Event):
        reason: str
        revoked_on: date

    @event(LicenceRevoked)
    def revoke_licence(self, reason: str, revoked_on: date) -> None:
        """Revokes the licence from `revoked_on` (an earlier revocation stands)."""
        if self.licence_revoked_on is None or revoked_on < self.licence_revoked_on:
            self.licence_revoked_on = revoked_on

    class Listed(LedgerAggregate.Event):
        listing_id: str
        effective_from: date

    @event(Listed)
    def list_under(self, listing_id: str, effective_from: date) -> None:
        """Records a sanction listing naming the operator."""
        self.sanctions[listing_id] = Sanction(listing_id, effective_from)

    class Delisted(LedgerAggregate.Event):
        listing_id: str
        effective_to: date

    def lift(self, listing_id: str, effective_to: date) -> None:
        """Ends a listing on `effective_to` (not before it began); lifting again moves it."""
        sanction = self.sanctions[listing_id]
        if effective_to < sanction.effective_from:
            raise LedgerError(
                "bad_dates",
                f"effective_to {effective_to} is before effective_from {sanction.effective_from}",
            )
        self._delisted(listing_id=listing_id, effective_to=effective_to)

    @event(Delisted)
    def _delisted(self, listing_id: str, effective_to: date) -> None:
        self.sanctions[listing_id] = replace(self.sanctions[listing_id], effective_to=effective_to)

    def licence_valid_on(self, day: date) -> bool:
        """Whether the licence is valid on `day`: not expired, not revoked by then."""
        if day > self.licence_valid_until:
            return False
        return self.licence_revoked_on is None or day < self.licence_revoked_on

    def check_may_act(self, participant: str, roles: Collection[str] | None, day: date) -> None:
        """409 unless the operator, licensed by `participant` for one of `roles` (None: any),
        may act on `day`: `unknown_operator`, `licence_invalid` or `sanctioned_party`."""
        if self.participant != participant:
            raise LedgerError(
                "unknown_operator",
                f"operator {self.operator_id} is licensed by {self.participant}, "
                f"not by {participant}",
            )
        if roles is not None and not set(roles) & set(self.roles):
            raise LedgerError(
                "licence_invalid",
                f"operator {self.operator_id} is not licensed as {' or '.join(sorted(roles))}",
            )
        if not self.licence_valid_on(day):
            raise LedgerError(
                "licence_invalid",
                f"the licence of operator {self.operator_id} is not valid on {day}",
            )
        for sanction in self.sanctions.values():
            if sanction.in_force_on(day):
                raise LedgerError(
                    "sanctioned_party",
                    f"operator {self.operator_id} is under sanction listing "
                    f"{sanction.listing_id} on {day}",
                    detail={"listing_id": sanction.listing_id, "operator_id": self.operator_id},
                )


class Listing(LedgerAggregate):
    """A sanction listing's id, kept for ever, and the operator it names."""

    STORED_MODULE = "ledger.listing"

    @staticmethod
    def create_id(listing_id: str) -> UUID:
        return aggregate_id("listing", listing_id)

    class Listed(LedgerAggregate.Created):
        listing_id: str
        operator_id: str

    @event(Listed)
    def __init__(self, listing_id: str, operator_id: str) -> None:
        self.listing_id = listing_id
        self.operator_id = operator_id


# -- lookups other families use ----------------------------------------------------------


def find_operator(work: UnitOfWork, operator_id: str) -> Operator:
    """The operator, or 409 `unknown_operator`."""
    operator = work.get(Operator, Operator.create_id(operator_id))
    if operator is None:
        raise LedgerError("unknown_operator", f"no operator {operator_id}")
    return operator


def named_operator(
    work: UnitOfWork,
    operator_id: str,
    participant: str,
    roles: Collection[str] | None,
    day: date,
) -> Operator:
    """The operator a document names, once it may act for `participant` in one of `roles`
    on `day` (see `Operator.check_may_act`)."""
    operator = find_operator(work, operator_id)
    operator.check_may_act(participant, roles, day)
    return operator


# -- jurisdictions -----------------------------------------------------------------------


# -- handlers ----------------------------------------------------------------------------


@handles(OperatorLicensed, acts_for="participant")
def operator_licensed(doc: OperatorLicensed, work: UnitOfWork) -> None:
    find_participant(work, doc.participant)
    if not doc.operator_id.startswith(f"{doc.participant}-"):
        raise LedgerError(
            "bad_operator_id", f"operator ids of {doc.participant} start with '{doc.participant}-'"
        )
    if work.get(Operator, Operator.create_id(doc.operator_id)) is not None:
        raise LedgerError("duplicate_id", f"operator {doc.operator_id} already exists")
    fields: dict[str, Any] = {
        "operator_id": doc.operator_id,
        "participant": doc.participant,
        "roles": list(doc.roles),
        "licence_valid_until": doc.licence.valid_until,
    }
    retracted = work.erased(Operator, Operator.create_id(doc.operator_id))
    if retracted is not None:
        retracted.reform(**fields)
        work.add(retracted)
    else:
        work.add(Operator(**fields))


@handles(OperatorLicenceRevoked, jurisdiction=authority_of(Operator, "operator_id"))
def operator_licence_revoked(doc: OperatorLicenceRevoked, work: UnitOfWork) -> None:
    find_operator(work, doc.operator_id).revoke_licence(
        reason=doc.reason, revoked_on=doc.occurred_at.date()
    )


@handles(SanctionListed, roles=SECRETARIAT)
def sanction_listed(doc: SanctionListed, work: UnitOfWork) -> None:
    if work.get(Listing, Listing.create_id(doc.listing_id)) is not None:
        raise LedgerError("duplicate_id", f"sanction listing {doc.listing_id} already exists")
    operator = find_operator(work, doc.operator_id)
    work.add(Listing(listing_id=doc.listing_id, operator_id=doc.operator_id))
    operator.list_under(listing_id=doc.listing_id, effective_from=doc.effective_from)


@handles(SanctionLifted, roles=SECRETARIAT)
def sanction_lifted(doc: SanctionLifted, work: UnitOfWork) -> None:
    listing = work.get(Listing, Listing.create_id(doc.listing_id))
    if listing is None:
        raise LedgerError("unknown_listing", f"no sanction listing {doc.listing_id}")
    find_operator(work, listing.operator_id).lift(
        listing_id=doc.listing_id, effective_to=doc.effective_to
    )

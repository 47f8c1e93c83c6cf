"""Sources: mines and licensed alluvial sites, where lots are produced.

Mines and alluvial sites share one namespace of source ids. An alluvial site may
produce only on the days its licence is valid and not revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import (
    CalendarDate,
    Carats,
    DocumentModel,
    Identifier,
    Latitude,
    Longitude,
    ParticipantCode,
    Strict,
    Text,
    added_field,
)
from ledger.handling import Jurisdiction, UnitOfWork, authority_of, handles
from ledger.participants import find_participant
from ledger.protocol import ALLUVIAL_SITE, MINE

__all__ = [
    "AlluvialSiteLicenceRevoked",
    "AlluvialSiteRegistered",
    "Licence",
    "Location",
    "MineRegistered",
    "Place",
    "Source",
    "alluvial_site_licence_revoked",
    "alluvial_site_registered",
    "authority_of_source",
    "find_source",
    "mine_registered",
    "place_of",
]

# -- documents ---------------------------------------------------------------------------


class Location(Strict):
    lat: Latitude
    lon: Longitude


class Licence(Strict):
    number: Text
    holder: Text
    valid_until: CalendarDate


class MineRegistered(DocumentModel):
    type: Literal["mine.registered"]
    mine_id: Identifier
    participant: ParticipantCode
    name: Text
    region: Text
    location: Location
    annual_capacity_carats: Carats | None = added_field()


class AlluvialSiteRegistered(DocumentModel):
    type: Literal["alluvial_site.registered"]
    site_id: Identifier
    participant: ParticipantCode
    region: Text
    location: Location
    licence: Licence
    annual_capacity_carats: Carats | None = added_field()


class AlluvialSiteLicenceRevoked(DocumentModel):
    type: Literal["alluvial_site.licence_revoked"]
    site_id: Identifier
    reason: Text


# -- the aggregate -----------------------------------------------------------------------


class Source(LedgerAggregate):
    """A mine or alluvial site of one participant, in one region."""

    STORED_MODULE = "ledger.source"

    @staticmethod
    def create_id(source_id: str) -> UUID:
        return aggregate_id("source", source_id)

    class Registered(LedgerAggregate.Created):
        source_id: str
        kind: str
        participant: str
        region: str
        licence_valid_until: date | None

    @event(Registered)
    def __init__(
        self,
        source_id: str,
        kind: str,
        participant: str,
        region: str,
        licence_valid_until: date | None,
    ) -> None:
        self._form(source_id, kind, participant, region, licence_valid_until)

    def _form(
        self,
        source_id: str,
        kind: str,
        participant: str,
        region: str,
        licence_valid_until: date | None,
    ) -> None:
        self.forget(erased=False)
        self.source_id = source_id
        self.kind = kind
        self.participant = participant
        self.region = region
        self.licence_valid_until = licence_valid_until
        self.licence_revoked_on: date | None = None

    class Reformed(LedgerAggregate.Event):
        source_id: str
        kind: str
        participant: str
        region: str
        licence_valid_until: date | None

    @event(Reformed)
    def reform(
        self,
        source_id: str,
        kind: str,
        participant: str,
        region: str,
        licence_valid_until: date | None,
    ) -> None:
        """Registers again a source whose registration was retracted (its id was freed)."""
        self._form(source_id, kind, participant, region, licence_valid_until)

    class Erased(LedgerAggregate.Event):
        pass

    @event(Erased)
    def erase(self) -> None:
        """The source's registration was retracted: it is taken as absent."""
        self.forget(erased=True)

    class LicenceRevoked(LedgerAggregate.Event):
        reason: str
        revoked_on: date

    def revoke_licence(self, reason: str, revoked_on: date) -> None:
        """Revokes an alluvial site's licence from `revoked_on`; a mine has none."""
        if self.kind != ALLUVIAL_SITE:
            raise LedgerError("unknown_source", f"{self.source_id} is a mine, not an alluvial site")
        self._licence_revoked(reason=reason, revoked_on=revoked_on)

    @event(LicenceRevoked)
    def _licence_revoked(self, reason: str, revoked_on: date) -> None:
        if self.licence_revoked_on is None or revoked_on < self.licence_revoked_on:
            self.licence_revoked_on = revoked_on

    def may_produce_on(self, day: date) -> bool:
        """A mine always may; an alluvial site only while its licence is valid and unrevoked."""
        if self.kind == MINE:
            return True
        if self.licence_valid_until is None or day > self.licence_valid_until:
            return False
        return self.licence_revoked_on is None or day < self.licence_revoked_on

    def check_may_produce_on(self, day: date) -> None:
        """409 `licence_invalid` unless the source may produce on `day`."""
        if not self.may_produce_on(day):
            raise LedgerError(
                "licence_invalid",
                f"the licence of alluvial site {self.source_id} is not valid on {day}",
            )


@dataclass(frozen=True)
class Place:
    """Where a source is: its participant, region and kind."""

    participant: str
    region: str
    kind: str


# -- lookups other families use ----------------------------------------------------------


def find_source(work: UnitOfWork, source_id: str) -> Source:
    """The source, or 409 `unknown_source`."""
    source = work.get(Source, Source.create_id(source_id))
    if source is None:
        raise LedgerError("unknown_source", f"no mine or alluvial site {source_id}")
    return source


def place_of(work: UnitOfWork, source_id: str) -> Place:
    """Where a source is (it never moves, so it is remembered across batches)."""
    places: dict[str, Place] = work.memo.setdefault("places", {})
    place = places.get(source_id)
    if place is None:
        source = find_source(work, source_id)
        place = places[source_id] = Place(source.participant, source.region, source.kind)
    return place


def authority_of_source(id_field: str) -> Jurisdiction:
    """Jurisdiction: the authority of the participant of the source `id_field` names."""
    return authority_of(Source, id_field)


# -- handlers ----------------------------------------------------------------------------


def _register(
    work: UnitOfWork,
    source_id: str,
    kind: str,
    participant: str,
    region: str,
    licence_valid_until: date | None,
) -> None:
    find_participant(work, participant)
    if work.get(Source, Source.create_id(source_id)) is not None:
        raise LedgerError("duplicate_id", f"source {source_id} already exists")
    fields: dict[str, Any] = {
        "source_id": source_id,
        "kind": kind,
        "participant": participant,
        "region": region,
        "licence_valid_until": licence_valid_until,
    }
    retracted = work.erased(Source, Source.create_id(source_id))
    if retracted is not None:
        retracted.reform(**fields)
        work.add(retracted)
    else:
        work.add(Source(**fields))


@handles(MineRegistered, acts_for="participant")
def mine_registered(doc: MineRegistered, work: UnitOfWork) -> None:
    _register(work, doc.mine_id, MINE, doc.participant, doc.region, None)


@handles(AlluvialSiteRegistered, acts_for="participant")
def alluvial_site_registered(doc: AlluvialSiteRegistered, work: UnitOfWork) -> None:
    _register(
        work, doc.site_id, ALLUVIAL_SITE, doc.participant, doc.region, doc.licence.valid_until
    )


@handles(AlluvialSiteLicenceRevoked, jurisdiction=authority_of_source("site_id"))
def alluvial_site_licence_revoked(doc: AlluvialSiteLicenceRevoked, work: UnitOfWork) -> None:
    find_source(work, doc.site_id).revoke_licence(
        reason=doc.reason, revoked_on=doc.occurred_at.date()
    )

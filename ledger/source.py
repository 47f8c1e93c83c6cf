"""Source: a mine or a licensed alluvial site, where lots are produced."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id

MINE, ALLUVIAL_SITE = "mine", "alluvial_site"


class Source(LedgerAggregate):
    """A mine or alluvial site of one participant, in one region."""

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
        self.source_id = source_id
        self.kind = kind
        self.participant = participant
        self.region = region
        self.licence_valid_until = licence_valid_until
        self.licence_revoked_on: date | None = None

    class LicenceRevoked(LedgerAggregate.Event):
        reason: str
        revoked_on: date

    @event(LicenceRevoked)
    def revoke_licence(self, reason: str, revoked_on: date) -> None:
        if self.licence_revoked_on is None or revoked_on < self.licence_revoked_on:
            self.licence_revoked_on = revoked_on

    def may_produce_on(self, day: date) -> bool:
        """A mine always may; an alluvial site only while its licence is valid and unrevoked."""
        if self.kind == MINE:
            return True
        if self.licence_valid_until is None or day > self.licence_valid_until:
            return False
        return self.licence_revoked_on is None or day < self.licence_revoked_on

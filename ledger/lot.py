"""Lot: a parcel of rough diamonds, its holder, status and composition by source."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id

HELD, IN_TRANSIT, CONSUMED, SEIZED = "held", "in_transit", "consumed", "seized"


class Lot(LedgerAggregate):
    """A lot: produced at a source, or formed by splitting or merging other lots."""

    @staticmethod
    def create_id(lot_id: str) -> UUID:
        return aggregate_id("lot", lot_id)

    class Formed(LedgerAggregate.Created):
        lot_id: str
        carats: Decimal
        value_usd: Decimal
        holder: str
        composition: dict[str, Fraction]
        source_id: str | None
        parent_lot_ids: list[str]

    @event(Formed)
    def __init__(
        self,
        lot_id: str,
        carats: Decimal,
        value_usd: Decimal,
        holder: str,
        composition: dict[str, Fraction],
        source_id: str | None,
        parent_lot_ids: list[str],
    ) -> None:
        self.lot_id = lot_id
        self.carats = carats
        self.value_usd = value_usd
        self.holder = holder
        self.composition = dict(composition)
        self.source_id = source_id
        self.parent_lot_ids = list(parent_lot_ids)
        self.status = HELD
        self.certificate_id: str | None = None
        self.importing_participant: str | None = None

    class Split(LedgerAggregate.Event):
        child_lot_ids: list[str]

    @event(Split)
    def split(self, child_lot_ids: list[str]) -> None:
        self.status = CONSUMED

    class Merged(LedgerAggregate.Event):
        into_lot_id: str

    @event(Merged)
    def merge_into(self, into_lot_id: str) -> None:
        self.status = CONSUMED

    class Shipped(LedgerAggregate.Event):
        certificate_id: str
        importing_participant: str

    @event(Shipped)
    def ship(self, certificate_id: str, importing_participant: str) -> None:
        self.status = IN_TRANSIT
        self.certificate_id = certificate_id
        self.importing_participant = importing_participant

    class Received(LedgerAggregate.Event):
        certificate_id: str
        holder: str

    @event(Received)
    def receive(self, certificate_id: str, holder: str) -> None:
        self.status = HELD
        self.holder = holder
        self.importing_participant = None

    class Flagged(LedgerAggregate.Event):
        reason: str

    @event(Flagged)
    def flag(self, reason: str) -> None:
        pass

    class Seized(LedgerAggregate.Event):
        reason: str
        by: str | None

    @event(Seized)
    def seize(self, reason: str, by: str | None) -> None:
        self.status = SEIZED

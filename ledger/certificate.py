"""Certificate: a KP certificate under which lots are exported, and its confirmation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id


class Certificate(LedgerAggregate):
    """An export certificate: who ships which lots to whom, and the importer's confirmation."""

    @staticmethod
    def create_id(certificate_id: str) -> UUID:
        return aggregate_id("certificate", certificate_id)

    class Issued(LedgerAggregate.Created):
        certificate_id: str
        exporting_participant: str
        importing_participant: str
        lot_ids: list[str]
        carats: Decimal
        value_usd: Decimal
        issued_on: date
        expires_on: date

    @event(Issued)
    def __init__(
        self,
        certificate_id: str,
        exporting_participant: str,
        importing_participant: str,
        lot_ids: list[str],
        carats: Decimal,
        value_usd: Decimal,
        issued_on: date,
        expires_on: date,
    ) -> None:
        self.certificate_id = certificate_id
        self.exporting_participant = exporting_participant
        self.importing_participant = importing_participant
        self.lot_ids = list(lot_ids)
        self.carats = carats
        self.value_usd = value_usd
        self.issued_on = issued_on
        self.expires_on = expires_on
        self.received_on: date | None = None

    class ImportConfirmed(LedgerAggregate.Event):
        carats: Decimal
        value_usd: Decimal
        received_on: date

    @event(ImportConfirmed)
    def confirm_import(self, carats: Decimal, value_usd: Decimal, received_on: date) -> None:
        self.received_on = received_on
        self.confirmed_carats = carats
        self.confirmed_value_usd = value_usd

    @property
    def is_confirmed(self) -> bool:
        """Whether the importer has confirmed receipt."""
        return self.received_on is not None

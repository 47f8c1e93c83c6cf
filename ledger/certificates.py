"""Certificates: exports under KP certificates, and the importers' confirmations.

`export.certified` is refused when either participant is not active or they are the
same, the certificate id or HS code is wrong, a lot cannot be exported by the
exporter, the carats do not balance, the dates are wrong, the declared origin does
not match the lots' sources, or an embargo in force covers the exporter or any
carat of the lots. Annex I's `parcels` and `issuing_authority` are optional and
checked only for their form; left out, they are left out of the stored document too
(`fields.added_field`), so that a version 1 document is stored as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, StringConstraints, field_validator

from ledger.amounts import amount_text
from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import (
    CalendarDate,
    Carats,
    DocumentModel,
    Identifier,
    IssuingAuthority,
    Parcels,
    ParticipantCode,
    Strict,
    Text,
    Usd,
    added_field,
)
from ledger.handling import UnitOfWork, authority_of, handles
from ledger.lots import Lot, distinct, find_lot
from ledger.operators import named_operator
from ledger.participants import Embargo, EmbargoRegister, active_participant, embargoes
from ledger.protocol import HS_CODES, MAX_BATCH, MIXED_ORIGIN
from ledger.sources import Place, Source, place_of

__all__ = [
    "EXPORTING_ROLES",
    "IMPORTING_ROLES",
    "Certificate",
    "ExportCertified",
    "Exporter",
    "ImportConfirmed",
    "Party",
    "check_declared_origin",
    "check_exporter_not_embargoed",
    "check_origin_not_embargoed",
    "export_certified",
    "import_confirmed",
]

# -- documents ---------------------------------------------------------------------------


class Party(Strict):
    name: Text


class Exporter(Party):
    operator_id: Identifier | None = added_field()


class ExportCertified(DocumentModel):
    type: Literal["export.certified"]
    certificate_id: Identifier
    exporting_participant: ParticipantCode
    importing_participant: ParticipantCode
    lot_ids: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_BATCH)]
    exporter: Exporter
    importer: Party
    hs_code: Annotated[str, StringConstraints(max_length=32, strict=True)]
    carats: Carats
    value_usd: Usd
    declared_origin: Annotated[str, StringConstraints(min_length=1, max_length=64, strict=True)]
    issued_on: CalendarDate
    expires_on: CalendarDate
    parcels: Parcels | None = added_field()
    issuing_authority: IssuingAuthority | None = added_field()

    @field_validator("lot_ids")
    @classmethod
    def _distinct_lots(cls, lot_ids: list[str]) -> list[str]:
        return distinct(lot_ids, "a lot can be listed only once")


class ImportConfirmed(DocumentModel):
    type: Literal["import.confirmed"]
    certificate_id: Identifier
    carats: Carats
    value_usd: Usd
    received_on: CalendarDate
    operator_id: Identifier | None = added_field()
    parcels: Parcels | None = added_field()


EXPORTING_ROLES = frozenset({"exporter"})
IMPORTING_ROLES = frozenset({"importer"})
"""The roles an operator named by an export, or an import, must hold."""


# -- the aggregate -----------------------------------------------------------------------


class Certificate(LedgerAggregate):
    """An export certificate: who ships which lots to whom, and the importer's confirmation."""

    STORED_MODULE = "ledger.certificate"

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
        self.cancelled = False

    class Cancelled(LedgerAggregate.Event):
        pass

    @event(Cancelled)
    def cancel(self) -> None:
        """The export was retracted: the certificate is cancelled, its id kept for ever."""
        self.cancelled = True

    class Undone(LedgerAggregate.Event):
        changes: int

    @event(Undone)
    def undo(self, changes: int) -> None:
        """A retracted document's last `changes` changes are undone (a confirmation)."""
        self.restore(changes)

    class ImportConfirmed(LedgerAggregate.Event):
        carats: Decimal
        value_usd: Decimal
        received_on: date

    def check_unconfirmed(self) -> None:
        """409 `already_confirmed` once the importer confirmed receipt."""
        if self.received_on is not None:
            raise LedgerError(
                "already_confirmed",
                f"certificate {self.certificate_id} was confirmed on {self.received_on}",
            )

    def confirm_import(self, carats: Decimal, value_usd: Decimal, received_on: date) -> None:
        """Records the importer's figures, once."""
        self.check_unconfirmed()
        self._import_confirmed(carats=carats, value_usd=value_usd, received_on=received_on)

    @event(ImportConfirmed)
    def _import_confirmed(self, carats: Decimal, value_usd: Decimal, received_on: date) -> None:
        self.remember()
        self.received_on = received_on


# -- rules across aggregates -------------------------------------------------------------


def check_declared_origin(declared: str, places: Iterable[Place]) -> None:
    """409 unless the origin is MIXED or the one participant all the sources belong to."""
    participants = {place.participant for place in places}
    if declared == MIXED_ORIGIN or participants == {declared}:
        return
    actual = ", ".join(sorted(participants))
    raise LedgerError(
        "bad_declared_origin",
        f"declared origin {declared} does not match the lots' sources ({actual}); "
        f"declare {actual if len(participants) == 1 else MIXED_ORIGIN}",
    )


def check_exporter_not_embargoed(participant: str, embargoes: Iterable[Embargo], day: date) -> None:
    """409 when a whole-participant embargo on the exporter is in force on `day`."""
    for embargo in embargoes:
        if (
            embargo.region is None
            and embargo.participant == participant
            and embargo.in_force_on(day)
        ):
            raise LedgerError(
                "embargoed_exporter",
                f"{participant} is under embargo {embargo.embargo_id} on {day}",
                detail={"embargo_id": embargo.embargo_id},
            )


def check_origin_not_embargoed(
    lot: Lot, places: Mapping[str, Place], embargoes: Iterable[Embargo], day: date
) -> None:
    """409 when any carat of the lot comes from a source under an embargo in force on `day`.

    The detail's carats and fraction are those the provenance of the lot shows.
    """
    for embargo in embargoes:
        if not embargo.in_force_on(day):
            continue
        covered = sum(
            (
                carats
                for source_id, carats in lot.composition.items()
                if embargo.covers(places[source_id].participant, places[source_id].region)
            ),
            Fraction(0),
        )
        if covered > 0:
            fraction = covered / Fraction(lot.carats)
            raise LedgerError(
                "embargoed_origin",
                f"lot {lot.lot_id} holds {amount_text(covered)} carats "
                f"({float(fraction):.2%}) from sources under embargo {embargo.embargo_id}",
                detail={
                    "embargo_id": embargo.embargo_id,
                    "lot_id": lot.lot_id,
                    "carats": amount_text(covered),
                    "fraction": float(fraction),
                },
            )


# -- jurisdictions -----------------------------------------------------------------------


# -- handlers ----------------------------------------------------------------------------


def _export_reads(doc: ExportCertified, work: UnitOfWork) -> Iterator[UUID]:
    """Besides what an export names: the embargo register and its lots' sources."""
    yield EmbargoRegister.create_id()
    known: dict[str, Place] = work.memo.get("places", {})
    for lot_id in doc.lot_ids:
        lot = work.loaded(Lot, Lot.create_id(lot_id))
        if lot is not None:
            yield from (Source.create_id(s) for s in lot.composition if s not in known)


@handles(ExportCertified, acts_for="exporting_participant", loads=_export_reads)
def export_certified(doc: ExportCertified, work: UnitOfWork) -> None:
    exporter, importer = doc.exporting_participant, doc.importing_participant
    if exporter == importer:
        raise LedgerError("same_participant", f"{exporter} cannot export to itself")
    active_participant(work, exporter)
    active_participant(work, importer)
    if not doc.certificate_id.startswith(f"{exporter}-"):
        raise LedgerError(
            "bad_certificate_id", f"certificate ids of {exporter} start with '{exporter}-'"
        )
    if work.get(Certificate, Certificate.create_id(doc.certificate_id)) is not None:
        raise LedgerError("duplicate_id", f"certificate {doc.certificate_id} already exists")
    if doc.hs_code not in HS_CODES:
        raise LedgerError(
            "bad_hs_code",
            f"hs_code {doc.hs_code!r} is not one of {', '.join(sorted(HS_CODES))}",
        )
    if doc.expires_on <= doc.issued_on:
        raise LedgerError("bad_dates", "expires_on must be after issued_on")
    lots = [find_lot(work, lot_id) for lot_id in doc.lot_ids]
    for lot in lots:
        lot.check_usable(exporter)
    operator_id = doc.exporter.operator_id
    if operator_id is not None:
        named_operator(work, operator_id, exporter, EXPORTING_ROLES, doc.occurred_at.date())
    for lot in lots:
        lot.check_operator(operator_id)
    total = sum((lot.carats for lot in lots), Decimal(0))
    if total != doc.carats:
        raise LedgerError(
            "mass_balance", f"the lots hold {total} carats; the certificate says {doc.carats}"
        )
    places = {source_id: place_of(work, source_id) for lot in lots for source_id in lot.composition}
    check_declared_origin(doc.declared_origin, places.values())
    in_register = embargoes(work)
    check_exporter_not_embargoed(exporter, in_register, doc.issued_on)
    for lot in lots:
        check_origin_not_embargoed(lot, places, in_register, doc.issued_on)
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


def _certificate_lots(doc: ImportConfirmed, work: UnitOfWork) -> Iterator[UUID]:
    """Besides what a confirmation names: the lots of its certificate."""
    certificate = work.loaded(Certificate, Certificate.create_id(doc.certificate_id))
    if certificate is not None:
        yield from map(Lot.create_id, certificate.lot_ids)


@handles(
    ImportConfirmed,
    jurisdiction=authority_of(Certificate, "certificate_id", owner="importing_participant"),
    loads=_certificate_lots,
)
def import_confirmed(doc: ImportConfirmed, work: UnitOfWork) -> None:
    certificate = work.get(Certificate, Certificate.create_id(doc.certificate_id))
    if certificate is None:
        raise LedgerError("unknown_certificate", f"no certificate {doc.certificate_id}")
    if certificate.cancelled:
        raise LedgerError("unknown_certificate", f"certificate {doc.certificate_id} was cancelled")
    certificate.check_unconfirmed()
    importer = certificate.importing_participant
    active_participant(work, importer)
    lots = [find_lot(work, lot_id) for lot_id in certificate.lot_ids]
    for lot in lots:
        lot.check_not_seized()
    if doc.operator_id is not None:
        named_operator(work, doc.operator_id, importer, IMPORTING_ROLES, doc.occurred_at.date())
    certificate.confirm_import(
        carats=doc.carats, value_usd=doc.value_usd, received_on=doc.received_on
    )
    for lot in lots:
        lot.receive(certificate_id=doc.certificate_id, holder=importer)
        if doc.operator_id is not None:
            lot.pass_to_operator(doc.operator_id)

"""The chain-of-custody state, updated document by document.

`Custody.apply(entry)` takes one accepted log entry. Every document in the log was
accepted by the write side, which enforced the KPCS rules, so applying never checks
them again. The tables' rows are `projections.records`; the graph they imply and the one
traversal over it, `projections.graph`; the facts alerts need beyond the tables,
`projections.facts`; operators and sanction listings, `projections.operators`; reports
and reviews, `projections.compliance` (a read model of its own that Custody carries);
authority keys, `projections.keys`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from ledger import certificates, compliance, lots, participants, retractions, sources, triage
from ledger.amounts import cents
from ledger.log import LogEntry
from ledger.protocol import (
    ADMITTED,
    ALLUVIAL_SITE,
    CONSUMED,
    HELD,
    IN_TRANSIT,
    MINE,
    SEIZED,
    SUSPENDED,
    WITHDRAWN,
)
from projections.compliance import Compliance
from projections.facts import AlertFacts, RapidReexport, RoundTrip
from projections.keys import KeyRecord, KeyTables
from projections.operators import Listing, Operator, OperatorTables
from projections.records import (
    Certificate,
    Composition,
    Embargo,
    Lot,
    Participant,
    Source,
)
from projections.records import parse_date as _date
from projections.registry import Projection, applies
from projections.retracted import Retracted
from projections.value_outliers import DEFAULT_RULE, ValueOutlierRule, ValueOutliers

__all__ = [
    "ALLUVIAL_SITE",
    "CONSUMED",
    "HELD",
    "IN_TRANSIT",
    "MINE",
    "SEIZED",
    "Certificate",
    "Composition",
    "Custody",
    "Embargo",
    "Lot",
    "Participant",
    "RapidReexport",
    "RoundTrip",
    "Source",
]


class Custody(OperatorTables, KeyTables, AlertFacts, Projection):
    """The chain-of-custody state after the entries applied so far."""

    IGNORES = frozenset(
        {
            # applied by the read model it carries, `compliance`
            compliance.ReportSubmitted,
            compliance.ReviewInvited,
            compliance.ReviewVisited,
            compliance.RecommendationImplemented,
        }
    )

    def __init__(self, value_outliers: ValueOutlierRule = DEFAULT_RULE) -> None:
        self.position = 0
        self.participants: dict[str, Participant] = {}
        self.sources: dict[str, Source] = {}
        self.embargoes: dict[str, Embargo] = {}
        self.lots: dict[str, Lot] = {}
        self.certificates: dict[str, Certificate] = {}
        self.round_trips: list[RoundTrip] = []
        self.rapid_reexports: list[RapidReexport] = []
        self.compliance = Compliance()
        self.operators: dict[str, Operator] = {}
        self.listings: dict[str, Listing] = {}
        self.authority_keys: dict[str, KeyRecord] = {}
        self.value_outliers = ValueOutliers(value_outliers)
        self.reviews: dict[str, dict[str, Any]] = {}
        """The latest review of each alert reviewed: `{status, note, by, position}`."""
        self.flagged: dict[str, list[int]] = {}
        """The positions of each flagged lot's `lot.flagged` entries, in order."""
        self.facts_position = 0
        """The position of the last entry that may change alerts (every one but reviews)."""
        self.retracted = Retracted()
        """The retractions read so far (see `projections.retractions`)."""
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        """One tuple object for each sequence of holders, of operators that took a lot or of
        a composition's sources: most lots share their holders' and takers', many merged
        lots their sources'."""

    @classmethod
    def replay(
        cls, entries: Iterable[LogEntry], value_outliers: ValueOutlierRule = DEFAULT_RULE
    ) -> Custody:
        """A fresh state fed `entries` in order."""
        state = cls(value_outliers)
        for entry in entries:
            state.apply(entry)
        return state

    def apply(self, entry: LogEntry) -> None:
        """Takes one accepted document into account, here and in `compliance`."""
        super().apply(entry)
        self.compliance.apply(entry)
        if entry.type != triage.AlertReviewed.type_name:  # reviews only annotate alerts
            self.facts_position = entry.position

    # -- participants and embargoes --------------------------------------------------------

    @applies(retractions.DocumentRetracted)
    def _document_retracted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        """Nothing: the reads are rebuilt without the retracted document (`Reads`)."""

    @applies(participants.ParticipantAdmitted)
    def _participant_admitted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, ADMITTED).name = document["name"]

    def _participant_status(
        self, entry: LogEntry, document: dict[str, Any], status: str
    ) -> Participant:
        code = document["participant"]
        participant = self.participants.setdefault(code, Participant(code, code, status))
        participant.status = status
        participant.changes.append(
            (entry.position, entry.occurred_at.astimezone(UTC).date(), status)
        )
        return participant

    @applies(participants.ParticipantSuspended)
    def _participant_suspended(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, SUSPENDED)

    @applies(participants.ParticipantReinstated)
    def _participant_reinstated(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, ADMITTED)

    @applies(participants.ParticipantWithdrawn)
    def _participant_withdrawn(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, WITHDRAWN)

    @applies(participants.EmbargoDeclared)
    def _embargo_declared(self, entry: LogEntry, document: dict[str, Any]) -> None:
        embargo_id = document["embargo_id"]
        self.embargoes[embargo_id] = Embargo(
            embargo_id,
            document["participant"],
            document.get("region"),
            _date(document["effective_from"]),
            entry.position,
        )

    @applies(participants.EmbargoLifted)
    def _embargo_lifted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.embargoes[document["embargo_id"]].effective_to = _date(document["effective_to"])

    # -- sources ---------------------------------------------------------------------------

    @applies(sources.MineRegistered)
    def _mine_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._source_registered(entry, document, MINE, document["mine_id"])

    @applies(sources.AlluvialSiteRegistered)
    def _alluvial_site_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        source = self._source_registered(entry, document, ALLUVIAL_SITE, document["site_id"])
        licence = document["licence"]
        source.licence_number = licence["number"]
        source.licence_holder = licence["holder"]
        source.licence_valid_until = _date(licence["valid_until"])

    def _source_registered(
        self, entry: LogEntry, document: dict[str, Any], kind: str, source_id: str
    ) -> Source:
        capacity = document.get("annual_capacity_carats")
        source = Source(
            source_id,
            kind,
            document["participant"],
            document["region"],
            None if capacity is None else cents(capacity),
            entry.position,
        )
        self.sources[source_id] = source
        return source

    @applies(sources.AlluvialSiteLicenceRevoked)
    def _licence_revoked(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.sources[document["site_id"]].licence_revoked = True

    # -- lots ------------------------------------------------------------------------------

    def _add_lot(self, lot: Lot) -> None:
        lot.holders = self._shared(lot.holders)
        self.lots[lot.lot_id] = lot

    def _shared(self, strings: tuple[str, ...]) -> tuple[str, ...]:
        return self._tuples.setdefault(strings, strings)

    @applies(lots.LotProduced)
    def _lot_produced(self, entry: LogEntry, document: dict[str, Any]) -> None:
        source = self.sources[document["source_id"]]
        lot = Lot(
            document["lot_id"],
            cents(document["carats"]),
            cents(document["value_usd"]),
            source.participant,
            source.composition,
            entry.position,
        )
        self._add_lot(lot)
        operator = document.get("operator")
        if operator is not None:
            self.hold(lot, operator, entry.position)
        source.lots.append(lot.lot_id)
        self.value_outliers.produced(
            lot.lot_id,
            source.source_id,
            source.participant,
            lot.carats,
            lot.value_usd,
            entry.position,
        )
        year = entry.occurred_at.astimezone(UTC).year
        produced = source.produced.get(year, 0) + lot.carats
        source.produced[year] = produced
        if source.capacity is not None and produced > source.capacity:
            source.exceeded_at.setdefault(year, entry.position)

    @applies(lots.LotSplit)
    def _lot_split(self, entry: LogEntry, document: dict[str, Any]) -> None:
        parent = self.lots[document["lot_id"]]
        parent.status = CONSUMED
        parent.history += (entry.position,)
        parent.children = tuple(part["lot_id"] for part in document["into"])
        parents = (parent.lot_id,)  # one tuple for every child
        imports_before = self._imports_before([parent])
        for part in document["into"]:
            child = Lot(
                part["lot_id"],
                cents(part["carats"]),
                cents(part["value_usd"]),
                parent.holder,
                parent.composition,
                entry.position,
                parents=parents,
            )
            child.imports_before = imports_before
            self._add_lot(child)
            if parent.operator is not None:
                self.hold(child, parent.operator, entry.position)

    @applies(lots.LotsMerged)
    def _lots_merged(self, entry: LogEntry, document: dict[str, Any]) -> None:
        parts = [self.lots[lot_id] for lot_id in document["lot_ids"]]
        into = document["into"]
        merged = Lot(
            into["lot_id"],
            sum(part.carats for part in parts),
            cents(into["value_usd"]),
            parts[0].holder,
            Composition.merged(
                ((part.carats, part.composition) for part in parts), shared=self._shared
            ),
            entry.position,
            parents=tuple(part.lot_id for part in parts),
        )
        merged.imports_before = self._imports_before(parts)
        self._add_lot(merged)
        if parts[0].operator is not None:
            self.hold(merged, parts[0].operator, entry.position)
        children = (merged.lot_id,)  # one tuple for every part
        for part in parts:
            part.status = CONSUMED
            part.children = children
            part.history += (entry.position,)

    @applies(lots.LotFlagged)
    def _lot_flagged(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.lots[document["lot_id"]].history += (entry.position,)
        self.flagged.setdefault(document["lot_id"], []).append(entry.position)

    @applies(lots.LotSeized)
    def _lot_seized(self, entry: LogEntry, document: dict[str, Any]) -> None:
        lot = self.lots[document["lot_id"]]
        if lot.status == IN_TRANSIT and lot.certificate_id is not None:
            certificate = self.certificates[lot.certificate_id]
            if certificate.seized_at is None:
                certificate.seized_at = entry.position
        lot.status = SEIZED
        lot.history += (entry.position,)

    # -- certificates ----------------------------------------------------------------------

    @applies(certificates.ExportCertified)
    def _export_certified(self, entry: LogEntry, document: dict[str, Any]) -> None:
        certificate = Certificate(document, entry.position)
        certificate.lot_ids = tuple(self.lots[lot_id].lot_id for lot_id in certificate.lot_ids)
        reexport = self._latest_import(certificate)
        if reexport is not None:
            self.rapid_reexports.append(reexport)
        self.certificates[certificate.certificate_id] = certificate
        shipped = (certificate.certificate_id,)  # one tuple for the lots shipped first
        for lot_id in certificate.lot_ids:
            lot = self.lots[lot_id]
            lot.status = IN_TRANSIT
            lot.shipped_under = lot.shipped_under + shipped if lot.shipped_under else shipped
            lot.history += (entry.position,)

    @applies(certificates.ImportConfirmed)
    def _import_confirmed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        certificate = self.certificates[document["certificate_id"]]
        certificate.received_carats = cents(document["carats"])
        certificate.received_value_usd = cents(document["value_usd"])
        certificate.received_on = _date(document["received_on"])
        certificate.received_at = entry.position
        certificate.received_parcels = document.get("parcels")
        self._check_round_trip(certificate, entry.position)
        importer = certificate.importer
        for lot_id in certificate.lot_ids:
            lot = self.lots[lot_id]
            lot.history += (entry.position,)
            if lot.status == IN_TRANSIT:
                lot.status = HELD
                lot.holder = importer
                if importer not in lot.holders:
                    lot.holders = self._shared((*lot.holders, importer))
                self.hold(lot, document.get("operator_id"), entry.position)

    # -- triage ----------------------------------------------------------------------------

    @applies(triage.AlertReviewed)
    def _alert_reviewed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.reviews[document["alert_id"]] = {
            "status": document["status"],
            "note": document["note"],
            "by": entry.recorded_by,
            "position": entry.position,
        }

"""The facts the alerts need that a lot's tables do not keep by themselves: round trips
and rapid re-exports, worked out as imports are confirmed and exports certified.

`AlertFacts` is a part of `projections.custody.Custody`: its methods read the custody
tables and are called from Custody's apply methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from projections.records import Certificate, Lot, Source
from projections.traversal import reach

__all__ = ["AlertFacts", "RapidReexport", "RoundTrip"]


class RoundTrip:
    """Material that came back to a participant it had left, on an import confirmation."""

    __slots__ = ("certificate_id", "left_under", "lot_ids", "participant", "position")

    def __init__(
        self,
        certificate_id: str,
        participant: str,
        lot_ids: tuple[str, ...],
        left_under: tuple[str, ...],
        position: int,
    ) -> None:
        self.certificate_id = certificate_id
        self.participant = participant
        self.lot_ids = lot_ids
        self.left_under = left_under
        self.position = position


class RapidReexport:
    """An export certificate of material its exporter imported, with the shortest gap."""

    __slots__ = (
        "certificate_id",
        "days",
        "imported_under",
        "participant",
        "position",
        "received_on",
    )

    def __init__(
        self,
        certificate_id: str,
        participant: str,
        imported_under: str,
        received_on: date,
        days: int,
        position: int,
    ) -> None:
        self.certificate_id = certificate_id
        self.participant = participant
        self.imported_under = imported_under
        self.received_on = received_on
        self.days = days
        self.position = position


class AlertFacts:
    """Round trips and rapid re-exports, over the custody tables of the class it is part of."""

    lots: dict[str, Lot]
    certificates: dict[str, Certificate]
    sources: dict[str, Source]
    round_trips: list[RoundTrip]
    rapid_reexports: list[RapidReexport]

    def ancestry(self, lot_id: str) -> list[Lot]:
        """The lot and every lot it was split or merged from, each once, lot first."""
        lots = self.lots
        return [lots[found] for found in reach([lot_id], lambda lot: lots[lot].parents)]

    def shipments(self, lot: Lot) -> Iterator[Certificate]:
        """The certificates the lot was shipped under, in order of issue."""
        for certificate_id in lot.shipped_under:
            yield self.certificates[certificate_id]

    def _imports_before(self, parents: list[Lot]) -> tuple[str, ...]:
        """`imports_before` of a lot split or merged from `parents`: theirs, and their own
        imports."""
        if len(parents) == 1 and not parents[0].shipped_under:  # nothing imported since
            return parents[0].imports_before
        latest: dict[str, tuple[date, str]] = {}  # by importer
        for parent in parents:
            for certificate_id in (*parent.imports_before, *parent.shipped_under):
                certificate = self.certificates[certificate_id]
                if certificate.received_on is None:
                    continue
                received = (certificate.received_on, certificate_id)
                earlier = latest.get(certificate.importer)
                if earlier is None or received > earlier:
                    latest[certificate.importer] = received
        return tuple(latest[importer][1] for importer in sorted(latest))

    def _held_before(self, lot: Lot, participant: str) -> bool:
        """Whether `participant` held the lot or any lot it was split or merged from.

        A lot's first holder is its source's participant or its parents' holder, and it
        changes hands only by an import confirmed: so the participant held its lineage if
        it holds or held the lot, imported an ancestor, or produced one of its sources.
        """
        return (
            participant in lot.holders
            or any(self.certificates[c].importer == participant for c in lot.imports_before)
            or any(self.sources[s].participant == participant for s in lot.composition.sources)
        )

    def _latest_import(self, export: Certificate) -> RapidReexport | None:
        """The exporter's latest confirmed import of material it now exports, if any."""
        imports = []
        for lot_id in export.lot_ids:
            lot = self.lots[lot_id]
            for certificate_id in (*lot.imports_before, *lot.shipped_under):
                shipment = self.certificates[certificate_id]
                if shipment.importer == export.exporter and shipment.received_on is not None:
                    imports.append((shipment.received_on, certificate_id))
        if not imports:
            return None
        received_on, imported_under = max(imports)
        return RapidReexport(
            export.certificate_id,
            export.exporter,
            imported_under,
            received_on,
            (export.issued_on - received_on).days,
            export.position,
        )

    def _check_round_trip(self, certificate: Certificate, position: int) -> None:
        """Records a round trip when the importer held any of the material before."""
        importer = certificate.importer
        returning: list[str] = []
        left_under: set[str] = set()
        for lot_id in certificate.lot_ids:
            if self._held_before(self.lots[lot_id], importer):
                returning.append(lot_id)
                left_under.update(  # the lineage is walked for the few that return
                    shipment.certificate_id
                    for ancestor in self.ancestry(lot_id)
                    for shipment in self.shipments(ancestor)
                    if shipment.exporter == importer
                )
        if returning:
            self.round_trips.append(
                RoundTrip(
                    certificate.certificate_id,
                    importer,
                    tuple(returning),
                    tuple(sorted(left_under)),
                    position,
                )
            )

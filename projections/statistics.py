"""Certificate-based statistics: production, exports and imports per participant and UTC year.

As the KPCS Working Group on Statistics decided (PROTOCOL.md, "Statistics"):
production counts each `lot.produced` in the year of its `occurred_at` (UTC),
attributed to its source's participant; exports count each certificate in the
year of its `issued_on` with the certificate's figures; imports count each
`import.confirmed` in the year of its `received_on` with the importer's
figures, the HS code taken from the certificate and the partner being the
exporter. Sums are exact decimals; answers show them as two-place strings.

>>> from projections.examples import numbered
>>> akwatia = {"type": "mine.registered", "mine_id": "AKW", "participant": "GH",
...            "name": "Akwatia", "region": "Eastern", "location": {"lat": 6.04, "lon": -0.8}}
>>> lots = [{"type": "lot.produced", "lot_id": lot_id, "source_id": "AKW",
...          "carats": carats, "value_usd": value, "occurred_at": "2005-06-01T08:00:00Z"}
...         for lot_id, carats, value in (("L1", "100", "6000"), ("L2", "50", "3000"))]
>>> shipment = {"type": "export.certified", "certificate_id": "GH-2005-0001",
...             "exporting_participant": "GH", "importing_participant": "AE",
...             "lot_ids": ["L1"], "exporter": {"name": "PMMC"}, "importer": {"name": "DMCC"},
...             "hs_code": "7102.10", "carats": "100", "value_usd": "6000",
...             "declared_origin": "GH", "issued_on": "2005-11-30", "expires_on": "2006-01-29"}
>>> receipt = {"type": "import.confirmed", "certificate_id": "GH-2005-0001",
...            "carats": "99.50", "value_usd": "6100", "received_on": "2005-12-02",
...            "occurred_at": "2005-12-02T10:00:00+04:00"}
>>> statistics = Statistics()
>>> for entry in numbered([akwatia, *lots, shipment, receipt]):
...     statistics.apply(entry)
>>> report = statistics.report(2005)
>>> [row["participant"] for row in report["participants"]]
['AE', 'GH']
>>> report["participants"][1]["production"]
{'carats': '150.00', 'value_usd': '9000.00'}
>>> report["participants"][1]["exports"]["by_partner"]
{'AE': {'carats': '100.00', 'value_usd': '6000.00', 'certificates': 1}}
>>> report["participants"][0]["imports"]["by_hs_code"]
{'7102.10': {'carats': '99.50', 'value_usd': '6100.00', 'certificates': 1}}
>>> statistics.public_report(2005)["participants"][0]["imports"]
{'carats': '99.50', 'value_usd': '6100.00', 'certificates': 1}
>>> print(statistics.to_csv(statistics.report(2005, "GH")), end="")
year,participant,flow,breakdown,key,carats,value_usd,certificates
2005,GH,production,total,,150.00,9000.00,
2005,GH,exports,total,,100.00,6000.00,1
2005,GH,exports,hs_code,7102.10,100.00,6000.00,1
2005,GH,exports,partner,AE,100.00,6000.00,1
2005,GH,imports,total,,0.00,0.00,0
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger import certificates as certificates_documents
from ledger import compliance as compliance_documents
from ledger import keys as keys_documents
from ledger import lots as lots_documents
from ledger import operators as operators_documents
from ledger import participants as participants_documents
from ledger import retractions as retractions_documents
from ledger import sources as sources_documents
from ledger import triage as triage_documents
from ledger.amounts import amount_text
from ledger.log import LogEntry
from projections.registry import Projection, applies

__all__ = ["CSV_COLUMNS", "Statistics"]

CSV_COLUMNS = (
    "year",
    "participant",
    "flow",
    "breakdown",
    "key",
    "carats",
    "value_usd",
    "certificates",
)
FLOWS = ("production", "exports", "imports")
_ZERO = Decimal("0.00")


@dataclass(slots=True)
class _Totals:
    """Carats, USD and a count of certificates, summed exactly."""

    carats: Decimal = _ZERO
    value_usd: Decimal = _ZERO
    certificates: int = 0

    def add(self, carats: Decimal, value_usd: Decimal, certificates: int) -> None:
        self.carats += carats
        self.value_usd += value_usd
        self.certificates += certificates

    def to_json(self, *, with_certificates: bool = True) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "carats": amount_text(Fraction(self.carats)),
            "value_usd": amount_text(Fraction(self.value_usd)),
        }
        if with_certificates:
            shown["certificates"] = self.certificates
        return shown


@dataclass(slots=True)
class _Trade:
    """One direction of trade (exports or imports): totals, by HS code, by partner."""

    total: _Totals = field(default_factory=_Totals)
    by_hs_code: defaultdict[str, _Totals] = field(default_factory=lambda: defaultdict(_Totals))
    by_partner: defaultdict[str, _Totals] = field(default_factory=lambda: defaultdict(_Totals))

    def add(self, hs_code: str, partner: str, carats: Decimal, value_usd: Decimal) -> None:
        for totals in (self.total, self.by_hs_code[hs_code], self.by_partner[partner]):
            totals.add(carats, value_usd, 1)

    def to_json(self, *, with_breakdowns: bool) -> dict[str, Any]:
        shown = self.total.to_json()
        if with_breakdowns:
            shown["by_hs_code"] = {k: v.to_json() for k, v in sorted(self.by_hs_code.items())}
            shown["by_partner"] = {k: v.to_json() for k, v in sorted(self.by_partner.items())}
        return shown


@dataclass(slots=True)
class _ParticipantYear:
    """One participant's figures for one year."""

    production: _Totals = field(default_factory=_Totals)
    exports: _Trade = field(default_factory=_Trade)
    imports: _Trade = field(default_factory=_Trade)

    def to_json(self, participant: str, *, with_breakdowns: bool) -> dict[str, Any]:
        return {
            "participant": participant,
            "production": self.production.to_json(with_certificates=False),
            "exports": self.exports.to_json(with_breakdowns=with_breakdowns),
            "imports": self.imports.to_json(with_breakdowns=with_breakdowns),
        }


@dataclass(frozen=True, slots=True)
class _Shipment:
    """What an import confirmation needs of its certificate."""

    exporting_participant: str
    importing_participant: str
    hs_code: str


def _participant_years() -> defaultdict[str, _ParticipantYear]:
    """One year's figures by participant (a named function, so that a snapshot can pickle it)."""
    return defaultdict(_ParticipantYear)


class Statistics(Projection):
    """Production, exports and imports per participant and year, kept up to date entry by entry.

    Its state is the figures themselves, the participant of every source, and
    the certificates still awaiting their import confirmation.
    """

    IGNORES = frozenset(
        {
            triage_documents.AlertReviewed,
            sources_documents.AlluvialSiteLicenceRevoked,
            keys_documents.AuthorityKeyRegistered,
            keys_documents.AuthorityKeyRevoked,
            retractions_documents.DocumentRetracted,
            participants_documents.EmbargoDeclared,
            participants_documents.EmbargoLifted,
            lots_documents.LotFlagged,
            lots_documents.LotSeized,
            lots_documents.LotSplit,
            lots_documents.LotTransferred,
            lots_documents.LotsMerged,
            operators_documents.OperatorLicenceRevoked,
            operators_documents.OperatorLicensed,
            participants_documents.ParticipantAdmitted,
            participants_documents.ParticipantReinstated,
            participants_documents.ParticipantSuspended,
            participants_documents.ParticipantWithdrawn,
            compliance_documents.ReportSubmitted,
            compliance_documents.ReviewInvited,
            compliance_documents.RecommendationImplemented,
            compliance_documents.ReviewVisited,
            operators_documents.SanctionLifted,
            operators_documents.SanctionListed,
        }
    )

    def __init__(self) -> None:
        self._figures: dict[int, dict[str, _ParticipantYear]] = defaultdict(_participant_years)
        self._source_participant: dict[str, str] = {}
        self._unconfirmed: dict[str, _Shipment] = {}
        self.position = 0

    @applies(sources_documents.MineRegistered)
    def _mine_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._source_participant[document["mine_id"]] = document["participant"]

    @applies(sources_documents.AlluvialSiteRegistered)
    def _site_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._source_participant[document["site_id"]] = document["participant"]

    @applies(lots_documents.LotProduced)
    def _lot_produced(self, entry: LogEntry, document: dict[str, Any]) -> None:
        year = entry.occurred_at.astimezone(UTC).year
        participant = self._source_participant[document["source_id"]]
        carats, value = Decimal(document["carats"]), Decimal(document["value_usd"])
        self._figures[year][participant].production.add(carats, value, 0)

    @applies(certificates_documents.ExportCertified)
    def _export_certified(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._export(document)

    @applies(certificates_documents.ImportConfirmed)
    def _import_confirmed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._import(document)

    def _export(self, document: dict[str, Any]) -> None:
        shipment = _Shipment(
            document["exporting_participant"],
            document["importing_participant"],
            document["hs_code"],
        )
        self._unconfirmed[document["certificate_id"]] = shipment
        year = date.fromisoformat(document["issued_on"]).year
        self._figures[year][shipment.exporting_participant].exports.add(
            shipment.hs_code,
            shipment.importing_participant,
            Decimal(document["carats"]),
            Decimal(document["value_usd"]),
        )

    def _import(self, document: dict[str, Any]) -> None:
        shipment = self._unconfirmed.pop(document["certificate_id"])
        year = date.fromisoformat(document["received_on"]).year
        self._figures[year][shipment.importing_participant].imports.add(
            shipment.hs_code,
            shipment.exporting_participant,
            Decimal(document["carats"]),
            Decimal(document["value_usd"]),
        )

    def report(self, year: int, participant: str | None = None) -> dict[str, Any]:
        """The statistics of `year`, with breakdowns by HS code and by partner.

        Without `participant`, every participant with any activity that year,
        in order of code; with one, that participant alone, with zeros when it
        had no activity.
        """
        return self._report(year, participant, with_breakdowns=True)

    def public_report(self, year: int) -> dict[str, Any]:
        """The totals of `year` per participant, without breakdowns."""
        return self._report(year, None, with_breakdowns=False)

    def _report(
        self, year: int, participant: str | None, *, with_breakdowns: bool
    ) -> dict[str, Any]:
        of_year = self._figures.get(year, {})
        if participant is None:
            chosen = sorted(of_year.items())
        else:
            chosen = [(participant, of_year.get(participant) or _ParticipantYear())]
        return {
            "year": year,
            "participants": [
                figures.to_json(code, with_breakdowns=with_breakdowns) for code, figures in chosen
            ],
        }

    @staticmethod
    def to_csv(report: dict[str, Any]) -> str:
        """A report as CSV: one row per participant, flow and breakdown (`CSV_COLUMNS`).

        `breakdown` is `total`, `hs_code` or `partner`, `key` the HS code or the
        partner; production rows leave `certificates` empty.
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        year = report["year"]
        for row in report["participants"]:
            for flow in FLOWS:
                figures = row[flow]
                writer.writerow(_csv_row(year, row["participant"], flow, "total", "", figures))
                for breakdown, key in (("hs_code", "by_hs_code"), ("partner", "by_partner")):
                    for name, totals in figures.get(key, {}).items():
                        writer.writerow(
                            _csv_row(year, row["participant"], flow, breakdown, name, totals)
                        )
        return out.getvalue()


def _csv_row(
    year: int, participant: str, flow: str, breakdown: str, key: str, totals: dict[str, Any]
) -> list[Any]:
    return [
        year,
        participant,
        flow,
        breakdown,
        key,
        totals["carats"],
        totals["value_usd"],
        totals.get("certificates", ""),
    ]

"""The demonstration world: rough diamond trade around the 2005 Moscow Plenary.

Eight participants, five mines and four licensed alluvial sites, sorting at
Antwerp, Dubai and Surat, and the smuggling story the UN Group of Experts told
in 2006: stones from Séguéla, in rebel-held northern Côte d'Ivoire, reach Ghana
under a certificate issued days before the UN embargo (Security Council
resolution 1643, in force from 15 December 2005), are mixed into a Ghanaian
parcel at Accra and re-exported to Dubai within the week, undervalued. In 2006,
Akwatia diggers sell to licensed buyers at Kade, whose parcel an Accra exporter ships
to a Dubai importer; the exporter is then designated by the UN sanctions committee.

Every document has a fixed `event_id`, so loading the world again appends
nothing. The secretariat registers a key for Ghana's authority first, and Ghana signs
every document it posts with it (`demo_authority_key`, derived from a fixed text, so
the signatures are the same every time); the other participants post unsigned.
Each alert type is raised at least once:

| alert | where |
|---|---|
| `embargoed_origin` | the Dubai lots cut from the suspect parcel (AE), the Tortiya stockpile (CI) |
| `value_discrepancy` | GH-2005-0412, declared at $30/ct, received in Dubai at $85/ct (AE) |
| `carat_discrepancy` | BW-2005-0044, 25,000 ct certified, 24,980 ct received in Antwerp (EU) |
| `unconfirmed_certificate` | ZA-2006-0019, never confirmed by India (ZA) |
| `capacity_exceeded` | Akwatia produced 5,510 ct in 2005 for a capacity of 5,000 ct (GH) |
| `round_trip` | Surat rejects sent to Dubai and bought back (IN) |
| `rapid_reexport` | the Ivorian parcel re-exported by Ghana 4 days after its receipt (GH) |
| `report_overdue` | Côte d'Ivoire never submitted its statistics for 2005 (CI) |
| `sanctioned_party` | Accra Rough Diamond Exporters, listed after it shipped the Kade parcel (GH) |
| `parcel_discrepancy` | RU-2006-0027, 14 parcels certified, 13 counted in Antwerp (EU) |
| `production_value_outlier` | GH-BON-2006-0021: $150/ct, Séguéla's price, at Bonsa ($30/ct) (GH) |
| `possible_sanctions_match` | the Accra exporter, in the UN list of `worlds/sanctions/` (GH) |

The Participation Committee's 2005 picture (`GET /v1/compliance?year=2005`): every
participant submitted its 2003 and 2004 reports on time; for 2005 the UAE's annual
report is late and Côte d'Ivoire's statistics are overdue. Guinea received a review
visit in 2004 and a follow-up visit in 2005 (two recommendations implemented, two
open), Russia's 2004 recommendations are all implemented, India was visited in
October 2005 (one of two open) and the UAE invited a review not visited yet. So that
these are the only reports overdue on the day the demo is loaded, its participants
submit every later year's reports on 15 January of the next year, for each year
whose 15 January has come: the documents depend on that day, and loading again on
a later day adds only the years that have come since.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.actors import Actor, Role
from ledger.documents import parse_document
from ledger.keys import public_key_text, sign_normal_form
from ledger.normal import normal_form
from ledger.signing import SigningError, create_key_file

if TYPE_CHECKING:
    from ledger.application import Ledger

__all__ = [
    "EXPORTER",
    "KADE_PARCEL",
    "MAIN_PARTICIPANTS",
    "SUSPECT_CERTIFICATE_ID",
    "SUSPECT_LOT_ID",
    "VALUE_OUTLIER_LOT_ID",
    "DemoResult",
    "demo_authority_key",
    "demo_documents",
    "load_demo",
    "shell_name",
    "welcome_text",
    "write_demo_key",
]

DEMO_NAMESPACE = UUID("3f1c3a52-5a0e-5d7e-8f7b-2005d1a3a0d5")
SUSPECT_LOT_ID = "GH-ACC-2005-0412"
SUSPECT_CERTIFICATE_ID = "GH-2005-0412"
EMBARGO_ID = "UNSC-1643-CI"
DIGGERS = "GH-AKW-DIGGERS"
BUYERS = "GH-KADE-BUYERS"
EXPORTER = "GH-ACCRA-EXPORTERS"
IMPORTER = "AE-DXB-ROUGH"
LISTING_ID = "UNSC-1572-2006-01"
KADE_PARCEL = "GH-KAD-2006-0201"
ORAPA_LOT_ID = "BW-ORA-2006-0007"
"""A production mistyped (1,600.00 carats for 160.00) and corrected the next day."""
VENETIA_LOT_ID = "ZA-VEN-2006-0002"
CANCELLED_CERTIFICATE_ID = "ZA-2006-0044"
"""An export retracted: the shipment did not leave, the certificate is cancelled."""

PARTICIPANTS = {
    "CI": "Côte d'Ivoire",
    "GH": "Ghana",
    "EU": "European Community",
    "AE": "United Arab Emirates",
    "IN": "India",
    "RU": "Russian Federation",
    "ZA": "South Africa",
    "BW": "Botswana",
    "GN": "Guinea",
}
MAIN_PARTICIPANTS = tuple(PARTICIPANTS)
TRADERS = {
    "CI": "SODEMI, Abidjan",
    "GH": "Precious Minerals Marketing Company, Accra",
    "EU": "Antwerp World Diamond Centre, Antwerp",
    "AE": "Dubai Multi Commodities Centre, Dubai",
    "IN": "Gem and Jewellery Export Promotion Council, Mumbai",
    "RU": "Gokhran / ALROSA, Moscow",
    "ZA": "South African Diamond Board, Johannesburg",
    "BW": "Diamond Trading Company Botswana, Gaborone",
}
UTC_OFFSETS = {
    "CI": "+00:00",
    "GH": "+00:00",
    "EU": "+01:00",
    "AE": "+04:00",
    "IN": "+05:30",
    "RU": "+09:00",
    "ZA": "+02:00",
    "BW": "+02:00",
}
SECRETARIAT = "secretariat"
INVESTIGATOR = "investigator"
SIGNING_PARTICIPANT = "GH"
"""The one participant of the demo whose authority signs what it posts: the others do
not, as while participants migrate."""
DEMO_KEY_FILE = "kpledger-demo-GH.pem"
"""Where `kpledger demo` writes Ghana's demo key (in the current folder), for trying
`kpledger sign` and `kpledger post --sign-key` on the demo."""


def demo_authority_key() -> Ed25519PrivateKey:
    """Ghana's demo authority key, derived from a fixed text so that every demo signs
    alike and loading it again appends nothing. Anybody can derive it: a demo key only."""
    seed = hashlib.sha256(b"kpledger demo: the authority key of GH").digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class DemoResult:
    """What `load_demo` did: tokens by name, the log it left, and the parcel to trace."""

    tokens: dict[str, str]
    appended: int
    head_position: int
    suspect_lot_id: str = SUSPECT_LOT_ID
    suspect_certificate_id: str = SUSPECT_CERTIFICATE_ID
    embargo_id: str = EMBARGO_ID
    suspect_descendants: tuple[str, ...] = (
        "AE-DXB-2006-0031",
        "AE-DXB-2006-0032",
        "AE-DXB-2006-0040",
    )


@dataclass
class _World:
    """Builds the demo's documents in order, each with its poster, tracking lot carats."""

    steps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    carats: dict[str, Decimal] = field(default_factory=dict)

    def add(self, poster: str, day: str, type_: str, subject: str, **fields: Any) -> None:
        offset = UTC_OFFSETS.get(poster, "+00:00")
        document = {
            "event_id": str(uuid5(DEMO_NAMESPACE, f"{type_}:{subject}")),
            "type": type_,
            "occurred_at": f"{day}T10:00:00{offset}",
            **fields,
        }
        self.steps.append((poster, document))

    def admit(self, code: str) -> None:
        self.add(
            SECRETARIAT,
            "2003-01-01",
            "participant.admitted",
            code,
            participant=code,
            name=PARTICIPANTS[code],
        )

    def mine(
        self, mine_id: str, code: str, name: str, region: str, lat: float, lon: float, cap: str
    ) -> None:
        self.add(
            code,
            "2005-01-10",
            "mine.registered",
            mine_id,
            mine_id=mine_id,
            participant=code,
            name=name,
            region=region,
            location={"lat": lat, "lon": lon},
            annual_capacity_carats=cap,
        )

    def site(
        self,
        site_id: str,
        code: str,
        region: str,
        lat: float,
        lon: float,
        licence: dict[str, str],
        cap: str | None = None,
    ) -> None:
        extra = {} if cap is None else {"annual_capacity_carats": cap}
        self.add(
            code,
            "2005-01-10",
            "alluvial_site.registered",
            site_id,
            site_id=site_id,
            participant=code,
            region=region,
            location={"lat": lat, "lon": lon},
            licence=licence,
            **extra,
        )

    def produce(
        self,
        code: str,
        day: str,
        lot_id: str,
        source_id: str,
        carats: str,
        value: str,
        operator: str | None = None,
    ) -> None:
        self.carats[lot_id] = Decimal(carats)
        extra = {} if operator is None else {"operator": operator}
        self.add(
            code,
            day,
            "lot.produced",
            lot_id,
            lot_id=lot_id,
            source_id=source_id,
            carats=carats,
            value_usd=value,
            **extra,
        )

    def license(self, operator_id: str, name: str, roles: list[str], number: str) -> None:
        code = operator_id[:2]
        licence = {"number": number, "valid_until": "2010-12-31"}
        self.add(
            code,
            "2006-01-05",
            "operator.licensed",
            operator_id,
            operator_id=operator_id,
            participant=code,
            name=name,
            roles=roles,
            licence=licence,
        )

    def transfer(self, code: str, day: str, lot_id: str, to_operator: str, value: str) -> None:
        self.add(
            code,
            day,
            "lot.transferred",
            f"{lot_id}:{to_operator}",
            lot_id=lot_id,
            to_operator=to_operator,
            value_usd=value,
        )

    def split(self, code: str, day: str, lot_id: str, *parts: tuple[str, str, str]) -> None:
        for child, carats, _ in parts:
            self.carats[child] = Decimal(carats)
        into = [{"lot_id": c, "carats": carats, "value_usd": v} for c, carats, v in parts]
        self.add(code, day, "lot.split", lot_id, lot_id=lot_id, into=into)

    def merge(self, code: str, day: str, lot_ids: list[str], into: str, value: str) -> None:
        self.carats[into] = sum((self.carats[lot_id] for lot_id in lot_ids), Decimal(0))
        self.add(
            code,
            day,
            "lots.merged",
            into,
            lot_ids=lot_ids,
            into={"lot_id": into, "value_usd": value},
        )

    def export(
        self,
        certificate_id: str,
        importer: str,
        lot_ids: list[str],
        value: str,
        origin: str,
        issued_on: str,
        expires_on: str,
        hs_code: str = "7102.10",
        operator_id: str | None = None,
        **annex: Any,
    ) -> None:
        exporter = certificate_id[:2]
        party = {"name": TRADERS[exporter]}
        if operator_id is not None:
            party = {"name": OPERATORS[operator_id], "operator_id": operator_id}
        self.add(
            exporter,
            issued_on,
            "export.certified",
            certificate_id,
            certificate_id=certificate_id,
            exporting_participant=exporter,
            importing_participant=importer,
            lot_ids=lot_ids,
            exporter=party,
            importer={"name": TRADERS[importer]},
            hs_code=hs_code,
            carats=f"{sum((self.carats[lot_id] for lot_id in lot_ids), Decimal(0)):.2f}",
            value_usd=value,
            declared_origin=origin,
            issued_on=issued_on,
            expires_on=expires_on,
            **annex,
        )

    def confirm(
        self,
        importer: str,
        certificate_id: str,
        carats: str,
        value: str,
        received_on: str,
        operator_id: str | None = None,
        **annex: Any,
    ) -> None:
        extra = {} if operator_id is None else {"operator_id": operator_id}
        self.add(
            importer,
            received_on,
            "import.confirmed",
            certificate_id,
            certificate_id=certificate_id,
            carats=carats,
            value_usd=value,
            received_on=received_on,
            **extra,
            **annex,
        )


OPERATORS = {
    DIGGERS: "Akwatia Small-Scale Diggers Association",
    BUYERS: "Kade Licensed Diamond Buyers",
    EXPORTER: "Accra Rough Diamond Exporters Ltd",
    IMPORTER: "Dubai Rough Diamond Traders DMCC",
}


def demo_documents(today: date | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The demo world in posting order: (poster, document); the poster is a participant code
    for its authority, or "secretariat" or "investigator". `today` (UTC, by default)
    decides which later years' reports are submitted (see the module's docstring).
    Ghana's documents are in normal form, signed by `demo_authority_key`."""
    w = _World()
    for code in PARTICIPANTS:
        w.admit(code)
    key = demo_authority_key()
    w.add(
        SECRETARIAT,
        "2003-01-01",
        "authority_key.registered",
        SIGNING_PARTICIPANT,
        participant=SIGNING_PARTICIPANT,
        public_key=public_key_text(key),
        name="Minerals Commission of Ghana (demo key)",
    )

    # Sources: kimberlite mines and licensed alluvial sites.
    w.mine("RU-MIR", "RU", "Mir", "Sakha (Yakutia)", 62.5274, 113.9936, "2000000.00")
    w.mine("RU-UDACHNAYA", "RU", "Udachnaya", "Sakha (Yakutia)", 66.4294, 112.3233, "12000000.00")
    w.mine("BW-JWANENG", "BW", "Jwaneng", "Southern District", -24.5283, 24.6975, "15000000.00")
    w.mine("BW-ORAPA", "BW", "Orapa", "Central District", -21.3068, 25.3711, "17000000.00")
    w.mine("ZA-VENETIA", "ZA", "Venetia", "Limpopo", -22.4375, 29.3203, "6000000.00")
    akwatia = {
        "number": "GH-MC-1986-017",
        "holder": "Ghana Consolidated Diamonds Ltd",
        "valid_until": "2010-12-31",
    }
    w.site("GH-AKWATIA", "GH", "Eastern", 6.0403, -0.8080, akwatia, cap="5000.00")
    seguela = {
        "number": "CI-SODEMI-2004-011",
        "holder": "Coopérative minière de Séguéla",
        "valid_until": "2006-12-31",
    }
    w.site("CI-SEGUELA", "CI", "Worodougou", 7.9611, -6.6731, seguela)
    tortiya = {
        "number": "CI-SODEMI-2004-027",
        "holder": "Coopérative diamantifère de Tortiya",
        "valid_until": "2006-12-31",
    }
    w.site("CI-TORTIYA", "CI", "Vallée du Bandama", 8.5547, -5.6911, tortiya)

    # Russian and Botswanan run-of-mine goods go to Antwerp and Dubai.
    w.produce("RU", "2005-02-14", "RU-MIR-2005-0001", "RU-MIR", "12000.00", "1080000.00")
    w.produce("BW", "2005-02-20", "BW-JWA-2005-0001", "BW-JWANENG", "25000.00", "2750000.00")
    w.produce("RU", "2005-03-01", "RU-UDA-2005-0002", "RU-UDACHNAYA", "8500.00", "680000.00")
    w.produce("BW", "2005-03-05", "BW-ORA-2005-0001", "BW-ORAPA", "18000.00", "1260000.00")
    w.export("RU-2005-0061", "EU", ["RU-MIR-2005-0001"], "1080000.00", "RU",
             "2005-03-10", "2005-05-09")  # fmt: skip
    w.export("BW-2005-0044", "EU", ["BW-JWA-2005-0001"], "2750000.00", "BW",
             "2005-03-15", "2005-05-14")  # fmt: skip
    w.confirm("EU", "RU-2005-0061", "12000.00", "1080000.00", "2005-03-16")
    # Antwerp counts 20 carats fewer than Gaborone certified: a carat discrepancy.
    w.confirm("EU", "BW-2005-0044", "24980.00", "2747800.00", "2005-03-21")
    w.export("BW-2005-0052", "AE", ["BW-ORA-2005-0001"], "1260000.00", "BW",
             "2005-04-02", "2005-06-01")  # fmt: skip
    w.export("RU-2005-0118", "AE", ["RU-UDA-2005-0002"], "680000.00", "RU",
             "2005-04-04", "2005-06-03")  # fmt: skip
    w.split("EU", "2005-04-05", "RU-MIR-2005-0001",
            ("EU-ANR-2005-1101", "7000.00", "700000.00"),
            ("EU-ANR-2005-1102", "5000.00", "380000.00"))  # fmt: skip
    w.confirm("AE", "BW-2005-0052", "18000.00", "1260000.00", "2005-04-07")
    w.confirm("AE", "RU-2005-0118", "8500.00", "680000.00", "2005-04-11")
    w.produce("ZA", "2005-04-12", "ZA-VEN-2005-0001", "ZA-VENETIA", "9000.00", "900000.00")
    # Mixing at Antwerp: Russian and Botswanan goods in one parcel for Surat.
    w.merge("EU", "2005-04-20", ["EU-ANR-2005-1102", "BW-JWA-2005-0001"], "EU-ANR-2005-1200",
            "3130000.00")  # fmt: skip
    w.split("AE", "2005-05-02", "RU-UDA-2005-0002",
            ("AE-DXB-2005-0101", "5000.00", "420000.00"),
            ("AE-DXB-2005-0102", "3500.00", "260000.00"))  # fmt: skip
    w.export("EU-2005-0512", "IN", ["EU-ANR-2005-1200"], "3130000.00", "MIXED",
             "2005-05-10", "2005-07-09", hs_code="7102.31")  # fmt: skip
    w.produce("GH", "2005-05-10", "GH-AKW-2005-0001", "GH-AKWATIA", "2400.00", "72000.00")
    w.confirm("IN", "EU-2005-0512", "30000.00", "3130000.00", "2005-05-18")
    # Surat sorts out rejects, sends them to Dubai, and buys them back: a round trip.
    w.split("IN", "2005-06-01", "EU-ANR-2005-1200",
            ("IN-SUR-2005-0301", "29000.00", "3030000.00"),
            ("IN-SUR-2005-0302", "1000.00", "100000.00"))  # fmt: skip
    w.export("AE-2005-0233", "IN", ["AE-DXB-2005-0101"], "420000.00", "RU",
             "2005-06-15", "2005-08-14", hs_code="7102.31")  # fmt: skip
    w.confirm("IN", "AE-2005-0233", "5000.00", "420000.00", "2005-06-20")
    w.export("IN-2005-0077", "AE", ["IN-SUR-2005-0302"], "100000.00", "MIXED",
             "2005-07-01", "2005-08-30", hs_code="7102.21")  # fmt: skip
    w.confirm("AE", "IN-2005-0077", "1000.00", "100000.00", "2005-07-04")
    w.export("AE-2005-0290", "IN", ["IN-SUR-2005-0302"], "100000.00", "MIXED",
             "2005-07-20", "2005-09-18", hs_code="7102.21")  # fmt: skip
    w.confirm("IN", "AE-2005-0290", "1000.00", "100000.00", "2005-07-25")
    w.produce("GH", "2005-08-22", "GH-AKW-2005-0002", "GH-AKWATIA", "1850.00", "55500.00")

    # Séguéla, rebel-held since 2002: its stones go south to Ghana before the embargo.
    w.produce("CI", "2005-10-03", "CI-SEG-2005-0001", "CI-SEGUELA", "640.00", "96000.00")
    w.produce("CI", "2005-11-07", "CI-SEG-2005-0002", "CI-SEGUELA", "410.00", "61500.00")
    w.merge("CI", "2005-11-21", ["CI-SEG-2005-0001", "CI-SEG-2005-0002"], "CI-SEG-2005-P01",
            "157500.00")  # fmt: skip
    # Akwatia's third lot takes its 2005 output past the site's capacity.
    w.produce("GH", "2005-11-28", "GH-AKW-2005-0003", "GH-AKWATIA", "1260.00", "37800.00")
    w.export("CI-2005-0007", "GH", ["CI-SEG-2005-P01"], "157500.00", "CI",
             "2005-12-01", "2006-01-30")  # fmt: skip
    w.confirm("GH", "CI-2005-0007", "1050.00", "157500.00", "2005-12-05")
    # Accra mixes the Ivorian stones into a Ghanaian parcel priced as Akwatia goods...
    w.merge("GH", "2005-12-08", ["GH-AKW-2005-0003", "CI-SEG-2005-P01"], SUSPECT_LOT_ID,
            "69300.00")  # fmt: skip
    # ...and certifies it for Dubai four days after the Ivorian goods arrived.
    w.export(SUSPECT_CERTIFICATE_ID, "AE", [SUSPECT_LOT_ID], "69300.00", "MIXED",
             "2005-12-09", "2006-02-07")  # fmt: skip
    # Dubai receives it at $85/ct, not the $30/ct certified.
    w.confirm("AE", SUSPECT_CERTIFICATE_ID, "2310.00", "196350.00", "2005-12-13")
    w.add(
        SECRETARIAT,
        "2005-12-15",
        "embargo.declared",
        EMBARGO_ID,
        embargo_id=EMBARGO_ID,
        participant="CI",
        reason="UN Security Council resolution 1643 (2005): no import of rough diamonds "
        "from Côte d'Ivoire",
        effective_from="2005-12-15",
    )

    # Dubai sorts the parcel and mixes part of it with Russian goods: the taint spreads.
    w.split("AE", "2006-01-09", SUSPECT_LOT_ID,
            ("AE-DXB-2006-0031", "1400.00", "120000.00"),
            ("AE-DXB-2006-0032", "910.00", "76350.00"))  # fmt: skip
    w.produce("CI", "2006-01-16", "CI-TOR-2006-0001", "CI-TORTIYA", "380.00", "45600.00")
    w.merge("AE", "2006-01-20", ["AE-DXB-2005-0102", "AE-DXB-2006-0032"], "AE-DXB-2006-0040",
            "336350.00")  # fmt: skip
    # Venetia goods certified for Mumbai are never confirmed.
    w.export("ZA-2006-0019", "IN", ["ZA-VEN-2005-0001"], "900000.00", "ZA",
             "2006-02-06", "2006-04-07", hs_code="7102.31")  # fmt: skip
    w.add(
        INVESTIGATOR,
        "2006-03-01",
        "lot.flagged",
        "AE-DXB-2006-0031",
        lot_id="AE-DXB-2006-0031",
        reason="UN Group of Experts: Ivorian stones from Séguéla suspected in this parcel",
    )

    # Operators: Ghana licenses Akwatia's diggers, the Kade buyers and an Accra exporter.
    w.license(DIGGERS, OPERATORS[DIGGERS], ["digger"], "GH-MC-SSM-2006-0031")
    w.license(BUYERS, OPERATORS[BUYERS], ["buyer", "dealer"], "GH-PMMC-LBA-2006-0112")
    w.license(EXPORTER, OPERATORS[EXPORTER], ["dealer", "exporter"], "GH-PMMC-EXP-2006-0007")
    w.license(IMPORTER, OPERATORS[IMPORTER], ["importer", "dealer"], "AE-DMCC-2006-1410")
    w.produce("GH", "2006-03-06", "GH-AKW-2006-0101", "GH-AKWATIA", "320.00", "9600.00", DIGGERS)
    w.produce("GH", "2006-03-13", "GH-AKW-2006-0102", "GH-AKWATIA", "275.00", "8250.00", DIGGERS)
    # The diggers sell to the Kade buyers, who mix the two parcels...
    w.transfer("GH", "2006-03-15", "GH-AKW-2006-0101", BUYERS, "10880.00")
    w.transfer("GH", "2006-03-15", "GH-AKW-2006-0102", BUYERS, "9350.00")
    w.merge("GH", "2006-03-20", ["GH-AKW-2006-0101", "GH-AKW-2006-0102"], KADE_PARCEL,
            "20230.00")  # fmt: skip
    # ...and sell the parcel to the Accra exporter, who ships it to Dubai.
    w.transfer("GH", "2006-03-27", KADE_PARCEL, EXPORTER, "22610.00")
    w.export("GH-2006-0150", "AE", [KADE_PARCEL], "22610.00", "GH",
             "2006-04-03", "2006-06-02", operator_id=EXPORTER)  # fmt: skip
    w.confirm("AE", "GH-2006-0150", "595.00", "22610.00", "2006-04-07", operator_id=IMPORTER)
    # The UN sanctions committee designates the exporter: it held the Kade parcel.
    w.add(
        SECRETARIAT,
        "2006-05-02",
        "sanction.listed",
        LISTING_ID,
        listing_id=LISTING_ID,
        operator_id=EXPORTER,
        reason="Security Council Committee established by resolution 1572 (2004): bought "
        "rough diamonds from rebel-held Séguéla for re-export",
        effective_from="2006-05-02",
    )
    # Annex I: Gokhran certifies fourteen parcels for Antwerp, which counts thirteen.
    w.produce("RU", "2006-03-06", "RU-MIR-2006-0004", "RU-MIR", "3500.00", "315000.00")
    w.export("RU-2006-0027", "EU", ["RU-MIR-2006-0004"], "315000.00", "RU",
             "2006-03-10", "2006-05-09", parcels=14,
             issuing_authority={"name": "Gokhran of Russia, Moscow"})  # fmt: skip
    w.confirm("EU", "RU-2006-0027", "3500.00", "315000.00", "2006-03-14", parcels=13)
    _corrections(w)
    _monitoring(w, today or datetime.now(UTC).date())
    _declared_as_ghanaian(w)
    return [
        (poster, sign_normal_form(normal_form(parse_document(document)), key))
        if poster == SIGNING_PARTICIPANT
        else (poster, document)
        for poster, document in w.steps
    ]


BONSA = "GH-BONSA"
VALUE_OUTLIER_LOT_ID = "GH-BON-2006-0021"


def _declared_as_ghanaian(w: _World) -> None:
    """Ivorian stones declared as a Ghanaian site's production: twenty lots of Bonsa's
    industrial goods at $27.50 to $32.50 a carat (median $30), then one at $150 a carat,
    the value of Séguéla's gem-quality stones (alert `production_value_outlier`). Appended
    after the rest, so that the positions of the other documents stay as they were."""
    bonsa = {
        "number": "GH-MC-1998-044",
        "holder": "Bonsa Diamond Fields Ltd",
        "valid_until": "2010-12-31",
    }
    w.site(BONSA, "GH", "Western", 5.3170, -1.9830, bonsa)
    for number in range(1, 21):
        carats = 200 + 10 * number
        usd_per_carat = Decimal("27.50") + Decimal("0.25") * (number - (number <= 10))
        day = date(2006, 4, 3).toordinal() + 7 * (number - 1)
        w.produce("GH", date.fromordinal(day).isoformat(), f"GH-BON-2006-{number:04d}", BONSA,
                  f"{carats}.00", f"{carats * usd_per_carat:.2f}")  # fmt: skip
    w.produce("GH", "2006-08-28", VALUE_OUTLIER_LOT_ID, BONSA, "310.00", "46500.00")


def _corrections(w: _World) -> None:
    """A mistyped production corrected the next day, and a certificate cancelled."""
    # Debswana types 1,600.00 carats for a 160.00-carat Orapa lot; the next day Botswana
    # retracts it and posts the corrected production, under the same lot id.
    w.produce("BW", "2006-04-18", ORAPA_LOT_ID, "BW-ORAPA", "1600.00", "11200.00")
    wrong = w.steps[-1][1]
    w.add(
        "BW",
        "2006-04-19",
        "document.retracted",
        ORAPA_LOT_ID,
        retracted_event_id=wrong["event_id"],
        reason="mistyped: the lot weighs 160.00 carats, not 1,600.00",
    )
    w.carats[ORAPA_LOT_ID] = Decimal("160.00")
    w.add(
        "BW",
        "2006-04-19",
        "lot.produced",
        f"{ORAPA_LOT_ID} corrected",
        lot_id=ORAPA_LOT_ID,
        source_id="BW-ORAPA",
        carats="160.00",
        value_usd="11200.00",
    )
    # South Africa certifies Venetia goods for Antwerp; the shipment does not leave
    # Johannesburg and the export is retracted: the certificate is cancelled.
    w.produce("ZA", "2006-04-20", VENETIA_LOT_ID, "ZA-VENETIA", "4200.00", "420000.00")
    w.export(CANCELLED_CERTIFICATE_ID, "EU", [VENETIA_LOT_ID], "420000.00", "ZA",
             "2006-04-24", "2006-06-23")  # fmt: skip
    certified = w.steps[-1][1]
    w.add(
        "ZA",
        "2006-04-25",
        "document.retracted",
        CANCELLED_CERTIFICATE_ID,
        retracted_event_id=certified["event_id"],
        reason="the shipment did not leave Johannesburg: certificate cancelled",
    )


def _monitoring(w: _World, today: date) -> None:
    """Reports submitted, and the peer reviews of 2004 and 2005."""
    late = {("AE", 2005, "annual_report"): "2006-07-20"}
    missing = {("CI", 2005, "statistics")}
    for code in PARTICIPANTS:
        for year in range(2003, today.year):
            for kind, on_time in (("statistics", "03-15"), ("annual_report", "06-15")):
                if (code, year, kind) in missing:
                    continue
                if year <= 2005:
                    submitted_on = late.get((code, year, kind), f"{year + 1}-{on_time}")
                elif date(year + 1, 1, 15) <= today:
                    submitted_on = f"{year + 1}-01-15"
                else:
                    continue
                w.add(code, submitted_on, "report.submitted", f"{code}/{year}/{kind}",
                      participant=code, year=year, kind=kind,
                      submitted_on=submitted_on)  # fmt: skip

    def invite(review_id: str, code: str, invited_on: str) -> None:
        w.add(code, invited_on, "review.invited", review_id,
              review_id=review_id, participant=code, invited_on=invited_on)  # fmt: skip

    def visit(review_id: str, kind: str, visited_on: str, *recommendations: str) -> None:
        listed = [
            {"recommendation_id": f"{review_id}-R{number}", "text": text}
            for number, text in (item.split(" ", 1) for item in recommendations)
        ]
        w.add(SECRETARIAT, visited_on, "review.visited", f"{review_id}/{kind}/{visited_on}",
              review_id=review_id, visited_on=visited_on, kind=kind,
              recommendations=listed)  # fmt: skip

    def implement(review_id: str, code: str, number: int, implemented_on: str) -> None:
        recommendation_id = f"{review_id}-R{number}"
        w.add(code, implemented_on, "review.recommendation_implemented", recommendation_id,
              review_id=review_id, recommendation_id=recommendation_id,
              implemented_on=implemented_on)  # fmt: skip

    invite("KP-RV-GN-2004", "GN", "2004-02-16")
    invite("KP-RV-RU-2004", "RU", "2004-03-01")
    visit("KP-RV-GN-2004", "review", "2004-05-10",
          "1 Register every alluvial digger and buyer in the Banankoro area",
          "2 Reconcile export statistics with production records every month",
          "3 Keep rough diamonds awaiting export in the Conakry strong room")  # fmt: skip
    visit("KP-RV-RU-2004", "review", "2004-09-06",
          "1 Publish production statistics by deposit",
          "2 Apply the certificate's security features at every export office")  # fmt: skip
    implement("KP-RV-GN-2004", "GN", 2, "2005-03-01")
    invite("KP-RV-IN-2005", "IN", "2005-03-15")
    implement("KP-RV-RU-2004", "RU", 1, "2005-04-20")
    implement("KP-RV-RU-2004", "RU", 2, "2005-06-30")
    invite("KP-RV-AE-2005", "AE", "2005-09-01")
    implement("KP-RV-GN-2004", "GN", 3, "2005-09-30")
    visit("KP-RV-IN-2005", "review", "2005-10-24",
          "1 Record the importer's confirmation of every certificate within 30 days",
          "2 Audit the stocks of the Surat sorting houses once a year")  # fmt: skip
    visit("KP-RV-GN-2004", "follow_up", "2005-11-14",
          "4 Publish the list of licensed buying offices (comptoirs)")  # fmt: skip
    implement("KP-RV-IN-2005", "IN", 1, "2005-12-20")


def _actor(poster: str) -> Actor:
    if poster in (SECRETARIAT, INVESTIGATOR):
        role: Role = "secretariat" if poster == SECRETARIAT else "investigator"
        return Actor(role, f"demo-{poster}")
    return Actor("authority", f"demo-authority-{poster}", poster)


def load_demo(ledger: Ledger, today: date | None = None) -> DemoResult:
    """Posts the demo world through `ledger.post` (nothing when it is there already) and creates
    tokens: one secretariat, one investigator, one auditor, one authority per main participant."""
    appended = 0
    for poster, steps in itertools.groupby(demo_documents(today), key=lambda step: step[0]):
        batch = [document for _, document in steps]
        appended += ledger.post({"events": batch}, _actor(poster)).accepted
    readers: tuple[Role, ...] = ("secretariat", "investigator", "auditor")
    tokens = {f"demo-{role}": ledger.create_token(role, f"demo-{role}") for role in readers}
    for code in MAIN_PARTICIPANTS:
        name = f"demo-authority-{code}"
        tokens[name] = ledger.create_token("authority", name, code)
    return DemoResult(tokens=tokens, appended=appended, head_position=ledger.head_position())


def write_demo_key(folder: str | os.PathLike[str] = ".") -> Path:
    """Writes Ghana's demo key to `DEMO_KEY_FILE` in `folder` (mode 0600) unless a file
    has that name already; returns its path."""
    path = Path(folder) / DEMO_KEY_FILE
    if not path.exists():
        with contextlib.suppress(SigningError):  # created meanwhile: the same key
            create_key_file(path, demo_authority_key())
    return path


def shell_name(token_name: str) -> str:
    """The shell variable `kpledger demo` exports a token as: `demo-investigator` is
    INVESTIGATOR, `demo-authority-GH` AUTHORITY_GH (the README's commands use them)."""
    return token_name.removeprefix("demo-").replace("-", "_").upper()


def welcome_text(result: DemoResult, base_url: str) -> str:
    """What `kpledger demo` prints: the tokens, and three commands that trace the suspect parcel."""
    lines = [
        f"kpledger demo: {result.appended} documents appended, log head at position "
        f"{result.head_position}.",
        "",
        "Tokens (shown once; only their hashes are stored): paste these lines into your shell",
        *(f"export {shell_name(name)}={token}" for name, token in result.tokens.items()),
        "",
        f"The suspect parcel {result.suspect_lot_id} left Accra for Dubai under "
        f"{result.suspect_certificate_id}. Trace it:",
        "",
    ]
    auth = '-H "Authorization: Bearer $INVESTIGATOR"'
    lot = result.suspect_lot_id
    commands = [
        ("# where its carats came from: 45% from Séguéla, under embargo "
         f"{result.embargo_id}", f"{base_url}/v1/lots/{lot}/provenance"),
        ("# where its material went after Dubai sorted and mixed it",
         f"{base_url}/v1/trace/downstream?lot_id={lot}"),
        ("# the red flags it raised, and the others of the demo",
         f"{base_url}/v1/alerts"),
    ]  # fmt: skip
    for comment, url in commands:
        lines += [comment, f'curl -s {auth} "{url}"', ""]
    lines += [
        f"Or see it: open {base_url}/ui#root={lot} and paste the token of INVESTIGATOR.",
        "",
        f"Ghana's authority signs what it posts, with the demo key {DEMO_KEY_FILE}:",
        f"  kpledger sign FILE --key {DEMO_KEY_FILE} --out signed.jsonl",
        f"  kpledger post FILE --sign-key {DEMO_KEY_FILE} --token "
        f"{result.tokens.get('demo-authority-GH', 'TOKEN')} --url {base_url}",
        "",
    ]
    return "\n".join(lines)

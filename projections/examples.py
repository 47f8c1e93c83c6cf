"""Log entries built by hand, for doctests and unit tests: no store involved.

`log_entry` validates a raw document with `ledger.documents.parse_document` and keeps
its normalized form, as the write side stores it. `example_entries` is a small world:
Côte d'Ivoire material imported by Ghana, merged with Ghanaian material, split, and
re-exported to the UAE three days later; then an embargo on Côte d'Ivoire.
`operator_entries` is a world of operators: a Ghanaian digger's lot, cut, sold to an
exporter, shipped to a Dubai importer; then a sanction listing of the exporter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ledger.documents import normalize, parse_document
from ledger.log import GENESIS_HASH, LogEntry

__all__ = ["BASE_INSTANT", "example_entries", "log_entry", "numbered", "operator_entries"]

BASE_INSTANT = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
_NAMESPACE = uuid.UUID("6f1d0c3e-6a8e-4a49-9a8e-3c1f6b2a7d10")


def log_entry(position: int, raw: dict[str, Any], recorded_at: datetime | None = None) -> LogEntry:
    """An accepted entry at `position`; `event_id` and `occurred_at` default from it.

    >>> entry = log_entry(1, {"type": "participant.admitted", "participant": "GH", "name": "Ghana"})
    >>> entry.document["occurred_at"], entry.recorded_at.isoformat()
    ('2026-01-01T01:00:00Z', '2026-01-01T01:00:00+00:00')
    """
    instant = BASE_INSTANT + timedelta(hours=position)
    raw = {
        "event_id": str(uuid.uuid5(_NAMESPACE, str(position))),
        "occurred_at": instant.isoformat().replace("+00:00", "Z"),
        **raw,
    }
    document = normalize(parse_document(raw))
    return LogEntry(
        position=position,
        recorded_at=recorded_at or instant,
        recorded_by="example",
        document=document,
        events_digest=GENESIS_HASH,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )


def numbered(raws: Iterable[dict[str, Any]], start: int = 1) -> list[LogEntry]:
    """Entries at positions start, start+1, ... for raw documents."""
    return [log_entry(position, raw) for position, raw in enumerate(raws, start)]


def _admitted(code: str, name: str) -> dict[str, Any]:
    return {"type": "participant.admitted", "participant": code, "name": name}


def _certified(
    certificate_id: str, exporter: str, importer: str, lot_ids: list[str], **figures: Any
) -> dict[str, Any]:
    return {
        "type": "export.certified",
        "certificate_id": certificate_id,
        "exporting_participant": exporter,
        "importing_participant": importer,
        "lot_ids": lot_ids,
        "exporter": {"name": f"{exporter} exporter"},
        "importer": {"name": f"{importer} importer"},
        "hs_code": "7102.10",
        **figures,
    }


def example_entries() -> list[LogEntry]:
    """Thirteen entries: L-A (160 ct) is 1/3 Ivorian, 2/3 Ghanaian; CI is embargoed from Feb.

    >>> [entry.type for entry in example_entries()][-3:]
    ['lot.split', 'export.certified', 'embargo.declared']
    """
    location = {"lat": 7.5, "lon": -6.5}
    return numbered(
        [
            _admitted("CI", "Côte d'Ivoire"),
            _admitted("GH", "Ghana"),
            _admitted("AE", "United Arab Emirates"),
            {
                "type": "alluvial_site.registered",
                "site_id": "S-CI",
                "participant": "CI",
                "region": "Seguela",
                "location": location,
                "licence": {"number": "CI-L-7", "holder": "Coop", "valid_until": "2027-12-31"},
            },
            {
                "type": "mine.registered",
                "mine_id": "M-GH",
                "participant": "GH",
                "name": "Akwatia",
                "region": "Eastern",
                "location": location,
                "annual_capacity_carats": "1000",
            },
            {
                "type": "lot.produced",
                "lot_id": "L-CI",
                "source_id": "S-CI",
                "carats": "100",
                "value_usd": "10000",
            },
            {
                "type": "lot.produced",
                "lot_id": "L-GH",
                "source_id": "M-GH",
                "carats": "200",
                "value_usd": "30000",
            },
            _certified(
                "CI-1",
                "CI",
                "GH",
                ["L-CI"],
                carats="100",
                value_usd="10000",
                declared_origin="CI",
                issued_on="2026-01-10",
                expires_on="2026-03-10",
            ),
            {
                "type": "import.confirmed",
                "certificate_id": "CI-1",
                "carats": "100",
                "value_usd": "10000",
                "received_on": "2026-01-12",
            },
            {
                "type": "lots.merged",
                "lot_ids": ["L-CI", "L-GH"],
                "into": {"lot_id": "L-MIX", "value_usd": "40000"},
            },
            {
                "type": "lot.split",
                "lot_id": "L-MIX",
                "into": [
                    {"lot_id": "L-A", "carats": "160", "value_usd": "21000"},
                    {"lot_id": "L-B", "carats": "140", "value_usd": "19000"},
                ],
            },
            _certified(
                "GH-1",
                "GH",
                "AE",
                ["L-A"],
                carats="160",
                value_usd="21000",
                declared_origin="MIXED",
                issued_on="2026-01-15",
                expires_on="2026-02-15",
            ),
            {
                "type": "embargo.declared",
                "embargo_id": "E-CI",
                "participant": "CI",
                "reason": "UN Security Council resolution 1643",
                "effective_from": "2026-02-01",
            },
        ]
    )


def _licensed(operator_id: str, name: str, *roles: str) -> dict[str, Any]:
    return {
        "type": "operator.licensed",
        "operator_id": operator_id,
        "participant": operator_id[:2],
        "name": name,
        "roles": list(roles),
        "licence": {"number": f"LIC-{operator_id}", "valid_until": "2027-12-31"},
    }


def operator_entries() -> list[LogEntry]:
    """Twelve entries: digger GH-OP-1 produces L-1 (100 ct) and cuts it; L-1A (60 ct) is
    sold to GH-OP-2, which exports it to AE-OP-1; then GH-OP-2 is listed from February.

    >>> [entry.type for entry in operator_entries()][-4:]
    ['lot.transferred', 'export.certified', 'import.confirmed', 'sanction.listed']
    """
    return numbered(
        [
            _admitted("GH", "Ghana"),
            _admitted("AE", "United Arab Emirates"),
            {
                "type": "alluvial_site.registered",
                "site_id": "S-GH",
                "participant": "GH",
                "region": "Eastern",
                "location": {"lat": 6.0, "lon": -0.8},
                "licence": {"number": "GH-L-1", "holder": "Coop", "valid_until": "2027-12-31"},
            },
            _licensed("GH-OP-1", "Akwatia Diggers", "digger", "dealer"),
            _licensed("GH-OP-2", "Accra Exporters", "buyer", "exporter"),
            _licensed("AE-OP-1", "Dubai Rough", "importer"),
            {
                "type": "lot.produced",
                "lot_id": "L-1",
                "source_id": "S-GH",
                "carats": "100",
                "value_usd": "10000",
                "operator": "GH-OP-1",
            },
            {
                "type": "lot.split",
                "lot_id": "L-1",
                "into": [
                    {"lot_id": "L-1A", "carats": "60", "value_usd": "6000"},
                    {"lot_id": "L-1B", "carats": "40", "value_usd": "4000"},
                ],
            },
            {
                "type": "lot.transferred",
                "lot_id": "L-1A",
                "to_operator": "GH-OP-2",
                "value_usd": "7500",
            },
            {
                **_certified(
                    "GH-2",
                    "GH",
                    "AE",
                    ["L-1A"],
                    carats="60",
                    value_usd="7500",
                    declared_origin="GH",
                    issued_on="2026-01-01",
                    expires_on="2026-03-01",
                ),
                "exporter": {"name": "Accra Exporters", "operator_id": "GH-OP-2"},
            },
            {
                "type": "import.confirmed",
                "certificate_id": "GH-2",
                "carats": "60",
                "value_usd": "7500",
                "received_on": "2026-01-02",
                "operator_id": "AE-OP-1",
            },
            {
                "type": "sanction.listed",
                "listing_id": "UN-1",
                "operator_id": "GH-OP-2",
                "reason": "UN sanctions committee designation",
                "effective_from": "2026-02-01",
            },
        ]
    )

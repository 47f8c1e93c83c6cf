"""Builders of protocol documents and small worlds, shared by every kind of test."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from ledger.actors import Actor

SECRETARIAT = Actor("secretariat", "secretariat-test")
INVESTIGATOR = Actor("investigator", "investigator-test")
AUDITOR = Actor("auditor", "auditor-test")

_counter = itertools.count(1)


def authority(participant: str) -> Actor:
    """The authority of one participant."""
    return Actor("authority", f"authority-{participant}", participant)


def doc(type_: str, occurred_at: str = "2005-06-01T10:00:00Z", **fields: Any) -> dict[str, Any]:
    """A document of `type_` with a fresh event_id."""
    return {"event_id": str(uuid.uuid4()), "type": type_, "occurred_at": occurred_at, **fields}


def admitted(participant: str, name: str | None = None) -> dict[str, Any]:
    return doc("participant.admitted", participant=participant, name=name or participant)


def mine(mine_id: str, participant: str, region: str = "North", **extra: Any) -> dict[str, Any]:
    return doc(
        "mine.registered",
        mine_id=mine_id,
        participant=participant,
        name=f"{mine_id} mine",
        region=region,
        location={"lat": 6.1, "lon": -1.2},
        **extra,
    )


def site(
    site_id: str,
    participant: str,
    region: str = "North",
    valid_until: str = "2010-12-31",
    **extra: Any,
) -> dict[str, Any]:
    return doc(
        "alluvial_site.registered",
        site_id=site_id,
        participant=participant,
        region=region,
        location={"lat": 8.0, "lon": -6.0},
        licence={"number": f"LIC-{site_id}", "holder": "Cooperative", "valid_until": valid_until},
        **extra,
    )


def produced(lot_id: str, source_id: str, carats: str, value_usd: str = "1000", **kw: Any):
    return doc(
        "lot.produced", lot_id=lot_id, source_id=source_id, carats=carats, value_usd=value_usd, **kw
    )


def split(lot_id: str, *parts: tuple[str, str]) -> dict[str, Any]:
    return doc(
        "lot.split",
        lot_id=lot_id,
        into=[{"lot_id": child, "carats": carats, "value_usd": "100"} for child, carats in parts],
    )


def merged(lot_ids: list[str], into: str, value_usd: str = "1000") -> dict[str, Any]:
    return doc("lots.merged", lot_ids=lot_ids, into={"lot_id": into, "value_usd": value_usd})


def export(
    certificate_id: str,
    exporter: str,
    importer: str,
    lot_ids: list[str],
    carats: str,
    declared_origin: str = "MIXED",
    issued_on: str = "2005-07-01",
    expires_on: str = "2005-08-01",
    value_usd: str = "1000",
    hs_code: str = "7102.10",
) -> dict[str, Any]:
    return doc(
        "export.certified",
        certificate_id=certificate_id,
        exporting_participant=exporter,
        importing_participant=importer,
        lot_ids=lot_ids,
        exporter={"name": f"{exporter} Exporters Ltd"},
        importer={"name": f"{importer} Importers Ltd"},
        hs_code=hs_code,
        carats=carats,
        value_usd=value_usd,
        declared_origin=declared_origin,
        issued_on=issued_on,
        expires_on=expires_on,
    )


def confirmed(
    certificate_id: str, carats: str, value_usd: str = "1000", received_on: str = "2005-07-05"
) -> dict[str, Any]:
    return doc(
        "import.confirmed",
        certificate_id=certificate_id,
        carats=carats,
        value_usd=value_usd,
        received_on=received_on,
    )


def embargo(
    embargo_id: str, participant: str, effective_from: str = "2005-01-01", region: str | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "embargo_id": embargo_id,
        "participant": participant,
        "reason": "UN Security Council",
        "effective_from": effective_from,
    }
    if region is not None:
        fields["region"] = region
    return doc("embargo.declared", **fields)


def basic_world(ledger: Any) -> None:
    """GH, CI and AE admitted; mine GH-M1 (GH), site CI-S1 (CI, region North);
    lots GH-L1 (100 ct at GH-M1) and CI-L1 (60 ct at CI-S1)."""
    for code in ("GH", "CI", "AE"):
        ledger.post(admitted(code), SECRETARIAT)
    ledger.post(mine("GH-M1", "GH", region="Eastern"), authority("GH"))
    ledger.post(site("CI-S1", "CI", region="North"), authority("CI"))
    ledger.post(produced("GH-L1", "GH-M1", "100"), authority("GH"))
    ledger.post(produced("CI-L1", "CI-S1", "60"), authority("CI"))

"""Builders of protocol documents and small worlds, shared by every kind of test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ledger.actors import Actor

SECRETARIAT = Actor("secretariat", "secretariat-test")
INVESTIGATOR = Actor("investigator", "investigator-test")
AUDITOR = Actor("auditor", "auditor-test")


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
    **extra: Any,
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
        **extra,
    )


def confirmed(
    certificate_id: str,
    carats: str,
    value_usd: str = "1000",
    received_on: str = "2005-07-05",
    **extra: Any,
) -> dict[str, Any]:
    return doc(
        "import.confirmed",
        certificate_id=certificate_id,
        carats=carats,
        value_usd=value_usd,
        received_on=received_on,
        **extra,
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


# ---------------------------------------------------------------- added for the rule suites


def suspended(participant: str, reason: str = "review mission") -> dict[str, Any]:
    return doc("participant.suspended", participant=participant, reason=reason)


def reinstated(participant: str) -> dict[str, Any]:
    return doc("participant.reinstated", participant=participant)


def withdrawn(participant: str, reason: str = "left the scheme") -> dict[str, Any]:
    return doc("participant.withdrawn", participant=participant, reason=reason)


def lifted(embargo_id: str, effective_to: str) -> dict[str, Any]:
    return doc("embargo.lifted", embargo_id=embargo_id, effective_to=effective_to)


def revoked(site_id: str, occurred_at: str = "2005-06-01T10:00:00Z") -> dict[str, Any]:
    return doc(
        "alluvial_site.licence_revoked", occurred_at=occurred_at, site_id=site_id, reason="fraud"
    )


def flagged(lot_id: str, reason: str = "suspicious paperwork") -> dict[str, Any]:
    return doc("lot.flagged", lot_id=lot_id, reason=reason)


def seized(lot_id: str, reason: str = "smuggling") -> dict[str, Any]:
    return doc("lot.seized", lot_id=lot_id, reason=reason)


def report(
    participant: str, year: Any, kind: str = "statistics", submitted_on: str = "2006-03-01"
) -> dict[str, Any]:
    return doc(
        "report.submitted",
        participant=participant,
        year=year,
        kind=kind,
        submitted_on=submitted_on,
    )


def invited(review_id: str, participant: str, invited_on: str = "2005-02-01") -> dict[str, Any]:
    return doc(
        "review.invited", review_id=review_id, participant=participant, invited_on=invited_on
    )


def visited(
    review_id: str, *recommendation_ids: str, kind: str = "review", visited_on: str = "2005-05-01"
) -> dict[str, Any]:
    return doc(
        "review.visited",
        review_id=review_id,
        visited_on=visited_on,
        kind=kind,
        recommendations=[
            {"recommendation_id": rid, "text": f"recommendation {rid}"}
            for rid in recommendation_ids
        ],
    )


def implemented(
    review_id: str, recommendation_id: str, implemented_on: str = "2005-09-01"
) -> dict[str, Any]:
    return doc(
        "review.recommendation_implemented",
        review_id=review_id,
        recommendation_id=recommendation_id,
        implemented_on=implemented_on,
    )


def batch(*documents: dict[str, Any]) -> dict[str, Any]:
    """A POST /v1/events body holding several documents."""
    return {"events": list(documents)}


EXPECTED_STATUS = {"forbidden": 403, "invalid": 422, "unauthenticated": 401}


def refuse(ledger: Any, payload: Any, actor: Actor, *codes: str, index: int = 0) -> Any:
    """Posts `payload`, asserts it is refused with one of `codes` at `index` (and the
    protocol's status for it), and that nothing was appended; returns the LedgerError."""
    import pytest

    from ledger.errors import LedgerError

    before = ledger.head_position()
    with pytest.raises(LedgerError) as caught:
        ledger.post(payload, actor)
    error = caught.value
    assert error.code in codes, f"expected {codes}, got {error!r}"
    assert error.status == EXPECTED_STATUS.get(error.code, 409), error
    assert error.index == index, error
    assert ledger.head_position() == before, "a refused request appended something"
    return error


def lot_state(ledger: Any, lot_id: str) -> tuple[Any, ...] | None:
    """Status, holder, carats, certificate and composition of a lot, or None if absent."""
    from eventsourcing.application import AggregateNotFoundError

    from ledger.lots import Lot

    try:
        lot = ledger.repository.get(Lot.create_id(lot_id))
    except AggregateNotFoundError:
        return None
    return (lot.status, lot.holder, lot.carats, lot.certificate_id, dict(lot.composition))


_SHARED_DATABASE: dict[str, str] = {}


def _shared_postgresql_url() -> str:
    """One PostgreSQL database per test process, dropped when the process exits."""
    import atexit
    import os
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    if "url" not in _SHARED_DATABASE:
        admin_url = os.environ.get(
            "KPLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        dbname = f"kpl_test_shared_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{dbname}"')

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

        atexit.register(drop)
        parts = urlsplit(admin_url)
        _SHARED_DATABASE["url"] = urlunsplit(parts._replace(path=f"/{dbname}"))
    return _SHARED_DATABASE["url"]


@contextlib.contextmanager
def quick_ledger(kind: str, tmp_path: Any) -> Iterator[Any]:
    """A Ledger over a fresh, empty store of `kind` ("sqlite" or "postgresql").

    Same code as the `ledger` fixture, but the PostgreSQL store is a fresh schema of
    one shared database instead of a database of its own (CREATE DATABASE costs
    about 0.3 s), so that the long tables of rule cases stay fast on both stores.
    """
    import psycopg

    from ledger.application import Ledger
    from ledger.store import StoreConfig, store_config

    if kind == "sqlite":
        opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
        try:
            yield opened
        finally:
            opened.close()
        return
    url = _shared_postgresql_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    config = store_config(url)
    opened = Ledger(
        StoreConfig(config.kind, config.description, {**config.env, "POSTGRES_SCHEMA": schema})
    )
    try:
        yield opened
    finally:
        opened.close()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(name="ledger", params=["sqlite", "postgresql"])
def ledger_on_a_fresh_schema(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """The `ledger` fixture for long tables of cases: a fresh store of each kind, on
    PostgreSQL a schema of one shared database (see `quick_ledger`). A module imports
    it to use it instead of conftest's."""
    with quick_ledger(request.param, tmp_path) as opened:
        yield opened


# ---------------------------------------------------------------- operators and sanctions


def licensed(
    operator_id: str,
    *roles: str,
    participant: str | None = None,
    valid_until: str = "2010-12-31",
    name: str | None = None,
) -> dict[str, Any]:
    """`operator.licensed` of `operator_id`, by the participant its id starts with."""
    return doc(
        "operator.licensed",
        operator_id=operator_id,
        participant=participant or operator_id.split("-")[0],
        name=name or f"{operator_id} Ltd",
        roles=list(roles),
        licence={"number": f"LIC-{operator_id}", "valid_until": valid_until},
    )


def operator_revoked(operator_id: str, occurred_at: str = "2005-06-01T10:00:00Z") -> dict[str, Any]:
    return doc(
        "operator.licence_revoked", occurred_at=occurred_at, operator_id=operator_id, reason="fraud"
    )


def transferred(
    lot_id: str, to_operator: str, value_usd: str = "1000", **kw: Any
) -> dict[str, Any]:
    return doc("lot.transferred", lot_id=lot_id, to_operator=to_operator, value_usd=value_usd, **kw)


def listed(listing_id: str, operator_id: str, effective_from: str = "2005-01-01") -> dict[str, Any]:
    return doc(
        "sanction.listed",
        listing_id=listing_id,
        operator_id=operator_id,
        reason="UN sanctions committee designation",
        effective_from=effective_from,
    )


def delisted(listing_id: str, effective_to: str) -> dict[str, Any]:
    return doc("sanction.lifted", listing_id=listing_id, effective_to=effective_to)


def lot_operator(ledger: Any, lot_id: str) -> str | None:
    """The operator holding a lot, as the write side has it."""
    from ledger.lots import Lot

    lot: Any = ledger.repository.get(Lot.create_id(lot_id))
    return lot.operator  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the rule suites' cases


Post = tuple[dict[str, Any], Any]
"""A payload and the actor who posts it."""


@dataclass
class Case:
    """A faulty document, the codes it may be refused with, and what must not change."""

    payload: dict[str, Any]
    actor: Actor
    codes: tuple[str, ...]
    watch: tuple[str, ...] = ()
    fix: list[Post] = field(default_factory=list)


Build = Callable[[Any], Case]


def case_registry() -> tuple[dict[str, Build], Callable[[Build], Build]]:
    """A module's table of cases and the decorator that fills it, by the builder's name."""
    cases: dict[str, Build] = {}

    def case(build: Build) -> Build:
        cases[build.__name__] = build
        return build

    return cases, case


def accept(ledger: Any, payload: dict[str, Any], actor: Actor) -> int:
    """Posts a document (or a batch) that must be appended whole; returns the last position."""
    capture = ledger.post(payload, actor)
    expected = len(payload["events"]) if "events" in payload and "type" not in payload else 1
    assert capture.appended and capture.accepted == expected, capture
    return int(capture.position)

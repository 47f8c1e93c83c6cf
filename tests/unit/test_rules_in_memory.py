"""Write-side rules without a store: handlers over a UnitOfWork of in-memory aggregates.

Each family's rules are broken once here with no I/O at all (the loader finds
nothing, so every aggregate lives in the unit of work); the same rules are broken
again on each store in tests/integration/test_rules.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.documents import HANDLING, parse_document
from ledger.errors import LedgerError
from ledger.handling import UnitOfWork, also_loaded, referenced_ids
from ledger.lots import Lot
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT
from ledger.sources import Source
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    confirmed,
    embargo,
    export,
    lifted,
    merged,
    mine,
    produced,
    revoked,
    seized,
    site,
    split,
    suspended,
    withdrawn,
)


def _nothing_stored(ids: Iterable[UUID]) -> Mapping[UUID, Aggregate | None]:
    return {}


class Desk:
    """A write side with no store: documents handled in order over one unit of work."""

    def __init__(self) -> None:
        self.work = UnitOfWork(_nothing_stored)

    def post(self, raw: dict[str, Any], actor: Actor) -> None:
        document = parse_document(raw)
        handling = HANDLING[type(document)]
        handling.check_role(actor, document)
        self.work.actor = actor
        handling.check_jurisdiction(document, self.work)
        handling.handle(document, self.work)
        self.work.take_pending()

    def refused(self, raw: dict[str, Any], actor: Actor) -> str:
        with pytest.raises(LedgerError) as refusal:
            self.post(raw, actor)
        return refusal.value.code

    def lot(self, lot_id: str) -> Lot:
        found = self.work.get(Lot, Lot.create_id(lot_id))
        assert found is not None
        return found


GH, CI, AE = authority("GH"), authority("CI"), authority("AE")


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    for code in ("GH", "CI", "AE"):
        desk.post(admitted(code), SECRETARIAT)
    desk.post(mine("GH-M1", "GH", region="Eastern"), GH)
    desk.post(site("CI-S1", "CI", region="North"), CI)
    desk.post(produced("GH-L1", "GH-M1", "100"), GH)
    desk.post(produced("CI-L1", "CI-S1", "60"), CI)
    return desk


def test_participants_and_embargoes(desk: Desk) -> None:
    assert desk.refused(admitted("GH"), SECRETARIAT) == "duplicate_id"
    assert desk.refused(suspended("ZA"), SECRETARIAT) == "unknown_participant"
    assert desk.refused(suspended("GH"), GH) == "forbidden"
    desk.post(withdrawn("AE"), SECRETARIAT)
    assert desk.refused(suspended("AE"), SECRETARIAT) == "participant_inactive"
    desk.post(admitted("AE"), SECRETARIAT)  # admitted again after withdrawal
    assert desk.refused(lifted("NOPE", "2006-01-01"), SECRETARIAT) == "unknown_embargo"
    desk.post(embargo("E1", "CI", effective_from="2005-01-01"), SECRETARIAT)
    assert desk.refused(embargo("E1", "CI"), SECRETARIAT) == "duplicate_id"
    assert desk.refused(lifted("E1", "2004-12-31"), SECRETARIAT) == "bad_dates"


def test_sources(desk: Desk) -> None:
    assert desk.refused(mine("GH-M1", "GH"), GH) == "duplicate_id"
    assert desk.refused(mine("ZA-M1", "ZA"), authority("ZA")) == "unknown_participant"
    assert desk.refused(mine("CI-M9", "CI"), GH) == "forbidden"
    assert desk.refused(revoked("GH-M1"), GH) == "unknown_source"  # a mine has no licence
    assert desk.refused(revoked("CI-S1"), GH) == "forbidden"
    desk.post(revoked("CI-S1", occurred_at="2005-06-01T00:00:00Z"), CI)
    assert desk.refused(produced("CI-L2", "CI-S1", "5"), CI) == "licence_invalid"


def test_lots(desk: Desk) -> None:
    assert desk.refused(produced("GH-L1", "GH-M1", "1"), GH) == "duplicate_id"
    assert desk.refused(produced("X", "NOWHERE", "1"), GH) == "unknown_source"
    assert desk.refused(produced("X", "GH-M1", "1"), CI) == "forbidden"
    assert desk.refused(split("GH-L1", ("A", "60"), ("B", "30")), GH) == "mass_balance"
    assert desk.refused(split("GH-L1", ("A", "60"), ("B", "40")), CI) == "lot_not_held"
    desk.post(split("GH-L1", ("A", "60"), ("B", "40")), GH)
    assert desk.lot("GH-L1").status == CONSUMED
    assert (desk.lot("A").status, desk.lot("A").holder) == (HELD, "GH")
    assert desk.refused(merged(["GH-L1", "A"], "C"), GH) == "lot_consumed"
    assert desk.refused(merged(["A", "CI-L1"], "C"), GH) == "lot_not_held"
    desk.post(merged(["A", "B"], "C"), GH)
    assert desk.lot("C").carats == 100
    desk.post(seized("C"), GH)
    assert desk.refused(split("C", ("D", "50"), ("E", "50")), GH) == "lot_seized"


def test_certificates(desk: Desk) -> None:
    assert desk.refused(export("GH-1", "GH", "GH", ["GH-L1"], "100"), GH) == "same_participant"
    assert desk.refused(export("AE-1", "GH", "AE", ["GH-L1"], "100"), GH) == "bad_certificate_id"
    assert desk.refused(export("GH-1", "GH", "AE", ["GH-L1"], "99"), GH) == "mass_balance"
    assert desk.refused(export("GH-1", "GH", "AE", ["GH-L1"], "100", "CI"), GH) == (
        "bad_declared_origin"
    )
    assert desk.refused(export("GH-1", "GH", "AE", ["GH-L1"], "100"), CI) == "forbidden"
    desk.post(export("GH-1", "GH", "AE", ["GH-L1"], "100", "GH"), GH)
    assert desk.lot("GH-L1").status == IN_TRANSIT
    assert desk.refused(export("GH-2", "GH", "AE", ["GH-L1"], "100"), GH) == "lot_in_transit"
    assert desk.refused(confirmed("GH-1", "100"), GH) == "forbidden"
    assert desk.refused(confirmed("GH-9", "100"), AE) == "unknown_certificate"
    desk.post(confirmed("GH-1", "100"), AE)
    assert (desk.lot("GH-L1").status, desk.lot("GH-L1").holder) == (HELD, "AE")
    assert desk.refused(confirmed("GH-1", "100"), AE) == "already_confirmed"


def test_embargoed_origin_rounds_half_up_as_provenance_does(desk: Desk) -> None:
    """0.00005 ct of a 0.01 ct lot from an embargoed region: the 409 says 0.0001."""
    desk.post(mine("CI-M1", "CI", region="South"), CI)
    desk.post(produced("CI-L2", "CI-S1", "0.01"), CI)
    desk.post(produced("CI-L3", "CI-M1", "1.99"), CI)
    desk.post(merged(["CI-L2", "CI-L3"], "CI-MIX"), CI)
    desk.post(split("CI-MIX", ("CI-SMALL", "0.01"), ("CI-REST", "1.99")), CI)
    desk.post(embargo("E1", "CI", effective_from="2005-01-01", region="North"), SECRETARIAT)
    with pytest.raises(LedgerError) as refusal:
        desk.post(export("CI-1", "CI", "AE", ["CI-SMALL"], "0.01", "CI"), CI)
    assert refusal.value.code == "embargoed_origin"
    assert refusal.value.detail == {
        "embargo_id": "E1",
        "lot_id": "CI-SMALL",
        "carats": "0.0001",
        "fraction": 0.005,
    }


def test_a_batch_loads_what_its_documents_read_in_two_queries(desk: Desk) -> None:
    """What the documents name, then what their types say they read besides (a
    confirmation: its certificate's lots; an export: the embargo register and its lots'
    sources): handling them loads nothing more."""
    desk.post(produced("GH-L2", "GH-M1", "50"), GH)
    desk.post(export("GH-1", "GH", "AE", ["GH-L1", "GH-L2"], "150", "GH"), GH)
    stored = dict(desk.work._aggregates)
    queries: list[set[UUID]] = []

    def load(ids: Iterable[UUID]) -> Mapping[UUID, Aggregate | None]:
        wanted = set(ids)
        queries.append(wanted)
        return {i: stored[i] for i in wanted if stored.get(i) is not None}

    work = UnitOfWork(load)
    batch = [
        (parse_document(confirmed("GH-1", "150")), AE),
        (parse_document(export("CI-1", "CI", "AE", ["CI-L1"], "60", "CI")), CI),
    ]
    documents = [document for document, _ in batch]
    work.preload(i for document in documents for i in referenced_ids(document))
    work.preload(also_loaded(documents, work))
    for document, actor in batch:
        work.actor = actor
        HANDLING[type(document)].check_jurisdiction(document, work)
        HANDLING[type(document)].handle(document, work)
    assert len(queries) == 2
    lots = {Lot.create_id(lot_id) for lot_id in ("GH-L1", "GH-L2")}
    assert lots <= queries[1] and Source.create_id("CI-S1") in queries[1]
    assert work.loaded(Lot, Lot.create_id("GH-L2")).holder == "AE"  # type: ignore[union-attr]

"""EPCIS 2.0 events of log entries: each document type's event, valid against GS1's schema,
and a retracted document's event with its error declaration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.log import GENESIS_HASH, LogEntry
from projections.custody import Custody
from projections.epcis import epcis_document, retractions_in, urn
from projections.examples import numbered
from tests.epcis import epcis_errors
from tests.support import admitted, confirmed, export, merged, mine, produced, site, split

WORLD = [
    admitted("GH"),
    admitted("CI"),
    admitted("AE"),
    mine("M1", "GH"),
    site("S1", "CI"),
    produced("A", "M1", "100.50"),
    produced("B", "S1", "40"),
    split("A", ("A1", "60.25"), ("A2", "40.25")),
    export("CI-1", "CI", "GH", ["B"], "40"),
    confirmed("CI-1", "39.5"),
    merged(["A1", "B"], "AB"),
]


def document_of(entries: list[LogEntry], **options: Any) -> dict[str, Any]:
    found = epcis_document(entries, Custody.replay(entries), **options)
    assert epcis_errors(found) == []
    return found


def events_of(entries: list[LogEntry], **options: Any) -> list[dict[str, Any]]:
    return list(document_of(entries, **options)["epcisBody"]["eventList"])


def test_each_custody_document_is_one_event_and_the_others_none() -> None:
    entries = numbered(WORLD)
    events = events_of(entries)
    custody = [entry for entry in entries if entry.position > 5]
    assert [event["eventID"] for event in events] == [f"urn:uuid:{e.event_id}" for e in custody]


def test_production_adds_the_lot_in_carats_at_its_source() -> None:
    produced_a = events_of(numbered(WORLD))[0]
    assert produced_a["type"] == "ObjectEvent" and produced_a["action"] == "ADD"
    assert (produced_a["bizStep"], produced_a["disposition"]) == ("commissioning", "active")
    assert produced_a["quantityList"] == [
        {"epcClass": "urn:kpledger:lot:A", "quantity": 100.5, "uom": "CTM"}
    ]
    assert produced_a["readPoint"] == {"id": "urn:kpledger:source:M1"}


def test_splits_and_merges_are_transformations_in_carats() -> None:
    events = events_of(numbered(WORLD))
    split_a, merged_ab = events[2], events[-1]
    assert split_a["type"] == merged_ab["type"] == "TransformationEvent"
    assert split_a["inputQuantityList"] == [
        {"epcClass": "urn:kpledger:lot:A", "quantity": 100.5, "uom": "CTM"}
    ]
    assert [(q["epcClass"], q["quantity"]) for q in split_a["outputQuantityList"]] == [
        ("urn:kpledger:lot:A1", 60.25),
        ("urn:kpledger:lot:A2", 40.25),
    ]
    assert [(q["epcClass"], q["quantity"]) for q in merged_ab["inputQuantityList"]] == [
        ("urn:kpledger:lot:A1", 60.25),
        ("urn:kpledger:lot:B", 40.0),
    ]
    assert merged_ab["outputQuantityList"] == [
        {"epcClass": "urn:kpledger:lot:AB", "quantity": 100.25, "uom": "CTM"}
    ]


def test_certification_ships_and_confirmation_receives_under_the_certificate() -> None:
    shipped, received = events_of(numbered(WORLD))[3:5]
    for event in (shipped, received):
        assert (event["type"], event["action"]) == ("ObjectEvent", "OBSERVE")
        assert event["bizTransactionList"] == [
            {"type": "cert", "bizTransaction": "urn:kpledger:certificate:CI-1"}
        ]
        assert event["quantityList"] == [
            {"epcClass": "urn:kpledger:lot:B", "quantity": 40.0, "uom": "CTM"}
        ]
        assert event["sourceList"] == [
            {"type": "owning_party", "source": "urn:kpledger:participant:CI"}
        ]
        assert event["destinationList"] == [
            {"type": "owning_party", "destination": "urn:kpledger:participant:GH"}
        ]
    assert (shipped["bizStep"], shipped["disposition"]) == ("shipping", "in_transit")
    assert received["bizStep"] == "receiving"
    assert received["bizLocation"] == {"id": "urn:kpledger:participant:GH"}


def test_times_keep_the_posted_offset() -> None:
    entries = numbered(
        [*WORLD[:5], {**produced("A", "M1", "1"), "occurred_at": "2005-12-09T10:00:00+04:00"}]
    )
    (event,) = events_of(entries)
    assert (event["eventTime"], event["eventTimeZoneOffset"]) == (
        "2005-12-09T10:00:00+04:00",
        "+04:00",
    )


def retraction(position: int, retracted: LogEntry, reason: str) -> LogEntry:
    """A `document.retracted` entry, built by hand (its type belongs to another part)."""
    return LogEntry(
        position=position,
        recorded_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        recorded_by="authority-GH",
        document={
            "event_id": "7d1c1f3e-9a43-4f0e-8d27-5b8f0a1f2c11",
            "type": "document.retracted",
            "occurred_at": "2026-03-01T12:00:00Z",
            "retracted_event_id": retracted.event_id,
            "reason": reason,
        },
        events_digest=GENESIS_HASH,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )


def test_a_retracted_documents_event_carries_an_error_declaration() -> None:
    entries = numbered(WORLD[:7])
    wrong = entries[5]  # lot A produced
    page = [*entries, retraction(8, wrong, "keyed 100.50 ct for 10.50 ct")]
    events = events_of(page, retracted=retractions_in(page))
    assert len(events) == 2  # the retraction itself is no event
    assert events[0]["eventID"] == f"urn:uuid:{wrong.event_id}"
    assert events[0]["errorDeclaration"] == {
        "declarationTime": "2026-03-01T12:00:00Z",
        "reason": "did_not_occur",
        "kpl:reason": "keyed 100.50 ct for 10.50 ct",
    }
    assert "errorDeclaration" not in events[1]
    assert "errorDeclaration" not in events_of(entries)[0]


def test_the_schema_refuses_what_breaks_it() -> None:
    document = document_of(numbered(WORLD))
    document["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "carats"
    document["epcisBody"]["eventList"][1]["eventID"] = "not a uri"
    del document["epcisBody"]["eventList"][2]["eventTimeZoneOffset"]
    found = epcis_errors(document)
    assert any(line.startswith("epcisBody/eventList/0/quantityList/0/uom: ") for line in found)
    assert "epcisBody/eventList/1/eventID: 'not a uri' is not a 'uri'" in found
    assert "epcisBody/eventList/2: 'eventTimeZoneOffset' is a required property" in found


def test_identifiers_are_uris_whatever_the_id() -> None:
    assert urn("lot", "GH/2005 #12") == "urn:kpledger:lot:GH%2F2005%20%2312"


def test_a_retraction_in_a_later_page_declares_the_events_error_there() -> None:
    entries = numbered(WORLD[:7])
    wrong = entries[5]
    later = [retraction(8, wrong, "posted twice")]
    (declared,) = events_of(later, originals={wrong.event_id: wrong})
    assert declared["eventID"] == f"urn:uuid:{wrong.event_id}"
    assert declared["quantityList"] == events_of(entries)[0]["quantityList"]
    assert declared["recordTime"] == "2026-03-01T12:00:00Z"
    assert declared["errorDeclaration"]["reason"] == "did_not_occur"
    assert events_of(later) == []  # the retracted entry not given: nothing to declare
    # the original in the same page: declared once, where it stands
    page = [*entries, *later]
    events = events_of(page, retracted=retractions_in(page), originals={wrong.event_id: wrong})
    assert [e["eventID"] for e in events].count(f"urn:uuid:{wrong.event_id}") == 1

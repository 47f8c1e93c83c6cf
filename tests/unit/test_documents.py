"""Validation of documents (422 `invalid`), pure: no store, no HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledger.documents import normalize, parse_json, parse_request
from ledger.errors import LedgerError
from tests.support import (
    admitted,
    batch,
    confirmed,
    doc,
    embargo,
    export,
    flagged,
    implemented,
    invited,
    lifted,
    merged,
    mine,
    produced,
    reinstated,
    report,
    revoked,
    seized,
    site,
    split,
    suspended,
    visited,
    withdrawn,
)

VALID: dict[str, Callable[[], dict[str, Any]]] = {
    "participant.admitted": lambda: admitted("GH", "Ghana"),
    "participant.suspended": lambda: suspended("GH"),
    "participant.reinstated": lambda: reinstated("GH"),
    "participant.withdrawn": lambda: withdrawn("GH"),
    "embargo.declared": lambda: embargo("E1", "CI"),
    "embargo.declared (regional)": lambda: embargo("E1", "CI", region="North"),
    "embargo.lifted": lambda: lifted("E1", "2006-01-01"),
    "mine.registered": lambda: mine("GH-M1", "GH"),
    "mine.registered (capacity)": lambda: mine("GH-M1", "GH", annual_capacity_carats="1000"),
    "alluvial_site.registered": lambda: site("CI-S1", "CI"),
    "alluvial_site.licence_revoked": lambda: revoked("CI-S1"),
    "lot.produced": lambda: produced("GH-L1", "GH-M1", "100"),
    "lot.split": lambda: split("GH-L1", ("GH-A", "40"), ("GH-B", "60")),
    "lots.merged": lambda: merged(["GH-A", "GH-B"], "GH-X"),
    "export.certified": lambda: export("GH-C1", "GH", "AE", ["GH-L1"], "100"),
    "import.confirmed": lambda: confirmed("GH-C1", "100"),
    "lot.flagged": lambda: flagged("GH-L1"),
    "lot.seized": lambda: seized("GH-L1"),
    "report.submitted": lambda: report("GH", 2005),
    "report.submitted (annual report)": lambda: report("GH", 2005, "annual_report"),
    "review.invited": lambda: invited("R1", "GN"),
    "review.visited": lambda: visited("R1", "R1-1", "R1-2"),
    "review.visited (follow-up, none)": lambda: visited("R1", kind="follow_up"),
    "review.recommendation_implemented": lambda: implemented("R1", "R1-1"),
}


def invalid(payload: Any) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        parse_request(payload)
    assert caught.value.code == "invalid", caught.value
    assert caught.value.status == 422
    return caught.value


@pytest.mark.parametrize("kind", list(VALID))
def test_every_builder_makes_a_valid_document(kind: str) -> None:
    document = VALID[kind]()
    (parsed,) = parse_request(document)
    assert parsed.type == document["type"]
    # the stored form is JSON and parses back to the same document
    assert normalize(parse_request(json.loads(json.dumps(normalize(parsed))))[0]) == normalize(
        parsed
    )


# --------------------------------------------------------------------- JSON itself


@pytest.mark.parametrize(
    "body",
    ["", "{", '{"type": "lot.flagged",}', "[1, 2", '{"carats": NaN}', "Infinity", "nul"],
)
def test_malformed_json_is_invalid(body: str) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_json(body)
    assert (caught.value.code, caught.value.status) == ("invalid", 422)


def test_json_numbers_are_parsed_as_exact_decimals() -> None:
    parsed = parse_json('{"a": 0.1, "b": 0.20, "c": 7, "d": 12345678901234567.89}')
    assert parsed == {
        "a": Decimal("0.1"),
        "b": Decimal("0.20"),
        "c": 7,
        "d": Decimal("12345678901234567.89"),
    }


# ------------------------------------------------------------ shape of a document


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


STRUCTURE: dict[str, Callable[[], Any]] = {
    "not_an_object": lambda: ["lot.flagged"],
    "a_string": lambda: "lot.flagged",
    "unknown_type": lambda: {**flagged("GH-L1"), "type": "lot.destroyed"},
    "type_in_other_case": lambda: {**flagged("GH-L1"), "type": "LOT.FLAGGED"},
    "missing_type": lambda: _without(flagged("GH-L1"), "type"),
    "missing_event_id": lambda: _without(flagged("GH-L1"), "event_id"),
    "missing_occurred_at": lambda: _without(flagged("GH-L1"), "occurred_at"),
    "missing_field": lambda: _without(produced("GH-L1", "GH-M1", "1"), "source_id"),
    "unknown_field": lambda: {**produced("GH-L1", "GH-M1", "1"), "colour": "white"},
    "field_of_another_type": lambda: {**flagged("GH-L1"), "carats": "1"},
    "unknown_nested_field_in_location": lambda: {
        **mine("GH-M1", "GH"),
        "location": {"lat": 1, "lon": 1, "alt": 3},
    },
    "unknown_nested_field_in_a_split_part": lambda: {
        **split("GH-L1", ("GH-A", "1"), ("GH-B", "1")),
        "into": [
            {"lot_id": "GH-A", "carats": "1", "value_usd": "1", "colour": "x"},
            {"lot_id": "GH-B", "carats": "1", "value_usd": "1"},
        ],
    },
    "unknown_field_in_licence": lambda: {
        **site("CI-S1", "CI"),
        "licence": {"number": "1", "holder": "x", "valid_until": "2010-01-01", "fee": 3},
    },
    "event_id_not_a_uuid": lambda: {**flagged("GH-L1"), "event_id": "event-1"},
    "event_id_a_number": lambda: {**flagged("GH-L1"), "event_id": 12},
    "empty_reason": lambda: {**flagged("GH-L1"), "reason": ""},
    "reason_a_number": lambda: {**flagged("GH-L1"), "reason": 7},
    "name_null": lambda: {**admitted("GH"), "name": None},
    "lot_ids_a_string": lambda: {**merged(["GH-A", "GH-B"], "GH-X"), "lot_ids": "GH-A"},
    "into_an_object_for_a_split": lambda: {
        **split("GH-L1", ("GH-A", "1"), ("GH-B", "1")),
        "into": {"lot_id": "GH-A", "carats": "1", "value_usd": "1"},
    },
    "split_into_one_part": lambda: split("GH-L1", ("GH-A", "1")),
    "split_into_the_same_id_twice": lambda: split("GH-L1", ("GH-A", "1"), ("GH-A", "1")),
    "merge_of_one_lot": lambda: merged(["GH-A"], "GH-X"),
    "merge_of_a_lot_twice": lambda: merged(["GH-A", "GH-A"], "GH-X"),
    "export_of_no_lot": lambda: export("GH-C1", "GH", "AE", [], "1"),
    "export_of_a_lot_twice": lambda: export("GH-C1", "GH", "AE", ["GH-L1", "GH-L1"], "2"),
    "exporter_without_name": lambda: {
        **export("GH-C1", "GH", "AE", ["GH-L1"], "1"),
        "exporter": {},
    },
    "latitude_out_of_range": lambda: {**mine("GH-M1", "GH"), "location": {"lat": 91, "lon": 0}},
    "longitude_out_of_range": lambda: {
        **mine("GH-M1", "GH"),
        "location": {"lat": 0, "lon": -180.5},
    },
    "latitude_a_string": lambda: {**mine("GH-M1", "GH"), "location": {"lat": "6", "lon": 0}},
}


@pytest.mark.parametrize("name", list(STRUCTURE))
def test_a_malformed_document_is_invalid(name: str) -> None:
    invalid(STRUCTURE[name]())


# --------------------------------------------------------------- carats and USD


@pytest.mark.parametrize(
    "carats",
    [
        "1.001",
        Decimal("1.001"),
        "0.005",
        "0",
        0,
        "0.00",
        "-1",
        Decimal("-0.01"),
        "",
        " 1",
        "1,5",
        "1.5 ct",
        "NaN",
        "Infinity",
        "0x10",
        True,
        None,
        [1],
        {"value": 1},
        "1e-3",
        "1e400",
        "1E2",
        "1e20",
        "1000000000.01",
        Decimal("12345678901234567.89"),
    ],
)
def test_carats_are_decimals_above_zero_with_at_most_two_places(carats: Any) -> None:
    invalid(produced("GH-L1", "GH-M1", carats))


@pytest.mark.parametrize("value_usd", ["-0.01", -1, "0.001", "abc", False, None])
def test_value_usd_is_a_decimal_of_zero_or_more_with_at_most_two_places(value_usd: Any) -> None:
    invalid(produced("GH-L1", "GH-M1", "1", value_usd=value_usd))


@pytest.mark.parametrize(
    ("carats", "stored"),
    [
        ("1", "1.00"),
        (1, "1.00"),
        ("1.0", "1.00"),
        (Decimal("1.00"), "1.00"),
        ("0.01", "0.01"),
        (Decimal("0.10"), "0.10"),
        ("999999999.99", "999999999.99"),
        ("1000000000", "1000000000.00"),
    ],
)
def test_carats_are_kept_exactly_as_strings_with_two_places(carats: Any, stored: str) -> None:
    (parsed,) = parse_request(produced("GH-L1", "GH-M1", carats, value_usd="0"))
    assert normalize(parsed)["carats"] == stored
    assert normalize(parsed)["value_usd"] == "0.00"


def test_amounts_never_pass_through_binary_floats() -> None:
    body = (
        '{"event_id": "0b5f6c1e-4d7a-4c1b-8a43-2f0c6b9e7d11", "type": "lot.split",'
        ' "occurred_at": "2005-06-01T10:00:00Z", "lot_id": "GH-L1", "into": ['
        '{"lot_id": "GH-A", "carats": 0.1, "value_usd": 0.10},'
        '{"lot_id": "GH-B", "carats": 0.2, "value_usd": 0.20}]}'
    )
    (parsed,) = parse_request(parse_json(body))
    parts = normalize(parsed)["into"]
    assert [part["carats"] for part in parts] == ["0.10", "0.20"]
    total = sum((Decimal(part["carats"]) for part in parts), Decimal(0))
    assert total == Decimal("0.3")  # 0.1 + 0.2 == 0.30000000000000004 in binary floats


def test_the_same_content_in_other_spellings_normalizes_to_the_same_document() -> None:
    document = produced("GH-L1", "GH-M1", "1.00", value_usd="250")
    spellings = [
        document,
        {**document, "carats": 1},
        {**document, "carats": "1"},
        {**document, "carats": Decimal("1.0"), "value_usd": Decimal("250.00")},
        {**document, "event_id": document["event_id"].upper()},
    ]
    forms = [normalize(parse_request(spelling)[0]) for spelling in spellings]
    assert all(form == forms[0] for form in forms)


# ------------------------------------------------------------------ dates, times


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2005-06-01T10:00:00",  # no offset
        "2005-06-01 10:00:00",
        "2005-06-01",
        "10:00:00Z",
        "2005-06-31T10:00:00Z",
        "2005-06-01T25:00:00Z",
        "yesterday",
        "",
        1117620000,
        None,
    ],
)
def test_occurred_at_is_a_date_time_with_an_offset(occurred_at: Any) -> None:
    invalid({**flagged("GH-L1"), "occurred_at": occurred_at})


@pytest.mark.parametrize(
    "occurred_at",
    ["2005-06-01T10:00:00Z", "2005-06-01T10:00:00+02:00", "2005-06-01T10:00:00.5-05:30"],
)
def test_occurred_at_accepts_any_offset(occurred_at: str) -> None:
    (parsed,) = parse_request({**flagged("GH-L1"), "occurred_at": occurred_at})
    assert parsed.occurred_at.utcoffset() is not None


@pytest.mark.parametrize(
    "day",
    [
        "2005-13-01",
        "2005-02-30",
        "2005-7-1",
        "05-07-01",
        "2005/07/01",
        "2005-07-01T00:00:00Z",
        20050701,
        "",
    ],
)
def test_dates_are_year_month_day(day: Any) -> None:
    invalid(export("GH-C1", "GH", "AE", ["GH-L1"], "1", issued_on=day))
    invalid(confirmed("GH-C1", "1", received_on=day))
    invalid(lifted("E1", day))


# ------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    "lot_id",
    ["L" * 65, "", "GH L1", "GH/L1", "GH-L1é", "GH:L1", "GH-L1\n", 12, None],
)
def test_identifiers_are_1_to_64_safe_characters(lot_id: Any) -> None:
    invalid(flagged(lot_id))
    invalid(produced("GH-L1", lot_id, "1"))
    invalid(embargo(lot_id, "CI"))


@pytest.mark.parametrize("lot_id", ["L" * 64, "a", "A-z_0.9", "..."])
def test_identifiers_of_up_to_64_safe_characters_are_valid(lot_id: str) -> None:
    assert parse_request(flagged(lot_id))[0].lot_id == lot_id  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["XX", "gh", "GHA", "G", "", "UK", "Ghana", 33, None])
def test_participant_codes_are_iso_alpha_2_or_eu(code: Any) -> None:
    invalid(admitted(code, "Somewhere"))
    invalid(export("GH-C1", "GH", code, ["GH-L1"], "1"))


@pytest.mark.parametrize("code", ["EU", "GH", "CI", "AE", "GB", "ZW"])
def test_iso_codes_and_eu_are_participant_codes(code: str) -> None:
    assert parse_request(admitted(code))[0].participant == code  # type: ignore[union-attr]


# ------------------------------------------------------------------------ batches


def test_a_batch_is_a_list_of_documents() -> None:
    documents = parse_request(batch(flagged("GH-L1"), seized("GH-L1")))
    assert [document.type for document in documents] == ["lot.flagged", "lot.seized"]


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"events": "lot.flagged"},
        {"events": None},
        {"events": [flagged("GH-L1")], "extra": 1},
        {"events": [flagged("GH-L1") for _ in range(10_001)]},
    ],
    ids=["empty", "a_string", "null", "extra_field", "10001_documents"],
)
def test_a_malformed_batch_is_invalid(body: dict[str, Any]) -> None:
    invalid(body)


def test_a_batch_of_10000_documents_is_valid() -> None:
    assert len(parse_request(batch(*[flagged("GH-L1") for _ in range(10_000)]))) == 10_000


def test_the_index_of_an_invalid_document_is_its_place_in_the_batch() -> None:
    body = batch(flagged("GH-L1"), flagged("GH-L2"), produced("GH-L3", "GH-M1", "0"))
    assert invalid(body).index == 2
    assert invalid(batch(["not a document"], flagged("GH-L1"))).index == 0  # type: ignore[arg-type]
    assert invalid(flagged("GH L1")).index == 0


def test_the_message_names_the_faulty_field() -> None:
    error = invalid(produced("GH-L1", "GH-M1", "1.001"))
    assert "carats" in error.message


def test_a_json_number_with_an_exponent_is_not_an_amount() -> None:
    body = produced("GH-L1", "GH-M1", "1")
    raw = json.dumps(body).replace('"carats": "1"', '"carats": 1e2')
    invalid(parse_json(raw))


def test_a_key_given_twice_is_malformed_json() -> None:
    body = json.dumps(produced("GH-L1", "GH-M1", "1"))
    with pytest.raises(LedgerError) as refusal:
        parse_json(body[:-1] + ', "carats": "2"}')
    assert refusal.value.code == "invalid"
    assert "carats" in refusal.value.message


@pytest.mark.parametrize("name", ["Ghana\x00", "line\nbreak", "bell\x07", "\x9b"])
def test_text_fields_hold_no_control_characters(name: str) -> None:
    invalid(doc("participant.admitted", participant="GH", name=name))


@pytest.mark.parametrize("kind", [[1], {}, [], 1.5, None])
def test_a_type_of_the_wrong_json_type_is_invalid(kind: Any) -> None:
    invalid({**produced("GH-L1", "GH-M1", "1"), "type": kind})
    with pytest.raises(LedgerError) as refusal:
        parse_request({"events": [{"type": kind}]})
    assert refusal.value.code == "invalid"

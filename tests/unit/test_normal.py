"""The normal form of PROTOCOL.md version 3: one function, and a hand-written vector."""

from __future__ import annotations

import pytest

from ledger.documents import parse_document, parse_json
from ledger.errors import LedgerError
from ledger.normal import legacy_form, normal_form, signing_input
from tests.support import embargo, mine, site

VECTOR_SENT = (
    '{"event_id": "{0B5F6C1E-4D7A-4C1B-8A43-2F0C6B9E7D11}", "type": "lot.split",'
    ' "occurred_at": "2005-06-01T12:30+02:00", "lot_id": "GH-L1", "into": ['
    '{"lot_id": "GH-A", "carats": 0.1, "value_usd": 10},'
    '{"lot_id": "GH-B", "carats": "2.5", "value_usd": 20.5}]}'
)
VECTOR_SIGNED = (
    b'{"event_id":"0b5f6c1e-4d7a-4c1b-8a43-2f0c6b9e7d11","into":['
    b'{"carats":"0.10","lot_id":"GH-A","value_usd":"10.00"},'
    b'{"carats":"2.50","lot_id":"GH-B","value_usd":"20.50"}],'
    b'"lot_id":"GH-L1","occurred_at":"2005-06-01T12:30:00+02:00","type":"lot.split"}'
)


def test_a_hand_written_vector() -> None:
    assert signing_input(normal_form(parse_document(parse_json(VECTOR_SENT)))) == VECTOR_SIGNED


@pytest.mark.parametrize(
    ("sent", "normal"),
    [
        ("2005-06-01T10:00:00+00:00", "2005-06-01T10:00:00Z"),
        ("2005-06-01T10:00:00-00:00", "2005-06-01T10:00:00Z"),
        ("2005-06-01T10:00:00Z", "2005-06-01T10:00:00Z"),
        ("2005-06-01T10:00:00+02:00", "2005-06-01T10:00:00+02:00"),
        ("2005-06-01T10:00:00.5-05:30", "2005-06-01T10:00:00.500000-05:30"),
    ],
)
def test_occurred_at_is_rfc_3339_with_z_for_utc(sent: str, normal: str) -> None:
    document = parse_document({**mine("GH-M1", "GH"), "occurred_at": sent})
    assert normal_form(document)["occurred_at"] == normal


def test_an_offset_with_seconds_is_refused_rather_than_truncated() -> None:
    with pytest.raises(LedgerError) as refused:
        parse_document({**mine("GH-M1", "GH"), "occurred_at": "2005-06-01T10:00:00+05:30:15"})
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(
    ("raw", "optional"),
    [
        (mine("GH-M1", "GH"), "annual_capacity_carats"),
        (site("CI-S1", "CI"), "annual_capacity_carats"),
        (embargo("E-1", "CI", region=None), "region"),
    ],
)
def test_optional_fields_are_left_out_rather_than_null(raw: dict, optional: str) -> None:
    for sent in ({k: v for k, v in raw.items() if k != optional}, {**raw, optional: None}):
        normal = normal_form(parse_document(sent))
        assert optional not in normal
        legacy = legacy_form(normal)
        assert legacy is not None and legacy[optional] is None


@pytest.mark.parametrize(
    "signature",
    [
        {"key_id": "AB" * 32, "value": "A" * 86 + "=="},  # upper-case key id
        {"key_id": "ab" * 32, "value": "A" * 87 + "="},  # 65 bytes
        {"key_id": "ab" * 32, "value": "A" * 86 + "==", "by": "x"},
        {"key_id": "ab" * 32},
        "signed",
    ],
)
def test_a_malformed_signature_is_invalid(signature: object) -> None:
    with pytest.raises(LedgerError) as refused:
        parse_document({**mine("GH-M1", "GH"), "signature": signature})
    assert refused.value.code == "invalid"


def test_the_signature_is_kept_as_sent_and_left_out_of_what_is_signed() -> None:
    signature = {"key_id": "ab" * 32, "value": "A" * 86 + "=="}
    raw = mine("GH-M1", "GH")
    normal = normal_form(parse_document({**raw, "signature": signature}))
    assert normal["signature"] == signature
    assert signing_input(normal) == signing_input(normal_form(parse_document(raw)))

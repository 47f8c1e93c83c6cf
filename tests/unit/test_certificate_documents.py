"""Annex I fields of certificates (PROTOCOL.md version 2): validation, and version 1
documents stored byte for byte as before."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.documents import normalize, parse_json, parse_request
from ledger.errors import LedgerError
from ledger.log import canonical_json, document_digest
from tests.support import confirmed, export

V1_EXPORT = {
    "event_id": "3f0c9a52-8d1e-4b7a-9f3e-2a6b1c4d5e60",
    "type": "export.certified",
    "occurred_at": "2005-07-01T09:00:00Z",
    "certificate_id": "GH-C1",
    "exporting_participant": "GH",
    "importing_participant": "AE",
    "lot_ids": ["GH-L1"],
    "exporter": {"name": "GH Exporters Ltd"},
    "importer": {"name": "AE Importers Ltd"},
    "hs_code": "7102.10",
    "carats": "100",
    "value_usd": 1000,
    "declared_origin": "GH",
    "issued_on": "2005-07-01",
    "expires_on": "2005-08-01",
}
V1_IMPORT = {
    "event_id": "3f0c9a52-8d1e-4b7a-9f3e-2a6b1c4d5e61",
    "type": "import.confirmed",
    "occurred_at": "2005-07-05T09:00:00Z",
    "certificate_id": "GH-C1",
    "carats": "100.00",
    "value_usd": "1000",
    "received_on": "2005-07-05",
}
# Computed on main before version 2's optional fields existed (commit 10385ec).
V1_DIGESTS = {
    "export.certified": "2bdd01bdb7ddac3323a2eeca42821216a8fc9e3b68eb783febd85fef76b9b490",
    "import.confirmed": "374836eba3741f5097db29917cbfe2e2f5a1ea09f939f5246b5651cb986297bd",
}


def stored(document: dict[str, Any]) -> dict[str, Any]:
    (parsed,) = parse_request(document)
    return normalize(parsed)


@pytest.mark.parametrize("document", [V1_EXPORT, V1_IMPORT], ids=lambda d: d["type"])
def test_a_version_1_document_is_stored_byte_for_byte_as_before(document: dict[str, Any]) -> None:
    normalized = stored(document)
    assert "parcels" not in normalized and "issuing_authority" not in normalized
    assert document_digest(normalized) == V1_DIGESTS[document["type"]]


def test_the_annex_i_fields_are_stored_when_given() -> None:
    normalized = stored(
        {**V1_EXPORT, "parcels": 3, "issuing_authority": {"name": "Minerals Commission"}}
    )
    assert normalized["parcels"] == 3
    assert normalized["issuing_authority"] == {"name": "Minerals Commission"}
    assert stored({**V1_IMPORT, "parcels": 2})["parcels"] == 2
    assert b'"parcels":3' in canonical_json(normalized)


def test_a_null_optional_field_is_stored_as_absent() -> None:
    assert stored({**V1_EXPORT, "parcels": None, "issuing_authority": None}) == stored(V1_EXPORT)


@pytest.mark.parametrize("parcels", [0, -1, "3", 3.0, True, False, [3], {"n": 3}, 2**53], ids=repr)
@pytest.mark.parametrize("build", [export, confirmed], ids=["export", "import"])
def test_parcels_is_a_json_integer_of_1_or_more(build: Any, parcels: Any) -> None:
    if build is export:
        document = export("GH-C1", "GH", "AE", ["GH-L1"], "100", parcels=parcels)
    else:
        document = confirmed("GH-C1", "100", parcels=parcels)
    with pytest.raises(LedgerError) as caught:
        parse_request(document)
    assert (caught.value.code, caught.value.detail) == ("invalid", {"field": "parcels"})


def test_parcels_parsed_from_json_text_must_be_an_integer() -> None:
    body = '{"parcels": 3.0}'
    with pytest.raises(LedgerError):
        parse_request({**V1_IMPORT, **parse_json(body)})
    assert stored({**V1_IMPORT, **parse_json('{"parcels": 3}')})["parcels"] == 3


@pytest.mark.parametrize(
    "issuing_authority", [{}, {"name": ""}, {"name": 5}, {"name": "A", "seal": "x"}, "A"]
)
def test_the_issuing_authority_is_a_name(issuing_authority: Any) -> None:
    document = export("GH-C1", "GH", "AE", ["GH-L1"], "100", issuing_authority=issuing_authority)
    with pytest.raises(LedgerError) as caught:
        parse_request(document)
    assert caught.value.code == "invalid"
    assert caught.value.detail is not None
    assert str(caught.value.detail["field"]).startswith("issuing_authority")


def test_the_write_side_and_the_read_side_know_the_same_types() -> None:
    from ledger.documents import DOCUMENT_TYPES
    from projections.reads import applied_types

    assert applied_types() == set(DOCUMENT_TYPES)
    assert {"alert.reviewed", "export.certified", "import.confirmed"} <= applied_types()

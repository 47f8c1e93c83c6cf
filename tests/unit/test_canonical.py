"""Our canonical JSON is byte for byte RFC 8785, as the rfc8785 package writes it."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log import canonical_document, canonical_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(json_values)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=500)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_a_documents_canonical_json_and_digest_are_rfc8785(document: dict[str, Any]) -> None:
    """`canonical_document` (orjson for plain documents, capture's path) is RFC 8785 too."""
    import hashlib

    expected = rfc8785.dumps(document)
    assert canonical_document(document) == (expected, hashlib.sha256(expected).hexdigest())


def test_documents_take_the_fast_path_and_match(monkeypatch: pytest.MonkeyPatch) -> None:
    document = {
        "event_id": "1e2f0c3d-5e6b-4a7c-8d9e-0f1a2b3c4d5e",  # digits then "e", in a string
        "type": "mine.registered",
        "mine_id": "GH-M1",
        "name": "Akwatia — Birim valley",
        "location": {"lat": 6.05, "lon": -0.8},
        "annual_capacity_carats": "5000.00",
    }
    expected = rfc8785.dumps(document)
    monkeypatch.setattr(rfc8785, "dumps", None)  # the slow path would fail now
    assert canonical_json(document) == expected


@settings(max_examples=500)
@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    position=st.integers(min_value=-5, max_value=2**53 - 1) | st.integers(0, 10**6),
    recorded_by=st.text(),
    digests=st.tuples(st.text(min_size=1), st.text()) | st.just(("a" * 64, "b" * 64)),
    moment=st.datetimes(timezones=st.timezones()),
)
def test_entry_hash_writes_the_entry_as_rfc8785(
    prev: str, position: int, recorded_by: str, digests: tuple[str, str], moment: Any
) -> None:
    """The entry's fields written directly hash as their canonical JSON does (rfc8785)."""
    import hashlib

    from ledger.log import entry_hash

    document_digest, events_digest = digests
    reference = rfc8785.dumps(
        {
            "position": position,
            "recorded_at": moment.isoformat(),
            "recorded_by": recorded_by,
            "document_digest": document_digest,
            "events_digest": events_digest,
        }
    )
    assert (
        entry_hash(
            prev_hash=prev,
            position=position,
            recorded_at=moment,
            recorded_by=recorded_by,
            document={},
            events_digest=events_digest,
            digest_of_document=document_digest,
        )
        == hashlib.sha256(prev.encode("ascii") + b"\n" + reference).hexdigest()
    )

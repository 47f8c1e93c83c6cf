"""A document's normal form: what an authority signs, the log stores, `GET /v1/events`
serves and the Merkle tree hashes. One function, `normal_form`, computes it for all of them.

The normal form (PROTOCOL.md, "Authorities sign what they post") is the document with
amounts as strings with exactly two decimals, dates `YYYY-MM-DD`, `event_id` in
lowercase, `occurred_at` in RFC 3339 (`Z` for UTC, any other offset kept as posted, in
whole minutes), optional fields left out rather than null, and `signature` as sent. What
is signed is the RFC 8785 canonical JSON, in UTF-8, of the normal form without its
`signature` member (`signing_input`).

>>> from ledger.documents import parse_document, parse_json
>>> sent = parse_json('{"event_id": "0B5F6C1E-4D7A-4C1B-8A43-2F0C6B9E7D11", "type": "lot.produced",'
...     '"occurred_at": "2005-06-01T12:00:00+00:00", "lot_id": "GH-L1", "source_id": "GH-M1",'
...     '"carats": 1.5, "value_usd": 250}')
>>> signing_input(normal_form(parse_document(sent))).decode()
'{"carats":"1.50","event_id":"0b5f6c1e-4d7a-4c1b-8a43-2f0c6b9e7d11","lot_id":"GH-L1","occurred_at":"2005-06-01T12:00:00Z","source_id":"GH-M1","type":"lot.produced","value_usd":"250.00"}'

Entries stored before version 3 wrote three optional fields of version 1 as null when
they were not given (`LEGACY_NULLS`). The log is never rewritten: those entries keep
their stored form (and their hashes), an import reproduces it (`is_stored_form`), and a
document resent in the normal form is recognised as the same content (`legacy_form`).
"""

from __future__ import annotations

from typing import Any

from ledger.fields import DocumentModel
from ledger.log import canonical_json

__all__ = [
    "LEGACY_NULLS",
    "SIGNATURE",
    "is_stored_form",
    "legacy_form",
    "normal_form",
    "signing_input",
    "unsigned",
]

SIGNATURE = "signature"
"""The member of a document that carries its signature, and is left out of what is signed."""

LEGACY_NULLS: dict[str, tuple[str, ...]] = {
    "embargo.declared": ("region",),
    "mine.registered": ("annual_capacity_carats",),
    "alluvial_site.registered": ("annual_capacity_carats",),
}
"""The optional fields that versions 1 and 2 stored as null when not given, by type."""


def normal_form(document: DocumentModel) -> dict[str, Any]:
    """The document's normal form, a JSON-ready dict (see the module's docstring)."""
    return document.model_dump(mode="json")


def unsigned(normal: dict[str, Any]) -> dict[str, Any]:
    """The normal form without its `signature` member."""
    if SIGNATURE not in normal:
        return normal
    return {name: value for name, value in normal.items() if name != SIGNATURE}


def signing_input(normal: dict[str, Any]) -> bytes:
    """The bytes an authority signs: RFC 8785 canonical JSON (UTF-8) of the normal form
    without `signature`."""
    return canonical_json(unsigned(normal))


def legacy_form(normal: dict[str, Any]) -> dict[str, Any] | None:
    """The form versions 1 and 2 stored the same document in, when it differs (optional
    fields of `LEGACY_NULLS` not given, written as null); else None."""
    fields = LEGACY_NULLS.get(normal.get("type", ""), ())
    missing = [name for name in fields if name not in normal]
    if not missing:
        return None
    return {**normal, **dict.fromkeys(missing)}


def is_stored_form(stored: dict[str, Any], document: DocumentModel) -> bool:
    """Whether `stored` is how the ledger stores `document`: its normal form, or the
    form an entry written before version 3 has (`legacy_form`)."""
    normal = normal_form(document)
    return stored == normal or stored == legacy_form(normal)

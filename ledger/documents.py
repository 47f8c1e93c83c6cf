"""The documents of PROTOCOL.md: every family's models in one registry, and parsing.

Each family module of `ledger/` declares its document models and their handlers
(`ledger.handling.handles`); `FAMILIES` lists those modules, so a new family is one
module and one line here. Documents are validated from Python values parsed out of
JSON with `parse_float=Decimal` (see `parse_json`), so that carats and USD never
pass through binary floats. `normalize` turns a valid document into its normal form
(`ledger.normal`): the form signed, stored in the log and compared for idempotency.
"""

from __future__ import annotations

import json
from decimal import Decimal
from types import ModuleType
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from ledger import (
    certificates,
    compliance,
    keys,
    lots,
    operators,
    participants,
    retractions,
    sources,
    triage,
)
from ledger.errors import LedgerError
from ledger.fields import DocumentModel, ScientificDecimal
from ledger.handling import DocumentType, document_types
from ledger.normal import normal_form
from ledger.protocol import MAX_BATCH

__all__ = [
    "DOCUMENT_TYPES",
    "FAMILIES",
    "HANDLING",
    "JSON_DECODER",
    "MAX_BATCH",
    "POSTING_ROLES",
    "Document",
    "normalize",
    "parse_document",
    "parse_json",
    "parse_request",
]

FAMILIES: tuple[ModuleType, ...] = (
    participants,
    sources,
    lots,
    certificates,
    operators,
    compliance,
    triage,
    keys,
    retractions,
)
"""The modules that declare the document types, in the protocol's order."""

Document = DocumentModel
"""Any document: an instance of one of the models of `DOCUMENT_TYPES`."""

HANDLING: dict[type[DocumentModel], DocumentType] = document_types()
"""How the write side handles each document model."""

DOCUMENT_TYPES: dict[str, type[DocumentModel]] = {
    handling.name: model for model, handling in HANDLING.items()
}
"""Every document model by the protocol's name of its type."""

POSTING_ROLES: frozenset[str] = frozenset().union(*(h.roles for h in HANDLING.values()))
"""The roles that may post at least one type of document (an auditor posts none)."""

_ADAPTER: TypeAdapter[DocumentModel] = TypeAdapter(
    Annotated[Union[tuple(DOCUMENT_TYPES.values())], Field(discriminator="type")]  # type: ignore[arg-type]  # noqa: UP007
)


def parse_json(body: bytes | str) -> Any:
    """Parses JSON with exact decimals for every non-integer number; raises `invalid`,
    also for an object that gives one key twice (two readers could disagree on it).

    >>> parse_json('{"carats": 1.50, "n": 2}')
    {'carats': Decimal('1.50'), 'n': 2}
    >>> parse_json('{"carats": 1, "carats": 2}')
    Traceback (most recent call last):
    ledger.errors.LedgerError: malformed JSON: the key 'carats' appears twice in one object
    """
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
        return JSON_DECODER.decode(text)
    except UnicodeDecodeError as error:
        raise LedgerError("invalid", f"malformed JSON: the body is not UTF-8: {error}") from None
    except (ValueError, RecursionError) as error:
        raise LedgerError("invalid", f"malformed JSON: {error}") from None


def _exact_number(text: str) -> Decimal:
    return ScientificDecimal(text) if "e" in text or "E" in text else Decimal(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


JSON_DECODER = json.JSONDecoder(
    parse_float=_exact_number, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
)
"""The one JSON decoder of documents, in bodies, files and CSV cells alike: exact
decimals (an exponent marked, to be refused where an amount is expected), no NaN or
Infinity, no key twice in one object."""


def parse_document(raw: Any, index: int = 0) -> Document:
    """Validates one document; raises `LedgerError("invalid")` naming the first fault."""
    if not isinstance(raw, dict):
        raise LedgerError("invalid", "a document must be a JSON object", index=index)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in DOCUMENT_TYPES:
        raise LedgerError(
            "invalid",
            f"type must be one of {', '.join(sorted(DOCUMENT_TYPES))}; got {kind!r}",
            index=index,
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "document"
        message = first["msg"].removeprefix("Value error, ")
        raise LedgerError(
            "invalid", f"{kind}: {where}: {message}", index=index, detail={"field": where}
        ) from None


def parse_request(payload: Any) -> list[Document]:
    """The documents of a POST /v1/events body: one document or {"events": [...]}."""
    if isinstance(payload, dict) and "type" not in payload and "events" in payload:
        if set(payload) != {"events"}:
            raise LedgerError("invalid", "a batch has the single field 'events'")
        batch = payload["events"]
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
            raise LedgerError("invalid", f"'events' must be a list of 1 to {MAX_BATCH} documents")
        return [parse_document(raw, index) for index, raw in enumerate(batch)]
    return [parse_document(payload)]


def normalize(document: Document) -> dict[str, Any]:
    """The document's normal form, as stored in the log: `ledger.normal.normal_form`."""
    return normal_form(document)

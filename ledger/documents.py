"""The custody event documents of PROTOCOL.md: one pydantic model per type.

Documents are validated from Python values parsed out of JSON with
`parse_float=Decimal` (see `parse_json`), so that carats and USD never pass
through binary floats. `normalize` turns a valid document into its canonical
JSON-ready form: the form stored in the log and compared for idempotency.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

import pycountry
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from ledger.errors import LedgerError

HS_CODES = frozenset({"7102.10", "7102.21", "7102.31"})
MIXED_ORIGIN = "MIXED"
PARTICIPANT_CODES = frozenset({c.alpha_2 for c in pycountry.countries} | {"EU"})
MAX_BATCH = 10_000

_CENT = Decimal("0.01")
_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError("must be a decimal number or a string holding one")
    if isinstance(value, str) and not _DECIMAL_TEXT.match(value):
        raise ValueError("must be a decimal number or a string holding one")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a decimal number") from None
    if not number.is_finite():
        raise ValueError("must be a finite decimal number")
    try:
        cents = number.quantize(_CENT)
    except InvalidOperation:
        raise ValueError("is too large") from None
    if cents != number:
        raise ValueError("must have at most 2 decimal places")
    return cents


def _positive_amount(value: Any) -> Decimal:
    number = _decimal(value)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_amount(value: Any) -> Decimal:
    number = _decimal(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _calendar_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE_TEXT.match(value):
        raise ValueError("must be a date YYYY-MM-DD")
    return date.fromisoformat(value)


def _instant(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError("must be an ISO 8601 date-time with an offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time with an offset") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must carry a UTC offset, such as Z or +02:00")
    return moment


def _participant_code(value: Any) -> str:
    if not isinstance(value, str) or value not in PARTICIPANT_CODES:
        raise ValueError("must be an ISO 3166-1 alpha-2 code or EU")
    return value


def _coordinate(limit: int) -> Any:
    def check(value: Any) -> float:
        number = _any_number(value)
        if not -limit <= number <= limit:
            raise ValueError(f"must be between -{limit} and {limit}")
        return float(number)

    return check


def _any_number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        raise ValueError("must be a number")
    return Decimal(str(value))


def _uuid_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    try:
        return str(UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


def _amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


Carats = Annotated[Decimal, BeforeValidator(_positive_amount), PlainSerializer(_amount_text)]
Usd = Annotated[Decimal, BeforeValidator(_non_negative_amount), PlainSerializer(_amount_text)]
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$", strict=True)]
ParticipantCode = Annotated[str, BeforeValidator(_participant_code)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1000, strict=True)]
Latitude = Annotated[float, BeforeValidator(_coordinate(90))]
Longitude = Annotated[float, BeforeValidator(_coordinate(180))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    lat: Latitude
    lon: Longitude


class Licence(_Strict):
    number: Text
    holder: Text
    valid_until: CalendarDate


class Party(_Strict):
    name: Text


class SplitPart(_Strict):
    lot_id: Identifier
    carats: Carats
    value_usd: Usd


class MergedLot(_Strict):
    lot_id: Identifier
    value_usd: Usd


class _Document(_Strict):
    event_id: Annotated[str, BeforeValidator(_uuid_text)]
    occurred_at: Instant


class ParticipantAdmitted(_Document):
    type: Literal["participant.admitted"]
    participant: ParticipantCode
    name: Text


class ParticipantSuspended(_Document):
    type: Literal["participant.suspended"]
    participant: ParticipantCode
    reason: Text


class ParticipantReinstated(_Document):
    type: Literal["participant.reinstated"]
    participant: ParticipantCode


class ParticipantWithdrawn(_Document):
    type: Literal["participant.withdrawn"]
    participant: ParticipantCode
    reason: Text


class EmbargoDeclared(_Document):
    type: Literal["embargo.declared"]
    embargo_id: Identifier
    participant: ParticipantCode
    region: Text | None = None
    reason: Text
    effective_from: CalendarDate


class EmbargoLifted(_Document):
    type: Literal["embargo.lifted"]
    embargo_id: Identifier
    effective_to: CalendarDate


class MineRegistered(_Document):
    type: Literal["mine.registered"]
    mine_id: Identifier
    participant: ParticipantCode
    name: Text
    region: Text
    location: Location
    annual_capacity_carats: Carats | None = None


class AlluvialSiteRegistered(_Document):
    type: Literal["alluvial_site.registered"]
    site_id: Identifier
    participant: ParticipantCode
    region: Text
    location: Location
    licence: Licence
    annual_capacity_carats: Carats | None = None


class AlluvialSiteLicenceRevoked(_Document):
    type: Literal["alluvial_site.licence_revoked"]
    site_id: Identifier
    reason: Text


class LotProduced(_Document):
    type: Literal["lot.produced"]
    lot_id: Identifier
    source_id: Identifier
    carats: Carats
    value_usd: Usd


class LotSplit(_Document):
    type: Literal["lot.split"]
    lot_id: Identifier
    into: Annotated[list[SplitPart], Field(min_length=2, max_length=MAX_BATCH)]

    @field_validator("into")
    @classmethod
    def _distinct_children(cls, parts: list[SplitPart]) -> list[SplitPart]:
        if len({part.lot_id for part in parts}) != len(parts):
            raise ValueError("the new lots' ids must be distinct")
        return parts


class LotsMerged(_Document):
    type: Literal["lots.merged"]
    lot_ids: Annotated[list[Identifier], Field(min_length=2, max_length=MAX_BATCH)]
    into: MergedLot

    @field_validator("lot_ids")
    @classmethod
    def _distinct_lots(cls, lot_ids: list[str]) -> list[str]:
        if len(set(lot_ids)) != len(lot_ids):
            raise ValueError("a lot can be merged only once")
        return lot_ids


class ExportCertified(_Document):
    type: Literal["export.certified"]
    certificate_id: Identifier
    exporting_participant: ParticipantCode
    importing_participant: ParticipantCode
    lot_ids: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_BATCH)]
    exporter: Party
    importer: Party
    hs_code: Annotated[str, StringConstraints(max_length=32, strict=True)]
    carats: Carats
    value_usd: Usd
    declared_origin: Annotated[str, StringConstraints(min_length=1, max_length=64, strict=True)]
    issued_on: CalendarDate
    expires_on: CalendarDate

    @field_validator("lot_ids")
    @classmethod
    def _distinct_lots(cls, lot_ids: list[str]) -> list[str]:
        if len(set(lot_ids)) != len(lot_ids):
            raise ValueError("a lot can be listed only once")
        return lot_ids


class ImportConfirmed(_Document):
    type: Literal["import.confirmed"]
    certificate_id: Identifier
    carats: Carats
    value_usd: Usd
    received_on: CalendarDate


class LotFlagged(_Document):
    type: Literal["lot.flagged"]
    lot_id: Identifier
    reason: Text


class LotSeized(_Document):
    type: Literal["lot.seized"]
    lot_id: Identifier
    reason: Text


Document = (
    ParticipantAdmitted
    | ParticipantSuspended
    | ParticipantReinstated
    | ParticipantWithdrawn
    | EmbargoDeclared
    | EmbargoLifted
    | MineRegistered
    | AlluvialSiteRegistered
    | AlluvialSiteLicenceRevoked
    | LotProduced
    | LotSplit
    | LotsMerged
    | ExportCertified
    | ImportConfirmed
    | LotFlagged
    | LotSeized
)

DOCUMENT_TYPES: dict[str, type[_Document]] = {
    model.model_fields["type"].annotation.__args__[0]: model for model in Document.__args__
}

_ADAPTER: TypeAdapter[Document] = TypeAdapter(Annotated[Document, Field(discriminator="type")])


def parse_json(body: bytes | str) -> Any:
    """Parses JSON with exact decimals for every non-integer number; raises `invalid`."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise LedgerError("invalid", f"malformed JSON: {error}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_document(raw: Any, index: int = 0) -> Document:
    """Validates one document; raises `LedgerError("invalid")` naming the first fault."""
    if not isinstance(raw, dict):
        raise LedgerError("invalid", "a document must be a JSON object", index=index)
    kind = raw.get("type")
    if kind not in DOCUMENT_TYPES:
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
    """The canonical JSON-ready form of a document, as stored in the log."""
    return document.model_dump(mode="json")

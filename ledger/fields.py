"""The field types of documents, shared by every family of documents.

Documents are validated from Python values parsed out of JSON with
`parse_float=Decimal` (see `ledger.documents.parse_json`), so that carats and USD
never pass through binary floats. Every document model derives from `DocumentModel`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from ledger.protocol import MAX_CARATS, MAX_USD, PARTICIPANT_CODES

__all__ = [
    "CalendarDate",
    "Carats",
    "DocumentModel",
    "EventId",
    "Identifier",
    "Instant",
    "IssuingAuthority",
    "Latitude",
    "Longitude",
    "Parcels",
    "ParticipantCode",
    "ScientificDecimal",
    "Signature",
    "Strict",
    "Text",
    "Usd",
    "added_field",
]

_CENT = Decimal("0.01")
_DECIMAL_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")  # ASCII digits: \d takes others
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ScientificDecimal(Decimal):
    """A JSON number written with an exponent (`1e20`): refused where an amount is expected."""


_DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _decimal(value: Any, limit: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError("must be a decimal number or a string holding one")
    if isinstance(value, ScientificDecimal) or (
        isinstance(value, str) and not _DECIMAL_TEXT.match(value)
    ):
        raise ValueError("must be a decimal number written without an exponent, e.g. 160.50")
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
    if abs(cents) > limit:
        raise ValueError(f"must be at most {limit}")
    return cents


def _positive_amount(value: Any) -> Decimal:
    number = _decimal(value, MAX_CARATS)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_amount(value: Any) -> Decimal:
    number = _decimal(value, MAX_USD)
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
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("must carry a UTC offset, such as Z or +02:00")
    if offset.total_seconds() % 60:  # RFC 3339 has no seconds in an offset: never truncate one
        raise ValueError("must carry a UTC offset in whole minutes, such as Z or +02:00")
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


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters")
    return value


def _amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


Carats = Annotated[Decimal, BeforeValidator(_positive_amount), PlainSerializer(_amount_text)]
Usd = Annotated[Decimal, BeforeValidator(_non_negative_amount), PlainSerializer(_amount_text)]
CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
EventId = Annotated[str, BeforeValidator(_uuid_text)]
"""A document's `event_id`, or a field naming one: a UUID, in its canonical text."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$", strict=True)]
ParticipantCode = Annotated[str, BeforeValidator(_participant_code)]
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=1000, strict=True), AfterValidator(_plain_text)
]
Latitude = Annotated[float, BeforeValidator(_coordinate(90))]
Longitude = Annotated[float, BeforeValidator(_coordinate(180))]


def _is_none(value: Any) -> bool:
    return value is None


def added_field() -> Any:
    """The default of an optional field added in version 2: when not given (or null), it
    is left out of the stored form, so a version 1 document is stored, and hashed,
    exactly as before."""
    return Field(default=None, exclude_if=_is_none)


class Strict(BaseModel):
    """A part of a document: unknown fields refused, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_BASE64_SIGNATURE = re.compile(r"^[A-Za-z0-9+/]{86}==$")  # 64 bytes in standard base64


def _signature_value(value: Any) -> str:
    if not isinstance(value, str) or not _BASE64_SIGNATURE.match(value):
        raise ValueError("must be the 64 bytes of an Ed25519 signature in standard base64")
    return value


class Signature(Strict):
    """An authority's signature of a document (version 3): the key's id (the lowercase hex
    SHA-256 of its 32 raw bytes) and the base64 Ed25519 signature of the document's
    normal form without its `signature` member (see `ledger.normal`)."""

    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$", strict=True)]
    value: Annotated[str, BeforeValidator(_signature_value)]


class DocumentModel(Strict):
    """What every document has; a subclass per type adds `type: Literal[...]` and its fields."""

    type_name: ClassVar[str]
    event_id: EventId
    occurred_at: Instant
    signature: Signature | None = added_field()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.type_name = cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]


# -- version 2: optional fields added to version 1 documents ------------------------------


_MAX_JSON_INTEGER = 2**53 - 1  # the largest integer every JSON reader (I-JSON) holds exactly


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a JSON integer")
    if not 1 <= value <= _MAX_JSON_INTEGER:
        raise ValueError(f"must be between 1 and {_MAX_JSON_INTEGER}")
    return value


Parcels = Annotated[int, BeforeValidator(_count)]
"""A number of parcels: a JSON integer of 1 or more (not a bool, string or float)."""


class IssuingAuthority(Strict):
    """The authority that issued and validated a certificate (KPCS Annex I)."""

    name: Text

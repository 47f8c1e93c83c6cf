"""The log of accepted documents: entries, their hash chain, and the reader interface.

Every accepted document becomes one `LogEntry` at a position (1, 2, 3, ...).
Each entry's hash covers the previous entry's hash, the entry (its document by
the SHA-256 of its RFC 8785 canonical JSON), and `events_digest`: the SHA-256
of the aggregate events the document caused to be stored, so that altering
any stored row shows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import orjson
import rfc8785

__all__ = [
    "GENESIS_HASH",
    "LogEntry",
    "LogReader",
    "canonical_document",
    "canonical_json",
    "document_digest",
    "entry_hash",
    "is_plain",
    "plain_canonical_json",
    "read_entries",
    "stored_events_digest",
]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One accepted document at its position in the log.

    `document` is the normalized document (see `ledger.documents.normalize`):
    every field as posted, amounts as two-place decimal strings, dates as
    YYYY-MM-DD, `occurred_at` as ISO 8601 with its offset.
    """

    position: int
    recorded_at: datetime
    recorded_by: str
    document: dict[str, Any]
    events_digest: str
    prev_hash: str
    hash: str

    @property
    def event_id(self) -> str:
        """The sender's id of the document."""
        return str(self.document["event_id"])

    @property
    def type(self) -> str:
        """The document's type."""
        return str(self.document["type"])

    @property
    def occurred_at(self) -> datetime:
        """When it happened in the world, with the offset it was posted with."""
        return datetime.fromisoformat(self.document["occurred_at"])

    def to_json(self) -> dict[str, Any]:
        """The entry as `GET /v1/events` shows it."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.document["occurred_at"],
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
            "document": self.document,
        }


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value.

    The standard library's encoder, in C, writes the same bytes unless a key or
    string holds a character beyond the BMP (UTF-16 key order differs) or a lone
    surrogate, a float needs an exponent or loses its ".0", or an integer is too
    large for a double; one scan of its output finds those (and, rarely, look-alikes
    inside strings), which take the `rfc8785` package's pure-Python path.

    >>> canonical_json({"b": [1, "é", 2.5, None], "a": True})
    b'{"a":true,"b":[1,"\\xc3\\xa9",2.5,null]}'
    >>> canonical_json({"lat": 6.0, "tiny": 1e-07, "id": "1e2f"})
    b'{"id":"1e2f","lat":6,"tiny":1e-7}'
    """
    try:
        text = _ENCODER.encode(value)
        if (
            text[0] in "{["  # a lone scalar is cheap either way
            and (text.isascii() or max(text) <= "\uffff")
            and _NUMBER_TO_REWRITE.search(text) is None
        ):
            return text.encode("utf-8")  # a lone surrogate cannot be encoded
    except (TypeError, ValueError):
        pass  # rfc8785 says what is wrong, or copes
    return rfc8785.dumps(value)


_string = json.encoder.encode_basestring  # a JSON string as `_ENCODER` writes it

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
_NUMBER_TO_REWRITE = re.compile(  # after ":", "[" or ",", so outside strings but for look-alikes
    r"[:\[,]-?(?:\d{16}|\d+(?:\.\d+)?[eE]|\d+\.0[,\]}])"
)


def is_plain(value: Any) -> bool:
    """Whether a JSON value holds no float and no integer of magnitude 2^53 or more."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is dict:  # most documents hold mostly strings: one pass in C says so
        values = value.values()
        return _STRING.issuperset(map(type, values)) or all(map(is_plain, values))
    if kind is list:
        return _STRING.issuperset(map(type, value)) or all(map(is_plain, value))
    return kind is int and -_SAFE_INTEGER < value < _SAFE_INTEGER


def plain_canonical_json(value: Any) -> bytes | None:
    """`canonical_json` of a value `is_plain` says is plain, written by orjson (keys sorted),
    which writes RFC 8785's bytes for such values unless a text holds a character beyond
    the BMP (the only case where sorting by UTF-8 and by UTF-16, as RFC 8785 does, differ);
    None then, or when orjson refuses it (a lone surrogate): `canonical_json` says.

    >>> value = {"b": ["é", 2], "a": None}
    >>> plain_canonical_json(value) == canonical_json(value)
    True
    """
    try:
        written = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if written.isascii() or _BEYOND_BMP.search(written) is None:
        return written
    return None


_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")  # the lead byte of a 4-byte UTF-8 sequence
_SAFE_INTEGER = 2**53
_STRING = frozenset((str,))


def document_digest(document: dict[str, Any]) -> str:
    """SHA-256 of a normalized document in RFC 8785 canonical JSON: its content's identity."""
    return canonical_document(document)[1]


def canonical_document(document: dict[str, Any]) -> tuple[bytes, str]:
    """A normalized document's RFC 8785 canonical JSON, and its `document_digest`."""
    canonical = (is_plain(document) and plain_canonical_json(document)) or canonical_json(document)
    return canonical, hashlib.sha256(canonical).hexdigest()


def entry_hash(
    *,
    prev_hash: str,
    position: int,
    recorded_at: datetime,
    recorded_by: str,
    document: dict[str, Any],
    events_digest: str,
    digest_of_document: str | None = None,
) -> str:
    """The chain hash of one entry: SHA-256 of the previous hash and the entry as RFC 8785 JSON.

    The document enters through its `document_digest` (pass it when already known).
    The entry's five fields are written in their canonical order directly (RFC 8785 and
    the standard library's encoder write these strings and a position below 10**15 alike),
    unless a string cannot be encoded in UTF-8: then `canonical_json` says what is wrong.

    >>> entry_hash(prev_hash=GENESIS_HASH, position=1, recorded_by="é",
    ...     recorded_at=datetime.fromisoformat("2005-06-01T08:00:00+00:00"),
    ...     document={}, events_digest="e") == _entry_hash_canonical(
    ...     GENESIS_HASH, 1, "2005-06-01T08:00:00+00:00", "é", document_digest({}), "e")
    True
    """
    digest = digest_of_document or document_digest(document)
    stamp = recorded_at.isoformat()
    if 0 <= position < 10**15:
        try:
            canonical = (
                f'{{"document_digest":{_string(digest)},"events_digest":{_string(events_digest)},'
                f'"position":{int.__repr__(position)},"recorded_at":{_string(stamp)},'
                f'"recorded_by":{_string(recorded_by)}}}'
            ).encode()
        except UnicodeEncodeError:
            pass
        else:
            return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()
    return _entry_hash_canonical(prev_hash, position, stamp, recorded_by, digest, events_digest)


def _entry_hash_canonical(
    prev_hash: str,
    position: int,
    recorded_at: str,
    recorded_by: str,
    digest_of_document: str,
    events_digest: str,
) -> str:
    """`entry_hash` by `canonical_json` of the entry's fields (the reference)."""
    canonical = canonical_json(
        {
            "position": position,
            "recorded_at": recorded_at,
            "recorded_by": recorded_by,
            "document_digest": digest_of_document,
            "events_digest": events_digest,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()


class LogReader(Protocol):
    """What the read side needs of the log: its head, and entries by position."""

    def head_position(self) -> int:
        """The position of the last accepted document, 0 for an empty log."""
        ...

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries with positions greater than `after`, in order."""
        ...


def stored_events_digest(rows: Iterable[tuple[UUID | str, int, str, bytes]]) -> str:
    """SHA-256 over stored events (originator id, version, topic, state), in order.

    Each field is length-prefixed, so that no two different sequences of rows
    share an encoding.

    >>> row = (UUID(int=1), 2, "t", b"{}")
    >>> prefixed = [len(part).to_bytes(4, "big") + part for part in (UUID(int=1).hex.encode(),
    ...     b"2", b"t")] + [len(b"{}").to_bytes(8, "big") + b"{}"]
    >>> stored_events_digest([row]) == hashlib.sha256(b"".join(prefixed)).hexdigest()
    True
    """
    parts: list[bytes] = []
    for originator_id, version, topic, state in rows:
        uuid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        version_text = str(version).encode()
        topic_text = topic.encode()
        parts += (
            _HEX_LENGTH,
            uuid.hex.encode(),
            len(version_text).to_bytes(4, "big"),
            version_text,
            len(topic_text).to_bytes(4, "big"),
            topic_text,
            len(state).to_bytes(8, "big"),
            state,
        )
    return hashlib.sha256(b"".join(parts)).hexdigest()


_HEX_LENGTH = (32).to_bytes(4, "big")  # a UUID's hex


def read_entries(
    log: LogReader, *, up_to: int | None = None, page: int = 1000
) -> Iterator[LogEntry]:
    """The entries of the log in order, up to position `up_to` if given, read in pages."""
    after = 0
    while (up_to is None or after < up_to) and (entries := log.read_log(after, page)):
        for entry in entries:
            if up_to is not None and entry.position > up_to:
                return
            yield entry
        after = entries[-1].position

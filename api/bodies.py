"""What `POST /v1/events` accepts as a body, judged before a byte of it is read.

- `media_type_of` reads `Content-Type`: JSON (`application/json` or any `+json` type, in
  UTF-8) or CSV (`text/csv` in UTF-8, Latin-1 or Windows-1252); anything else, a missing
  type included, is 415 `unsupported_media_type`, and any other charset 415
  `unsupported_charset`, so that no codec of Python's (punycode, say) runs on a body.
- `read_body` reads at most the body limit (413 `too_large` beyond it).
- `decode_csv` decodes a CSV body in its charset; it runs in a worker thread.
- `parsing_slot` lets one large body at a time be parsed, so that concurrent worst-case
  bodies cost one body's memory, not one each; `release_memory` gives the freed heap
  back to the system after a large body.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from ledger.errors import LedgerError

__all__ = [
    "CSV_CHARSETS",
    "LARGE_BODY_BYTES",
    "BodyType",
    "decode_csv",
    "media_type_of",
    "parsing_slot",
    "read_body",
    "release_memory",
]

CSV_CHARSETS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "ascii": "ascii",
    "iso8859-1": "latin-1",
    "latin-1": "latin-1",
    "cp1252": "cp1252",
}
"""The charsets a CSV body may name, by Python's canonical codec name, and the codec it
is decoded with: UTF-8 and its aliases (ASCII is a part of it), Latin-1 (ISO 8859-1)
and Windows-1252."""

LARGE_BODY_BYTES = 1 << 20
"""A body at least this large is parsed in the one parsing slot."""


@dataclass(frozen=True)
class BodyType:
    """What a body is: JSON, or CSV in a charset."""

    kind: Literal["json", "csv"]
    codec: str = "utf-8"


def _charset_codec(charset: str) -> str | None:
    """Python's canonical codec name of `charset`, None when Python knows no such codec."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _unsupported_charset(charset: str, allowed: str) -> LedgerError:
    return LedgerError(
        "unsupported_charset",
        f"charset {charset[:40]!r} is not accepted here: use {allowed}",
        detail={"charset": charset[:40]},
    )


def media_type_of(request: Request) -> BodyType:
    """The body's type from `Content-Type`; 415 for any other type or charset."""
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').strip()
    codec = _charset_codec(charset) if charset else "utf-8"
    if media_type == "text/csv":
        if codec not in CSV_CHARSETS:
            raise _unsupported_charset(charset, "UTF-8, ISO-8859-1 or Windows-1252")
        return BodyType("csv", CSV_CHARSETS[codec])
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        if codec not in ("utf-8", "utf-8-sig", "ascii"):
            raise _unsupported_charset(charset, "UTF-8 (JSON is UTF-8)")
        return BodyType("json")
    shown = media_type[:60] or "none"
    raise LedgerError(
        "unsupported_media_type",
        f"Content-Type {shown!r}: send application/json, or text/csv",
        detail={"content_type": media_type[:60]},
    )


def decode_csv(body: bytes, codec: str) -> bytes | str:
    """A CSV body as `ledger.files.read_csv` takes it: UTF-8 bytes as they are (read_csv
    decodes them and names the line of a fault), other charsets decoded to text."""
    if codec == "utf-8":
        return body
    try:
        return body.decode(codec)
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        raise LedgerError(
            "invalid",
            f"line {line}: the body is not {codec} text",
            detail={"line": line},
        ) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused with 413 `too_large` as soon as it passes `limit` bytes
    (at once when its Content-Length says so), so a huge body is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> LedgerError:
    return LedgerError(
        "too_large",
        f"the body is larger than {limit} bytes (KPLEDGER_MAX_BODY_BYTES); "
        "send the documents in smaller batches",
        detail={"limit": limit},
    )


_PARSING = threading.Lock()


@contextlib.contextmanager
def parsing_slot(size: int) -> Iterator[None]:
    """Holds the one slot for parsing a large body (`size` ≥ LARGE_BODY_BYTES); a small
    body needs none. Blocking: call it in a worker thread."""
    if size < LARGE_BODY_BYTES:
        yield
        return
    with _PARSING:
        try:
            yield
        finally:
            release_memory()


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Gives the heap's free pages back to the system (glibc's malloc_trim), so that a
    server that parsed a large body does not keep its peak for ever."""
    if _TRIM is not None:
        _TRIM(0)

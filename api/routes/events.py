"""Routes: posting custody documents, and reading the log of accepted ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import CurrentActor, require_reader_of_everything
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.capture import Capture
from ledger.documents import MAX_BATCH, parse_json
from ledger.errors import LedgerError
from ledger.files import read_csv

MAX_POSITION = 2**63 - 1
"""The largest position a store can hold (a signed 64-bit integer)."""

EVENTS_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": 'One custody document, or a batch `{"events": [...]}` of 1 to '
    f"{MAX_BATCH:,} appended atomically; or, as `text/csv`, one document per row (nested "
    "fields as `exporter.name`, lists separated by `;`), one atomic batch.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Document"},
                    {"$ref": "#/components/schemas/Batch"},
                ]
            },
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "event_id,type,occurred_at,lot_id,source_id,carats,value_usd\n"
            "f74c7e50-7d98-5330-bc75-be171136b579,lot.produced,2005-02-14T10:00:00+09:00,"
            "RU-MIR-2005-0001,RU-MIR,12000.00,1080000.00\n",
        },
    },
}
"""The request body of `POST /v1/events`, for the route's `openapi_extra`."""

# Which operations can refuse with 403 (a role or jurisdiction that does not allow it) and
# 404 (an unknown id); 401 is found from the routes' dependencies, 422 from their parameters.
router = APIRouter(tags=["log"])


def _capture(ledger: Ledger, body: bytes, actor: Actor) -> Capture:
    return ledger.post(parse_json(body), actor)


def _capture_csv(ledger: Ledger, body: bytes | str, actor: Actor) -> Capture:
    """A CSV body (ledger/files.py) is one atomic batch; errors name the row's line too."""
    rows = read_csv(body)
    if len(rows) > MAX_BATCH:
        raise LedgerError(
            "invalid", f"a CSV batch holds 1 to {MAX_BATCH} rows; this one has {len(rows)}"
        )
    try:
        return ledger.post({"events": [row.document for row in rows]}, actor)
    except LedgerError as error:
        if 0 <= error.index < len(rows):
            error.detail = {**(error.detail or {}), "line": rows[error.index].line}
        raise


def _csv_body(request: Request, body: bytes) -> bytes | str | None:
    """The body of a `text/csv` request (decoded when it names a charset other than
    UTF-8), or None for any other content type: those are JSON."""
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "text/csv":
        return None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8", ""):
            try:
                return body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                raise LedgerError("invalid", f"the body is not {charset} text") from None
    return body


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


@router.post("/v1/events", status_code=201, openapi_extra={"requestBody": EVENTS_REQUEST_BODY})
async def post_events(request: Request, actor: CurrentActor) -> JSONResponse:
    """Appends one custody document, or a batch `{"events": [...]}` of 1 to 10,000, atomically.

    201 with the position of the last document appended; 200 when every document
    had been accepted before (same event_id, same content). With `Content-Type:
    text/csv`, the body is a CSV file of documents, one row each, as one batch. The
    token is checked before the body is read; a body over KPLEDGER_MAX_BODY_BYTES is 413.
    """
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    csv_body = _csv_body(request, body)
    if csv_body is not None:
        capture = await run_in_threadpool(_capture_csv, request.app.state.ledger, csv_body, actor)
    else:
        capture = await run_in_threadpool(_capture, request.app.state.ledger, body, actor)
    request.app.state.metrics.observe_batch(capture.accepted)
    return JSONResponse(
        {"accepted": capture.accepted, "position": capture.position},
        status_code=201 if capture.appended else 200,
    )


@router.get("/v1/events")
def read_events(
    request: Request,
    actor: CurrentActor,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="read entries after this position")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """The log of accepted documents in order of position."""
    require_reader_of_everything(actor)
    entries = request.app.state.ledger.read_log(after, limit)
    return {
        "events": [entry.to_json() for entry in entries],
        "next_after": entries[-1].position if entries else after,
    }

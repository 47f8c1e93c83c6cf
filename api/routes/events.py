"""Routes: posting custody documents, and reading the log of accepted ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth import CurrentActor, require_reader_of_everything
from api.bodies import decode_csv, media_type_of, parsing_slot, read_body
from api.deps import LedgerDep
from api.handoff import in_capture_thread
from api.openapi import errors
from api.schemas import Accepted, LogPage
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.capture import Capture
from ledger.documents import MAX_BATCH, POSTING_ROLES, parse_json
from ledger.errors import LedgerError
from ledger.files import read_csv

__all__ = ["EVENTS_REQUEST_BODY", "MAX_POSITION", "router"]

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

router = APIRouter(tags=["log"])


def _capture(ledger: Ledger, body: bytes, actor: Actor) -> Capture:
    with parsing_slot(len(body)):
        payload = parse_json(body)
    return ledger.post(payload, actor)


def _capture_csv(ledger: Ledger, body: bytes, codec: str, actor: Actor) -> Capture:
    """A CSV body (ledger/files.py) is one atomic batch; errors name the row's line too."""
    with parsing_slot(len(body)):
        rows = read_csv(decode_csv(body, codec))
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


def require_may_post(actor: Actor) -> None:
    """403 for a role that may post no document at all (an auditor), before the body."""
    if actor.role not in POSTING_ROLES:
        raise LedgerError("forbidden", f"the {actor.role} role may not post documents")


@router.post(
    "/v1/events",
    status_code=201,
    response_model=Accepted,
    responses={
        200: {
            "model": Accepted,
            "description": "Every document had been accepted before (same event_id, same "
            "content): nothing appended; `position` is the original one of the last",
        },
        **errors(403, 409, 413, 415, 503),
    },
    openapi_extra={"requestBody": EVENTS_REQUEST_BODY},
)
async def post_events(request: Request, actor: CurrentActor) -> JSONResponse:
    """Appends one custody document, or a batch `{"events": [...]}` of 1 to 10,000, atomically.

    201 with the position of the last document appended; 200 when every document
    had been accepted before (same event_id, same content). With `Content-Type:
    text/csv`, the body is a CSV file of documents, one row each, as one batch. The
    token, the role and the content type are checked before the body is read: 403 for
    a role that posts nothing, 415 for a body neither JSON nor CSV (or a charset other
    than UTF-8, and for CSV Latin-1 or Windows-1252); a body over KPLEDGER_MAX_BODY_BYTES
    is 413. Parsing and decoding run in a worker thread.
    """
    require_may_post(actor)
    body_type = media_type_of(request)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    ledger = request.app.state.ledger
    if body_type.kind == "csv":
        capture = await in_capture_thread(_capture_csv, ledger, body, body_type.codec, actor)
    else:
        capture = await in_capture_thread(_capture, ledger, body, actor)
    request.app.state.metrics.observe_batch(capture.accepted)
    return JSONResponse(
        {"accepted": capture.accepted, "position": capture.position},
        status_code=201 if capture.appended else 200,
    )


@router.get("/v1/events", response_model=LogPage, responses=errors(403, 503))
def read_events(
    ledger: LedgerDep,
    actor: CurrentActor,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="read entries after this position")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """The log of accepted documents in order of position."""
    require_reader_of_everything(actor)
    entries = ledger.read_log(after, limit)
    return {
        "events": [entry.to_json() for entry in entries],
        "next_after": entries[-1].position if entries else after,
    }

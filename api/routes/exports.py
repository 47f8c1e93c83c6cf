"""Routes: the log as EPCIS 2.0 events, for industry traceability systems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.auth import CurrentActor, require_reader_of_everything
from api.routes.events import MAX_POSITION
from ledger.log import LogEntry
from projections.epcis import Retraction, epcis_document, retractions_in
from projections.reads import Reads, View

router = APIRouter(prefix="/v1/epcis", tags=["exports"])

EPCIS_MEDIA_TYPE = "application/ld+json"


def retracted_among(entries: list[LogEntry]) -> dict[str, Retraction]:
    """The retractions of documents among `entries` that the route knows of: those
    retracted in the same page (`document.retracted` entries read with them)."""
    return retractions_in(entries)


@router.get("/events", response_class=JSONResponse)
def get_epcis_events(
    request: Request,
    actor: CurrentActor,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="read entries after this position")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="entries read (not events)")] = 100,
) -> Any:
    """The log entries after `after` (at most `limit`) as an EPCIS 2.0 JSON-LD
    `EPCISDocument`: production, splits, merges, certification and confirmation (other
    document types have no EPCIS event). When `limit` entries were read, a `Link` header
    (`rel="next"`) names the next page."""
    require_reader_of_everything(actor)
    reads: Reads = request.app.state.reads
    entries = reads.log.read_log(after, limit)
    retracted = retracted_among(entries)

    def document(view: View) -> dict[str, Any]:
        return epcis_document(entries, view.custody, retracted=retracted)

    headers = {}
    if len(entries) == limit:
        following = f"/v1/epcis/events?after={entries[-1].position}&limit={limit}"
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse(reads.read(document), media_type=EPCIS_MEDIA_TYPE, headers=headers)

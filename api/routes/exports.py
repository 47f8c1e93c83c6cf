"""Routes: the log as EPCIS 2.0 events, for industry traceability systems."""

from __future__ import annotations

from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.auth import CurrentActor, require_reader_of_everything
from api.deps import ReadsDep
from api.openapi import errors
from api.routes.events import MAX_POSITION
from api.schemas import EPCISDocument
from ledger.application import Ledger
from ledger.journal import EventIdClaim
from ledger.log import LogEntry
from projections.epcis import Retraction, epcis_document, retractions_in
from projections.reads import Reads, View

__all__ = ["EPCIS_MEDIA_TYPE", "router"]

router = APIRouter(prefix="/v1/epcis", tags=["exports"])

EPCIS_MEDIA_TYPE = "application/ld+json"


class EPCISResponse(JSONResponse):
    """JSON-LD: what the route answers, as the OpenAPI document names it."""

    media_type = EPCIS_MEDIA_TYPE


def retracted_among(entries: list[LogEntry]) -> dict[str, Retraction]:
    """The retractions of documents among `entries` that the route knows of: those
    retracted in the same page (`document.retracted` entries read with them)."""
    return retractions_in(entries)


def position_of(log: object, event_id: str) -> int | None:
    """The position of the document accepted with `event_id` (its claim in the store),
    None when there is none or the log is not a `Ledger`'s."""
    if not isinstance(log, Ledger):
        return None
    try:
        claim: EventIdClaim = log.repository.get(EventIdClaim.create_id(event_id))
    except AggregateNotFoundError:
        return None
    return int(claim.position)


def originals_of(reads: Reads, entries: list[LogEntry]) -> dict[str, LogEntry]:
    """The entries the retractions among `entries` retract, by event id."""
    positions = {
        event_id: position
        for event_id in retractions_in(entries)
        if (position := position_of(reads.log, event_id)) is not None
    }
    found = reads.entries(positions.values())
    return {event_id: found[p] for event_id, p in positions.items() if p in found}


@router.get(
    "/events",
    response_class=EPCISResponse,
    response_model=EPCISDocument,
    responses=errors(503),
)
def get_epcis_events(
    reads: ReadsDep,
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
    entries = reads.log.read_log(after, limit)
    retracted, originals = retracted_among(entries), originals_of(reads, entries)

    def document(view: View) -> dict[str, Any]:
        return epcis_document(entries, view.custody, retracted=retracted, originals=originals)

    headers = {}
    if len(entries) == limit:
        following = f"/v1/epcis/events?after={entries[-1].position}&limit={limit}"
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse(reads.read(document), media_type=EPCIS_MEDIA_TYPE, headers=headers)

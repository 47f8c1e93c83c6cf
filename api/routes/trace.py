"""Routes: downstream trace and the custody subgraph."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.asof import AsOfParameter
from api.auth import CurrentActor, require_reader_of_everything
from api.deps import ReadsDep
from api.openapi import errors, text_answer
from api.schemas import Downstream, Graph
from projections import ftm
from projections.provenance import check_selectors, graph_graphml, graph_json, subgraph
from projections.reads import View

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["trace"])


@router.get("/trace/downstream", response_model=Downstream, responses=errors(403, 404, 503))
def get_downstream(
    reads: ReadsDep,
    actor: CurrentActor,
    as_of: AsOfParameter,
    source_id: str | None = None,
    participant: str | None = None,
    region: str | None = None,
    lot_id: str | None = None,
    operator: str | None = None,
) -> Any:
    """Every lot, certificate and participant that received material from the origin:
    one `source_id`, one `participant` (optionally one `region`), one `lot_id` or one
    `operator` (every lot it held at any time)."""
    check_selectors(
        source_id=source_id,
        participant=participant,
        region=region,
        lot_id=lot_id,
        operator=operator,
    )
    require_reader_of_everything(actor)
    return reads.downstream(
        source_id=source_id,
        participant=participant,
        region=region,
        lot_id=lot_id,
        operator=operator,
        as_of=as_of,
    )


@router.get(
    "/graph",
    response_model=Graph,
    response_model_exclude_unset=True,  # an edge's `weight` only where carats moved
    responses={
        **text_answer("application/graphml+xml", "application/x-ndjson"),
        **errors(403, 404, 503),
    },
)
def get_graph(
    reads: ReadsDep,
    actor: CurrentActor,
    as_of: AsOfParameter,
    root: str,
    direction: Literal["up", "down", "both"] = "both",
    output: Annotated[Literal["json", "graphml", "ftm"], Query(alias="format")] = "json",
) -> Any:
    """The custody subgraph around a lot, source, certificate, participant or operator
    (looked up in that order): node-link JSON, GraphML (application/graphml+xml) that Gephi
    opens, or FollowTheMoney entities (`ftm`: one JSON object a line, application/x-ndjson)
    that Aleph loads."""
    require_reader_of_everything(actor)
    if output == "ftm":

        def entities(view: View) -> str:
            graph = subgraph(view.custody, root, direction)
            return ftm.ftm_lines(ftm.ftm_entities(view.custody, graph, view.today, days))

        def days(positions: Iterable[int]) -> dict[int, date]:
            found = reads.entries(positions)
            return {position: entry.occurred_at.date() for position, entry in found.items()}

        return Response(reads.read(entities, as_of), media_type=ftm.MEDIA_TYPE)
    graph = reads.graph(root, direction, as_of)
    if output == "graphml":
        return Response(graph_graphml(graph), media_type="application/graphml+xml")
    return graph_json(graph)

"""Routes: the paths material took from one party to another."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.asof import AsOfParameter
from api.auth import CurrentActor, require_reader_of_everything
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Paths
from ledger.errors import LedgerError
from projections.paths import DEFAULT_LIMIT, MAX_LIMIT, custody_paths
from projections.reads import View

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["trace"])


def _limit(limit: str | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    text = limit.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise LedgerError(
            "invalid", f"limit must be an integer from 1 to {MAX_LIMIT}", detail={"field": "limit"}
        )
    return int(text)


@router.get("/paths", response_model=Paths, responses=errors(403, 404, 503))
def get_paths(
    reads: ReadsDep,
    actor: CurrentActor,
    as_of: AsOfParameter,
    from_id: Annotated[
        str, Query(alias="from", description="a lot, source, participant or operator id")
    ],
    to_id: Annotated[
        str, Query(alias="to", description="a lot, certificate, participant or operator id")
    ],
    limit: Annotated[
        str | None,
        Query(description=f"at most this many paths ({DEFAULT_LIMIT}, up to {MAX_LIMIT})"),
    ] = None,
) -> Any:
    """The ways material went from `from` to `to`, along the direction it moved: at most
    `limit` paths, the most carats first, each with the carats from `from` it carried into
    its last lot or certificate, its nodes (named as `GET /v1/graph` names them) and edges;
    `carats` the total from `from` in `to`; `truncated` when there were more paths."""
    chosen_limit = _limit(limit)
    require_reader_of_everything(actor)

    def answer(view: View) -> dict[str, Any]:
        return custody_paths(view.custody, from_id, to_id, chosen_limit)

    return reads.read(answer, as_of)

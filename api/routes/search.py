"""Routes: finding ids by prefix or name, and the list of participants."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Participants, SearchResults
from ledger.errors import LedgerError
from projections.search import DEFAULT_LIMIT, KINDS, MAX_LIMIT

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["search"])

_MAX_TEXT = 200


def _text(q: str | None) -> str:
    text = (q or "").strip()
    if not text or len(text) > _MAX_TEXT:
        raise LedgerError(
            "invalid", f"q must be 1 to {_MAX_TEXT} characters", detail={"field": "q"}
        )
    return text


def _limit(limit: str | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    text = limit.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise LedgerError(
            "invalid", f"limit must be an integer from 1 to {MAX_LIMIT}", detail={"field": "limit"}
        )
    return int(text)


def _kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise LedgerError(
            "invalid", f"kind must be one of {', '.join(KINDS)}", detail={"field": "kind"}
        )
    return kind


@router.get("/search", response_model=SearchResults, responses=errors(503))
def get_search(
    reads: ReadsDep,
    actor: CurrentActor,
    q: str | None = None,
    kind: str | None = None,
    limit: str | None = None,
) -> Any:
    """Ids of lots, sources, certificates, participants and operators starting with `q`,
    or whose name contains it, case-insensitively: at most `limit` (default 20, up to 200),
    exact id matches first. An authority finds only what it may read: the lots its
    participant holds or has held, the certificates it issued or received, its own sources,
    and every participant."""
    text, chosen_kind, chosen_limit = _text(q), _kind(kind), _limit(limit)
    reader = None if actor.reads_everything else (actor.participant or "")
    return {"results": reads.search(text, kind=chosen_kind, limit=chosen_limit, reader=reader)}


@router.get("/participants", response_model=Participants, responses=errors(503))
def get_participants(reads: ReadsDep, actor: CurrentActor) -> Any:
    """Every participant ever admitted: name, status (admitted, suspended or withdrawn) and
    the date of its latest admission; any valid token."""
    return {"participants": reads.participants()}

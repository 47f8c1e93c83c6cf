"""Routes: the sanctions lists the service screens operators against."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import CurrentActor
from api.deps import ScreeningDep
from api.openapi import errors
from api.schemas import SanctionsLists

__all__ = ["router"]

router = APIRouter(prefix="/v1/sanctions", tags=["sanctions"])


@router.get("/lists", response_model=SanctionsLists, responses=errors(503))
def get_sanctions_lists(screening: ScreeningDep, actor: CurrentActor) -> Any:
    """The lists loaded from `KPLEDGER_SANCTIONS_LISTS`, by name: each with its number of
    companies screened against, when its publisher generated it (`published`, null when
    the file does not say) and when this service loaded it (`loaded_at`). Any token that
    reads alerts."""
    return {"lists": screening.lists()}

"""Routes: the sanctions lists the service screens operators against."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.auth import CurrentActor
from projections.screening import Screening

__all__ = ["router"]

router = APIRouter(prefix="/v1/sanctions", tags=["sanctions"])


@router.get("/lists")
def get_sanctions_lists(request: Request, actor: CurrentActor) -> Any:
    """The lists loaded from `KPLEDGER_SANCTIONS_LISTS`, by name: each with its number of
    companies screened against, when its publisher generated it (`published`, null when
    the file does not say) and when this service loaded it (`loaded_at`). Any token that
    reads alerts."""
    screening: Screening = request.app.state.screening
    return {"lists": screening.lists()}

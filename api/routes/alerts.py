"""Routes: alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.asof import AsOfParameter
from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors
from api.schemas import Alerts
from ledger.errors import LedgerError
from ledger.triage import REVIEW_STATUSES
from projections.alerts import ALERT_TYPES, select

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get("/alerts", response_model=Alerts, responses=errors(503))
def get_alerts(
    reads: ReadsDep,
    actor: CurrentActor,
    as_of: AsOfParameter,
    alert_type: Annotated[str | None, Query(alias="type")] = None,
    participant: str | None = None,
    status: str | None = None,
) -> Any:
    """Red flags on the reading date, each with its latest review, optionally of one `type`,
    `participant` and/or review `status` (never reviewed: `open`); an authority sees only
    those whose participant is its own."""
    if alert_type is not None and alert_type not in ALERT_TYPES:
        raise LedgerError(
            "invalid", f"type must be one of {', '.join(ALERT_TYPES)}", detail={"field": "type"}
        )
    if status is not None and status not in REVIEW_STATUSES:
        raise LedgerError(
            "invalid",
            f"status must be one of {', '.join(REVIEW_STATUSES)}",
            detail={"field": "status"},
        )
    found = reads.alerts(alert_type=alert_type, participant=participant, status=status, as_of=as_of)
    if not actor.reads_everything:
        found = select(found, participant=actor.participant)
    return {"alerts": found}

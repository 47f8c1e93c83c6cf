"""Routes: the Participation Committee's picture of a year, reports owed and reviews."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from api.asof import AsOfParameter
from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors, text_answer
from api.schemas import Compliance
from ledger.actors import Actor
from ledger.compliance import FIRST_YEAR, LAST_YEAR
from ledger.errors import LedgerError
from ledger.protocol import PARTICIPANT_CODES
from projections import compliance

__all__ = ["router"]

router = APIRouter(tags=["compliance"])

_YEAR = re.compile(r"^[0-9]{4}$")
_FORMATS = ("json", "csv")


def _year(text: str | None) -> int:
    if text is None or not _YEAR.match(text) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise LedgerError(
            "invalid",
            f"year must be a calendar year from {FIRST_YEAR} to {LAST_YEAR}",
            detail={"field": "year"},
        )
    return int(text)


def _format(text: str) -> str:
    if text not in _FORMATS:
        raise LedgerError(
            "invalid", f"format must be one of {', '.join(_FORMATS)}", detail={"field": "format"}
        )
    return text


def _participant(actor: Actor, requested: str | None) -> str | None:
    """The participant to answer for: checked (422) then allowed to the actor (403)."""
    if requested is not None and requested not in PARTICIPANT_CODES:
        raise LedgerError(
            "invalid",
            "participant must be an ISO 3166-1 alpha-2 code or EU",
            detail={"field": "participant"},
        )
    if actor.reads_everything:
        return requested
    if requested not in (None, actor.participant):
        raise LedgerError("forbidden", "an authority reads only its own participant's compliance")
    return actor.participant


@router.get(
    "/v1/compliance",
    response_model=Compliance,
    responses={**text_answer("text/csv"), **errors(403, 503)},
)
def compliance_report(
    reads: ReadsDep,
    actor: CurrentActor,
    as_of: AsOfParameter,
    year: str | None = None,
    participant: str | None = None,
    format: str = "json",
) -> Response:
    """Every participant owing its statistics and annual report for `year`: each report's
    due date, submission date and state, and the reviews it invited up to that year.

    An authority reads its own participant only (the default for it); `format=csv`
    gives one row per participant and report kind, and one per review.
    """
    chosen_year, output = _year(year), _format(format)
    chosen = _participant(actor, participant)
    report = reads.compliance(chosen_year, chosen, as_of)
    if output == "csv":
        return Response(compliance.to_csv(report), media_type="text/csv")
    return JSONResponse(report)

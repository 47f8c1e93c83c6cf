"""Routes: certificate-based statistics, in full for those allowed and in totals for everyone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from api.auth import CurrentActor
from api.deps import ReadsDep
from api.openapi import errors, text_answer
from api.schemas import PublicStatistics, StatisticsReport
from ledger.actors import Actor
from ledger.errors import LedgerError
from ledger.protocol import PARTICIPANT_CODES
from projections.reads import Reads
from projections.statistics import Statistics

__all__ = ["router"]

router = APIRouter(tags=["statistics"])

_YEAR = re.compile(r"^[0-9]{4}$")
_FORMATS = ("json", "csv")


def _year(text: str | None) -> int:
    if text is None or not _YEAR.match(text) or int(text) == 0:
        raise LedgerError("invalid", "year must be a calendar year such as 2005")
    return int(text)


def _format(text: str) -> str:
    if text not in _FORMATS:
        raise LedgerError("invalid", f"format must be one of {', '.join(_FORMATS)}")
    return text


def _participant(actor: Actor, requested: str | None) -> str | None:
    """The participant to report on: checked (422) then allowed to the actor (403)."""
    if requested is not None and requested not in PARTICIPANT_CODES:
        raise LedgerError("invalid", "participant must be an ISO 3166-1 alpha-2 code or EU")
    if actor.reads_everything:
        return requested
    if requested not in (None, actor.participant):
        raise LedgerError("forbidden", "an authority reads only its own participant's statistics")
    return actor.participant


def _answer(
    reads: Reads, report_of: Callable[[Statistics], dict[str, Any]], output: str
) -> Response:
    """The report, from the statistics caught up with the log (read-your-writes)."""
    report = reads.with_statistics(report_of)
    if output == "csv":
        return Response(Statistics.to_csv(report), media_type="text/csv")
    return JSONResponse(report)


@router.get(
    "/v1/statistics",
    response_model=StatisticsReport,
    responses={**text_answer("text/csv"), **errors(403, 503)},
)
def statistics_report(
    reads: ReadsDep,
    actor: CurrentActor,
    year: str | None = None,
    participant: str | None = None,
    format: str = "json",
) -> Response:
    """Production, exports and imports of a year, with breakdowns by HS code and partner.

    An authority reads its own participant only (the default for it); without
    `participant`, the others read every participant with activity that year.
    """
    chosen_year, output = _year(year), _format(format)
    chosen = _participant(actor, participant)
    return _answer(reads, lambda statistics: statistics.report(chosen_year, chosen), output)


@router.get(
    "/v1/statistics/public",
    response_model=PublicStatistics,
    responses={**text_answer("text/csv"), **errors(503)},
)
def public_statistics(reads: ReadsDep, year: str | None = None, format: str = "json") -> Response:
    """The totals of a year per participant, without breakdowns; no token needed."""
    chosen_year, output = _year(year), _format(format)
    return _answer(reads, lambda statistics: statistics.public_report(chosen_year), output)

"""Participation Committee and Monitoring: reports owed and submitted, peer reviews.

A participant owes its statistics and its annual report for every year (2000 to 2100)
in which it was a participant on at least one day: from the UTC date of the
`occurred_at` of its admission up to that of its withdrawal, both days included. A
suspended participant remains a participant and still owes them. Statistics for
year Y are due on a day of Y+1 (`KPLEDGER_STATISTICS_DUE`, default 03-31), the
annual report on another (`KPLEDGER_ANNUAL_REPORT_DUE`, default 06-30).

A report is `submitted` (on or before its due date), `late` (after it), `overdue`
(none, and the reading date is after the due date) or `due` (none yet, not past).
The reviews listed for year Y are those the participant invited on or before 31
December Y, as they stand at the instant read.

>>> from projections.custody import Custody
>>> from projections.examples import numbered
>>> admitted = {"type": "participant.admitted", "participant": "GH", "name": "Ghana",
...             "occurred_at": "2005-12-31T23:00:00Z"}
>>> submitted = {"type": "report.submitted", "participant": "GH", "year": 2005,
...              "kind": "statistics", "submitted_on": "2006-04-01"}
>>> state = Custody.replay(numbered([admitted, submitted]))
>>> report = compliance_report(state, 2005, today=date(2006, 7, 1))
>>> report["participants"][0]["reports"]["statistics"]
{'due_on': '2006-03-31', 'submitted_on': '2006-04-01', 'state': 'late'}
>>> report["participants"][0]["reports"]["annual_report"]
{'due_on': '2006-06-30', 'submitted_on': None, 'state': 'overdue'}
>>> compliance_report(state, 2004, today=date(2006, 7, 1))["participants"]
[]
>>> [(code, year, kind) for code, year, kind, _, _ in overdue(state, date(2007, 4, 1))]
[('GH', 2005, 'annual_report'), ('GH', 2006, 'statistics')]
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ledger import certificates as certificates_documents
from ledger import compliance as compliance_documents
from ledger import keys as keys_documents
from ledger import lots as lots_documents
from ledger import operators as operators_documents
from ledger import participants as participants_documents
from ledger import retractions as retractions_documents
from ledger import sources as sources_documents
from ledger import triage as triage_documents
from ledger.log import LogEntry
from ledger.protocol import ADMITTED, WITHDRAWN
from projections.records import Participant
from projections.registry import Projection, applies

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_DEADLINES",
    "REPORT_STATES",
    "Compliance",
    "Deadlines",
    "ParticipantTables",
    "compliance_report",
    "month_day",
    "overdue",
    "owed_since",
    "participation",
    "report_state",
    "to_csv",
]

REPORT_KINDS = compliance_documents.REPORT_KINDS
REPORT_STATES = ("submitted", "late", "overdue", "due")
_MONTH_DAY = re.compile(r"^([0-9]{2})-([0-9]{2})$")


def month_day(text: str) -> tuple[int, int]:
    """A due day `MM-DD` that exists in every year; raises ValueError otherwise.

    >>> month_day("03-31")
    (3, 31)
    >>> month_day("02-29")
    Traceback (most recent call last):
    ...
    ValueError: '02-29' is not a day of every year: use MM-DD, such as 03-31
    """
    match = _MONTH_DAY.match(text)
    if match is not None:
        month, day = int(match[1]), int(match[2])
        try:
            date(2001, month, day)  # not a leap year: 02-29 is refused
        except ValueError:
            pass
        else:
            return month, day
    raise ValueError(f"{text!r} is not a day of every year: use MM-DD, such as 03-31")


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When the reports of a year are due, as (month, day) of the next year."""

    statistics: tuple[int, int] = (3, 31)
    annual_report: tuple[int, int] = (6, 30)

    @classmethod
    def parse(cls, statistics: str, annual_report: str) -> Deadlines:
        """Deadlines from two `MM-DD` texts (ValueError when one is not a day of every year)."""
        return cls(month_day(statistics), month_day(annual_report))

    def due_on(self, year: int, kind: str) -> date:
        """The due date of the report of `kind` for `year`.

        >>> Deadlines().due_on(2005, "annual_report")
        datetime.date(2006, 6, 30)
        """
        month, day = self.statistics if kind == "statistics" else self.annual_report
        return date(year + 1, month, day)


DEFAULT_DEADLINES = Deadlines()


# -- the read-side state -----------------------------------------------------------------


class Review:
    """A review a participant invited, its visits and its recommendations."""

    __slots__ = ("invited_on", "participant", "position", "recommendations", "review_id", "visits")

    def __init__(self, review_id: str, participant: str, invited_on: date, position: int) -> None:
        self.review_id = review_id
        self.participant = participant
        self.invited_on = invited_on
        self.position = position
        self.visits: list[tuple[date, str]] = []
        self.recommendations: dict[str, date | None] = {}  # id -> implemented_on, in order

    def to_json(self) -> dict[str, Any]:
        """The review as the compliance answer shows it."""
        open_ids = [rid for rid, done in self.recommendations.items() if done is None]
        return {
            "review_id": self.review_id,
            "invited_on": self.invited_on.isoformat(),
            "visits": [{"visited_on": day.isoformat(), "kind": kind} for day, kind in self.visits],
            "recommendations": len(self.recommendations),
            "implemented": len(self.recommendations) - len(open_ids),
            "open": open_ids,
        }


class Compliance(Projection):
    """Reports submitted, by (participant, year, kind): (submitted_on, position); reviews."""

    IGNORES = frozenset(
        {
            triage_documents.AlertReviewed,
            sources_documents.AlluvialSiteLicenceRevoked,
            sources_documents.AlluvialSiteRegistered,
            keys_documents.AuthorityKeyRegistered,
            keys_documents.AuthorityKeyRevoked,
            retractions_documents.DocumentRetracted,
            participants_documents.EmbargoDeclared,
            participants_documents.EmbargoLifted,
            certificates_documents.ExportCertified,
            certificates_documents.ImportConfirmed,
            lots_documents.LotFlagged,
            lots_documents.LotProduced,
            lots_documents.LotSeized,
            lots_documents.LotSplit,
            lots_documents.LotTransferred,
            lots_documents.LotsMerged,
            sources_documents.MineRegistered,
            operators_documents.OperatorLicenceRevoked,
            operators_documents.OperatorLicensed,
            participants_documents.ParticipantAdmitted,
            participants_documents.ParticipantReinstated,
            participants_documents.ParticipantSuspended,
            participants_documents.ParticipantWithdrawn,
            operators_documents.SanctionLifted,
            operators_documents.SanctionListed,
        }
    )

    def __init__(self) -> None:
        self.position = 0
        self.reports: dict[tuple[str, int, str], tuple[date, int]] = {}
        self.reviews: dict[str, Review] = {}

    @applies(compliance_documents.ReportSubmitted)
    def _report_submitted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        key = (document["participant"], document["year"], document["kind"])
        self.reports[key] = (date.fromisoformat(document["submitted_on"]), entry.position)

    @applies(compliance_documents.ReviewInvited)
    def _review_invited(self, entry: LogEntry, document: dict[str, Any]) -> None:
        review_id = document["review_id"]
        invited_on = date.fromisoformat(document["invited_on"])
        self.reviews[review_id] = Review(
            review_id, document["participant"], invited_on, entry.position
        )

    @applies(compliance_documents.ReviewVisited)
    def _review_visited(self, entry: LogEntry, document: dict[str, Any]) -> None:
        review = self.reviews.get(document["review_id"])
        if review is None:  # its invitation was retracted: a visit to a review never invited
            return
        review.visits.append((date.fromisoformat(document["visited_on"]), document["kind"]))
        for recommendation in document["recommendations"]:
            review.recommendations[recommendation["recommendation_id"]] = None

    @applies(compliance_documents.RecommendationImplemented)
    def _recommendation_implemented(self, entry: LogEntry, document: dict[str, Any]) -> None:
        review = self.reviews.get(document["review_id"])
        if review is None:  # its invitation was retracted
            return
        implemented_on = date.fromisoformat(document["implemented_on"])
        review.recommendations[document["recommendation_id"]] = implemented_on


class ParticipantTables(Protocol):
    """What the compliance answers read: the participants and their reports and reviews
    (as `projections.custody.Custody` carries them)."""

    participants: dict[str, Participant]
    compliance: Compliance


# -- what is owed ------------------------------------------------------------------------


def participation(participant: Participant) -> list[tuple[date, date | None, int]]:
    """The periods it was a participant: (first day, last day or None, admission position).

    Suspension changes nothing; a withdrawal ends a period on its own day.
    """
    periods: list[tuple[date, date | None, int]] = []
    start: tuple[date, int] | None = None
    for position, day, status in participant.changes:
        if status == ADMITTED and start is None:
            start = (day, position)
        elif status == WITHDRAWN and start is not None:
            periods.append((start[0], max(day, start[0]), start[1]))
            start = None
    if start is not None:
        periods.append((start[0], None, start[1]))
    return periods


def owed_since(participant: Participant, year: int) -> int | None:
    """The position of the admission that makes it owe the reports of `year`, or None."""
    if not compliance_documents.FIRST_YEAR <= year <= compliance_documents.LAST_YEAR:
        return None
    for first, last, position in participation(participant):
        if first.year <= year and (last is None or year <= last.year):
            return position
    return None


def report_state(due_on: date, submitted_on: date | None, today: date) -> str:
    """`submitted`, `late`, `overdue` or `due`.

    >>> day = date(2006, 3, 31)
    >>> [report_state(day, s, t) for s, t in [(day, day), (date(2006, 4, 1), day), (None, day),
    ...                                        (None, date(2006, 4, 1))]]
    ['submitted', 'late', 'due', 'overdue']
    """
    if submitted_on is not None:
        return "submitted" if submitted_on <= due_on else "late"
    return "overdue" if today > due_on else "due"


def compliance_report(
    state: ParticipantTables,
    year: int,
    participant: str | None = None,
    *,
    today: date,
    deadlines: Deadlines = DEFAULT_DEADLINES,
) -> dict[str, Any]:
    """GET /v1/compliance: every participant owing reports for `year` (or only
    `participant`, if it owes them), in order of code, read on `today`."""
    table = state.compliance
    rows = []
    for code in sorted(state.participants):
        if participant not in (None, code):
            continue
        if owed_since(state.participants[code], year) is None:
            continue
        reports = {}
        for kind in REPORT_KINDS:
            due_on = deadlines.due_on(year, kind)
            submitted = table.reports.get((code, year, kind))
            submitted_on = submitted[0] if submitted is not None else None
            reports[kind] = {
                "due_on": due_on.isoformat(),
                "submitted_on": submitted_on.isoformat() if submitted_on is not None else None,
                "state": report_state(due_on, submitted_on, today),
            }
        reviews = sorted(
            (
                review
                for review in table.reviews.values()
                if review.participant == code and review.invited_on.year <= year
            ),
            key=lambda review: (review.invited_on, review.review_id),
        )
        rows.append(
            {
                "participant": code,
                "reports": reports,
                "reviews": [review.to_json() for review in reviews],
            }
        )
    return {"year": year, "participants": rows}


def overdue(
    state: ParticipantTables, today: date, deadlines: Deadlines = DEFAULT_DEADLINES
) -> Iterator[tuple[str, int, str, date, int]]:
    """Every report owed and overdue on `today`: (participant, year, kind, due_on, position
    of the admission that made it owed), by participant, year and kind."""
    for code in sorted(state.participants):
        participant = state.participants[code]
        owed: dict[int, int] = {}
        for first, last, position in participation(participant):
            end = min(
                today.year if last is None else last.year,
                today.year,
                compliance_documents.LAST_YEAR,
            )
            for year in range(max(first.year, compliance_documents.FIRST_YEAR), end + 1):
                owed.setdefault(year, position)
        for year, position in sorted(owed.items()):
            for kind in REPORT_KINDS:
                due_on = deadlines.due_on(year, kind)
                if due_on < today and (code, year, kind) not in state.compliance.reports:
                    yield code, year, kind, due_on, position


# -- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "year",
    "participant",
    "record",
    "kind",
    "due_on",
    "submitted_on",
    "state",
    "review_id",
    "invited_on",
    "visits",
    "recommendations",
    "implemented",
    "open",
)


def to_csv(report: dict[str, Any]) -> str:
    """A compliance answer as CSV (`CSV_COLUMNS`): per participant one `report` row per
    kind, then one `review` row per review; `visits` are `DATE KIND` and `open` the open
    recommendation ids, each list separated by `;`.

    >>> print(to_csv({"year": 2005, "participants": [{"participant": "GN", "reports": {
    ...     "statistics": {"due_on": "2006-03-31", "submitted_on": None, "state": "due"}},
    ...     "reviews": [{"review_id": "R1", "invited_on": "2005-01-10", "visits": [
    ...         {"visited_on": "2005-06-01", "kind": "review"}], "recommendations": 2,
    ...         "implemented": 1, "open": ["R1-2"]}]}]}), end="")
    year,participant,record,kind,due_on,submitted_on,state,review_id,invited_on,visits,recommendations,implemented,open
    2005,GN,report,statistics,2006-03-31,,due,,,,,,
    2005,GN,review,,,,,R1,2005-01-10,2005-06-01 review,2,1,R1-2
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    year = report["year"]
    for row in report["participants"]:
        code = row["participant"]
        for kind, shown in row["reports"].items():
            writer.writerow(
                [year, code, "report", kind, shown["due_on"], shown["submitted_on"] or "",
                 shown["state"], "", "", "", "", "", ""]
            )  # fmt: skip
        for review in row["reviews"]:
            visits = ";".join(f"{v['visited_on']} {v['kind']}" for v in review["visits"])
            writer.writerow(
                [year, code, "review", "", "", "", "", review["review_id"], review["invited_on"],
                 visits, review["recommendations"], review["implemented"],
                 ";".join(review["open"])]
            )  # fmt: skip
    return out.getvalue()

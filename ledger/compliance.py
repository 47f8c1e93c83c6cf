"""Compliance and reviews: the Participation Committee's reports and the peer review visits.

Every year a participant submits its statistics and its annual report, once each
(`report.submitted`). The Working Group on Monitoring visits a participant that
invited a review (`review.invited`): one review visit and any number of follow-up
visits (`review.visited`), each with recommendations whose ids are unique within
the review, which the reviewed participant then implements
(`review.recommendation_implemented`).

Where the protocol is silent: submitting a report or inviting a review needs the
participant to have been admitted once (`unknown_participant`); a second review
visit and a second implementation of one recommendation are `duplicate_id`; a
follow-up may come without a review visit recorded before it; dates are not
compared with each other.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, field_validator

from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import CalendarDate, DocumentModel, Identifier, ParticipantCode, Strict, Text
from ledger.handling import SECRETARIAT, UnitOfWork, authority_of, handles
from ledger.participants import find_participant

__all__ = [
    "FIRST_YEAR",
    "FOLLOW_UP",
    "LAST_YEAR",
    "REPORT_KINDS",
    "REVIEW",
    "ParticipantReports",
    "Recommendation",
    "RecommendationImplemented",
    "ReportSubmitted",
    "Review",
    "ReviewInvited",
    "ReviewVisited",
]

FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years reports are kept for."""
REPORT_KINDS = ("statistics", "annual_report")
REVIEW, FOLLOW_UP = "review", "follow_up"
MAX_RECOMMENDATIONS = 1000

# -- documents ---------------------------------------------------------------------------

Year = Annotated[int, Field(strict=True, ge=FIRST_YEAR, le=LAST_YEAR)]


class ReportSubmitted(DocumentModel):
    type: Literal["report.submitted"]
    participant: ParticipantCode
    year: Year
    kind: Literal["statistics", "annual_report"]
    submitted_on: CalendarDate


class ReviewInvited(DocumentModel):
    type: Literal["review.invited"]
    review_id: Identifier
    participant: ParticipantCode
    invited_on: CalendarDate


class Recommendation(Strict):
    recommendation_id: Identifier
    text: Text


class ReviewVisited(DocumentModel):
    type: Literal["review.visited"]
    review_id: Identifier
    visited_on: CalendarDate
    kind: Literal["review", "follow_up"]
    recommendations: Annotated[
        list[Recommendation], Field(default_factory=list, max_length=MAX_RECOMMENDATIONS)
    ]

    @field_validator("recommendations")
    @classmethod
    def _distinct_ids(cls, recommendations: list[Recommendation]) -> list[Recommendation]:
        ids = [recommendation.recommendation_id for recommendation in recommendations]
        if len(set(ids)) != len(ids):
            raise ValueError("recommendation ids must be distinct")
        return recommendations


class RecommendationImplemented(DocumentModel):
    type: Literal["review.recommendation_implemented"]
    review_id: Identifier
    recommendation_id: Identifier
    implemented_on: CalendarDate


# -- aggregates --------------------------------------------------------------------------


class ParticipantReports(LedgerAggregate):
    """The reports one participant submitted: one of each kind per year."""

    @staticmethod
    def create_id(participant: str) -> UUID:
        return aggregate_id("reports", participant)

    class Opened(LedgerAggregate.Created):
        participant: str

    @event(Opened)
    def __init__(self, participant: str) -> None:
        self.participant = participant
        self.submitted: dict[tuple[int, str], date] = {}

    class Submitted(LedgerAggregate.Event):
        year: int
        kind: str
        submitted_on: date

    def submit(self, year: int, kind: str, submitted_on: date) -> None:
        """Records a report of `kind` for `year`, once."""
        before = self.submitted.get((year, kind))
        if before is not None:
            raise LedgerError(
                "duplicate_id",
                f"{self.participant} already submitted its {kind} for {year} on {before}",
            )
        self._submitted(year=year, kind=kind, submitted_on=submitted_on)

    @event(Submitted)
    def _submitted(self, year: int, kind: str, submitted_on: date) -> None:
        self.submitted[(year, kind)] = submitted_on

    class Withdrawn(LedgerAggregate.Event):
        year: int
        kind: str

    @event(Withdrawn)
    def withdraw(self, year: int, kind: str) -> None:
        """The report's submission was retracted: it may be submitted again."""
        self.submitted.pop((year, kind), None)


class Review(LedgerAggregate):
    """A peer review a participant invited: its visits and their recommendations."""

    @staticmethod
    def create_id(review_id: str) -> UUID:
        return aggregate_id("review", review_id)

    class Invited(LedgerAggregate.Created):
        review_id: str
        participant: str
        invited_on: date

    @event(Invited)
    def __init__(self, review_id: str, participant: str, invited_on: date) -> None:
        self._form(review_id, participant, invited_on)

    def _form(self, review_id: str, participant: str, invited_on: date) -> None:
        self.forget(erased=False)
        self.review_id = review_id
        self.participant = participant
        self.invited_on = invited_on
        self.reviewed_on: date | None = None
        self.recommendations: dict[str, date | None] = {}  # id -> implemented_on

    class Reformed(LedgerAggregate.Event):
        review_id: str
        participant: str
        invited_on: date

    @event(Reformed)
    def reform(self, review_id: str, participant: str, invited_on: date) -> None:
        """Invites again a review whose invitation was retracted (its id was freed)."""
        self._form(review_id, participant, invited_on)

    class Erased(LedgerAggregate.Event):
        pass

    @event(Erased)
    def erase(self) -> None:
        """The review's invitation was retracted: it is taken as absent."""
        self.forget(erased=True)

    class Unimplemented(LedgerAggregate.Event):
        recommendation_id: str

    @event(Unimplemented)
    def unimplement(self, recommendation_id: str) -> None:
        """The recommendation's implementation was retracted."""
        self.recommendations[recommendation_id] = None

    class Visited(LedgerAggregate.Event):
        visited_on: date
        kind: str
        recommendation_ids: list[str]

    def visit(self, visited_on: date, kind: str, recommendation_ids: list[str]) -> None:
        """Records a visit: the review visit once, follow-ups any number of times, each
        recommendation under an id not used before in this review."""
        if kind == REVIEW and self.reviewed_on is not None:
            raise LedgerError(
                "duplicate_id",
                f"review {self.review_id} was visited on {self.reviewed_on}; "
                "record a follow_up visit instead",
            )
        for recommendation_id in recommendation_ids:
            if recommendation_id in self.recommendations:
                raise LedgerError(
                    "duplicate_id",
                    f"review {self.review_id} already has recommendation {recommendation_id}",
                    detail={"recommendation_id": recommendation_id},
                )
        self._visited(visited_on=visited_on, kind=kind, recommendation_ids=recommendation_ids)

    @event(Visited)
    def _visited(self, visited_on: date, kind: str, recommendation_ids: list[str]) -> None:
        if kind == REVIEW:
            self.reviewed_on = visited_on
        for recommendation_id in recommendation_ids:
            self.recommendations[recommendation_id] = None

    class Implemented(LedgerAggregate.Event):
        recommendation_id: str
        implemented_on: date

    def implement(self, recommendation_id: str, implemented_on: date) -> None:
        """Records that a recommendation of this review was implemented, once."""
        if recommendation_id not in self.recommendations:
            raise LedgerError(
                "unknown_review",
                f"review {self.review_id} has no recommendation {recommendation_id}",
            )
        before = self.recommendations[recommendation_id]
        if before is not None:
            raise LedgerError(
                "duplicate_id",
                f"recommendation {recommendation_id} of review {self.review_id} "
                f"was implemented on {before}",
            )
        self._implemented(recommendation_id=recommendation_id, implemented_on=implemented_on)

    @event(Implemented)
    def _implemented(self, recommendation_id: str, implemented_on: date) -> None:
        self.recommendations[recommendation_id] = implemented_on


def find_review(work: UnitOfWork, review_id: str) -> Review:
    """The review, or 409 `unknown_review` if it was never invited."""
    review = work.get(Review, Review.create_id(review_id))
    if review is None:
        raise LedgerError("unknown_review", f"no review {review_id} was invited")
    return review


# -- jurisdictions -----------------------------------------------------------------------


# -- handlers ----------------------------------------------------------------------------


@handles(ReportSubmitted, acts_for="participant")
def report_submitted(doc: ReportSubmitted, work: UnitOfWork) -> None:
    find_participant(work, doc.participant)
    reports = work.get(ParticipantReports, ParticipantReports.create_id(doc.participant))
    if reports is None:
        reports = ParticipantReports(participant=doc.participant)
        work.add(reports)
    reports.submit(year=doc.year, kind=doc.kind, submitted_on=doc.submitted_on)


@handles(ReviewInvited, acts_for="participant")
def review_invited(doc: ReviewInvited, work: UnitOfWork) -> None:
    find_participant(work, doc.participant)
    if work.get(Review, Review.create_id(doc.review_id)) is not None:
        raise LedgerError("duplicate_id", f"review {doc.review_id} already exists")
    retracted = work.erased(Review, Review.create_id(doc.review_id))
    if retracted is not None:
        retracted.reform(
            review_id=doc.review_id, participant=doc.participant, invited_on=doc.invited_on
        )
        work.add(retracted)
        return
    work.add(
        Review(review_id=doc.review_id, participant=doc.participant, invited_on=doc.invited_on)
    )


@handles(ReviewVisited, roles=SECRETARIAT)
def review_visited(doc: ReviewVisited, work: UnitOfWork) -> None:
    find_review(work, doc.review_id).visit(
        visited_on=doc.visited_on,
        kind=doc.kind,
        recommendation_ids=[item.recommendation_id for item in doc.recommendations],
    )


@handles(RecommendationImplemented, jurisdiction=authority_of(Review, "review_id"))
def recommendation_implemented(doc: RecommendationImplemented, work: UnitOfWork) -> None:
    find_review(work, doc.review_id).implement(
        recommendation_id=doc.recommendation_id, implemented_on=doc.implemented_on
    )

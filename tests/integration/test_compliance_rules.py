"""Participation Committee and Monitoring on each store: every rule broken once (its code,
nothing appended), who may post, 422s, and the answers read back, as of before and after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.application import Ledger
from projections.reads import Reads
from tests.support import (
    AUDITOR,
    INVESTIGATOR,
    SECRETARIAT,
    Actor,
    accept,
    admitted,
    authority,
    batch,
    implemented,
    invited,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    refuse,
    report,
    visited,
)
from worlds.demo import load_demo

GH, GN, AE = authority("GH"), authority("GN"), authority("AE")


@pytest.fixture
def world(ledger: Ledger) -> Ledger:
    """GH and GN admitted; GN invited review RV-1, visited once with R1 and R2."""
    accept(ledger, batch(admitted("GH"), admitted("GN")), SECRETARIAT)
    accept(ledger, invited("RV-1", "GN"), GN)
    accept(ledger, visited("RV-1", "R1", "R2"), SECRETARIAT)
    return ledger


# ------------------------------------------------------------------------ reports


def test_a_report_once_per_participant_year_and_kind(world: Ledger) -> None:
    accept(world, report("GH", 2005, "statistics"), GH)
    refuse(world, report("GH", 2005, "statistics", "2006-05-01"), GH, "duplicate_id")
    accept(world, report("GH", 2005, "annual_report"), GH)
    accept(world, report("GH", 2006, "statistics"), GH)
    accept(world, report("GN", 2005, "statistics"), GN)


def test_a_duplicate_inside_one_batch_appends_nothing(world: Ledger) -> None:
    twice = batch(report("GH", 2005), report("GH", 2005))
    refuse(world, twice, GH, "duplicate_id", index=1)


def test_a_report_of_a_participant_never_admitted(world: Ledger) -> None:
    refuse(world, report("AE", 2005), AE, "unknown_participant")


@pytest.mark.parametrize("actor", [GN, SECRETARIAT, INVESTIGATOR, AUDITOR])
def test_only_the_participants_authority_submits_its_reports(world: Ledger, actor: Actor) -> None:
    refuse(world, report("GH", 2005), actor, "forbidden")


@pytest.mark.parametrize(
    "fields", [{"year": 1999}, {"year": "2005"}, {"kind": "census"}, {"submitted_on": "soon"}]
)
def test_a_malformed_report_is_invalid(world: Ledger, fields: dict[str, Any]) -> None:
    refuse(world, {**report("GH", 2005), **fields}, GH, "invalid")


def test_invalid_comes_before_forbidden(world: Ledger) -> None:
    refuse(world, report("GH", 1999), GN, "invalid")


# ------------------------------------------------------------------------ reviews


def test_a_review_id_is_unique_for_ever(world: Ledger) -> None:
    refuse(world, invited("RV-1", "GN", "2006-01-01"), GN, "duplicate_id")
    refuse(world, invited("RV-1", "GH"), GH, "duplicate_id")
    accept(world, invited("RV-2", "GN"), GN)


def test_a_review_of_a_participant_never_admitted(world: Ledger) -> None:
    refuse(world, invited("RV-AE", "AE"), AE, "unknown_participant")


@pytest.mark.parametrize("actor", [GH, SECRETARIAT, INVESTIGATOR])
def test_only_the_participants_authority_invites(world: Ledger, actor: Actor) -> None:
    refuse(world, invited("RV-2", "GN"), actor, "forbidden")


def test_a_visit_of_a_review_never_invited(world: Ledger) -> None:
    refuse(world, visited("RV-9", "X1"), SECRETARIAT, "unknown_review")


def test_a_review_is_visited_once_and_followed_up_any_number_of_times(world: Ledger) -> None:
    refuse(world, visited("RV-1", "R3", visited_on="2005-06-01"), SECRETARIAT, "duplicate_id")
    accept(world, visited("RV-1", "R3", kind="follow_up"), SECRETARIAT)
    accept(world, visited("RV-1", kind="follow_up", visited_on="2006-01-01"), SECRETARIAT)


def test_recommendation_ids_are_unique_within_the_review(world: Ledger) -> None:
    refuse(world, visited("RV-1", "R3", "R1", kind="follow_up"), SECRETARIAT, "duplicate_id")
    refuse(world, visited("RV-1", "R3", "R3", kind="follow_up"), SECRETARIAT, "invalid")
    accept(world, invited("RV-2", "GN"), GN)
    accept(world, visited("RV-2", "R1"), SECRETARIAT)  # another review may reuse them


@pytest.mark.parametrize("actor", [GN, INVESTIGATOR, AUDITOR])
def test_only_the_secretariat_records_visits(world: Ledger, actor: Actor) -> None:
    refuse(world, visited("RV-1", "R3", kind="follow_up"), actor, "forbidden")


def test_a_malformed_visit_is_invalid(world: Ledger) -> None:
    refuse(world, visited("RV-1", kind="inspection"), SECRETARIAT, "invalid")
    refuse(world, {**visited("RV-1"), "recommendations": None}, SECRETARIAT, "invalid")


def test_implementing_an_unknown_review_or_recommendation(world: Ledger) -> None:
    refuse(world, implemented("RV-9", "R1"), GN, "unknown_review")
    refuse(world, implemented("RV-1", "R9"), GN, "unknown_review")


def test_a_recommendation_is_implemented_once(world: Ledger) -> None:
    accept(world, implemented("RV-1", "R1"), GN)
    refuse(world, implemented("RV-1", "R1", "2006-01-01"), GN, "duplicate_id")
    accept(world, implemented("RV-1", "R2"), GN)


@pytest.mark.parametrize("actor", [GH, SECRETARIAT, INVESTIGATOR])
def test_only_the_reviewed_participants_authority_implements(world: Ledger, actor: Actor) -> None:
    refuse(world, implemented("RV-1", "R1"), actor, "forbidden")


def test_forbidden_further_on_in_a_batch_comes_before_a_conflict(world: Ledger) -> None:
    accept(world, invited("RV-GH", "GH"), GH)
    accept(world, visited("RV-GH", "G1"), SECRETARIAT)
    both = batch(implemented("RV-GH", "G9"), implemented("RV-1", "R1"))
    refuse(world, both, GH, "forbidden", index=1)


# ------------------------------------------------------------------------ read back


def test_compliance_as_of_before_and_after_a_submission(world: Ledger) -> None:
    accept(world, implemented("RV-1", "R2"), GN)
    before = world.head_position()
    submitted = accept(world, report("GN", 2005, "statistics", "2006-04-01"), GN)
    reads = Reads(world)

    def gn(as_of: Any = None) -> dict[str, Any]:
        (row,) = reads.compliance(2005, "GN", as_of=as_of)["participants"]
        return row  # type: ignore[no-any-return]

    assert gn(before)["reports"]["statistics"] == {
        "due_on": "2006-03-31",
        "submitted_on": None,
        "state": "overdue",
    }
    assert gn(submitted)["reports"]["statistics"]["state"] == "late"
    assert gn()["reports"]["statistics"]["state"] == "late"
    assert gn()["reviews"][0]["open"] == ["R1"]
    assert reads.compliance(2005, as_of=datetime(2000, 1, 1, tzinfo=UTC))["participants"] == []
    overdue = {a["subject"] for a in reads.alerts(alert_type="report_overdue", as_of=before)}
    assert "GN/2005/statistics" in overdue
    after = {a["subject"] for a in reads.alerts(alert_type="report_overdue")}
    assert "GN/2005/statistics" not in after and "GN/2005/annual_report" in after


def test_the_demo_shows_the_2005_picture(ledger: Ledger) -> None:
    load_demo(ledger, today=date(2026, 12, 1))
    reads = Reads(ledger, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    overdue = [alert["subject"] for alert in reads.alerts(alert_type="report_overdue")]
    assert overdue == ["CI/2005/statistics"]
    picture = {row["participant"]: row for row in reads.compliance(2005)["participants"]}
    assert picture["CI"]["reports"]["statistics"]["state"] == "overdue"
    assert picture["AE"]["reports"]["annual_report"]["state"] == "late"
    (guinea,) = picture["GN"]["reviews"]
    assert [visit["kind"] for visit in guinea["visits"]] == ["review", "follow_up"]
    assert (guinea["implemented"], len(guinea["open"])) == (2, 2)
    assert picture["AE"]["reviews"][0]["visits"] == []
    assert load_demo(ledger, today=date(2026, 12, 1)).appended == 0

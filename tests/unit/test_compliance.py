"""Reports owed, their states at the boundaries, reviews, the alert, CSV, settings: pure."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from api.settings import Settings, settings_problem
from ledger.documents import normalize, parse_request
from ledger.errors import LedgerError
from projections.alerts import alert_id, alerts
from projections.compliance import (
    CSV_COLUMNS,
    Deadlines,
    compliance_report,
    month_day,
    overdue,
    to_csv,
)
from projections.custody import Custody
from projections.examples import numbered
from tests.support import (
    admitted,
    implemented,
    invited,
    report,
    suspended,
    visited,
    withdrawn,
)


def at(document: dict[str, Any], occurred_at: str) -> dict[str, Any]:
    return {**document, "occurred_at": occurred_at}


def state_of(*documents: dict[str, Any]) -> Custody:
    return Custody.replay(numbered(documents))


def owing(state: Custody, year: int, today: date = date(2026, 1, 1)) -> list[str]:
    return [
        row["participant"] for row in compliance_report(state, year, today=today)["participants"]
    ]


def reports_of(state: Custody, year: int, today: date, code: str = "GH") -> dict[str, Any]:
    (row,) = compliance_report(state, year, code, today=today)["participants"]
    return row["reports"]  # type: ignore[no-any-return]


GH_2005 = at(admitted("GH"), "2005-03-01T10:00:00Z")

# ------------------------------------------------------------------------- who owes


def test_admitted_on_31_december_owes_that_year() -> None:
    state = state_of(at(admitted("GH"), "2005-12-31T23:59:00Z"))
    assert owing(state, 2004) == []
    assert owing(state, 2005) == ["GH"]
    assert owing(state, 2006) == ["GH"]


def test_the_admission_date_is_taken_in_utc() -> None:
    state = state_of(at(admitted("GH"), "2006-01-01T01:00:00+02:00"))  # 2005-12-31 UTC
    assert owing(state, 2005) == ["GH"]


def test_withdrawn_in_january_owes_that_year_and_not_the_next() -> None:
    state = state_of(GH_2005, at(withdrawn("GH"), "2007-01-01T08:00:00Z"))
    assert [owing(state, year) for year in (2005, 2006, 2007, 2008)] == [
        ["GH"],
        ["GH"],
        ["GH"],
        [],
    ]


def test_a_suspended_participant_still_owes_its_reports() -> None:
    state = state_of(GH_2005, at(suspended("GH"), "2005-06-01T00:00:00Z"))
    assert owing(state, 2006) == ["GH"]


def test_a_participant_admitted_again_owes_the_years_of_each_period() -> None:
    state = state_of(
        GH_2005,
        at(withdrawn("GH"), "2006-02-01T00:00:00Z"),
        at(admitted("GH"), "2009-07-01T00:00:00Z"),
    )
    owed = {year: owing(state, year) == ["GH"] for year in range(2004, 2011)}
    assert owed == {
        2004: False,
        2005: True,
        2006: True,
        2007: False,
        2008: False,
        2009: True,
        2010: True,
    }


def test_every_owing_participant_is_listed_in_order_of_code() -> None:
    state = state_of(
        at(admitted("ZA"), "2005-01-01T00:00:00Z"),
        GH_2005,
        at(admitted("AE"), "2007-01-01T00:00:00Z"),
    )
    assert owing(state, 2005) == ["GH", "ZA"]
    assert owing(state, 2007) == ["AE", "GH", "ZA"]
    assert compliance_report(state, 2005, "AE", today=date(2026, 1, 1))["participants"] == []


# ------------------------------------------------------------------------ states


def test_submitted_on_the_due_date_is_submitted_and_a_day_later_late() -> None:
    state = state_of(
        GH_2005,
        report("GH", 2005, "statistics", "2006-03-31"),
        report("GH", 2005, "annual_report", "2006-07-01"),
    )
    shown = reports_of(state, 2005, date(2026, 1, 1))
    assert shown == {
        "statistics": {"due_on": "2006-03-31", "submitted_on": "2006-03-31", "state": "submitted"},
        "annual_report": {"due_on": "2006-06-30", "submitted_on": "2006-07-01", "state": "late"},
    }


def test_without_a_report_it_is_due_up_to_the_due_date_then_overdue() -> None:
    state = state_of(GH_2005)
    assert reports_of(state, 2005, date(2006, 3, 31))["statistics"]["state"] == "due"
    assert reports_of(state, 2005, date(2006, 4, 1))["statistics"]["state"] == "overdue"
    assert reports_of(state, 2005, date(2006, 4, 1))["annual_report"]["state"] == "due"
    assert reports_of(state, 2005, date(2006, 4, 1))["statistics"]["submitted_on"] is None


def test_a_report_of_another_year_or_participant_does_not_count() -> None:
    state = state_of(
        GH_2005, at(admitted("CI"), "2005-01-01T00:00:00Z"), report("CI", 2005), report("GH", 2006)
    )
    assert reports_of(state, 2005, date(2007, 1, 1))["statistics"]["state"] == "overdue"


def test_due_dates_come_from_the_deadlines() -> None:
    state = state_of(GH_2005, report("GH", 2005, "statistics", "2006-02-01"))
    deadlines = Deadlines.parse("01-31", "12-31")
    (row,) = compliance_report(state, 2005, today=date(2006, 2, 1), deadlines=deadlines)[
        "participants"
    ]
    assert row["reports"]["statistics"] == {
        "due_on": "2006-01-31",
        "submitted_on": "2006-02-01",
        "state": "late",
    }
    assert row["reports"]["annual_report"]["due_on"] == "2006-12-31"


# ------------------------------------------------------------------------ reviews


def test_reviews_invited_up_to_the_year_with_visits_and_open_recommendations() -> None:
    state = state_of(
        at(admitted("GN"), "2003-01-01T00:00:00Z"),
        invited("RV-1", "GN", "2004-02-01"),
        visited("RV-1", "A", "B", "C", visited_on="2004-05-01"),
        implemented("RV-1", "B", "2005-03-01"),
        visited("RV-1", "D", kind="follow_up", visited_on="2005-11-14"),
        visited("RV-1", kind="follow_up", visited_on="2006-02-01"),
        invited("RV-2", "GN", "2006-01-10"),
    )
    (row,) = compliance_report(state, 2005, today=date(2026, 1, 1))["participants"]
    assert row["reviews"] == [
        {
            "review_id": "RV-1",
            "invited_on": "2004-02-01",
            "visits": [
                {"visited_on": "2004-05-01", "kind": "review"},
                {"visited_on": "2005-11-14", "kind": "follow_up"},
                {"visited_on": "2006-02-01", "kind": "follow_up"},
            ],
            "recommendations": 4,
            "implemented": 1,
            "open": ["A", "C", "D"],
        }
    ]
    (later,) = compliance_report(state, 2006, today=date(2026, 1, 1))["participants"]
    assert [review["review_id"] for review in later["reviews"]] == ["RV-1", "RV-2"]
    assert later["reviews"][1] == {
        "review_id": "RV-2",
        "invited_on": "2006-01-10",
        "visits": [],
        "recommendations": 0,
        "implemented": 0,
        "open": [],
    }
    (earlier,) = compliance_report(state, 2003, today=date(2026, 1, 1))["participants"]
    assert earlier["reviews"] == []


# ------------------------------------------------------------------------ the alert


def overdue_alerts(state: Custody, today: date, **kw: Any) -> list[tuple[str, str, int]]:
    return [
        (alert["subject"], alert["participant"], alert["position"])
        for alert in alerts(state, today=today, **kw)
        if alert["type"] == "report_overdue"
    ]


def test_report_overdue_for_every_owed_year_up_to_the_reading_date() -> None:
    state = state_of(
        at(admitted("GH"), "2004-12-31T12:00:00Z"),
        report("GH", 2004, "statistics", "2005-03-01"),
        report("GH", 2005, "annual_report", "2006-12-01"),
    )
    assert overdue_alerts(state, date(2005, 3, 31)) == []
    assert overdue_alerts(state, date(2005, 7, 1)) == [("GH/2004/annual_report", "GH", 1)]
    assert overdue_alerts(state, date(2006, 7, 1)) == [  # the annual report is recorded
        ("GH/2004/annual_report", "GH", 1),
        ("GH/2005/statistics", "GH", 1),
    ]
    assert overdue_alerts(state, date(2007, 4, 1)) == [
        ("GH/2004/annual_report", "GH", 1),
        ("GH/2005/statistics", "GH", 1),
        ("GH/2006/statistics", "GH", 1),
    ]


def test_report_overdue_shape_and_stable_id() -> None:
    state = state_of(GH_2005, at(withdrawn("GH"), "2005-09-01T00:00:00Z"))
    found = [a for a in alerts(state, today=date(2030, 1, 1)) if a["type"] == "report_overdue"]
    assert found == [
        {
            "alert_id": alert_id("report_overdue", "GH/2005/annual_report"),
            "type": "report_overdue",
            "severity": "medium",
            "subject": "GH/2005/annual_report",
            "participant": "GH",
            "position": 1,
            "detail": {"year": 2005, "kind": "annual_report", "due_on": "2006-06-30"},
            "review": None,
        },
        {
            "alert_id": alert_id("report_overdue", "GH/2005/statistics"),
            "type": "report_overdue",
            "severity": "medium",
            "subject": "GH/2005/statistics",
            "participant": "GH",
            "position": 1,
            "detail": {"year": 2005, "kind": "statistics", "due_on": "2006-03-31"},
            "review": None,
        },
    ]


def test_no_alert_beyond_the_last_year_reports_are_kept_for() -> None:
    state = state_of(at(admitted("GH"), "2100-06-01T00:00:00Z"))
    years = {year for _, year, _, _, _ in overdue(state, date(9999, 1, 1))}
    assert years == {2100}


def test_a_visit_may_omit_its_empty_recommendations() -> None:
    document = visited("RV-1", kind="follow_up")
    del document["recommendations"]
    (parsed,) = parse_request(document)
    assert normalize(parsed)["recommendations"] == []


def test_the_alert_follows_the_deadlines() -> None:
    state = state_of(GH_2005)
    late = Deadlines.parse("12-31", "12-31")
    assert overdue_alerts(state, date(2006, 7, 1), deadlines=late) == []
    assert [(year, kind) for _, year, kind, _, _ in overdue(state, date(2007, 1, 1), late)] == [
        (2005, "statistics"),
        (2005, "annual_report"),
    ]


# ------------------------------------------------------------------------ CSV


def test_csv_has_one_row_per_report_and_per_review() -> None:
    state = state_of(
        at(admitted("GN"), "2003-01-01T00:00:00Z"),
        GH_2005,
        report("GH", 2005, "statistics", "2006-03-01"),
        invited("RV-1", "GN", "2004-02-01"),
        visited("RV-1", "A", "B", visited_on="2004-05-01"),
        visited("RV-1", kind="follow_up", visited_on="2005-05-01"),
        implemented("RV-1", "A"),
    )
    text = to_csv(compliance_report(state, 2005, today=date(2006, 4, 1)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["participant"], r["record"], r["kind"], r["state"]) for r in rows] == [
        ("GH", "report", "statistics", "submitted"),
        ("GH", "report", "annual_report", "due"),
        ("GN", "report", "statistics", "overdue"),
        ("GN", "report", "annual_report", "due"),
        ("GN", "review", "", ""),
    ]
    assert rows[0]["submitted_on"] == "2006-03-01" and rows[1]["submitted_on"] == ""
    assert {k: rows[4][k] for k in ("review_id", "visits", "recommendations", "open")} == {
        "review_id": "RV-1",
        "visits": "2004-05-01 review;2005-05-01 follow_up",
        "recommendations": "2",
        "open": "B",
    }


# ------------------------------------------------------------------------ documents


@pytest.mark.parametrize(
    "document",
    [
        report("GH", 1999),
        report("GH", 2101),
        report("GH", "2005"),
        report("GH", True),
        report("GH", 2005.5),
        report("GH", 2005, "census"),
        report("GH", 2005, submitted_on="2006-3-1"),
        {**invited("RV-1", "GN"), "invited_on": None},
        visited("RV-1", kind="inspection"),
        visited("RV-1", "A", "A"),
        {**visited("RV-1"), "recommendations": [{"recommendation_id": "A"}]},
        {**visited("RV-1"), "recommendations": [{"recommendation_id": "A", "text": ""}]},
        {**implemented("RV-1", "A"), "recommendation_id": "not an id"},
    ],
)  # fmt: skip
def test_malformed_compliance_documents_are_invalid(document: dict[str, Any]) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_request(document)
    assert (caught.value.code, caught.value.status) == ("invalid", 422)


# ------------------------------------------------------------------------ settings


def test_due_days_are_days_of_every_year() -> None:
    assert month_day("06-30") == (6, 30)
    for bad in ("3-31", "03-32", "13-01", "02-29", "00-10", "0331", " 03-31", ""):
        with pytest.raises(ValueError, match="is not a day of every year"):
            month_day(bad)


def test_settings_read_the_due_days(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().deadlines == Deadlines((3, 31), (6, 30))
    monkeypatch.setenv("KPLEDGER_STATISTICS_DUE", "02-15")
    monkeypatch.setenv("KPLEDGER_ANNUAL_REPORT_DUE", "09-30")
    assert Settings().deadlines == Deadlines((2, 15), (9, 30))


@pytest.mark.parametrize("variable", ["KPLEDGER_STATISTICS_DUE", "KPLEDGER_ANNUAL_REPORT_DUE"])
def test_a_bad_due_day_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "04-31")
    with pytest.raises(ValidationError) as caught:
        Settings()
    problem = settings_problem(caught.value)
    assert problem.startswith(f"{variable}: ") and "'04-31'" in problem
    assert "\n" not in problem


def test_every_document_type_is_handled_and_applied() -> None:
    from ledger.documents import DOCUMENT_TYPES
    from projections.reads import applied_types

    assert {"report.submitted", "review.invited", "review.visited"} <= set(DOCUMENT_TYPES)
    assert applied_types() == frozenset(DOCUMENT_TYPES)

"""The seven alert types, each raised and each left quiet, on an injected reading date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from projections.alerts import ALERT_TYPES, alert_id, alerts, select
from projections.custody import Custody
from projections.examples import numbered
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    lifted,
    merged,
    mine,
    produced,
    site,
    split,
)

TODAY = date(2026, 2, 10)
ADMITTED_AT = "2026-01-01T00:00:00Z"  # no report is overdue in the readings below
SETUP = [
    {**admitted("GH"), "occurred_at": ADMITTED_AT},
    {**admitted("CI"), "occurred_at": ADMITTED_AT},
    {**admitted("AE"), "occurred_at": ADMITTED_AT},
    mine("M1", "GH", "Eastern", annual_capacity_carats="100"),
    site("S1", "CI", "Seguela"),
]


def found(*documents: dict[str, Any], today: date = TODAY, **thresholds: Any) -> list[dict]:
    state = Custody.replay(numbered([*SETUP, *documents]))
    return alerts(state, today=today, **thresholds)


def summary(raised: list[dict]) -> list[tuple[str, str, str, int]]:
    return [(a["type"], a["subject"], a["participant"], a["position"]) for a in raised]


def test_a_quiet_world_raises_nothing() -> None:
    assert found(produced("L1", "M1", "10"), split("L1", ("A", "4"), ("B", "6"))) == []


def test_embargoed_origin_for_lots_not_consumed() -> None:
    raised = found(
        produced("A", "S1", "10"),
        produced("B", "S1", "30"),
        split("B", ("B1", "10"), ("B2", "20")),
        embargo("E1", "CI", "2026-02-01"),
    )
    assert summary(raised) == [
        ("embargoed_origin", "A", "CI", 9),
        ("embargoed_origin", "B1", "CI", 9),
        ("embargoed_origin", "B2", "CI", 9),
    ]
    assert raised[0]["severity"] == "high"
    assert raised[0]["detail"]["embargoes"] == [
        {"embargo_id": "E1", "carats": "10.00", "fraction": 1.0}
    ]


def test_embargoed_origin_only_while_in_force() -> None:
    documents = [produced("A", "S1", "10"), embargo("E1", "CI", "2026-02-01")]
    assert found(*documents, today=date(2026, 1, 31)) == []
    assert found(*documents, lifted("E1", "2026-02-10")) == []
    assert len(found(*documents, lifted("E1", "2026-02-11"))) == 1


@pytest.mark.parametrize(
    ("value", "raised"), [("1200", False), ("1200.01", True), ("799.99", True), ("800", False)]
)
def test_value_discrepancy_beyond_the_threshold(value: str, raised: bool) -> None:
    result = found(
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10", value_usd="1000"),
        confirmed("CI-1", "10", value_usd=value),
    )
    assert [a["type"] for a in result] == (["value_discrepancy"] if raised else [])
    if raised:
        assert (result[0]["participant"], result[0]["subject"]) == ("GH", "CI-1")


def test_value_discrepancy_threshold_comes_from_settings() -> None:
    documents = [
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10", value_usd="1000"),
        confirmed("CI-1", "10", value_usd="1100"),
    ]
    assert found(*documents) == []
    assert [a["type"] for a in found(*documents, value_discrepancy=0.05)] == ["value_discrepancy"]


def test_carat_discrepancy_compares_per_carat_prices_too() -> None:
    result = found(
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10", value_usd="1000"),
        confirmed("CI-1", "9.5", value_usd="950"),
    )
    assert summary(result) == [("carat_discrepancy", "CI-1", "GH", 8)]
    assert result[0]["detail"]["difference"] == "-0.50"


def test_unconfirmed_certificate_after_expiry() -> None:
    documents = [
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10", expires_on="2026-02-09"),
    ]
    assert summary(found(*documents)) == [("unconfirmed_certificate", "CI-1", "CI", 7)]
    assert found(*documents, today=date(2026, 2, 9)) == []
    assert found(*documents, confirmed("CI-1", "10")) == []


def test_capacity_exceeded_per_calendar_year_utc() -> None:
    result = found(
        produced("L1", "M1", "60", occurred_at="2025-12-31T23:30:00-01:00"),  # 2026 in UTC
        produced("L2", "M1", "50", occurred_at="2026-06-01T00:00:00Z"),
        produced("L3", "M1", "99", occurred_at="2025-06-01T00:00:00Z"),
        produced("L4", "M1", "10", occurred_at="2026-07-01T00:00:00Z"),
    )
    assert summary(result) == [("capacity_exceeded", "M1/2026", "GH", 7)]
    assert result[0]["detail"]["produced_carats"] == "120.00"


def test_round_trip_through_another_participant() -> None:
    result = found(
        produced("L1", "M1", "10"),
        export("GH-1", "GH", "AE", ["L1"], "10"),
        confirmed("GH-1", "10"),
        split("L1", ("A", "4"), ("B", "6")),
        export("AE-1", "AE", "GH", ["A"], "4", issued_on="2026-02-01", expires_on="2026-03-10"),
        confirmed("AE-1", "4"),
    )
    assert summary(result) == [("round_trip", "AE-1", "GH", 11)]
    assert result[0]["detail"] == {
        "certificate_id": "AE-1",
        "lot_ids": ["A"],
        "left_under": ["GH-1"],
    }


def test_no_round_trip_for_a_first_import() -> None:
    assert (
        found(
            produced("L1", "M1", "10"),
            export("GH-1", "GH", "AE", ["L1"], "10"),
            confirmed("GH-1", "10"),
        )
        == []
    )


@pytest.mark.parametrize(("issued_on", "raised"), [("2026-01-19", True), ("2026-01-20", False)])
def test_rapid_reexport_through_a_merge(issued_on: str, raised: bool) -> None:
    result = found(
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10"),
        confirmed("CI-1", "10", received_on="2026-01-12"),
        produced("L2", "M1", "5"),
        merged(["L1", "L2"], "M"),
        export("GH-1", "GH", "AE", ["M"], "15", issued_on=issued_on, expires_on="2026-12-31"),
    )
    assert [a["type"] for a in result] == (["rapid_reexport"] if raised else [])
    if raised:
        assert result[0]["participant"] == "GH"
        assert result[0]["detail"]["imported_under"] == "CI-1"


def test_rapid_reexport_days_come_from_settings() -> None:
    documents = [
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10"),
        confirmed("CI-1", "10", received_on="2026-01-12"),
        export("GH-1", "GH", "AE", ["L1"], "10", issued_on="2026-01-22", expires_on="2026-03-10"),
    ]
    assert found(*documents) == []
    assert len(found(*documents, rapid_reexport_days=10)) == 1


def test_alert_ids_are_stable_and_distinct() -> None:
    assert alert_id("round_trip", "X") == alert_id("round_trip", "X")
    assert len({alert_id(kind, "X") for kind in ALERT_TYPES}) == len(ALERT_TYPES)


def test_select_by_type_and_participant() -> None:
    raised = [
        {"type": "round_trip", "participant": "GH"},
        {"type": "rapid_reexport", "participant": "GH"},
        {"type": "round_trip", "participant": "AE"},
    ]
    assert select(raised, alert_type="round_trip", participant="GH") == [raised[0]]
    assert select(raised, participant="AE") == [raised[2]]
    assert select(raised) == raised

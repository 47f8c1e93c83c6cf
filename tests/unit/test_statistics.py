"""Certificate-based statistics over hand-built logs: exact figures, JSON and CSV alike."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ledger.log import LogEntry
from projections.examples import numbered
from projections.statistics import CSV_COLUMNS, Statistics
from tests.support import confirmed, export, mine, produced, site

START = "2005-01-01T00:00:00Z"


def log_of(*documents: dict[str, Any]) -> list[LogEntry]:
    """Entries at positions 1..n, each document validated and normalized as the ledger stores it."""
    return numbered(documents)


def statistics_of(*documents: dict[str, Any]) -> Statistics:
    statistics = Statistics()
    for entry in log_of(*documents):
        statistics.apply(entry)
    return statistics


def trade(carats: str, value: str, count: int, **breakdowns: Any) -> dict[str, Any]:
    figures = {"carats": carats, "value_usd": value, "certificates": count}
    return {**figures, "by_hs_code": {}, "by_partner": {}, **breakdowns}


def world_documents() -> list[dict[str, Any]]:
    """Ghana and Côte d'Ivoire produce; Ghana ships two certificates to the UAE across New Year."""
    return [
        mine("AKW", "GH", occurred_at=START),
        site("SEG", "CI", occurred_at=START),
        produced("G1", "AKW", "100.00", "6000.00", occurred_at="2005-03-01T08:00:00Z"),
        produced("G2", "AKW", "40.25", "2000.10", occurred_at="2005-06-01T08:00:00+00:00"),
        # 23:30 at -02:00 on 31 December is 2006 in UTC.
        produced("G3", "AKW", "10.00", "500.00", occurred_at="2005-12-31T23:30:00-02:00"),
        produced("C1", "SEG", "12.34", "1234.56", occurred_at="2005-04-01T08:00:00Z"),
        export(
            "GH-2005-0001", "GH", "AE", ["G1"], "100.00", value_usd="6000.00",
            issued_on="2005-12-20", expires_on="2007-01-01", occurred_at="2005-12-20T10:00:00Z",
        ),
        export(
            "GH-2005-0002", "GH", "AE", ["G2"], "40.25", value_usd="2000.10",
            issued_on="2005-12-28", expires_on="2007-01-01", occurred_at="2005-12-28T10:00:00Z",
            hs_code="7102.21",
        ),
        confirmed("GH-2005-0001", "99.50", "6100.00", "2005-12-27",
                  occurred_at="2005-12-27T12:00:00+04:00"),
        # Received in the next year: an import of 2006, though exported in 2005.
        confirmed("GH-2005-0002", "40.25", "2000.10", "2006-01-03",
                  occurred_at="2006-01-03T12:00:00+04:00"),
    ]  # fmt: skip


def world() -> Statistics:
    return statistics_of(*world_documents())


def test_production_exports_and_imports_fall_in_their_own_years() -> None:
    statistics = world()

    assert statistics.report(2005) == {
        "year": 2005,
        "participants": [
            {
                "participant": "AE",
                "production": {"carats": "0.00", "value_usd": "0.00"},
                "exports": trade("0.00", "0.00", 0),
                "imports": trade(
                    "99.50",
                    "6100.00",
                    1,
                    by_hs_code={"7102.10": {"carats": "99.50", "value_usd": "6100.00",
                                            "certificates": 1}},
                    by_partner={"GH": {"carats": "99.50", "value_usd": "6100.00",
                                       "certificates": 1}},
                ),
            },
            {
                "participant": "CI",
                "production": {"carats": "12.34", "value_usd": "1234.56"},
                "exports": trade("0.00", "0.00", 0),
                "imports": trade("0.00", "0.00", 0),
            },
            {
                "participant": "GH",
                "production": {"carats": "140.25", "value_usd": "8000.10"},
                "exports": trade(
                    "140.25",
                    "8000.10",
                    2,
                    by_hs_code={
                        "7102.10": {"carats": "100.00", "value_usd": "6000.00", "certificates": 1},
                        "7102.21": {"carats": "40.25", "value_usd": "2000.10", "certificates": 1},
                    },
                    by_partner={
                        "AE": {"carats": "140.25", "value_usd": "8000.10", "certificates": 2}
                    },
                ),
                "imports": trade("0.00", "0.00", 0),
            },
        ],
    }  # fmt: skip
    assert statistics.report(2006) == {
        "year": 2006,
        "participants": [
            {
                "participant": "AE",
                "production": {"carats": "0.00", "value_usd": "0.00"},
                "exports": trade("0.00", "0.00", 0),
                "imports": trade(
                    "40.25",
                    "2000.10",
                    1,
                    by_hs_code={"7102.21": {"carats": "40.25", "value_usd": "2000.10",
                                            "certificates": 1}},
                    by_partner={"GH": {"carats": "40.25", "value_usd": "2000.10",
                                       "certificates": 1}},
                ),
            },
            {
                "participant": "GH",
                "production": {"carats": "10.00", "value_usd": "500.00"},
                "exports": trade("0.00", "0.00", 0),
                "imports": trade("0.00", "0.00", 0),
            },
        ],
    }  # fmt: skip


def test_a_year_without_activity_lists_nobody() -> None:
    assert world().report(2004) == {"year": 2004, "participants": []}


def test_a_named_participant_without_activity_shows_zeros() -> None:
    assert world().report(2005, "RU") == {
        "year": 2005,
        "participants": [
            {
                "participant": "RU",
                "production": {"carats": "0.00", "value_usd": "0.00"},
                "exports": trade("0.00", "0.00", 0),
                "imports": trade("0.00", "0.00", 0),
            }
        ],
    }


def test_a_named_participant_shows_only_itself() -> None:
    report = world().report(2005, "CI")
    assert [row["participant"] for row in report["participants"]] == ["CI"]
    assert report["participants"][0]["production"] == {"carats": "12.34", "value_usd": "1234.56"}


def test_the_public_report_has_totals_without_breakdowns() -> None:
    public = world().public_report(2005)
    assert public["participants"][2] == {
        "participant": "GH",
        "production": {"carats": "140.25", "value_usd": "8000.10"},
        "exports": {"carats": "140.25", "value_usd": "8000.10", "certificates": 2},
        "imports": {"carats": "0.00", "value_usd": "0.00", "certificates": 0},
    }
    assert [row["participant"] for row in public["participants"]] == ["AE", "CI", "GH"]


def test_sums_are_exact_decimals() -> None:
    statistics = statistics_of(
        mine("BIG", "RU", occurred_at=START),
        produced("R1", "BIG", "999999999.99", "0.10", occurred_at="2005-01-02T00:00:00Z"),
        produced("R2", "BIG", "0.01", "0.20", occurred_at="2005-01-03T00:00:00Z"),
        *(
            produced(f"S{n}", "BIG", "0.10", "0.10", occurred_at="2005-01-04T00:00:00Z")
            for n in range(10)
        ),
    )
    production = statistics.report(2005)["participants"][0]["production"]
    assert production == {"carats": "1000000001.00", "value_usd": "1.30"}


def csv_as_report(text: str) -> dict[str, Any]:
    """Rebuilds the JSON report from its CSV form."""
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, "the CSV has no rows"
    participants: dict[str, dict[str, Any]] = {}
    years = set()
    for row in rows:
        years.add(int(row["year"]))
        entry = participants.setdefault(row["participant"], {"participant": row["participant"]})
        figures = {"carats": row["carats"], "value_usd": row["value_usd"]}
        if row["certificates"] != "":
            figures["certificates"] = int(row["certificates"])
        if row["breakdown"] == "total":
            entry[row["flow"]] = figures
        else:
            key = {"hs_code": "by_hs_code", "partner": "by_partner"}[row["breakdown"]]
            entry[row["flow"]].setdefault(key, {})[row["key"]] = figures
    for entry in participants.values():
        for flow in ("exports", "imports"):
            entry[flow].setdefault("by_hs_code", {})
            entry[flow].setdefault("by_partner", {})
    (year,) = years
    return {"year": year, "participants": list(participants.values())}


@pytest.mark.parametrize("participant", [None, "GH", "AE", "RU"])
def test_csv_carries_the_same_figures_as_json(participant: str | None) -> None:
    statistics = world()
    report = statistics.report(2005, participant)
    text = statistics.to_csv(report)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert csv_as_report(text) == report


def test_public_csv_has_totals_only() -> None:
    statistics = world()
    rows = list(csv.DictReader(io.StringIO(statistics.to_csv(statistics.public_report(2005)))))
    assert {row["breakdown"] for row in rows} == {"total"}
    assert len(rows) == 3 * 3
    ghana_exports = next(r for r in rows if r["participant"] == "GH" and r["flow"] == "exports")
    assert (ghana_exports["carats"], ghana_exports["certificates"]) == ("140.25", "2")


def test_applying_moves_the_position_on() -> None:
    statistics = Statistics()
    entries = log_of(
        mine("AKW", "GH", occurred_at=START),
        produced("G1", "AKW", "1.00", "1.00", occurred_at="2005-01-01T00:00Z"),
    )
    for entry in entries:
        statistics.apply(entry)
    assert statistics.position == 2

"""GET /v1/compliance in-process over an in-memory log: roles, validation, as_of, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.actors import Actor
from projections.examples import numbered
from tests.support import admitted, implemented, invited, report, visited
from tests.unit.worlds import StandInLedger

TOKENS = {
    "sec": Actor("secretariat", "sec"),
    "inv": Actor("investigator", "inv"),
    "aud": Actor("auditor", "aud"),
    "gh": Actor("authority", "gh", "GH"),
    "gn": Actor("authority", "gn", "GN"),
}


def at(document: dict[str, Any], occurred_at: str) -> dict[str, Any]:
    return {**document, "occurred_at": occurred_at}


# Positions 1..8; entry P is recorded at 2026-01-01 P:00 UTC (projections.examples).
WORLD = [
    at(admitted("GH"), "2005-03-01T10:00:00Z"),
    at(admitted("GN"), "2003-01-01T10:00:00Z"),
    at(admitted("AE"), "2007-05-01T10:00:00Z"),
    invited("RV-GN", "GN", "2004-02-16"),
    visited("RV-GN", "R1", "R2", visited_on="2004-05-10"),
    report("GH", 2005, "statistics", "2006-03-31"),  # position 6
    implemented("RV-GN", "R2", "2005-03-01"),
    report("GH", 2005, "annual_report", "2006-07-01"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    ledger: Any = StandInLedger(numbered(WORLD), TOKENS)
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=ledger)
    with TestClient(app) as test_client:
        yield test_client


def get(client: TestClient, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/v1/compliance", params=params, headers=headers)


def states(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        row["participant"]: (
            row["reports"]["statistics"]["state"],
            row["reports"]["annual_report"]["state"],
        )
        for row in body["participants"]
    }


@pytest.mark.parametrize("token", ["sec", "inv", "aud"])
def test_readers_of_everything_read_every_owing_participant(client: TestClient, token: str) -> None:
    response = get(client, token, year="2005")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == 2005
    assert states(body) == {"GH": ("submitted", "late"), "GN": ("overdue", "overdue")}
    gn = body["participants"][1]
    assert gn["reviews"] == [
        {
            "review_id": "RV-GN",
            "invited_on": "2004-02-16",
            "visits": [{"visited_on": "2004-05-10", "kind": "review"}],
            "recommendations": 2,
            "implemented": 1,
            "open": ["R1"],
        }
    ]
    assert states(get(client, token, year="2007").json()) == {
        "AE": ("overdue", "overdue"),
        "GH": ("overdue", "overdue"),
        "GN": ("overdue", "overdue"),
    }


def test_a_reader_of_everything_may_name_one_participant(client: TestClient) -> None:
    body = get(client, "inv", year="2005", participant="GN").json()
    assert [row["participant"] for row in body["participants"]] == ["GN"]
    assert get(client, "inv", year="2005", participant="AE").json()["participants"] == []


def test_an_authority_reads_its_own_participant_only(client: TestClient) -> None:
    own = get(client, "gh", year="2005")
    assert own.status_code == 200
    assert [row["participant"] for row in own.json()["participants"]] == ["GH"]
    assert get(client, "gh", year="2005", participant="GH").json() == own.json()
    other = get(client, "gh", year="2005", participant="GN")
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "params",
    [{}, {"year": "twenty"}, {"year": "20051"}, {"year": "1999"}, {"year": "2101"},
     {"year": "-2005"}, {"year": "2005", "format": "xml"}, {"year": "2005", "participant": "XX"},
     {"year": "2005", "as_of": "yesterday"}],
)  # fmt: skip
def test_a_missing_or_bad_parameter_is_invalid(client: TestClient, params: dict[str, str]) -> None:
    response = get(client, "inv", **params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_checks_run_401_then_422_then_403(client: TestClient) -> None:
    assert get(client, None, year="2005").status_code == 401
    assert get(client, "nobody", year="bad").status_code == 401
    assert get(client, "gh", year="bad", participant="GN").status_code == 422
    assert get(client, "gh", year="2005", participant="GN").status_code == 403


def test_as_of_reads_the_reports_recorded_by_then(client: TestClient) -> None:
    before = get(client, "gh", year="2005", as_of="5").json()
    assert before["participants"][0]["reports"]["statistics"] == {
        "due_on": "2006-03-31",
        "submitted_on": None,
        "state": "overdue",
    }
    after = get(client, "gh", year="2005", as_of="6").json()
    assert after["participants"][0]["reports"]["statistics"]["state"] == "submitted"
    assert after["participants"][0]["reports"]["annual_report"]["state"] == "overdue"
    instant = get(client, "gh", year="2005", as_of="2026-01-01T05:30:00+00:00").json()
    assert instant == before
    assert get(client, "inv", year="2005", as_of="0").json() == {"year": 2005, "participants": []}


def test_as_of_judges_overdue_on_the_instant_read(client: TestClient) -> None:
    # an instant's date is the reading date: before the due date nothing is overdue yet
    ledger: Any = StandInLedger(numbered(WORLD[:2]), TOKENS)
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=ledger)
    with TestClient(app) as early:
        body = early.get(
            "/v1/compliance",
            params={"year": "2026", "as_of": "2027-03-31T23:00:00+00:00"},
            headers={"Authorization": "Bearer inv"},
        ).json()
        assert states(body) == {"GH": ("due", "due"), "GN": ("due", "due")}
        body = early.get(
            "/v1/compliance",
            params={"year": "2026", "as_of": "2027-04-01T00:00:00+00:00"},
            headers={"Authorization": "Bearer inv"},
        ).json()
        assert states(body) == {"GH": ("overdue", "due"), "GN": ("overdue", "due")}


def test_csv_gives_one_row_per_report_kind_and_per_review(client: TestClient) -> None:
    response = get(client, "aud", year="2005", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [
        (r["participant"], r["record"], r["kind"] or r["review_id"], r["state"]) for r in rows
    ] == [
        ("GH", "report", "statistics", "submitted"),
        ("GH", "report", "annual_report", "late"),
        ("GN", "report", "statistics", "overdue"),
        ("GN", "report", "annual_report", "overdue"),
        ("GN", "review", "RV-GN", ""),
    ]
    assert rows[4]["open"] == "R1" and rows[4]["implemented"] == "1"
    own = get(client, "gn", year="2005", format="csv")
    assert {row["participant"] for row in csv.DictReader(io.StringIO(own.text))} == {"GN"}


def test_report_overdue_alerts_through_the_alerts_route(client: TestClient) -> None:
    headers = {"Authorization": "Bearer inv"}
    found = client.get("/v1/alerts", params={"type": "report_overdue"}, headers=headers).json()
    subjects = {alert["subject"] for alert in found["alerts"]}
    assert {"GN/2003/statistics", "GN/2005/annual_report", "AE/2007/statistics"} <= subjects
    assert "GH/2005/statistics" not in subjects and "GH/2005/annual_report" not in subjects
    assert "GH/2004/statistics" not in subjects and "AE/2006/statistics" not in subjects
    own = client.get(
        "/v1/alerts", params={"type": "report_overdue"}, headers={"Authorization": "Bearer gh"}
    ).json()
    assert own["alerts"] and {alert["participant"] for alert in own["alerts"]} == {"GH"}

"""The statistics routes in-process over an in-memory log: roles, validation, JSON and CSV."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.actors import Actor
from tests.support import mine, produced
from tests.unit.test_statistics import START, csv_as_report, log_of, statistics_of, world_documents
from tests.unit.worlds import StandInLedger

TOKENS = {
    "auditor": Actor("auditor", "auditor"),
    "investigator": Actor("investigator", "investigator"),
    "secretariat": Actor("secretariat", "secretariat"),
    "gh": Actor("authority", "gh", "GH"),
}


@pytest.fixture
def log() -> StandInLedger:
    return StandInLedger(log_of(*world_documents()), TOKENS)


@pytest.fixture
def client(log: StandInLedger) -> TestClient:
    """The app without its lifespan (no log follower): each read catches up by itself."""
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=log)  # type: ignore[arg-type]
    return TestClient(app)


def get(client: TestClient, path: str, token: str | None = None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, params=params, headers=headers)


EXPECTED = statistics_of(*world_documents())


@pytest.mark.parametrize("token", ["auditor", "investigator", "secretariat"])
def test_readers_of_everything_get_every_participant(client: TestClient, token: str) -> None:
    response = get(client, "/v1/statistics", token, year="2005")
    assert response.status_code == 200
    assert response.json() == EXPECTED.report(2005)
    assert [row["participant"] for row in response.json()["participants"]] == ["AE", "CI", "GH"]


def test_a_reader_of_everything_may_name_a_participant(client: TestClient) -> None:
    response = get(client, "/v1/statistics", "auditor", year="2006", participant="CI")
    assert response.json() == EXPECTED.report(2006, "CI")


def test_an_authority_reads_its_own_participant_by_default(client: TestClient) -> None:
    own = get(client, "/v1/statistics", "gh", year="2005")
    assert own.status_code == 200
    assert own.json() == EXPECTED.report(2005, "GH")
    named = get(client, "/v1/statistics", "gh", year="2005", participant="GH")
    assert named.json() == own.json()


def test_an_authority_may_not_read_another_participant(client: TestClient) -> None:
    response = get(client, "/v1/statistics", "gh", year="2005", participant="AE")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "params",
    [{}, {"year": "twenty"}, {"year": "20051"}, {"year": "2005", "format": "xml"},
     {"year": "2005", "participant": "XX"}],
)  # fmt: skip
def test_a_missing_or_bad_parameter_is_invalid(client: TestClient, params: dict[str, str]) -> None:
    response = get(client, "/v1/statistics", "investigator", **params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_checks_run_401_then_422_then_403(client: TestClient) -> None:
    assert get(client, "/v1/statistics", None, year="bad").status_code == 401
    assert get(client, "/v1/statistics", "nobody", year="2005").status_code == 401
    assert get(client, "/v1/statistics", "gh", year="bad", participant="AE").status_code == 422


def test_csv_gives_the_same_figures(client: TestClient) -> None:
    response = get(client, "/v1/statistics", "investigator", year="2005", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert csv_as_report(response.text) == EXPECTED.report(2005)


def test_public_statistics_need_no_token_and_have_no_breakdowns(client: TestClient) -> None:
    response = get(client, "/v1/statistics/public", year="2005")
    assert response.status_code == 200
    assert response.json() == EXPECTED.public_report(2005)
    assert "by_partner" not in response.json()["participants"][0]["exports"]
    csv_text = get(client, "/v1/statistics/public", year="2005", format="csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text == EXPECTED.to_csv(EXPECTED.public_report(2005))
    assert get(client, "/v1/statistics/public").status_code == 422


def test_reads_reflect_documents_appended_since(client: TestClient, log: StandInLedger) -> None:
    assert get(client, "/v1/statistics/public", year="2007").json()["participants"] == []
    more = log_of(
        *world_documents(),
        mine("MIR", "RU", occurred_at=START),
        produced("R1", "MIR", "7.00", "700.00", occurred_at="2007-05-05T05:00:00+09:00"),
    )
    log.append(*more[-2:])
    rows = get(client, "/v1/statistics/public", year="2007").json()["participants"]
    assert rows == [
        {
            "participant": "RU",
            "production": {"carats": "7.00", "value_usd": "700.00"},
            "exports": {"carats": "0.00", "value_usd": "0.00", "certificates": 0},
            "imports": {"carats": "0.00", "value_usd": "0.00", "certificates": 0},
        }
    ]

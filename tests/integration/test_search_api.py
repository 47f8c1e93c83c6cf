"""GET /v1/search and GET /v1/participants on each store: ordering, matching, limits,
kinds, what an authority finds, and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    confirmed,
    doc,
    export,
    licensed,
    produced,
    site,
)


def _world(ledger: Ledger) -> None:
    ledger.post(
        {
            "events": [
                admitted("GH", "Ghana"),
                admitted("CI", "Côte d'Ivoire"),
                admitted("AE", "United Arab Emirates"),
                admitted("GN", "Guinea"),
                admitted("SL", "Sierra Leone"),
                doc("participant.withdrawn", participant="GN", reason="left the scheme"),
                doc(
                    "participant.admitted",
                    occurred_at="2005-09-15T23:30:00-05:00",
                    participant="GN",
                    name="Guinea",
                ),
                doc("participant.suspended", participant="SL", reason="review mission"),
            ]
        },
        SECRETARIAT,
    )
    ledger.post(
        {
            "events": [
                doc(
                    "mine.registered",
                    mine_id="GH-AKW",
                    participant="GH",
                    name="Akwatia",
                    region="Eastern",
                    location={"lat": 6.0, "lon": -0.8},
                ),
                produced("AK-1", "GH-AKW", "10"),
                produced("AK-10", "GH-AKW", "20"),
                produced("AK-100", "GH-AKW", "30"),
                produced("GH-L1", "GH-AKW", "40"),
                export("GH-2005-1", "GH", "AE", ["GH-L1"], "40"),
            ]
        },
        authority("GH"),
    )
    ledger.post(confirmed("GH-2005-1", "40"), authority("AE"))
    ledger.post(licensed("GH-KADE", "buyer", name="Kade Licensed Diamond Buyers"), authority("GH"))
    ledger.post(
        {"events": [site("CI-SEG", "CI", region="Worodougou"), produced("CI-1", "CI-SEG", "5")]},
        authority("CI"),
    )


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    _world(ledger)
    tokens = {
        "inv": ledger.create_token("investigator", "inv"),
        "aud": ledger.create_token("auditor", "aud"),
        "gh": ledger.create_token("authority", "gh", "GH"),
        "ae": ledger.create_token("authority", "ae", "AE"),
        "ci": ledger.create_token("authority", "ci", "CI"),
    }
    app = create_app(Settings(database_url=store_url), ledger=ledger)
    with TestClient(app) as client:
        yield client, tokens


def _get(
    api: tuple[TestClient, dict[str, str]], path: str, who: str | None = "inv", **params: Any
) -> tuple[int, Any]:
    client, tokens = api
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    response = client.get(path, params=params, headers=headers)
    return response.status_code, response.json()


def _ids(api: tuple[TestClient, dict[str, str]], who: str = "inv", **params: Any) -> list[str]:
    status, body = _get(api, "/v1/search", who, **params)
    assert status == 200, body
    return [hit["id"] for hit in body["results"]]


def test_exact_id_first_then_prefixes(api: Any) -> None:
    assert _ids(api, q="AK-10") == ["AK-10", "AK-100"]
    assert _ids(api, q="ak-1") == ["AK-1", "AK-10", "AK-100"]
    assert _ids(api, q="GH")[:3] == ["GH", "GH-L1", "GH-AKW"]  # exact, then lot, then mine
    assert _ids(api, q="GH-2005-1") == ["GH-2005-1"]


def test_names_contain_the_text_case_insensitively(api: Any) -> None:
    status, body = _get(api, "/v1/search", q="AKWAT")
    assert status == 200
    assert body["results"] == [
        {"id": "GH-AKW", "kind": "mine", "label": "mine Akwatia, Eastern (GH)", "risk": []}
    ]
    assert _ids(api, q="arab") == ["AE"]
    assert _ids(api, q="côte") == ["CI"]


def test_labels_say_what_the_id_is(api: Any) -> None:
    status, body = _get(api, "/v1/search", q="GH-L1")
    assert status == 200
    assert body["results"][0] == {
        "id": "GH-L1",
        "kind": "lot",
        "label": "lot 40.00 ct held by AE",
        "risk": [],
    }
    _, body = _get(api, "/v1/search", q="SL")
    assert body["results"][0]["label"] == "Sierra Leone (suspended)"
    _, body = _get(api, "/v1/search", q="GH-2005-1", kind="certificate")
    assert body["results"][0]["label"] == "certificate GH → AE, 40.00 ct, issued 2005-07-01"


def test_limit_and_kind(api: Any) -> None:
    assert _ids(api, q="AK", limit="2") == ["AK-1", "AK-10"]
    assert _ids(api, q="gh", kind="mine") == ["GH-AKW"]
    assert _ids(api, q="CI", kind="alluvial_site") == ["CI-SEG"]
    assert _ids(api, q="gh", kind="participant") == ["GH"]
    assert _ids(api, q="kade", kind="operator") == ["GH-KADE"]
    assert _ids(api, q="kade") == ["GH-KADE"]
    assert len(_ids(api, q="A", limit="200")) <= 200


def test_an_authority_finds_only_what_it_may_read(api: Any) -> None:
    # AE received GH-L1 under GH-2005-1: it finds both, not GH's mine or other lots
    assert _ids(api, "ae", q="GH-") == ["GH-L1", "GH-2005-1"]
    assert _ids(api, "ae", q="AK") == []
    assert _ids(api, "ae", q="kade") == []  # another participant's operator
    assert _ids(api, "gh", q="kade") == ["GH-KADE"]
    assert _ids(api, "gh", q="GH-") == ["GH-L1", "GH-AKW", "GH-2005-1", "GH-KADE"]
    assert _ids(api, "ci", q="CI") == ["CI", "CI-1", "CI-SEG"]
    assert _ids(api, "ci", q="GH") == ["GH"]  # participants are public
    assert _ids(api, "aud", q="CI-") == ["CI-1", "CI-SEG"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "GH", "limit": "0"},
        {"q": "GH", "limit": "201"},
        {"q": "GH", "limit": "ten"},
        {"q": "GH", "limit": "-1"},
        {"q": "GH", "kind": "lots"},
        {"q": "GH", "kind": "source"},
    ],
)
def test_bad_requests_are_422(api: Any, params: dict[str, str]) -> None:
    status, body = _get(api, "/v1/search", **params)
    assert status == 422 and body["error"]["code"] == "invalid"


def test_without_a_known_token_it_is_401(api: Any) -> None:
    client, _ = api
    for path in ("/v1/search?q=GH", "/v1/search", "/v1/participants"):
        assert client.get(path).status_code == 401
        response = client.get(path, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_participants_lists_everyone_ever_admitted(api: Any) -> None:
    for who in ("inv", "gh", "ci"):  # any valid token
        status, body = _get(api, "/v1/participants", who)
        assert status == 200
        listed = {entry["participant"]: entry for entry in body["participants"]}
        assert sorted(listed) == ["AE", "CI", "GH", "GN", "SL"]
        assert listed["GH"] == {
            "participant": "GH",
            "name": "Ghana",
            "status": "admitted",
            "admitted_on": "2005-06-01",
        }
        assert listed["SL"]["status"] == "suspended"
        # admitted again after its withdrawal: the latest admission's date, as written
        assert listed["GN"]["status"] == "admitted"
        assert listed["GN"]["admitted_on"] == "2005-09-15"


def test_a_withdrawal_shows_and_new_documents_are_read(api: Any, ledger: Ledger) -> None:
    ledger.post(doc("participant.withdrawn", participant="SL", reason="left"), SECRETARIAT)
    ledger.post(produced("AK-1000", "GH-AKW", "1"), authority("GH"))
    status, body = _get(api, "/v1/participants")
    assert status == 200
    assert {e["participant"]: e["status"] for e in body["participants"]}["SL"] == "withdrawn"
    assert "AK-1000" in _ids(api, q="AK-1000")

"""The protocol's order of checks, 401, 422, 403, 409, on each store: a missing token
before a bad query, a jurisdiction before idempotency, and an authority's unknown and
forbidden ids answered alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import SECRETARIAT, admitted, authority, batch, licensed, mine, produced


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ledger.post(batch(admitted("GH"), admitted("AE")), SECRETARIAT)
    ledger.post(batch(mine("GH-M1", "GH"), licensed("GH-OP-1", "digger")), authority("GH"))
    ledger.post(licensed("AE-OP-1", "dealer"), authority("AE"))
    tokens = {
        "gh": ledger.create_token("authority", "gh", "GH"),
        "ae": ledger.create_token("authority", "ae", "AE"),
        "inv": ledger.create_token("investigator", "inv"),
    }
    with TestClient(create_app(Settings(database_url=store_url), ledger=ledger)) as client:
        yield client, tokens


def _secured_reads(client: TestClient) -> list[str]:
    paths = client.get("/openapi.json").json()["paths"]
    return [
        re.sub(r"\{[^}]+\}", "X", path)
        for path, operations in paths.items()
        if "security" in operations.get("get", {})
    ]


def test_no_token_is_401_before_any_bad_or_empty_query_value(api: Any) -> None:
    client, tokens = api
    reads = _secured_reads(client)
    assert "/v1/lots/X" in reads and "/v1/search" in reads
    for path in reads:
        for query in ("as_of=bad", "as_of=", "limit=-1&year=x", "q="):
            for headers in ({}, {"Authorization": "Bearer kpl_unknown"}):
                answer = client.get(f"{path}?{query}", headers=headers)
                assert answer.status_code == 401, (path, query, answer.text)
    # with a good token, the same empty value is the 422 it always was
    empty = client.get("/v1/alerts?as_of=", headers={"Authorization": f"Bearer {tokens['inv']}"})
    assert empty.status_code == 422
    assert empty.json()["error"]["detail"] == {"field": "as_of"}
    # a route without a token refuses an empty value at once
    assert client.get("/v1/statistics/public?year=").status_code == 422


def test_a_repost_of_another_participants_document_is_403_before_idempotency(
    api: Any, ledger: Ledger
) -> None:
    client, tokens = api
    document = produced("GH-L1", "GH-M1", "10")
    ghana = {"Authorization": f"Bearer {tokens['gh']}"}
    emirates = {"Authorization": f"Bearer {tokens['ae']}"}
    assert client.post("/v1/events", json=document, headers=ghana).status_code == 201
    head = ledger.head_position()
    for body in (document, {**document, "carats": "11"}, batch(document)):
        answer = client.post("/v1/events", json=body, headers=emirates)
        assert answer.status_code == 403, answer.text
        error = answer.json()["error"]
        assert error["code"] == "forbidden"
        assert "position" not in (error.get("detail") or {})
    again = client.post("/v1/events", json=document, headers=ghana)
    assert (again.status_code, again.json()["position"]) == (200, head)
    reused = client.post("/v1/events", json={**document, "carats": "11"}, headers=ghana)
    assert reused.json()["error"]["code"] == "event_id_reused"
    assert ledger.head_position() == head


def test_an_authority_gets_the_same_answer_for_an_unknown_and_a_forbidden_operator(
    api: Any,
) -> None:
    client, tokens = api
    ghana = {"Authorization": f"Bearer {tokens['gh']}"}
    own = client.get("/v1/operators/GH-OP-1", headers=ghana)
    assert own.status_code == 200, own.text
    other = client.get("/v1/operators/AE-OP-1", headers=ghana)
    unknown = client.get("/v1/operators/AE-OP-2", headers=ghana)
    assert other.status_code == unknown.status_code == 403
    assert other.json()["error"]["code"] == unknown.json()["error"]["code"] == "forbidden"
    assert other.json()["error"]["message"].replace("AE-OP-1", "ID") == (
        unknown.json()["error"]["message"].replace("AE-OP-2", "ID")
    )
    investigator = {"Authorization": f"Bearer {tokens['inv']}"}
    assert client.get("/v1/operators/AE-OP-2", headers=investigator).status_code == 404

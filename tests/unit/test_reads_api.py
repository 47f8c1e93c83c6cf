"""The read routes in-process over an in-memory log: status codes, roles, as_of."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.actors import Actor
from projections.examples import example_entries
from tests.unit.worlds import StandInLedger

TOKENS = {
    "sec": Actor("secretariat", "sec"),
    "inv": Actor("investigator", "inv"),
    "gh": Actor("authority", "gh", "GH"),
    "ae": Actor("authority", "ae", "AE"),
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    ledger: Any = StandInLedger(example_entries(), TOKENS)
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=ledger)
    with TestClient(app) as test_client:
        yield test_client


def get(
    client: TestClient, path: str, token: str | None = "inv", **params: str
) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(path, params=params, headers=headers)
    body = (
        response.json() if response.headers["content-type"].startswith("application/json") else {}
    )
    return response.status_code, body


def test_lot_routes_answer_the_protocol_shapes(client: TestClient) -> None:
    status, lot = get(client, "/v1/lots/L-A")
    assert status == 200 and lot["carats"] == "160.00" and lot["status"] == "in_transit"
    status, answer = get(client, "/v1/lots/L-A/provenance", as_of="2026-02-02T00:00:00+00:00")
    assert answer["embargoed"][0]["carats"] == "53.3333"
    assert get(client, "/v1/lots/L-A/custody")[1]["steps"][-1]["certificate_id"] == "GH-1"
    assert [e["position"] for e in get(client, "/v1/lots/L-A/history")[1]["events"]] == [11, 12]


def test_as_of_position_and_offsets(client: TestClient) -> None:
    assert get(client, "/v1/lots/L-CI", as_of="8")[1]["status"] == "in_transit"
    # a + sent unencoded arrives as a space, and is read as +
    status, lot = get(client, "/v1/lots/L-CI", as_of="2026-01-01T10:00:00 02:00")
    assert (status, lot["status"]) == (200, "in_transit")


@pytest.mark.parametrize("as_of", ["-1", "yesterday", "2026-01-01T00:00:00", "2026-01-01", ""])
def test_invalid_as_of_is_422(client: TestClient, as_of: str) -> None:
    status, body = get(client, "/v1/lots/L-A", as_of=as_of)
    assert (status, body["error"]["code"]) == (422, "invalid")


def test_missing_or_unknown_token_is_401_before_422(client: TestClient) -> None:
    assert get(client, "/v1/lots/L-A", token=None, as_of="bad")[0] == 401
    assert get(client, "/v1/alerts", token="nope")[0] == 401


def test_unknown_ids_are_404(client: TestClient) -> None:
    status, body = get(client, "/v1/lots/nope/provenance")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert get(client, "/v1/graph", root="nope")[0] == 404
    assert get(client, "/v1/trace/downstream", source_id="nope")[0] == 404


def test_an_authority_reads_only_lots_its_participant_has_held(client: TestClient) -> None:
    assert get(client, "/v1/lots/L-CI", token="gh")[0] == 200
    assert get(client, "/v1/lots/L-A/custody", token="gh")[0] == 200
    status, body = get(client, "/v1/lots/L-A", token="ae")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert get(client, "/v1/lots/nope", token="ae")[0] == 403


def test_an_authority_may_not_trace_or_graph_but_422_comes_first(client: TestClient) -> None:
    assert get(client, "/v1/trace/downstream", token="gh", source_id="M-GH")[0] == 403
    assert get(client, "/v1/graph", token="gh", root="L-A")[0] == 403
    assert get(client, "/v1/trace/downstream", token="gh")[0] == 422
    assert get(client, "/v1/graph", token="gh", root="L-A", direction="sideways")[0] == 422


def test_an_authority_sees_only_its_own_alerts(client: TestClient) -> None:
    everything = get(client, "/v1/alerts", token="sec")[1]["alerts"]
    own = get(client, "/v1/alerts", token="gh")[1]["alerts"]
    assert own and all(alert["participant"] == "GH" for alert in own)
    assert get(client, "/v1/alerts", token="ae")[1]["alerts"] == [
        alert for alert in everything if alert["participant"] == "AE"
    ]
    assert get(client, "/v1/alerts", type="nonsense")[0] == 422
    typed = get(client, "/v1/alerts", type="rapid_reexport")[1]["alerts"]
    assert [alert["type"] for alert in typed] == ["rapid_reexport"]


def test_downstream_and_graph_formats(client: TestClient) -> None:
    status, traced = get(client, "/v1/trace/downstream", participant="CI", region="Seguela")
    assert status == 200 and traced["participants"] == ["CI", "GH"]
    status, graph = get(client, "/v1/graph", root="L-A", direction="up")
    assert status == 200 and {"nodes", "edges"} <= set(graph)
    response = client.get(
        "/v1/graph",
        params={"root": "L-A", "format": "graphml"},
        headers={"Authorization": "Bearer inv"},
    )
    assert response.headers["content-type"].startswith("application/graphml+xml")
    assert "lot:L-A" in nx.read_graphml(io.StringIO(response.text))

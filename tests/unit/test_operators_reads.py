"""The read side of operators over `operator_entries`, pure and through the routes in-process.

Positions: 4-6 license GH-OP-1 (digger, dealer), GH-OP-2 (buyer, exporter) and AE-OP-1
(importer); 7 GH-OP-1 produces L-1; 8 cuts it into L-1A and L-1B; 9 sells L-1A to
GH-OP-2; 10 GH-OP-2 exports it as GH-2; 11 AE-OP-1 receives it; 12 lists GH-OP-2 (UN-1)
from 2026-02-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.errors import LedgerError
from projections.alerts import alerts, select
from projections.custody import Custody
from projections.examples import log_entry, operator_entries
from projections.operators import operator_view
from projections.provenance import custody_steps, downstream, graph_graphml, lot_view, subgraph
from tests.unit.test_reads_api import TOKENS
from tests.unit.worlds import StandInLedger

BEFORE_LISTING, AFTER_LISTING = date(2026, 1, 15), date(2026, 3, 1)


@pytest.fixture
def state() -> Custody:
    return Custody.replay(operator_entries())


def with_more(*raws: dict[str, Any]) -> Custody:
    entries = operator_entries()
    more = [log_entry(len(entries) + i, raw) for i, raw in enumerate(raws, 1)]
    return Custody.replay([*entries, *more])


def test_a_lot_names_its_operator(state: Custody) -> None:
    assert lot_view(state, "L-1A")["operator"] == "AE-OP-1"
    assert lot_view(state, "L-1B")["operator"] == "GH-OP-1"
    assert state.lots["L-1A"].operators == (("GH-OP-1", 8), ("GH-OP-2", 9), ("AE-OP-1", 11))


def test_a_transfer_changes_the_lots_value_and_is_in_its_history(state: Custody) -> None:
    assert lot_view(state, "L-1A")["value_usd"] == "7500.00"
    assert state.lots["L-1A"].history == (8, 9, 10, 11)


def test_every_custody_step_names_the_operator_after_it(state: Custody) -> None:
    entries = {entry.position: entry for entry in operator_entries()}
    steps = custody_steps(state, "L-1A", entries)["steps"]
    assert [(s["position"], s["lot_id"], s["holder"], s["operator"]) for s in steps] == [
        (7, "L-1", "GH", "GH-OP-1"),
        (8, "L-1", "GH", "GH-OP-1"),
        (8, "L-1A", "GH", "GH-OP-1"),
        (9, "L-1A", "GH", "GH-OP-2"),
        (10, "L-1A", "GH", "GH-OP-2"),
        (11, "L-1A", "AE", "AE-OP-1"),
    ]


def test_the_operator_view(state: Custody) -> None:
    assert operator_view(state, "GH-OP-2", AFTER_LISTING) == {
        "operator_id": "GH-OP-2",
        "participant": "GH",
        "name": "Accra Exporters",
        "roles": ["buyer", "exporter"],
        "licence": {"number": "LIC-GH-OP-2", "valid_until": "2027-12-31"},
        "revoked": False,
        "sanctions": [{"listing_id": "UN-1", "in_force": True}],
        "lots_held": ["L-1A"],
    }
    assert operator_view(state, "GH-OP-2", BEFORE_LISTING)["sanctions"][0]["in_force"] is False
    assert operator_view(state, "GH-OP-1", AFTER_LISTING)["lots_held"] == ["L-1", "L-1A", "L-1B"]


def test_a_revoked_licence_and_a_lifted_listing_show(state: Custody) -> None:
    later = with_more(
        {"type": "operator.licence_revoked", "operator_id": "GH-OP-2", "reason": "fraud"},
        {"type": "sanction.lifted", "listing_id": "UN-1", "effective_to": "2026-03-01"},
    )
    view = operator_view(later, "GH-OP-2", AFTER_LISTING)
    assert view["revoked"] is True
    assert view["sanctions"] == [{"listing_id": "UN-1", "in_force": False}]


def test_an_unknown_operator_is_not_found(state: Custody) -> None:
    with pytest.raises(LedgerError) as raised:
        operator_view(state, "GH-OP-9", AFTER_LISTING)
    assert raised.value.code == "not_found"
    with pytest.raises(LedgerError) as raised:
        downstream(state, operator="GH-OP-9")
    assert raised.value.code == "not_found"


def test_downstream_from_an_operator_starts_from_every_lot_it_held(state: Custody) -> None:
    answer = downstream(state, operator="GH-OP-1")
    assert [(lot["lot_id"], lot["carats_from_origin"]) for lot in answer["lots"]] == [
        ("L-1", "100.00"),
        ("L-1A", "60.00"),
        ("L-1B", "40.00"),
    ]
    assert [(c["certificate_id"], c["carats_from_origin"]) for c in answer["certificates"]] == [
        ("GH-2", "60.00")
    ]
    assert answer["participants"] == ["AE", "GH"]
    assert [lot["lot_id"] for lot in downstream(state, operator="GH-OP-2")["lots"]] == ["L-1A"]


def test_downstream_from_an_operator_counts_only_its_share_of_a_later_merge() -> None:
    later = with_more(
        {
            "type": "lot.produced",
            "lot_id": "L-2",
            "source_id": "S-GH",
            "carats": "40",
            "value_usd": "1",
        },
        {"type": "lot.transferred", "lot_id": "L-1B", "to_operator": "GH-OP-2", "value_usd": "1"},
        {"type": "lot.transferred", "lot_id": "L-2", "to_operator": "GH-OP-2", "value_usd": "1"},
        {
            "type": "lots.merged",
            "lot_ids": ["L-1B", "L-2"],
            "into": {"lot_id": "L-3", "value_usd": "2"},
        },
    )
    # L-2 was never held by GH-OP-1: only L-1B's 40 ct of L-3's 80 came from GH-OP-1
    answer = downstream(later, operator="GH-OP-1")
    reached = {lot["lot_id"]: lot["carats_from_origin"] for lot in answer["lots"]}
    assert (reached["L-1B"], reached["L-3"]) == ("40.00", "40.00")
    assert "L-2" not in reached
    from_buyer = downstream(later, operator="GH-OP-2")["lots"]
    assert [(lot["lot_id"], lot["carats_from_origin"]) for lot in from_buyer][-1] == (
        "L-3",
        "80.00",
    )


def test_one_origin_selector_only() -> None:
    with pytest.raises(LedgerError) as raised:
        downstream(Custody(), operator="GH-OP-1", lot_id="L-1")
    assert raised.value.code == "invalid"


def test_the_graph_of_an_operator_links_it_to_the_lots_it_held(state: Custody) -> None:
    graph = subgraph(state, "GH-OP-1", "down")
    assert graph.graph["root"] == "operator:GH-OP-1"
    assert graph.nodes["operator:GH-OP-1"] == {
        "kind": "operator",
        "label": "GH-OP-1",
        "participant": "GH",
        "name": "Akwatia Diggers",
        "roles": "digger,dealer",
        "revoked": False,
    }
    held = {target for _, target, kind in graph.out_edges("operator:GH-OP-1", data="kind")}
    assert held == {"lot:L-1", "lot:L-1A", "lot:L-1B"}
    assert graph.edges["operator:GH-OP-1", "lot:L-1"] == {
        "kind": "held",
        "position": 7,
        "carats": "100.00",
        "weight": 100.0,
    }
    assert {"certificate:GH-2", "participant:AE"} <= set(graph.nodes)
    assert nx.is_directed_acyclic_graph(graph)
    text = graph_graphml(graph)
    assert 'node id="operator:GH-OP-1"' in text and "<data" in text


def test_the_graph_upstream_of_a_lot_names_the_operators_that_held_it(state: Custody) -> None:
    nodes = set(subgraph(state, "L-1A", "up").nodes)
    assert {"operator:GH-OP-1", "operator:GH-OP-2", "operator:AE-OP-1"} <= nodes
    # a lot id is looked up before an operator id
    assert subgraph(state, "L-1", "both").graph["root"] == "lot:L-1"


def test_a_sanctioned_operator_that_held_a_lot_raises_an_alert(state: Custody) -> None:
    found = select(alerts(state, today=AFTER_LISTING), alert_type="sanctioned_party")
    assert [(a["subject"], a["participant"], a["severity"], a["position"]) for a in found] == [
        ("GH-OP-2", "GH", "high", 12)
    ]
    assert found[0]["detail"] == {
        "operator_id": "GH-OP-2",
        "listing_ids": ["UN-1"],
        "lots_held": ["L-1A"],
    }
    assert not select(alerts(state, today=BEFORE_LISTING), alert_type="sanctioned_party")


def test_only_operators_that_held_a_lot_under_a_listing_in_force_raise_one() -> None:
    def listing(listing_id: str, operator_id: str, effective_from: str) -> dict[str, Any]:
        return {
            "type": "sanction.listed",
            "listing_id": listing_id,
            "operator_id": operator_id,
            "reason": "r",
            "effective_from": effective_from,
        }

    later = with_more(
        {
            "type": "operator.licensed",
            "operator_id": "GH-OP-3",
            "participant": "GH",
            "name": "Never Held Ltd",
            "roles": ["dealer"],
            "licence": {"number": "N", "valid_until": "2027-12-31"},
        },
        listing("UN-2", "GH-OP-3", "2026-01-01"),  # never held a lot
        listing("UN-3", "AE-OP-1", "2027-01-01"),  # not yet in force
        listing("UN-4", "GH-OP-1", "2026-01-01"),
    )
    found = select(alerts(later, today=AFTER_LISTING), alert_type="sanctioned_party")
    assert [(a["subject"], a["position"]) for a in found] == [("GH-OP-2", 12), ("GH-OP-1", 16)]


# -------------------------------------------------------------------- the routes in-process


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    ledger: Any = StandInLedger(operator_entries(), TOKENS)
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=ledger)
    with TestClient(app) as test_client:
        yield test_client


def get(client: TestClient, path: str, token: str = "inv", **params: str) -> tuple[int, Any]:
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    if response.headers["content-type"].startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, response.text


def test_the_operator_route(client: TestClient) -> None:
    status, body = get(client, "/v1/operators/GH-OP-2")
    assert status == 200 and body["sanctions"] == [{"listing_id": "UN-1", "in_force": True}]
    status, body = get(client, "/v1/operators/GH-OP-2", as_of="11")
    assert (status, body["sanctions"], body["lots_held"]) == (200, [], ["L-1A"])
    status, body = get(client, "/v1/operators/GH-OP-2", as_of="8")
    assert (status, body["lots_held"]) == (200, [])
    status, body = get(client, "/v1/operators/GH-OP-2", as_of="2026-01-01T06:30:00+00:00")
    assert (status, body["operator_id"]) == (200, "GH-OP-2")
    status, body = get(client, "/v1/operators/GH-OP-2", as_of="2026-01-01T04:30:00+00:00")
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("token", "operator_id", "status"),
    [
        ("gh", "GH-OP-1", 200),
        ("gh", "AE-OP-1", 403),
        ("ae", "AE-OP-1", 200),
        ("ae", "GH-OP-2", 403),
        ("gh", "GH-OP-9", 403),  # unknown and foreign alike: no existence oracle
        ("sec", "AE-OP-1", 200),
        ("inv", "GH-OP-1", 200),
    ],
)
def test_authorities_read_only_their_own_participants_operators(
    client: TestClient, token: str, operator_id: str, status: int
) -> None:
    assert token in TOKENS
    got, body = get(client, f"/v1/operators/{operator_id}", token)
    assert got == status, body
    if status == 403:
        assert body["error"]["code"] == "forbidden"


def test_lots_and_custody_steps_gain_the_operator(client: TestClient) -> None:
    assert get(client, "/v1/lots/L-1A")[1]["operator"] == "AE-OP-1"
    assert get(client, "/v1/lots/L-1A", as_of="9")[1]["operator"] == "GH-OP-2"
    assert get(client, "/v1/lots/L-1A", "ae")[1]["operator"] == "AE-OP-1"
    steps = get(client, "/v1/lots/L-1A/custody")[1]["steps"]
    assert [step["operator"] for step in steps][-2:] == ["GH-OP-2", "AE-OP-1"]


def test_downstream_and_graph_of_an_operator(client: TestClient) -> None:
    status, body = get(client, "/v1/trace/downstream", operator="GH-OP-2")
    assert status == 200 and [c["certificate_id"] for c in body["certificates"]] == ["GH-2"]
    status, body = get(client, "/v1/trace/downstream", operator="GH-OP-2", as_of="9")
    assert status == 200 and body["certificates"] == []
    assert get(client, "/v1/trace/downstream", "gh", operator="GH-OP-2")[0] == 403
    assert get(client, "/v1/trace/downstream", operator="GH-OP-2", lot_id="L-1")[0] == 422
    assert get(client, "/v1/trace/downstream", operator="GH-OP-9")[0] == 404
    status, body = get(client, "/v1/graph", root="GH-OP-1")
    assert status == 200 and {"kind": "operator"}.items() <= body["nodes"][-1].items()
    status, text = get(client, "/v1/graph", root="GH-OP-1", format="graphml")
    assert status == 200 and 'node id="operator:GH-OP-1"' in text


def test_the_sanctioned_party_alert(client: TestClient) -> None:
    status, body = get(client, "/v1/alerts", type="sanctioned_party")
    assert status == 200 and [a["subject"] for a in body["alerts"]] == ["GH-OP-2"]
    assert [a["subject"] for a in get(client, "/v1/alerts", "gh")[1]["alerts"]] == ["GH-OP-2"]
    assert get(client, "/v1/alerts", "ae", type="sanctioned_party")[1]["alerts"] == []
    assert get(client, "/v1/alerts", type="sanctioned_party", as_of="11")[1]["alerts"] == []

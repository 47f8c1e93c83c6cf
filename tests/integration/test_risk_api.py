"""Risk marks on GET /v1/graph (JSON and GraphML) and GET /v1/search, on the demonstration
world of each store (with two seizures added): every mark that the ledger knows, as of
the reading instant."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import authority, seized
from worlds.demo import (
    CANCELLED_CERTIFICATE_ID,
    EMBARGO_ID,
    EXPORTER,
    LISTING_ID,
    VENETIA_LOT_ID,
    load_demo,
)

API = tuple[TestClient, str, dict[str, int]]


@pytest.fixture
def demo(ledger: Ledger, store_url: str) -> Iterator[API]:
    result = load_demo(ledger)
    positions = {
        entry.document.get("embargo_id") or entry.document.get("listing_id"): entry.position
        for entry in ledger.read_log(0, result.head_position + 1)
        if entry.type in ("embargo.declared", "sanction.listed")
    }
    positions["before seizures"] = ledger.head_position()
    ledger.post(seized("AE-DXB-2006-0040"), authority("AE"))  # held in Dubai
    ledger.post(seized("ZA-VEN-2005-0001"), authority("IN"))  # in transit to Mumbai
    app = create_app(Settings(database_url=store_url), ledger=ledger)
    with TestClient(app) as client:
        yield client, result.tokens["demo-investigator"], positions


def _get(api: API, path: str, **params: Any) -> Any:
    client, token, _ = api
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response


def _graph_risk(api: API, root: str, **params: Any) -> dict[str, list[str]]:
    graph = _get(api, "/v1/graph", root=root, **params).json()
    return {node["id"]: node["risk"] for node in graph["nodes"]}


def _search_risk(api: API, q: str, **params: Any) -> dict[tuple[str, str], list[str]]:
    results = _get(api, "/v1/search", q=q, **params).json()["results"]
    return {(hit["kind"], hit["id"]): hit["risk"] for hit in results}


def test_embargoed_sources_and_origins_flags_and_seizures_on_the_graph(demo: API) -> None:
    risk = _graph_risk(demo, "CI-SEGUELA", direction="down")
    assert risk["source:CI-SEGUELA"] == ["embargoed_source"]
    assert risk["lot:GH-ACC-2005-0412"] == ["embargoed_origin"]  # the suspect parcel
    assert risk["lot:AE-DXB-2006-0031"] == ["embargoed_origin", "flagged"]
    assert risk["lot:AE-DXB-2006-0040"] == ["embargoed_origin", "seized"]
    assert risk["certificate:GH-2005-0412"] == []
    assert risk["participant:AE"] == []
    upstream = _graph_risk(demo, "GH-ACC-2005-0412", direction="up")
    assert upstream["lot:GH-AKW-2005-0003"] == []  # all of it from Akwatia, Ghana
    assert upstream["source:GH-AKWATIA"] == []
    assert all(marks == [] for node, marks in upstream.items() if node.startswith("participant:"))


def test_a_sanctioned_operator_and_a_certificate_seized_in_transit(demo: API) -> None:
    assert _graph_risk(demo, EXPORTER)[f"operator:{EXPORTER}"] == ["sanctioned"]
    risk = _graph_risk(demo, "GH-KAD-2006-0201", direction="up")  # with those who held it
    assert risk[f"operator:{EXPORTER}"] == ["sanctioned"]
    assert risk["operator:AE-DXB-ROUGH"] == []
    assert risk["lot:GH-KAD-2006-0201"] == []
    shipment = _graph_risk(demo, "ZA-2006-0019")
    assert shipment["certificate:ZA-2006-0019"] == ["seized"]
    assert shipment["lot:ZA-VEN-2005-0001"] == ["seized"]


def test_marks_as_of_an_earlier_position(demo: API) -> None:
    _, _, positions = demo
    before_embargo = positions[EMBARGO_ID] - 1
    risk = _graph_risk(demo, "CI-SEGUELA", direction="down", as_of=before_embargo)
    assert risk["source:CI-SEGUELA"] == [] and risk["lot:GH-ACC-2005-0412"] == []
    before_listing = positions[LISTING_ID] - 1
    assert _graph_risk(demo, EXPORTER, as_of=before_listing)[f"operator:{EXPORTER}"] == []
    before = positions["before seizures"]
    assert (
        "seized" not in _graph_risk(demo, "ZA-2006-0019", as_of=before)["certificate:ZA-2006-0019"]
    )


def test_graphml_carries_the_marks_as_a_string_attribute(demo: API) -> None:
    text = _get(demo, "/v1/graph", root="CI-SEGUELA", direction="down", format="graphml").text
    assert 'attr.name="risk" attr.type="string"' in text
    graph = nx.read_graphml(io.StringIO(text))
    assert graph.nodes["lot:AE-DXB-2006-0031"]["risk"] == "embargoed_origin,flagged"
    assert graph.nodes["source:CI-SEGUELA"]["risk"] == "embargoed_source"
    assert graph.nodes["participant:AE"]["risk"] == ""


def test_search_results_carry_their_marks(demo: API) -> None:
    found = _search_risk(demo, "CI-SEG")
    assert found[("alluvial_site", "CI-SEGUELA")] == ["embargoed_source"]
    assert found[("lot", "CI-SEG-2005-P01")] == ["embargoed_origin"]
    assert _search_risk(demo, "AE-DXB-2006-0031")[("lot", "AE-DXB-2006-0031")] == [
        "embargoed_origin",
        "flagged",
    ]
    assert _search_risk(demo, EXPORTER)[("operator", EXPORTER)] == ["sanctioned"]
    assert _search_risk(demo, "ZA-2006")[("certificate", "ZA-2006-0019")] == ["seized"]
    assert _search_risk(demo, "GH", kind="participant")[("participant", "GH")] == []
    assert _search_risk(demo, "GH-AKWATIA")[("alluvial_site", "GH-AKWATIA")] == []


def test_a_cancelled_certificate_is_found_and_drawn_alone_with_its_mark(demo: API) -> None:
    """The certificate whose export was retracted stays readable: search finds it and the
    graph rooted at it shows it, `cancelled`, joined to nothing (its lot was never shipped
    under it); no other graph shows it; before the retraction it was an ordinary shipment."""
    assert _search_risk(demo, "ZA-2006")[("certificate", CANCELLED_CERTIFICATE_ID)] == ["cancelled"]
    node = f"certificate:{CANCELLED_CERTIFICATE_ID}"
    graph = _get(demo, "/v1/graph", root=CANCELLED_CERTIFICATE_ID).json()
    assert [(found["id"], found["risk"]) for found in graph["nodes"]] == [(node, ["cancelled"])]
    assert graph["nodes"][0]["carats"] == "4200.00" and graph["edges"] == []
    text = _get(demo, "/v1/graph", root=CANCELLED_CERTIFICATE_ID, format="graphml").text
    assert nx.read_graphml(io.StringIO(text)).nodes[node]["risk"] == "cancelled"
    assert node not in _graph_risk(demo, VENETIA_LOT_ID)
    certified = _get(demo, f"/v1/certificates/{CANCELLED_CERTIFICATE_ID}").json()["positions"]
    before = _graph_risk(demo, CANCELLED_CERTIFICATE_ID, as_of=certified["certified"])
    assert before[node] == [] and f"lot:{VENETIA_LOT_ID}" in before
    paths = _get(demo, "/v1/paths", **{"from": VENETIA_LOT_ID, "to": CANCELLED_CERTIFICATE_ID})
    assert paths.json()["paths"] == [] and paths.json()["carats"] == "0.00"


def test_an_authority_finds_a_cancelled_certificate_only_if_it_was_a_party(
    demo: API, ledger: Ledger
) -> None:
    client, _, _ = demo
    found = {}
    for code in ("ZA", "EU", "GH"):
        token = ledger.create_token("authority", f"risk-{code}", code)
        response = client.get(
            "/v1/search",
            params={"q": CANCELLED_CERTIFICATE_ID},
            headers={"Authorization": f"Bearer {token}"},
        )
        found[code] = [(hit["id"], hit["risk"]) for hit in response.json()["results"]]
    cancelled = [(CANCELLED_CERTIFICATE_ID, ["cancelled"])]
    assert found == {"ZA": cancelled, "EU": cancelled, "GH": []}

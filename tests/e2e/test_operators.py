"""Operators through a real `kpledger serve` process, on each store: a digger's lot sold to
an exporter and shipped, the operator route with its read limits, downstream from an
operator, the sanction alert, and the codes of refusals over HTTP."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_events import assert_error
from tests.support import (
    admitted,
    batch,
    confirmed,
    export,
    licensed,
    listed,
    merged,
    produced,
    site,
    transferred,
)


def test_an_operator_chain_through_a_real_server(server: Any) -> None:
    tokens = {
        "secretariat": server.token("secretariat"),
        "investigator": server.token("investigator"),
        "GH": server.token("authority", "GH"),
        "AE": server.token("authority", "AE"),
    }
    secretariat = server.client(tokens["secretariat"])
    gh, ae = server.client(tokens["GH"]), server.client(tokens["AE"])
    investigator = server.client(tokens["investigator"])
    assert (
        secretariat.post("/v1/events", json=batch(admitted("GH"), admitted("AE"))).status_code
        == 201
    )
    documents = batch(
        site("GH-AKW", "GH"),
        licensed("GH-OP-DIG", "digger"),
        licensed("GH-OP-EXP", "buyer", "exporter"),
        produced("GH-L1", "GH-AKW", "60", operator="GH-OP-DIG"),
        produced("GH-L2", "GH-AKW", "40", operator="GH-OP-DIG"),
        merged(["GH-L1", "GH-L2"], "GH-P1"),
        transferred("GH-P1", "GH-OP-EXP", value_usd="30000"),
    )
    assert gh.post("/v1/events", json=documents).status_code == 201, documents
    assert ae.post("/v1/events", json=licensed("AE-OP-IMP", "importer")).status_code == 201

    # exporting the exporter's lot without naming it is refused, naming it is accepted
    unnamed = export("GH-C1", "GH", "AE", ["GH-P1"], "100", declared_origin="GH")
    assert_error(gh.post("/v1/events", json=unnamed), 409, "lot_not_held")
    named = {**unnamed, "exporter": {"name": "Accra Exporters", "operator_id": "GH-OP-EXP"}}
    assert gh.post("/v1/events", json=named).status_code == 201
    done = ae.post("/v1/events", json=confirmed("GH-C1", "100", operator_id="AE-OP-IMP"))
    assert done.status_code == 201
    listing = listed("UN-7", "GH-OP-EXP", effective_from="2005-01-01")
    assert_error(gh.post("/v1/events", json=listing), 403, "forbidden")
    position = secretariat.post("/v1/events", json=listing).json()["position"]

    lot = investigator.get("/v1/lots/GH-P1").json()
    assert (lot["holder"], lot["operator"]) == ("AE", "AE-OP-IMP")
    steps = investigator.get("/v1/lots/GH-P1/custody").json()["steps"]
    assert [step["operator"] for step in steps if step["lot_id"] == "GH-P1"] == [
        "GH-OP-DIG",
        "GH-OP-EXP",
        "GH-OP-EXP",
        "AE-OP-IMP",
    ]

    view = gh.get("/v1/operators/GH-OP-EXP").json()
    assert view["sanctions"] == [{"listing_id": "UN-7", "in_force": True}]
    assert view["lots_held"] == ["GH-P1"] and view["roles"] == ["buyer", "exporter"]
    before = gh.get("/v1/operators/GH-OP-EXP", params={"as_of": str(position - 1)}).json()
    assert before["sanctions"] == []
    assert_error(ae.get("/v1/operators/GH-OP-EXP"), 403, "forbidden")
    assert_error(investigator.get("/v1/operators/GH-OP-NONE"), 404, "not_found")

    reach = investigator.get("/v1/trace/downstream", params={"operator": "GH-OP-DIG"}).json()
    assert [lot["lot_id"] for lot in reach["lots"]] == ["GH-L1", "GH-L2", "GH-P1"]
    assert [c["certificate_id"] for c in reach["certificates"]] == ["GH-C1"]
    assert reach["participants"] == ["AE", "GH"]
    graph = investigator.get("/v1/graph", params={"root": "GH-OP-DIG", "format": "graphml"})
    assert graph.status_code == 200 and 'node id="operator:GH-OP-DIG"' in graph.text

    found = investigator.get("/v1/alerts", params={"type": "sanctioned_party"}).json()["alerts"]
    assert [(a["subject"], a["participant"], a["severity"]) for a in found] == [
        ("GH-OP-EXP", "GH", "high")
    ]
    # listed: the operator can no longer be named
    assert (
        gh.post(
            "/v1/events", json=produced("GH-L9", "GH-AKW", "5", operator="GH-OP-DIG")
        ).status_code
        == 201
    )
    refused = gh.post("/v1/events", json=transferred("GH-L9", "GH-OP-EXP"))
    assert_error(refused, 409, "sanctioned_party")
    assert refused.json()["error"]["detail"] == {"listing_id": "UN-7", "operator_id": "GH-OP-EXP"}
    for client in (secretariat, gh, ae, investigator):
        client.close()

"""Certificates, their verification without an account, triage and typed GraphML, through
a real `kpledger serve` on each store."""

from __future__ import annotations

import io
from typing import Any

import networkx as nx

from projections.alerts import alert_id
from tests.support import admitted, confirmed, doc, export, mine, produced


def test_verify_review_and_graphml_over_http(server: Any) -> None:
    secretariat, investigator = server.token("secretariat"), server.token("investigator")
    ghana, dubai = server.token("authority", "GH"), server.token("authority", "AE")
    with server.client(secretariat) as client:
        for code in ("GH", "AE"):
            assert client.post("/v1/events", json=admitted(code)).status_code == 201
    with server.client(ghana) as client:
        for document in (
            mine("GH-M1", "GH"),
            produced("GH-L1", "GH-M1", "100", "5000"),
            export(
                "GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", value_usd="5000",
                parcels=4, issuing_authority={"name": "Minerals Commission"},
            ),
        ):  # fmt: skip
            posted = client.post("/v1/events", json=document)
            assert posted.status_code == 201, posted.text
    with server.client(dubai) as client:
        posted = client.post("/v1/events", json=confirmed("GH-C1", "100", "5000", parcels=3))
        assert posted.status_code == 201, posted.text
        certificate = client.get("/v1/certificates/GH-C1").json()
    assert (certificate["status"], certificate["parcels"]) == ("confirmed", 4)
    assert certificate["confirmation"]["parcels"] == 3

    with server.client() as anonymous:
        genuine = anonymous.get(
            "/v1/certificates/GH-C1/verify", params={"carats": "100.0", "value_usd": "5000"}
        )
        wrong = anonymous.get(
            "/v1/certificates/GH-C1/verify", params={"carats": "100", "value_usd": "5001"}
        )
        unknown = anonymous.get(
            "/v1/certificates/GH-C2/verify", params={"carats": "100", "value_usd": "5000"}
        )
        assert anonymous.get("/v1/certificates/GH-C1").status_code == 401
    assert genuine.json() == {"certificate_id": "GH-C1", "genuine": True, "status": "confirmed"}
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content.replace(b"GH-C1", b"GH-C2") == unknown.content

    raised = alert_id("parcel_discrepancy", "GH-C1")
    with server.client(investigator) as client:
        review = doc("alert.reviewed", alert_id=raised, status="confirmed", note="one missing")
        posted = client.post("/v1/events", json=review)
        assert posted.status_code == 201, posted.text
        refused = client.post(
            "/v1/events",
            json=doc("alert.reviewed", alert_id="0" * 24, status="dismissed", note="?"),
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "unknown_alert")
        (alert,) = client.get("/v1/alerts", params={"status": "confirmed"}).json()["alerts"]
        assert alert["alert_id"] == raised
        assert alert["review"]["by"] == "investigator-all"
        graphml = client.get("/v1/graph", params={"root": "GH-L1", "format": "graphml"})
    graph = nx.read_graphml(io.StringIO(graphml.text))
    assert isinstance(graph.nodes["lot:GH-L1"]["carats"], float)
    for _, _, data in graph.edges(data=True):
        assert isinstance(data["weight"], float) and isinstance(data["position"], int)

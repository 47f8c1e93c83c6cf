"""POST and GET /v1/events on a real `kpledger serve` process, on each store: statuses, the
protocol's error body, idempotent retries, paging of the log, and a restart."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import (
    admitted,
    batch,
    embargo,
    export,
    flagged,
    mine,
    produced,
    site,
)


def assert_error(response: httpx.Response, status: int, code: str, index: int = 0) -> None:
    """The protocol's error shape: {"error": {"code", "message", "index"[, "detail"]}},
    with the request's id (X-Request-ID) beside them."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) - {"detail"} == {"code", "message", "index", "request_id"}, error
    assert error["request_id"] == response.headers["x-request-id"], error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["index"] == index, error
    if "detail" in error:
        assert isinstance(error["detail"], dict), error


def build_world(server: Any) -> dict[str, str]:
    """GH and CI admitted, mine GH-M1, site CI-S1 (region North), lots GH-L1 and CI-L1."""
    tokens = {
        "secretariat": server.token("secretariat"),
        "GH": server.token("authority", "GH"),
        "CI": server.token("authority", "CI"),
    }
    with server.client(tokens["secretariat"]) as client:
        done = client.post("/v1/events", json=batch(admitted("GH"), admitted("CI")))
        assert done.status_code == 201, done.text
    with server.client(tokens["GH"]) as client:
        done = client.post(
            "/v1/events", json=batch(mine("GH-M1", "GH"), produced("GH-L1", "GH-M1", "100"))
        )
        assert done.status_code == 201, done.text
    with server.client(tokens["CI"]) as client:
        done = client.post(
            "/v1/events",
            json=batch(site("CI-S1", "CI", region="North"), produced("CI-L1", "CI-S1", "60")),
        )
        assert done.status_code == 201, done.text
    return tokens


def head(server: Any, token: str) -> int:
    with server.client(token) as client:
        return int(client.get("/health").json()["position"])


def test_every_refusal_has_the_protocols_status_and_error_body(server: Any) -> None:
    tokens = build_world(server)
    start = head(server, tokens["secretariat"])
    gh_lot = produced("GH-L2", "GH-M1", "5")

    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as anonymous:
            assert_error(anonymous.post("/v1/events", json=gh_lot), 401, "unauthenticated")
            assert_error(anonymous.get("/v1/events"), 401, "unauthenticated")

    with server.client(tokens["GH"]) as client:
        for body in (b"{", b'{"type": "lot.flagged",}', b"", b"[1,"):
            sent = client.post(
                "/v1/events", content=body, headers={"Content-Type": "application/json"}
            )
            assert_error(sent, 422, "invalid")
        assert_error(client.post("/v1/events", json={"events": []}), 422, "invalid")
        assert_error(client.post("/v1/events", json={**gh_lot, "colour": "white"}), 422, "invalid")
        assert_error(
            client.post("/v1/events", json=batch(gh_lot, produced("GH-L3", "GH-M1", "1.001"))),
            422,
            "invalid",
            index=1,
        )
        # 422 before 403: the forbidden document is the first one
        assert_error(
            client.post("/v1/events", json=batch(admitted("ZA"), produced("GH-L3", "GH-M1", "-1"))),
            422,
            "invalid",
            index=1,
        )
        assert_error(client.post("/v1/events", json=admitted("ZA")), 403, "forbidden")
        assert_error(
            client.post("/v1/events", json=batch(gh_lot, mine("CI-M2", "CI"))),
            403,
            "forbidden",
            index=1,
        )
        assert_error(client.get("/v1/events"), 403, "forbidden")
        assert_error(
            client.post("/v1/events", json=batch(gh_lot, produced("GH-L1", "GH-M1", "1"))),
            409,
            "duplicate_id",
            index=1,
        )

    with server.client(tokens["secretariat"]) as client:
        assert (
            client.post("/v1/events", json=embargo("E-N", "CI", region="North")).status_code == 201
        )
    with server.client(tokens["CI"]) as client:
        refused = client.post("/v1/events", json=export("CI-C1", "CI", "GH", ["CI-L1"], "60"))
    assert_error(refused, 409, "embargoed_origin")
    assert refused.json()["error"]["detail"] == {
        "embargo_id": "E-N",
        "lot_id": "CI-L1",
        "carats": "60.00",
        "fraction": 1.0,
    }
    # only the embargo was appended
    assert head(server, tokens["secretariat"]) == start + 1


def test_retries_are_idempotent_and_the_log_pages(server: Any) -> None:
    tokens = build_world(server)
    with server.client(tokens["GH"]) as client:
        document = produced("GH-L2", "GH-M1", "12.50")
        first = client.post("/v1/events", json=document)
        assert first.status_code == 201, first.text
        assert first.json()["accepted"] == 1
        position = first.json()["position"]
        client.post("/v1/events", json=flagged("GH-L1"))

        for carats in ("12.5", "12.50"):
            again = client.post("/v1/events", json={**document, "carats": carats})
            assert again.status_code == 200, again.text
            assert again.json()["position"] == position
        as_number = client.post(
            "/v1/events",
            content=httpx.Request("POST", "/", json=document).content.replace(b'"12.50"', b"12.5"),
            headers={"Content-Type": "application/json"},
        )
        assert (as_number.status_code, as_number.json()["position"]) == (200, position)
        assert_error(
            client.post("/v1/events", json={**document, "carats": "12.51"}),
            409,
            "event_id_reused",
        )
        mixed = client.post("/v1/events", json=batch(document, produced("GH-L3", "GH-M1", "1")))
        assert mixed.status_code == 201, mixed.text
        assert mixed.json()["accepted"] == 1

    with server.client(tokens["secretariat"]) as client:
        whole = client.get("/v1/events", params={"after": 0, "limit": 1000}).json()
        entries = whole["events"]
        assert [entry["type"] for entry in entries].count("lot.produced") == 4
        assert whole["next_after"] == entries[-1]["position"]
        positions = [entry["position"] for entry in entries]
        assert positions == sorted(set(positions)) and positions[0] >= 1
        entry = next(e for e in entries if e["event_id"] == document["event_id"])
        assert entry["position"] == position
        assert entry["recorded_by"] == "authority-GH"
        assert entry["document"]["carats"] == "12.50"
        assert set(entry) >= {
            "position",
            "event_id",
            "type",
            "occurred_at",
            "recorded_at",
            "recorded_by",
            "document",
        }

        paged: list[dict[str, Any]] = []
        after = 0
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 3}).json()
            assert len(page["events"]) <= 3
            if not page["events"]:
                assert page["next_after"] == after
                break
            assert page["next_after"] == page["events"][-1]["position"]
            paged.extend(page["events"])
            after = page["next_after"]
        assert paged == entries
        beyond = client.get("/v1/events", params={"after": positions[-1] + 100}).json()
        assert beyond == {"events": [], "next_after": positions[-1] + 100}


def test_a_restart_keeps_the_log_the_ids_and_the_event_ids(server: Any) -> None:
    tokens = build_world(server)
    document = produced("GH-L2", "GH-M1", "7")
    with server.client(tokens["GH"]) as client:
        position = client.post("/v1/events", json=document).json()["position"]
    with server.client(tokens["secretariat"]) as client:
        before = client.get("/v1/events", params={"limit": 1000}).json()

    server.stop()
    server.start()

    with server.client(tokens["secretariat"]) as client:
        assert client.get("/v1/events", params={"limit": 1000}).json() == before
    with server.client(tokens["GH"]) as client:
        again = client.post("/v1/events", json=document)
        assert (again.status_code, again.json()["position"]) == (200, position)
        assert_error(
            client.post("/v1/events", json=produced("GH-L2", "GH-M1", "1")), 409, "duplicate_id"
        )
        new = client.post("/v1/events", json=produced("GH-L3", "GH-M1", "1"))
        assert new.status_code == 201, new.text
        assert new.json()["position"] > position

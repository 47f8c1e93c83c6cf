"""A real `kpledger serve` process, spoken to over HTTP, on each store."""

from __future__ import annotations

from typing import Any

from tests.support import admitted, mine


def test_post_then_read_the_log_and_survive_a_restart(server: Any) -> None:
    secretariat = server.token("secretariat")
    ghana = server.token("authority", "GH")
    with server.client(secretariat) as client:
        first = client.post("/v1/events", json=admitted("GH", "Ghana"))
        assert first.status_code == 201, first.text
        assert first.json() == {"accepted": 1, "position": 1}
    with server.client(ghana) as client:
        registered = client.post("/v1/events", json=mine("GH-M1", "GH"))
        assert registered.status_code == 201, registered.text
        assert registered.json()["position"] == 2
        assert client.get("/v1/events").status_code == 403

    server.stop()
    server.start()

    with server.client(secretariat) as client:
        log = client.get("/v1/events", params={"after": 0}).json()
    assert [entry["type"] for entry in log["events"]] == ["participant.admitted", "mine.registered"]
    assert log["events"][1]["recorded_by"] == "authority-GH"
    assert log["events"][1]["document"]["mine_id"] == "GH-M1"
    assert log["next_after"] == 2


def test_requests_without_a_known_token_are_refused(server: Any) -> None:
    with server.client("not-a-token") as client:
        refused = client.post("/v1/events", json=admitted("GH"))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    with server.client() as anonymous:
        assert anonymous.get("/v1/events").status_code == 401
        assert anonymous.get("/health").status_code == 200

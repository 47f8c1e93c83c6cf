"""Odd, hostile and oversized requests against a real server: clear 4xx, never a 500,
never a leak of what the caller may not read, and nothing appended."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Server
from tests.support import admitted, batch, export, flagged, mine, produced, split


def world(server: Server) -> dict[str, str]:
    tokens = {
        "sec": server.token("secretariat"),
        "gh": server.token("authority", "GH"),
        "ae": server.token("authority", "AE"),
    }
    with server.client(tokens["sec"]) as sec:
        for code in ("GH", "AE"):
            assert sec.post("/v1/events", json=admitted(code)).status_code == 201
    with server.client(tokens["ae"]) as ae:
        assert ae.post("/v1/events", json=mine("AE-M1", "AE")).status_code == 201
        assert ae.post("/v1/events", json=produced("AE-L1", "AE-M1", "10")).status_code == 201
    return tokens


def head(server: Server) -> int:
    return int(httpx.get(f"{server.base_url}/health").json()["position"])


MALFORMED = [
    b'{"type": [1]}',
    b'{"type": {}}',
    b'{"events": [{"type": []}]}',
    b'{"events": [{"type": null}]}',
    b"[1, 2",
    b"\xff\xfe",
]


def test_odd_requests_are_clear_4xx_in_our_shape_and_append_nothing(server: Server) -> None:
    tokens = world(server)
    before = head(server)
    document = json.dumps(produced("AE-L2", "AE-M1", "10"))
    with server.client(tokens["ae"], json=True) as ae:
        for body in MALFORMED:
            answer = ae.post("/v1/events", content=body)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["error"]["code"] == "invalid"
        assert ae.get("/health").status_code == 200  # the same connection still works
        twice = ae.post("/v1/events", content=document[:-1] + ', "carats": "99"}')
        exponent = ae.post("/v1/events", content=document.replace('"10"', "1e20"))
        assert (twice.status_code, exponent.status_code) == (422, 422)
    with server.client(tokens["sec"]) as sec:
        beyond = sec.get("/v1/events", params={"after": str(2**63)})
        assert beyond.status_code == 422
        assert beyond.json()["error"]["code"] == "invalid"
        for query in ("type=", "participant=", "as_of="):
            empty = sec.get(f"/v1/alerts?{query}")
            assert empty.status_code == 422
            assert empty.json()["error"]["detail"]["field"] == query.rstrip("=")
        not_allowed = sec.delete("/v1/events")
        assert not_allowed.status_code == 405
        assert not_allowed.headers["allow"] == "GET, POST"
        assert not_allowed.json()["error"]["code"] == "method_not_allowed"
    assert head(server) == before


def test_an_oversized_body_is_413_before_it_is_read_and_a_bad_token_401_first(
    server: Server,
) -> None:
    tokens = world(server)
    before = head(server)
    huge = b'{"events": [' + b"{}, " * (3 * 1024 * 1024) + b"{}]}"
    with server.client(tokens["gh"], json=True) as gh:
        answer = gh.post("/v1/events", content=huge)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"
    with server.client("kpl_not_a_token") as stranger:
        assert stranger.post("/v1/events", content=huge).status_code == 401
    assert head(server) == before


def test_refusals_do_not_name_what_the_caller_may_not_read(server: Server) -> None:
    """GH cannot read AE-L1: its refusals must not say who holds it or where it went."""
    tokens = world(server)
    before = head(server)
    with server.client(tokens["gh"]) as gh:
        assert gh.get("/v1/lots/AE-L1").status_code == 403
        answers = [
            gh.post("/v1/events", json=flagged("AE-L1")),
            gh.post("/v1/events", json=split("AE-L1", ("X1", "5"), ("X2", "5"))),
            gh.post("/v1/events", json=export("GH-9", "GH", "AE", ["AE-L1"], "10")),
            gh.post("/v1/events", json=batch(flagged("AE-L1"))),
        ]
    for answer in answers:
        assert answer.status_code in (403, 409), answer.text
        assert "AE" not in answer.json()["error"]["message"].replace("AE-L1", ""), answer.text
    assert head(server) == before

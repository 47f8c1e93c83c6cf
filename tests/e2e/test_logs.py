"""A real server's stderr: one access line per request, as text or JSON, never a token."""

from __future__ import annotations

import json
import logging
from typing import Any

from api.logs import Redact
from tests.support import admitted


def _requests(server: Any, token: str) -> None:
    with server.client(token) as client:
        assert client.get("/v1/participants").status_code == 200
        assert client.get("/v1/lots/NOPE").status_code == 404
        assert client.get("/v1/participants", params={"token": token}).status_code == 200
    with server.client() as anonymous:
        assert anonymous.get("/v1/alerts").status_code == 401
        wrong = anonymous.get("/v1/alerts", headers={"Authorization": f"Bearer {token}x"})
        assert wrong.status_code == 401


def test_json_access_lines_name_the_token_never_show_it(sqlite_url: str, server_factory: Any):
    server = server_factory(sqlite_url, env={"KPLEDGER_LOG_FORMAT": "JSON"})
    token = server.token("investigator")
    secretariat = server.token("secretariat")
    with server.client(secretariat) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    _requests(server, token)
    server.stop()
    text = server.stderr_text()
    assert token not in text and secretariat not in text
    assert token[4:] not in text  # not even without its prefix
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "kpledger.access"]
    seen = [(a["method"], a["path"], a["status"], a["token_name"]) for a in access]
    assert seen[-6:] == [
        ("POST", "/v1/events", 201, "secretariat-all"),
        ("GET", "/v1/participants", 200, "investigator-all"),
        ("GET", "/v1/lots/NOPE", 404, "investigator-all"),
        ("GET", "/v1/participants", 200, "investigator-all"),
        ("GET", "/v1/alerts", 401, "-"),
        ("GET", "/v1/alerts", 401, "-"),
    ]
    assert all(isinstance(a["ms"], float) and a["ms"] >= 0 for a in access)
    assert access[-4]["route"] == "/v1/lots/{lot_id}"
    assert not any('HTTP/1.1"' in line["message"] for line in lines)  # uvicorn's access log
    assert all(a["client"].startswith("127.0.0.1:") for a in access)  # the client's address
    assert len({a["request_id"] for a in access}) == len(access)  # one id each, made


def test_access_lines_carry_the_request_id_given_as_text_and_json(
    sqlite_url: str, server_factory: Any
) -> None:
    for log_format in ("text", "json"):
        server = server_factory(sqlite_url, env={"KPLEDGER_LOG_FORMAT": log_format})
        with server.client() as anonymous:
            answer = anonymous.get("/v1/alerts", headers={"X-Request-ID": f"probe-{log_format}"})
        assert answer.headers["x-request-id"] == f"probe-{log_format}"
        assert answer.json()["error"]["request_id"] == f"probe-{log_format}"
        server.stop()
        (line,) = [row for row in server.stderr_text().splitlines() if f"probe-{log_format}" in row]
        if log_format == "json":
            fields = json.loads(line)
            assert (fields["request_id"], fields["status"]) == ("probe-json", 401)
            assert fields["client"].startswith("127.0.0.1:")
        else:
            assert (
                "[probe-text] kpledger.access GET /v1/alerts 401" in line
                and " from 127.0.0.1:" in line
            )


def test_text_lines_by_default_and_the_level_is_honoured(sqlite_url: str, server_factory: Any):
    server = server_factory(sqlite_url)
    token = server.token("auditor")
    _requests(server, token)
    quiet = server_factory(sqlite_url, env={"KPLEDGER_LOG_LEVEL": "warning"})
    _requests(quiet, token)
    server.stop()
    quiet.stop()
    text = server.stderr_text()
    assert token not in text
    assert "kpledger.access GET /v1/lots/NOPE 404 " in text and "ms by auditor-all" in text
    assert "GET /v1/alerts 401 " in text
    assert "kpledger.access" not in quiet.stderr_text()


def test_anything_shaped_like_a_token_is_masked() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", ("kpl_Abc-123_x",), None)
    assert Redact().filter(record) and record.getMessage() == "got kpl_[redacted]"

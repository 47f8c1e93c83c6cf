"""What an operator runs the service by, on each store: request ids echoed, logged and
in error bodies; readiness beside liveness; process and Python metrics and the
snapshot's age."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.app import create_app
from api.requests import RequestId, RequestIdFilter
from api.settings import Settings
from ledger.application import Ledger


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[tuple[TestClient, str]]:
    token = ledger.create_token("investigator", "inv")
    with TestClient(create_app(Settings(database_url=store_url), ledger=ledger)) as client:
        yield client, token


def test_a_request_id_is_taken_or_made_and_echoed(api: Any) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "trace-42.a:b"}
    given = client.get("/v1/alerts", headers=headers)
    assert given.status_code == 200 and given.headers["x-request-id"] == "trace-42.a:b"
    made = client.get("/health").headers["x-request-id"]
    other = client.get("/health").headers["x-request-id"]
    assert len(made) == 32 and made != other
    for hostile in (b"a b", b"x" * 129, b'a"b', "\u00e9\n".encode(), b""):
        answer = client.get("/health", headers={"X-Request-ID": hostile})
        assert answer.headers["x-request-id"].encode() != hostile
        assert len(answer.headers["x-request-id"]) == 32


def test_error_bodies_carry_the_request_id(api: Any) -> None:
    client, token = api
    headers = {"X-Request-ID": "req-1"}
    unauthenticated = client.get("/v1/alerts", headers=headers)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["request_id"] == "req-1"
    assert unauthenticated.headers["content-length"] == str(len(unauthenticated.content))
    headers["Authorization"] = f"Bearer {token}"
    for path in ("/v1/lots/NOPE", "/v1/alerts?as_of=bad", "/v1/events?limit=0", "/nowhere"):
        answer = client.get(path, headers=headers)
        assert answer.status_code in (404, 422), answer.text
        assert answer.json()["error"]["request_id"] == "req-1", path
    refused = client.post("/v1/events", content=b"{}", headers=headers)
    assert refused.status_code == 415
    assert refused.json()["error"]["request_id"] == "req-1"
    ok = client.get("/v1/alerts", headers=headers)
    assert "request_id" not in ok.json()


def test_readiness_is_200_once_the_read_model_is_built_and_liveness_stays(
    api: Any, ledger: Ledger
) -> None:
    client, _ = api
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "position": ledger.head_position(),
        "store": "reachable",
        "read_model": "ready",
    }
    assert client.get("/health").json()["status"] == "ok"


def test_metrics_hold_the_process_python_and_snapshot_gauges(api: Any, tmp_path: Path) -> None:
    client, token = api
    headers = {"Authorization": f"Bearer {token}"}
    text = client.get("/metrics", headers=headers).text
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "python_gc_collections_total",
        "python_info",
    ):
        assert f"\n{name}" in text, name
    assert "kpledger_snapshot_age_seconds" not in text  # none saved yet
    snapshot = Path(os.environ["KPLEDGER_SNAPSHOT"])
    snapshot.write_bytes(b"saved")
    os.utime(snapshot, (time.time() - 90, time.time() - 90))
    text = client.get("/metrics", headers=headers).text
    (line,) = [row for row in text.splitlines() if row.startswith("kpledger_snapshot_age_")]
    assert 90 <= float(line.split()[-1]) < 90 + 60


def test_every_log_line_of_a_request_carries_its_id_worker_threads_included() -> None:
    """A line logged in the event loop and one logged in a worker thread, both with the id."""
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("kpledger.test.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    async def route(_: Request) -> PlainTextResponse:
        logger.info("in the loop")
        await run_in_threadpool(logger.info, "in a thread")
        return PlainTextResponse("done")

    app = RequestId(Starlette(routes=[Route("/", route)]))
    try:
        with TestClient(app) as client:
            assert client.get("/", headers={"X-Request-ID": "r-7"}).text == "done"
            client.get("/")
    finally:
        logger.removeHandler(handler)
    ids = [getattr(record, "request_id", None) for record in lines]
    assert ids[:2] == ["r-7", "r-7"]
    assert ids[2] == ids[3] != "r-7" and len(str(ids[2])) == 32
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", None, None)
    RequestIdFilter().filter(outside)
    assert outside.request_id == "-"  # type: ignore[attr-defined]

"""The ASGI guards: an unexpected exception is a JSON 500 in our shape, logged once."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.guards import RefuseEmptyQueryValues, RefuseUnexpected


def failing_app() -> FastAPI:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    def fine(q: str | None = None) -> dict[str, str | None]:
        return {"q": q}

    app.add_middleware(RefuseEmptyQueryValues)
    app.add_middleware(RefuseUnexpected)
    return app


def test_an_unexpected_exception_is_a_json_500_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(failing_app(), raise_server_exceptions=False) as client:
        with caplog.at_level(logging.ERROR, logger="kpledger.api"):
            answer = client.get("/boom")
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["error"]["code"] == "internal"
        assert "a bug" not in answer.text  # the traceback stays in the log
        assert client.get("/fine", params={"q": "x"}).json() == {"q": "x"}
    logged = [record for record in caplog.records if record.name == "kpledger.api"]
    assert len(logged) == 1 and logged[0].exc_info is not None


def test_an_empty_query_value_is_refused_before_the_route() -> None:
    with TestClient(failing_app()) as client:
        answer = client.get("/fine?q=")
    assert answer.status_code == 422
    assert answer.json()["error"]["detail"] == {"field": "q"}

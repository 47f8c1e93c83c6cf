"""ASGI guards around the application: no request ends in a traceback or plain text.

`RefuseUnexpected` turns any exception that escapes a route into a JSON 500 in the
protocol's error shape, logged once with its traceback, the connection kept sound.
`RefuseEmptyQueryValues` answers 422 for a query parameter given with an empty value
(`?type=`): an empty value is never taken to mean "absent".
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import LedgerError

log = logging.getLogger("kpledger.api")

__all__ = ["EMPTY_QUERY_VALUE", "RefuseEmptyQueryValues", "RefuseUnexpected", "error_response"]


async def error_response(send: Send, error: LedgerError, status: int | None = None) -> None:
    """Sends the protocol's error body for `error` as a complete response."""
    body = json.dumps(error.to_body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status or error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RefuseUnexpected:
    """Any unexpected exception: a JSON 500 `internal` in our shape, logged once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if not started:
                problem = LedgerError("internal", "an unexpected error; it was logged")
                await error_response(send, problem)


EMPTY_QUERY_VALUE = "kpledger.empty_query_value"
"""The key, in a request's `state`, of the 422 its token check raises once it passed."""


class RefuseEmptyQueryValues:
    """A query parameter with an empty value (`?as_of=`) is 422 `invalid`, naming it.

    On a route that needs a token the refusal waits for the token check (`api.auth`
    raises it once the token passed), so that 401 comes before 422 as the protocol says;
    on a route without one it is answered at once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            query = scope["query_string"].decode("latin-1")
            for name, value in parse_qsl(query, keep_blank_values=True):
                if value == "":
                    problem = LedgerError(
                        "invalid",
                        f"query parameter {name!r} is empty: give a value or leave it out",
                        detail={"field": name},
                    )
                    if _needs_token(scope):
                        scope.setdefault("state", {})[EMPTY_QUERY_VALUE] = problem
                        break
                    await error_response(send, problem)
                    return
        await self.app(scope, receive, send)


def _needs_token(scope: Scope) -> bool:
    """Whether the route `scope` goes to asks for a bearer token: its operation in the
    application's OpenAPI document has `security` (FastAPI adds it for `api.auth`)."""
    app = scope.get("app")
    if app is None or not hasattr(app, "openapi"):
        return False
    routes = getattr(app.state, "_token_routes", None)
    if routes is None:
        routes = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), method)
            for path, operations in app.openapi().get("paths", {}).items()
            for method, operation in operations.items()
            if isinstance(operation, dict) and "security" in operation
        ]
        app.state._token_routes = routes
    method, path = scope["method"].lower(), scope["path"]
    return any(method == wanted and pattern.match(path) for pattern, wanted in routes)

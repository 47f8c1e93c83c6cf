"""Request ids: `X-Request-ID` accepted (or made), echoed, logged and put in error bodies.

`RequestId`, the outermost middleware, takes the client's `X-Request-ID` when it is 1 to
128 characters of letters, digits and `._:-` (anything else is replaced, never logged),
or makes one (32 hex digits). The id is sent back in `X-Request-ID`, set for every log
line written while the request is answered (`RequestIdFilter`, threads included:
contextvars follow the request into worker threads), and added as `request_id` to the
`error` object of every error body.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestId", "RequestIdFilter", "current_request_id"]

HEADER = "x-request-id"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("kpledger_request_id", default="-")


def current_request_id() -> str:
    """The id of the request being answered, `-` outside any request."""
    return _current.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


def _given(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == HEADER.encode():
            text = value.decode("latin-1")
            return text if _ACCEPTED.match(text) else None
    return None


class RequestId:
    """Gives every HTTP request an id, echoes it, and puts it in error bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _given(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = _current.set(request_id)
        start: Message | None = None
        held: list[bytes] = []

        async def identifying_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                if message["status"] >= 400 and _is_json(headers):
                    start = message  # held until the body is whole
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _with_request_id(b"".join(held), request_id)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        try:
            await self.app(scope, receive, identifying_send)
        finally:
            _current.reset(token)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"application/json")
        for name, value in headers
    )


def _with_request_id(body: bytes, request_id: str) -> bytes:
    """The error body with `request_id` in its `error` object (any other body unchanged)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if not isinstance(parsed, dict) or not isinstance(parsed.get("error"), dict):
        return body
    parsed["error"]["request_id"] = request_id
    return json.dumps(parsed).encode()

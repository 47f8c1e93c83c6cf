"""Logging: one access line per request, as text or JSON, and never a secret.

`configure(settings)` sends every logger's records (ours and uvicorn's) to stderr at
KPLEDGER_LOG_LEVEL, formatted as text or, with KPLEDGER_LOG_FORMAT=json, one JSON object a
line, each with the id of the request it was written for (`api.requests`). `AccessLog`
writes one line per HTTP request to the `kpledger.access` logger: method, path (without its
query), status, milliseconds, the name of the token that made it (`-` when none) and the
client's address; the token itself is never logged, and `Redact` masks anything shaped like a
token in any line as a second guard. It also hands each request to the metrics, if any.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.requests import RequestIdFilter

__all__ = ["AccessLog", "JsonFormatter", "Redact", "configure", "route_template"]

access = logging.getLogger("kpledger.access")

_TOKEN = re.compile(r"kpl_[A-Za-z0-9_\-]+")
_FIELDS = ("method", "path", "route", "status", "ms", "token_name", "client", "request_id")
_TEXT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"


class Redact(logging.Filter):
    """Masks anything shaped like an API token (`kpl_...`) in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()  # formatted once: the formatter finds it done
        record.msg, record.args = _TOKEN.sub("kpl_[redacted]", message), None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = _TOKEN.sub("kpl_[redacted]", self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str, level: str) -> None:
    """Every record to stderr, at `level`, as `log_format` (`text` or `json`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT))
    handler.addFilter(Redact())
    handler.addFilter(RequestIdFilter())  # the id of the request each line was written for
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # ours replaces it


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/lots/{lot_id}`), never the raw path: the
    metrics' label, bounded whatever paths are asked for."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    for prefix in ("/ui", "/docs/assets"):
        if scope["path"].startswith(f"{prefix}/"):
            return f"{prefix}/{{file}}"
    return "unmatched"


class AccessLog:
    """One `kpledger.access` line per HTTP request, and the request handed to the metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            name = (scope.get("state") or {}).get("actor_name") or "-"
            client = scope.get("client")
            address = f"{client[0]}:{client[1]}" if client else "-"
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
                "token_name": name,
                "client": address,
            }
            if access.isEnabledFor(logging.INFO):  # a record made directly: no caller looked up
                access.handle(
                    access.makeRecord(
                        access.name,
                        logging.INFO,
                        __file__,
                        0,
                        "%s %s %s %.1fms by %s from %s",
                        (scope["method"], scope["path"], status, seconds * 1000, name, address),
                        None,
                        extra=fields,
                    )
                )
            metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
            if metrics is not None:
                metrics.observe_request(scope["method"], route, status, seconds)

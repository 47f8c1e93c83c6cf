"""The store away, over HTTP: 503 in the protocol's error shape, and `/health`'s answer.

Every error that means the database is away becomes a 503 with `Retry-After`, here and
nowhere else: `unavailable` (nothing was done; try again) or `outcome_unknown` (a write
was sent and its answer lost; post the same documents again). Any other store error
is a bug and stays a JSON 500 `internal`.
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ledger.application import Ledger
from ledger.availability import Availability, OutcomeUnknown, StoreUnavailable, is_store_away
from ledger.errors import LedgerError

__all__ = ["health", "install", "readiness", "watcher"]

log = logging.getLogger("kpledger.api")


def _refusal(error: StoreUnavailable | OutcomeUnknown) -> JSONResponse:
    return JSONResponse(
        error.to_body(), status_code=503, headers={"Retry-After": str(error.retry_after)}
    )


def _of(ledger: Ledger) -> Availability | None:
    """The ledger's availability (None for a stand-in ledger of the unit tests)."""
    found: Availability | None = getattr(ledger, "availability", None)
    return found


def watcher(ledger: Ledger) -> Availability | None:
    """Starts probing the ledger's store in the background; returns what to stop."""
    availability = _of(ledger)
    if availability is not None:
        availability.watch()
    return availability


def install(app: FastAPI, ledger: Ledger) -> None:
    """Maps the store's failures to HTTP on `app`."""

    def unavailable(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StoreUnavailable | OutcomeUnknown)
        return _refusal(error)

    def store_error(request: Request, error: Exception) -> JSONResponse:
        availability = _of(ledger)
        if availability is not None and is_store_away(error):
            availability.mark_unreachable(error)
            return _refusal(availability.unavailable())
        log.error(
            "unexpected store error answering %s %s",
            request.method,
            request.url.path,
            exc_info=error,
        )
        problem = LedgerError("internal", "an unexpected error; it was logged")
        return JSONResponse(problem.to_body(), status_code=500)

    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(OutcomeUnknown, unavailable)
    app.add_exception_handler(PersistenceError, store_error)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    app.add_exception_handler(psycopg.Error, store_error)


def health(ledger: Ledger) -> dict[str, Any]:
    """`{"status": "ok", "position": P, "store": "reachable"}`, or while the store is away
    `{"status": "degraded", "position": null, "store": "unreachable"}`: at once when the
    store is known to be away, within the store timeout when it has just gone."""
    availability = _of(ledger)
    if availability is None or availability.reachable:
        try:
            position = (
                ledger.head_position()
                if availability is None
                else availability.bounded(ledger.head_position)
            )
            return {"status": "ok", "position": position, "store": "reachable"}
        except StoreUnavailable:
            pass
    return {"status": "degraded", "position": None, "store": "unreachable"}


def readiness(ledger: Ledger, read_model: str) -> JSONResponse:
    """`GET /health/ready`: 200 `{"status": "ready", ...}` when the store answers and the
    read model (`building`, `ready` or `failed`) is ready; otherwise 503 `{"status":
    "not_ready", ...}` with `Retry-After`, naming what is not usable. For an orchestrator's
    readiness check (send traffic or not); `/health` stays liveness."""
    answer = health(ledger)
    store_ok = answer["store"] == "reachable"
    body = {
        "status": "ready" if store_ok and read_model == "ready" else "not_ready",
        "position": answer["position"],
        "store": answer["store"],
        "read_model": read_model,
    }
    if body["status"] == "ready":
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

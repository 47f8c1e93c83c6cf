"""The FastAPI application: create_app(settings) builds it, nothing happens at import time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api import availability
from api.docs import mount_docs
from api.guards import RefuseEmptyQueryValues, RefuseUnexpected
from api.logs import AccessLog
from api.metrics import mount_metrics
from api.openapi import openapi
from api.routes import (
    alerts,
    audit,
    certificates,
    compliance,
    events,
    lots,
    operators,
    search,
    statistics,
    trace,
)
from api.routes import paths as paths_routes
from api.settings import Settings
from api.ui import mount_ui
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.signing import SigningKey
from projections.follower import Follower
from projections.reads import Reads
from projections.snapshot import Snapshots, snapshot_path


def create_app(
    settings: Settings | None = None,
    ledger: Ledger | None = None,
    signing_key: SigningKey | None = None,
) -> FastAPI:
    """Builds the API over the store that `settings` names (or over `ledger`, if given).

    Checkpoints are signed with `signing_key`, or else with the key in the file that
    `settings.signing_key` names, read (or created) when first needed.
    """
    settings = settings or Settings()
    ledger = ledger or Ledger.open(settings.database_url)
    reads = Reads(
        ledger,
        value_discrepancy=settings.value_discrepancy,
        rapid_reexport_days=settings.rapid_reexport_days,
        deadlines=settings.deadlines,
    )
    ledger.attach_alert_check(reads.alert_exists)  # the triage rule asks the read model

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # build the projections before serving: from the snapshot if it fits, then the log
        path = snapshot_path(settings.snapshot, ledger.store)
        snapshots = Snapshots(reads, ledger.store, path, every=settings.snapshot_every)
        await run_in_threadpool(snapshots.start)
        follower = Follower(reads.catch_up, ledger.store)
        follower.start()
        watcher = availability.watcher(ledger)  # notices the store going away and back
        try:
            yield
        finally:
            follower.stop()
            if watcher is not None:
                watcher.stop()
            await run_in_threadpool(snapshots.stop)  # saves the last snapshot

    app = FastAPI(
        title="kpledger",
        version="1",
        summary="Chain-of-custody ledger for rough diamonds under the Kimberley Process",
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py from local files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.reads = reads
    app.state.signing_key = signing_key

    @app.exception_handler(LedgerError)
    def _ledger_error(_: Request, error: LedgerError) -> JSONResponse:
        return JSONResponse(error.to_body(), status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "invalid")
        problem = LedgerError(code, str(error.detail))
        headers = dict(error.headers or {})
        if error.status_code == 405:  # every method of every route at this path
            headers["Allow"] = ", ".join(
                method
                for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
                if any(
                    route.matches({**request.scope, "method": method})[0] == Match.FULL
                    for route in app.router.routes
                )
            )
        return JSONResponse(problem.to_body(), status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        problem = LedgerError("invalid", f"{where}: {first.get('msg', 'invalid request')}")
        return JSONResponse(problem.to_body(), status_code=422)

    availability.install(app, ledger)  # the store away: 503 with Retry-After

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, the log's head position and whether the store answers; no token needed."""
        return availability.health(ledger)

    for module in (
        events,
        lots,
        certificates,
        operators,
        trace,
        alerts,
        audit,
        statistics,
        compliance,
        search,
        paths_routes,
    ):
        app.include_router(module.router)
    app.add_middleware(RefuseEmptyQueryValues)
    app.add_middleware(RefuseUnexpected)
    app.add_middleware(AccessLog)  # outermost: one line per request, 500s included
    mount_ui(app)  # GET /ui, the investigator's page, and its files
    mount_docs(app)  # GET /docs and /redoc, from local files
    mount_metrics(app, ledger, reads)  # GET /metrics, Prometheus
    openapi(app)  # GET /openapi.json, completed: bodies, answers, errors, bearer
    return app

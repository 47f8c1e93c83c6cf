"""The FastAPI application: create_app(settings) builds it, nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Callable
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
from api.openapi import errors, openapi, operation_id
from api.requests import RequestId
from api.revocation import TokenRefresher
from api.routes import (
    alerts,
    audit,
    certificates,
    compliance,
    events,
    exports,
    keys,
    lots,
    operators,
    sanctions,
    search,
    statistics,
    tiles,
    trace,
)
from api.routes import paths as paths_routes
from api.schemas import Health, Readiness
from api.settings import Settings
from api.ui import mount_ui
from api.witnessed import mount_witnessed_log, witnessing_of
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.signing import SigningKey
from projections.follower import Follower
from projections.head import WrittenHead
from projections.reads import Reads
from projections.screening import Screening, subjects
from projections.snapshot import Snapshots, snapshot_path

__all__ = ["create_app", "generated_text"]


def _on_hangup(callback: Callable[[], None]) -> bool:
    """Calls `callback` on each SIGHUP; False where signals cannot be handled (a loop
    outside the main thread, as in tests' clients, or Windows)."""
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, callback)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError):
        return False
    return True


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
    head = None
    if settings.sole_writer:  # the head is what this process appended: never asked again
        written = WrittenHead(ledger.read_head)
        ledger.appended = written.appended
        head = written.now
    reads = Reads(
        ledger,
        head=head,
        value_discrepancy=settings.value_discrepancy,
        rapid_reexport_days=settings.rapid_reexport_days,
        deadlines=settings.deadlines,
        value_outliers=settings.value_outliers,
    )
    ledger.attach_alert_check(reads.alert_exists)  # the triage rule asks the read model
    screening = Screening(
        settings.sanctions_lists,
        settings.screening_threshold,
        operators=lambda: reads.read(lambda view: subjects(view.custody)),
    )
    reads.screening = screening  # screens each operator licensed, as it is applied

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # build the projections before serving: from the snapshot if it fits, then the log
        path = snapshot_path(settings.snapshot, ledger.store)
        snapshots = Snapshots(reads, ledger.store, path, every=settings.snapshot_every)
        await run_in_threadpool(snapshots.start)
        await run_in_threadpool(screening.load)  # the lists, and every operator screened
        # SIGHUP reloads them; reads go on meanwhile, the new lists swapped in once screened
        hangs_up = _on_hangup(screening.reload_in_background)
        follower = Follower(reads.catch_up, ledger.store)
        follower.start()
        watcher = availability.watcher(ledger)  # notices the store going away and back
        witnessing = witnessing_of(app)
        witnessing.start()  # signs checkpoints and asks the witnesses, in threads of its own
        refresher = TokenRefresher(ledger)  # revocations from other processes, within 1 s
        refresher.start()
        app.state.read_model_ready = True  # GET /health/ready
        try:
            yield
        finally:
            app.state.read_model_ready = False
            refresher.stop()
            witnessing.stop()
            if hangs_up:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
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
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.reads = reads
    app.state.screening = screening
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

    @app.get(
        "/health",
        tags=["service"],
        response_model=Health,
        response_model_exclude_unset=True,  # the read model's `error` only when it failed
        responses=errors(503),
    )
    def health() -> dict[str, Any]:
        """Liveness, the log's head position, whether the store answers, whether the read
        model follows the log (`degraded` when it stopped at an entry), and the checkpoint
        `GET /checkpoint` serves; no token needed."""
        answer = availability.health(ledger)
        failure = reads.failure
        if failure is None:
            answer["read_model"] = {"state": "following", "position": reads.position}
        else:
            answer["status"] = "degraded"
            answer["read_model"] = {"state": "failed", **failure.to_json()}
        answer["checkpoint"] = witnessing_of(app).health()
        return answer

    @app.get(
        "/health/ready",
        tags=["service"],
        response_model=Readiness,
        responses={
            503: {
                "model": Readiness,
                "description": "Not ready: the store does not answer or the read model is "
                "not built yet; retry after Retry-After",
            }
        },
    )
    def ready() -> JSONResponse:
        """Readiness: 200 when the store answers and the read model is built, else 503
        (with what is not usable); no token needed."""
        if reads.failure is not None:
            read_model = "failed"
        else:
            read_model = "ready" if getattr(app.state, "read_model_ready", False) else "building"
        return availability.readiness(ledger, read_model)

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
        exports,
        keys,
        tiles,
        sanctions,
        paths_routes,
    ):
        app.include_router(module.router)
    app.add_middleware(RefuseEmptyQueryValues)
    app.add_middleware(RefuseUnexpected)
    app.add_middleware(AccessLog)  # one line per request, 500s included
    app.add_middleware(RequestId)  # outermost: X-Request-ID, in every log line and error body
    mount_ui(app)  # GET /ui, the investigator's page, and its files
    mount_docs(app)  # GET /docs and /redoc, from local files
    mount_metrics(app, ledger, reads)  # GET /metrics, Prometheus
    mount_witnessed_log(app)  # GET /checkpoint, certificates' proofs, witnesses' metrics
    openapi(app)  # GET /openapi.json, completed: bodies, answers, errors, bearer
    return app


def generated_text() -> str:
    """The completed document as `kpledger openapi` prints it (and docs/openapi.json holds):
    built over a throw-away SQLite store, so that nothing is read or created here."""
    import tempfile
    from pathlib import Path

    from api.settings import Settings
    from ledger.application import Ledger

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'openapi.db'}"
        ledger = Ledger.open(url)
        try:
            settings = Settings(database_url=url, signing_key=Path(folder) / "key.pem")
            spec = create_app(settings, ledger).openapi()
        finally:
            ledger.close()
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"

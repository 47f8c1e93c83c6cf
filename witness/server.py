"""The witness over HTTP: `POST /add-checkpoint` and `GET /<origin hash>/checkpoint`."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from witness.core import WitnessCore

__all__ = ["MAX_BODY", "create_witness_app"]

MAX_BODY = 64 * 1024
"""The largest add-checkpoint body read (63 proof lines and a few signatures fit)."""


def create_witness_app(core: WitnessCore) -> FastAPI:
    """The witness's HTTP service over `core`."""
    app = FastAPI(title="kpledger witness", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response("the body is too large\n", status_code=413, media_type="text/plain")
        answer = await run_in_threadpool(core.add_checkpoint, body)  # fsync off the loop
        # the content type exactly as given: text/x.tlog.size takes no charset
        return Response(
            answer.body, status_code=answer.status, headers={"Content-Type": answer.content_type}
        )

    @app.get("/{origin_hash}/checkpoint")
    def monitoring_checkpoint(origin_hash: str) -> Response:
        for origin in core.origins():
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                note = core.latest(origin)
                if note is not None:
                    return Response(note, media_type="text/plain; charset=utf-8")
        return Response("no checkpoint cosigned for that origin\n", status_code=404)

    @app.get("/health")
    def health() -> dict[str, object]:
        return {"status": "ok", "name": core.signer.name, "vkey": core.signer.verifier.vkey}

    return app

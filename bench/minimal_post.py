"""The single-document POST benchmark's baseline server: the smallest HTTP endpoint that
stores a document's rows, the floor of any Python HTTP service on this store.

uvicorn (the same server, event loop and HTTP parser as ours) and a bare Starlette route:
no validation, no token, no middleware, no thread. `POST /v1/events` reads the body and
inserts, in one statement and so one transaction (one COMMIT), the rows the ledger stores
for one document, as `KPLEDGER_BENCH_ROWS` describes them (a JSON list of `[topic, state
bytes, journal]`): the journal's row under one id, at the next version this process
counts, each other under a new id, at version 1; each state the size the ledger's was.
Its 4 connections are psycopg's asynchronous ones, in a pool, on the event loop.

    KPLEDGER_DATABASE_URL=... KPLEDGER_BENCH_ROWS=... python -m bench.minimal_post serve \
        --port P [--workers 1]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["BASELINE_JOURNAL_ID", "app", "document_rows", "insert_statement"]

BASELINE_JOURNAL_ID = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")
"""The id the baseline's journal rows share (the ledger's share one too)."""


def insert_statement(rows_per_document: int) -> str:
    """One INSERT of a document's rows into the ledger's table."""
    values = ", ".join(["(%s, %s, %s, %s)"] * rows_per_document)
    return (
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
        f"VALUES {values}"
    )


def document_rows(shape: list[tuple[str, int, bool]], position: int) -> list[Any]:
    """The flattened parameters of one document's rows of that shape (`[topic, state
    bytes, journal]` each), its journal row at `position`."""
    parameters: list[Any] = []
    for topic, size, journal in shape:
        parameters += [
            BASELINE_JOURNAL_ID if journal else uuid.uuid4(),
            position if journal else 1,
            topic,
            b"x" * size,
        ]
    return parameters


def app() -> Starlette:
    """The endpoint over KPLEDGER_DATABASE_URL, storing KPLEDGER_BENCH_ROWS per document."""
    shape = [tuple(row) for row in json.loads(os.environ["KPLEDGER_BENCH_ROWS"])]
    statement = insert_statement(len(shape))
    positions = itertools.count(1)
    pool = AsyncConnectionPool(
        os.environ["KPLEDGER_DATABASE_URL"],
        min_size=4,
        max_size=4,
        kwargs={"autocommit": True},
        open=False,
    )

    async def post(request: Request) -> Response:
        await request.body()
        async with pool.connection() as connection:
            await connection.execute(statement, document_rows(shape, next(positions)))
        return Response(b'{"accepted": 1}', status_code=201, media_type="application/json")

    async def health(_: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open(wait=True)
        try:
            yield
        finally:
            await pool.close()

    return Starlette(
        routes=[Route("/v1/events", post, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )


def main() -> None:
    """`serve --port P [--workers 1]`, as `bench.common.running_server` starts a server."""
    parser = argparse.ArgumentParser(prog="python -m bench.minimal_post")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, choices=[1])
    args = parser.parse_args()
    uvicorn.run(
        "bench.minimal_post:app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

"""Capture throughput over HTTP against raw psycopg inserts into an event-shaped table.

- batch: 1,000 `lot.produced` documents per POST, against batched INSERTs of the same
  number of rows, of the same sizes, as the ledger stored per document;
- single: one document per POST from 4 concurrent clients, against single-row
  INSERT + COMMIT from 4 connections;
- signed: the batch capture of documents signed by the authority's key (checked at
  capture), against the same documents unsigned from an authority without a key, in the
  same run (each on a fresh store of its own).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import Result, fresh_postgres, running_server
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.documents import parse_document
from ledger.keys import public_key_text, sign_normal_form
from ledger.normal import normal_form

EVENT_TABLE = """
CREATE TABLE events (
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX events_notification_id_idx ON events (notification_id);
"""


def _produced(batch: int, index: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "lot.produced",
        "occurred_at": "2005-06-01T10:00:00Z",
        "lot_id": f"BENCH-{batch}-{index}",
        "source_id": "BENCH-MINE",
        "carats": "12.34",
        "value_usd": "1234.00",
    }


def _prepare(store_url: str, key: Ed25519PrivateKey | None = None) -> str:
    """Botswana admitted with a mine (and, given a `key`, that key registered for its
    authority); returns a token of its authority."""
    ledger = Ledger.open(store_url)
    secretariat = Actor("secretariat", "bench")
    ledger.post(
        {
            "event_id": str(uuid.uuid4()),
            "type": "participant.admitted",
            "occurred_at": "2005-06-01T10:00:00Z",
            "participant": "BW",
            "name": "Botswana",
        },
        secretariat,
    )
    ledger.post(
        {
            "event_id": str(uuid.uuid4()),
            "type": "mine.registered",
            "occurred_at": "2005-06-01T10:00:00Z",
            "mine_id": "BENCH-MINE",
            "participant": "BW",
            "name": "Jwaneng",
            "region": "Southern",
            "location": {"lat": -24.6, "lon": 24.7},
        },
        Actor("authority", "bench-bw", "BW"),
    )
    if key is not None:
        ledger.post(
            {
                "event_id": str(uuid.uuid4()),
                "type": "authority_key.registered",
                "occurred_at": "2005-06-01T10:00:00Z",
                "participant": "BW",
                "public_key": public_key_text(key),
                "name": "bench",
            },
            secretariat,
        )
    token = ledger.create_token("authority", "bench-bw", "BW")
    ledger.close()
    return token


def _stored_shape(store_url: str, documents: int) -> tuple[float, int]:
    """Rows per document and mean state size the ledger stored for the benchmark's documents."""
    with psycopg.connect(store_url) as connection:
        rows, size = connection.execute(
            "SELECT count(*), avg(length(state))::int FROM ledger_events"
        ).fetchone()  # type: ignore[misc]
    return rows / documents, int(size)


def _raw_batched(rows: int, rows_per_insert: int, size: int) -> float:
    """Seconds to insert `rows` rows of `size` bytes, `rows_per_insert` per transaction."""
    with fresh_postgres() as url, psycopg.connect(url) as connection:
        connection.execute(EVENT_TABLE)
        connection.commit()
        state = b"x" * size
        started = time.perf_counter()
        for start in range(0, rows, rows_per_insert):
            count = min(rows_per_insert, rows - start)
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO events (originator_id, originator_version, topic, state) "
                    "VALUES (%s, 1, 'bench:Topic', %s)",
                    [(uuid.uuid4(), state) for _ in range(count)],
                )
            connection.commit()
        return time.perf_counter() - started


def batch_capture(documents: int = 100_000, per_post: int = 1000) -> Result:
    """Documents per second through POST /v1/events in batches, against raw batched inserts."""
    with fresh_postgres() as store_url:
        token = _prepare(store_url)
        with (
            running_server(store_url) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
            ) as client,
        ):
            started = time.perf_counter()
            for batch in range(documents // per_post):
                body = {"events": [_produced(batch, i) for i in range(per_post)]}
                answer = client.post("/v1/events", json=body)
                answer.raise_for_status()
            seconds = time.perf_counter() - started
        rows_per_document, size = _stored_shape(store_url, documents)
    raw_seconds = _raw_batched(
        int(rows_per_document * documents), int(rows_per_document * per_post), size
    )
    ours, baseline = documents / seconds, documents / raw_seconds
    return Result(
        name="batch capture (1,000 per POST)",
        unit="documents/s",
        ours=ours,
        baseline=baseline,
        target=">= 0.5x",
        met=ours / baseline >= 0.5,
        notes={"documents": documents, "rows_per_document": rows_per_document, "state_bytes": size},
    )


def single_capture(documents: int = 20_000, clients: int = 4) -> Result:
    """Single-document POSTs from concurrent clients, against single-row INSERT + COMMIT."""
    with fresh_postgres() as store_url:
        token = _prepare(store_url)
        failures: list[int] = []

        def post_some(worker: int, base: str) -> None:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
            ) as client:
                for index in range(documents // clients):
                    answer = client.post("/v1/events", json=_produced(10_000 + worker, index))
                    if answer.status_code != 201:
                        failures.append(answer.status_code)

        with running_server(store_url) as base:
            workers = [threading.Thread(target=post_some, args=(n, base)) for n in range(clients)]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - started
        rows_per_document, size = _stored_shape(store_url, documents)

    with fresh_postgres() as url:
        with psycopg.connect(url) as setup:
            setup.execute(EVENT_TABLE)
        state = b"x" * size

        def insert_some() -> None:
            with psycopg.connect(url, autocommit=True) as connection:
                for _ in range(documents // clients):
                    connection.execute(
                        "INSERT INTO events (originator_id, originator_version, topic, state) "
                        "VALUES (%s, 1, 'bench:Topic', %s)",
                        (uuid.uuid4(), state),
                    )

        inserters = [threading.Thread(target=insert_some) for _ in range(clients)]
        started = time.perf_counter()
        for inserter in inserters:
            inserter.start()
        for inserter in inserters:
            inserter.join()
        raw_seconds = time.perf_counter() - started
    ours, baseline = documents / seconds, documents / raw_seconds
    return Result(
        name=f"single-document POST ({clients} clients)",
        unit="documents/s vs rows/s",
        ours=ours,
        baseline=baseline,
        target=">= 0.25x",
        met=ours / baseline >= 0.25,
        notes={
            "documents": documents,
            "failures": len(failures),
            "rows_per_document": rows_per_document,
        },
    )


def signed_capture(documents: int = 20_000, per_post: int = 1000) -> Result:
    """Batch capture of signed documents (each checked: key in force, Ed25519 over the
    normal form) against the same documents unsigned, in the same run: two servers, each
    on a fresh store of its own, posted to in turn (an unsigned batch, then the signed
    one), so that the shared machine's load weighs on both alike."""
    key = Ed25519PrivateKey.generate()
    unsigned = [
        [normal_form(parse_document(_produced(batch, i))) for i in range(per_post)]
        for batch in range(documents // per_post)
    ]
    signed = [[sign_normal_form(document, key) for document in body] for body in unsigned]
    seconds = {"unsigned": 0.0, "signed": 0.0}
    with (
        fresh_postgres() as unsigned_url,
        fresh_postgres() as signed_url,
    ):
        tokens = {"unsigned": _prepare(unsigned_url), "signed": _prepare(signed_url, key)}
        with (
            running_server(unsigned_url) as unsigned_base,
            running_server(signed_url) as signed_base,
        ):
            clients = {
                name: httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {tokens[name]}"}, timeout=600
                )
                for name, base in (("unsigned", unsigned_base), ("signed", signed_base))
            }
            try:
                for plain, signed_body in zip(unsigned, signed, strict=True):
                    for name, body in (("unsigned", plain), ("signed", signed_body)):
                        started = time.perf_counter()
                        answer = clients[name].post("/v1/events", json={"events": body})
                        seconds[name] += time.perf_counter() - started
                        answer.raise_for_status()
            finally:
                for client in clients.values():
                    client.close()
    ours, baseline = documents / seconds["signed"], documents / seconds["unsigned"]
    return Result(
        name=f"signed batch capture ({per_post:,} per POST)",
        unit="documents/s",
        ours=ours,
        baseline=baseline,
        target=">= 0.8x",
        met=ours / baseline >= 0.8,
        notes={"documents": documents, "baseline": "the same documents unsigned"},
    )

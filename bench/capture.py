"""Capture throughput over HTTP against raw psycopg inserts into an event-shaped table.

- batch: 1,000 `lot.produced` documents per POST, against batched INSERTs of the same
  number of rows, of the same sizes, as the ledger stored per document;
- single: one document per POST over 4 connections driven by wrk, against the smallest
  HTTP endpoint storing the same rows, and raw psycopg commits of them (`single_capture`);
- signed: the batch capture of documents signed by the authority's key (checked at
  capture), against the same documents unsigned from an authority without a key, in the
  same run (each on a fresh store of its own).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import Result, fresh_postgres, running_server
from bench.minimal_post import BASELINE_JOURNAL_ID, document_rows, insert_statement
from ledger.actors import Actor
from ledger.application import Ledger
from ledger.documents import parse_document
from ledger.journal import JOURNAL_ID
from ledger.keys import public_key_text, sign_normal_form
from ledger.normal import normal_form

WRK_SCRIPT = Path(__file__).with_name("single_post.lua")

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


def single_capture(seconds: float = 20, connections: int = 4) -> list[Result]:
    """Single-document POSTs against the floor of any Python HTTP service on this store,
    and against raw psycopg commits, in the same run.

    Our `kpledger serve` and the baseline server (`bench.minimal_post`) are each driven
    for `seconds` by `wrk` (a native load generator: the clients take almost none of the
    two cores the servers share; httpx clients took 0.8-0.9 ms of them a document) over
    `connections` connections, each request a new document (`bench/single_post.lua`).
    Only 2xx answers count, and each run is checked in the database: the documents
    appended must be the 2xx answers, plus at most the requests still in flight when wrk
    stopped (never fewer).

    Why the baseline is the floor: it is the same HTTP server (uvicorn, with the same
    event loop and parser) with nothing on top: no validation, no token, no middleware,
    no thread, psycopg's asynchronous connections on the event loop, and one statement,
    so one COMMIT, a request. What it stores is what the ledger stored for the same
    documents: the same rows (today the journal entry, the `event_id` claim and the lot's
    event; read from the ledger's table after our run, topics and state sizes), in the
    ledger's own table (made by `Ledger.open`, with its indexes). Any Python service that
    stores them does at least this work. Ours may commit the documents that arrive
    together in one transaction (group commit): where commits are slow (a busy disk or
    machine) that gains on the baseline's one commit a request, and the ratio says more
    about commit latency than about our CPU; on a quiet machine both are CPU-bound.

    The raw figure is what psycopg commits when nothing else runs: `connections` threads,
    each on a connection of its own, one INSERT of a document's rows per transaction.
    Targets: >= 0.5x the minimal endpoint, >= 0.25x raw commits.
    """
    with fresh_postgres() as store_url:
        token = _prepare(store_url)
        before = _journal_state(store_url, JOURNAL_ID)
        with running_server(store_url) as base:
            ours = _wrk(base, seconds, connections, token)
        shape = _document_shape(store_url, before, ours)
    with fresh_postgres() as url:
        Ledger.open(url).close()  # the ledger's table and indexes, empty
        rows = json.dumps([list(row) for row in shape])
        before = _journal_state(url, BASELINE_JOURNAL_ID)
        with running_server(
            url, module="bench.minimal_post", env={"KPLEDGER_BENCH_ROWS": rows}
        ) as base:
            minimal = _wrk(base, seconds, connections, "")
        _check_appended(url, BASELINE_JOURNAL_ID, before, minimal)
    with fresh_postgres() as url:
        Ledger.open(url).close()
        raw = _raw_commits(url, shape, seconds, connections)
    ours_rate, minimal_rate = ours.rate, minimal.rate
    notes = {
        "seconds": seconds,
        "connections": connections,
        "rows_per_document": len(shape),
        "rows": [f"{topic} ({size} B)" for topic, size, _ in shape],
        "ours_2xx": ours.succeeded,
        "ours_failed": ours.failed,
        "minimal_endpoint_per_s": minimal_rate,
        "minimal_2xx": minimal.succeeded,
        "raw_psycopg_commits_per_s": raw,
    }
    return [
        Result(
            name=f"single-document POST ({connections} connections, wrk)",
            unit="documents/s",
            ours=ours_rate,
            baseline=minimal_rate,
            target=">= 0.5x",
            met=ours_rate / minimal_rate >= 0.5,
            notes={**notes, "baseline": "uvicorn + Starlette, one INSERT + COMMIT a request"},
        ),
        Result(
            name=f"single-document POST vs raw commits ({connections} connections)",
            unit="documents/s",
            ours=ours_rate,
            baseline=raw,
            target=">= 0.25x",
            met=ours_rate / raw >= 0.25,
            notes={**notes, "baseline": "psycopg, one INSERT + COMMIT a document"},
        ),
    ]


@dataclass(frozen=True)
class _Load:
    """What wrk counted: requests sent, 2xx and other answers, over `seconds`."""

    sent: int
    succeeded: int
    failed: int
    socket_errors: int
    seconds: float

    @property
    def rate(self) -> float:
        """2xx answers a second: failures are not throughput."""
        return self.succeeded / self.seconds


def _wrk(base: str, seconds: float, connections: int, token: str) -> _Load:
    """Runs wrk's single-document POSTs against `base` (see `bench/single_post.lua`)."""
    done = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds:g}s",
            "--timeout",
            "30s",
            "--script",
            str(WRK_SCRIPT),
            f"{base}/v1/events",
            "--",
            uuid.uuid4().hex[:8],
            token,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK_COUNTS "))
    counts = json.loads(line.removeprefix("WRK_COUNTS "))
    return _Load(
        sent=counts["sent"],
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        socket_errors=counts["socket_errors"],
        seconds=counts["duration_us"] / 1e6,
    )


def _journal_state(url: str, journal_id: UUID) -> tuple[int, int]:
    """The journal's rows and the table's last notification id."""
    with psycopg.connect(url) as connection:
        journal, last = connection.execute(
            "SELECT (SELECT count(*) FROM ledger_events WHERE originator_id = %s), "
            "(SELECT coalesce(max(notification_id), 0) FROM ledger_events)",
            (journal_id,),
        ).fetchone()  # type: ignore[misc]
    return int(journal), int(last)


def _check_appended(url: str, journal_id: UUID, before: tuple[int, int], load: _Load) -> int:
    """The documents appended since `before`; raises unless they are the 2xx answers, plus
    at most the requests unanswered when wrk stopped."""
    appended = _journal_state(url, journal_id)[0] - before[0]
    unanswered = load.sent - load.succeeded - load.failed
    if not load.succeeded <= appended <= load.succeeded + unanswered:
        raise RuntimeError(
            f"{appended} documents appended for {load.succeeded} 2xx answers "
            f"({unanswered} unanswered): the count is not the throughput"
        )
    return appended


def _document_shape(url: str, before: tuple[int, int], load: _Load) -> list[tuple[str, int, bool]]:
    """The rows the ledger stored per benchmark document: (topic, mean state size, whether
    it is the journal's), after checking the documents appended against `load`; rows
    rarer than one a document (a token's use, noted once) are no document's."""
    appended = _check_appended(url, JOURNAL_ID, before, load)
    with psycopg.connect(url) as connection:
        found = connection.execute(
            "SELECT topic, count(*), avg(length(state))::int, bool_and(originator_id = %s) "
            "FROM ledger_events WHERE notification_id > %s GROUP BY topic ORDER BY topic",
            (JOURNAL_ID, before[1]),
        ).fetchall()
    shape: list[tuple[str, int, bool]] = []
    for topic, count, size, journal in found:
        shape += [(topic, size, journal)] * round(count / appended)
    return shape


def _raw_commits(
    url: str, shape: list[tuple[str, int, bool]], seconds: float, connections: int
) -> float:
    """Documents' rows committed a second by psycopg alone: `connections` threads, each
    one INSERT of a document's rows per transaction, for `seconds`."""
    statement = insert_statement(len(shape))
    positions = itertools.count(1)
    committed = [0] * connections
    stop = threading.Event()

    def insert(worker: int) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            while not stop.is_set():
                connection.execute(statement, document_rows(shape, next(positions)))
                committed[worker] += 1

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    with psycopg.connect(url) as connection:
        stored = connection.execute(
            "SELECT count(*) FROM ledger_events WHERE originator_id = %s", (BASELINE_JOURNAL_ID,)
        ).fetchone()[0]  # type: ignore[index]
    if stored != sum(committed):
        raise RuntimeError(f"{stored} documents stored for {sum(committed)} commits")
    return sum(committed) / elapsed


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

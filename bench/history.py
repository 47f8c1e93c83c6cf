"""The KP's whole history at lot level: a world of ten million lots over twenty years,
generated, served and queried on one machine.

    .venv/bin/python -m bench history [--lots 10000000] [--years 20] [--seed S] [--cte]

On `bench.world`'s cached world (generated first when missing; the generation's time is
the one its marker recorded), in one run, each step against a real `kpledger serve`:

1. the server starts with no snapshot: seconds from process start to its first 200 on
   GET /v1/lots/{id} (the full replay), and its resident memory;
2. over HTTP, the same server answers provenance of 1,000 lots drawn from those the log
   creates (a sample of its pages, `TABLESAMPLE`), downstream from 40 sources drawn from
   those the sampled lots were produced at (p95), and downstream from the source of the
   most carats among them (median of 3); all timed as a client sees them;
3. the server is stopped, which saves its read-model snapshot (timed);
4. a server starts from that snapshot: seconds to its first 200 (the answer must equal
   step 1's), and its resident memory;
5. with `--cte`, the log's material edges are read into `bench.queries`'s edge tables
   and its recursive CTEs answer the same questions: every answer checked equal to the
   server's, then timed (PostgreSQL in process, ours over HTTP: the ratio favours the CTE).
"""

from __future__ import annotations

import contextlib
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from bench import queries
from bench.common import Result, free_port, median, percentile, running_server
from bench.rebuild import server_rss
from bench.world import world_facts
from ledger.application import Ledger
from ledger.journal import JOURNAL_ID

SAMPLES = 1000
SOURCES = 40  # downstream's p95: sources drawn from those the sampled lots came from
NEVER = str(2**62)  # KPLEDGER_SNAPSHOT_EVERY: no snapshot while serving, one on stop
READY_WITHIN = 3 * 3600  # seconds a server may take to replay before it answers
STOP_WITHIN = 3600  # seconds a server may take to save its snapshot on stop


def sampled_lots(
    url: str, wanted: int, seed: int, entries: int
) -> tuple[list[str], dict[str, int]]:
    """`wanted` lots drawn from those the documents on a sample of the journal's pages
    create (about 20 entries a lot wanted, of the log's `entries`), and the hundredths of
    carats each sampled source produced in them."""
    percent = min(100.0, 100.0 * 20 * wanted / max(entries, 1))
    created: list[str] = []
    produced: dict[str, int] = {}
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT state FROM ledger_events TABLESAMPLE SYSTEM (%s) REPEATABLE (%s) "
            "WHERE originator_id = %s AND originator_version > 0",
            (percent, seed, JOURNAL_ID),
        ).fetchall()
    for (state,) in rows:
        document = orjson.loads(state).get("document", {})
        kind = document.get("type")
        if kind == "lot.produced":
            created.append(document["lot_id"])
            source = document["source_id"]
            produced[source] = produced.get(source, 0) + queries.hundredths(document["carats"])
        elif kind == "lot.split":
            created += [part["lot_id"] for part in document["into"]]
        elif kind == "lots.merged":
            created.append(document["into"]["lot_id"])
    return random.Random(seed).sample(created, min(wanted, len(created))), produced


class _Server:
    """A `kpledger serve` on a world with `env`, timed from its start, and a client of it."""

    def __init__(self, url: str, env: dict[str, str], token: str) -> None:
        self.url, self.env, self.token = url, env, token
        self.port = free_port()
        self.ready_s = self.stop_s = 0.0
        self.rss: int | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Server:
        self._started = time.perf_counter()
        base = self._stack.enter_context(
            running_server(
                self.url,
                self.port,
                self.env,
                ready_within=READY_WITHIN,
                stop_within=STOP_WITHIN,
            )
        )
        self.client = self._stack.enter_context(
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {self.token}"}, timeout=3600
            )
        )
        return self

    def first_read(self, lot_id: str) -> Any:
        """GET /v1/lots/{lot_id}: notes the seconds since the start and the server's memory."""
        answer = self.client.get(f"/v1/lots/{lot_id}")
        answer.raise_for_status()
        self.ready_s = time.perf_counter() - self._started
        self.rss = server_rss(self.port)
        return answer.json()

    def get(self, path: str, **params: str) -> tuple[float, Any]:
        """Seconds of a GET as the client sees it, and its answer."""
        started = time.perf_counter()
        answer = self.client.get(path, params=params)
        seconds = time.perf_counter() - started
        answer.raise_for_status()
        return seconds, answer.json()

    def __exit__(self, *_: object) -> None:
        stopping = time.perf_counter()
        self._stack.close()  # the server saves its snapshot as it stops
        self.stop_s = time.perf_counter() - stopping


def _cte_seconds(
    url: str,
    answers: dict[str, Any],
    traces: dict[str, Any],
    source_id: str,
    downstream: dict[str, Any],
) -> tuple[float, float, float]:
    """The CTEs' p95 of provenance over the lots of `answers` and of downstream from the
    sources of `traces`, and median of 3 of downstream from `source_id`, each answer
    checked equal to ours first."""
    edges = queries.EdgeTable()
    ledger = Ledger.open(url)
    after = 0
    while page := ledger.read_log(after, 10_000):
        edges.take(page)
        after = page[-1].position
    ledger.close()
    with psycopg.connect(url) as connection:
        edges.store(connection)
        del edges

        def cte(query: str, **params: str) -> tuple[float, list[Any]]:
            started = time.perf_counter()
            rows = connection.execute(query, params, prepare=True).fetchall()
            return time.perf_counter() - started, rows

        provenance = []
        for lot_id, answer in answers.items():
            seconds, rows = cte(queries.PROVENANCE_CTE, lot=lot_id)
            provenance.append(seconds)
            assert queries.provenance_agrees(answer, rows), lot_id
        sampled = []
        for source, answer in traces.items():
            seconds, rows = cte(queries.DOWNSTREAM_CTE, source=source)
            sampled.append(seconds)
            assert queries.downstream_agrees(answer, rows), f"downstream from {source} differs"
        timed = [cte(queries.DOWNSTREAM_CTE, source=source_id) for _ in range(3)]
        down = [seconds for seconds, _ in timed]
        assert queries.downstream_agrees(downstream, timed[-1][1]), "downstream differs"
    return (
        percentile(provenance, 0.95) * 1000,
        percentile(sampled, 0.95) * 1000,
        median(down) * 1000,
    )


def _over_http(
    name: str, unit: str, ours: float, cte: float, speedup: str, **notes: float
) -> Result:
    """A query's figure over HTTP, against the CTE's (NaN when not run) as its baseline."""
    if not math.isnan(cte):
        notes[speedup] = cte / ours
    return Result(
        name=name,
        unit=unit,
        ours=ours,
        baseline=cte,
        target="report it (--cte: against the CTE)",
        met=True,
        notes=dict(notes),
    )


def run(url: str, samples: int = SAMPLES, seed: int = 0, cte: bool = False) -> list[Result]:
    """Replay, queries, snapshot and the cold start from it, each through `kpledger serve`."""
    generation = world_facts(url)
    ledger = Ledger.open(url)
    token = ledger.create_token("investigator", "bench-history")
    entries = ledger.head_position()
    ledger.close()
    lots, produced = sampled_lots(url, samples, seed, entries)
    source_id = max(produced, key=produced.__getitem__)
    sources = random.Random(seed).sample(sorted(produced), min(SOURCES, len(produced)))
    with tempfile.TemporaryDirectory(prefix="kpl-bench-") as folder:
        path = Path(folder) / "read.snapshot"
        env = {"KPLEDGER_SNAPSHOT": str(path), "KPLEDGER_SNAPSHOT_EVERY": NEVER}
        with _Server(url, env, token) as replayed:
            expected = replayed.first_read(lots[0])
            timed = [replayed.get(f"/v1/lots/{lot_id}/provenance") for lot_id in lots]
            answers = {lot_id: answer for lot_id, (_, answer) in zip(lots, timed, strict=True)}
            traces: dict[str, Any] = {}  # answers kept only for the CTEs to check
            trace_seconds, reached_lots = [], []
            for source in sources:
                seconds, answer = replayed.get("/v1/trace/downstream", source_id=source)
                trace_seconds.append(seconds)
                reached_lots.append(len(answer["lots"]))
                if cte:
                    traces[source] = answer
            down_seconds, downstream = replayed.get("/v1/trace/downstream", source_id=source_id)
            down = [down_seconds] + [  # one answer kept: a large source's runs to gigabytes
                replayed.get("/v1/trace/downstream", source_id=source_id)[0] for _ in range(2)
            ]
        snapshot_mb = path.stat().st_size / 2**20
        with _Server(url, env, token) as restarted:
            assert restarted.first_read(lots[0]) == expected, "the snapshot answers otherwise"
    provenance_seconds = [seconds for seconds, _ in timed]
    provenance_ms = percentile(provenance_seconds, 0.95) * 1000
    downstream_ms = median(down) * 1000
    reached = {"lots": len(downstream["lots"]), "certificates": len(downstream["certificates"])}
    cte_provenance_ms = cte_traces_ms = cte_downstream_ms = float("nan")
    if cte:
        cte_provenance_ms, cte_traces_ms, cte_downstream_ms = _cte_seconds(
            url, answers, traces, source_id, downstream
        )
    facts = {
        "generation": generation,
        "entries": entries,
        "lots_sampled": len(lots),
        "source_id": source_id,
        "reached": reached,
        "snapshot_mb": snapshot_mb,
        "snapshot_save_on_stop_s": replayed.stop_s,
        "server_rss_mb": {
            "replayed": (replayed.rss or 0) / 2**20,
            "from_snapshot": (restarted.rss or 0) / 2**20,
        },
    }
    lots_count = generation["lots_created"]
    results = [
        Result(
            name="world generation",
            unit="documents/s",
            ours=generation["documents"] / generation["seconds"],
            baseline=float("nan"),
            target="report it",
            met=True,
            notes={"seconds": generation["seconds"]},
        ),
        Result(
            name="cold start to first read, full replay",
            unit="s",
            ours=replayed.ready_s,
            baseline=float("nan"),
            target="report it",
            met=True,
        ),
        Result(
            name="cold start to first read, from a snapshot",
            unit="s",
            ours=restarted.ready_s,
            baseline=replayed.ready_s,
            target=">= 10x",
            met=replayed.ready_s / restarted.ready_s >= 10,
            notes={"speedup": replayed.ready_s / restarted.ready_s},
        ),
        Result(
            name="server resident memory (from a snapshot)",
            unit="bytes/lot",
            ours=(restarted.rss or 0) / lots_count,
            baseline=float("nan"),
            target="report it (24 GB machine)",
            met=restarted.rss is not None,
        ),
        _over_http(
            "provenance over HTTP (p95)",
            "ms",
            provenance_ms,
            cte_provenance_ms,
            "speedup_p95",
            p50_ms=percentile(provenance_seconds, 0.5) * 1000,
        ),
        _over_http(
            f"downstream from {len(sources)} sampled sources over HTTP (p95)",
            "ms",
            percentile(trace_seconds, 0.95) * 1000,
            cte_traces_ms,
            "speedup_p95",
            p50_ms=percentile(trace_seconds, 0.5) * 1000,
            lots_reached_median=median(reached_lots),
            lots_reached_max=max(reached_lots),
        ),
        _over_http(
            "downstream from the largest source over HTTP",
            "ms (median)",
            downstream_ms,
            cte_downstream_ms,
            "speedup",
        ),
    ]
    for result in results:
        result.notes |= facts
    return results

"""A replica's catch-up against `kpledger import` of the same log.

    .venv/bin/python -m bench replica [--quick]

A generated world of `lots` lots (`kpledger generate`) in a SQLite file is served by
`kpledger serve`; the baseline is `kpledger import` of its export into an empty SQLite
file (the process's start included), ours is `kpledger replica` into another empty SQLite
file, from its start until `GET /health` says it holds the whole log: every checkpoint
signature, bundle, root and document signature checked first, then the same replay
(target >= 0.5x). Both are entries per second.

Then the replica's lag under load: one client posts batches of 1,000 `lot.produced` to
the source (the batch capture benchmark's load) for `LOAD_SECONDS`, while the replica's
`/health` is read every 0.1 s; a batch's lag is the time from its `201` to the replica
holding its last entry (reported: p50, p95 and the most; the source signs a checkpoint
at most every second here, KPLEDGER_CHECKPOINT_INTERVAL=1, and the replica looks every
0.2 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import Result, free_port, kpledger, median, percentile, running_server
from ledger.application import Ledger

LOAD_SECONDS = 20
BATCH = 1000

__all__ = ["run"]


def run(lots: int) -> list[Result]:
    """The catch-up of a replica against `kpledger import`, entries per second."""
    with tempfile.TemporaryDirectory(prefix="kpl-bench-replica-") as folder:
        base = Path(folder)
        source = f"sqlite:///{base / 'source.db'}"
        kpledger(source, "generate", "--lots", str(lots))
        token = kpledger(source, "token", "create", "--role", "auditor", "--name", "bench").split()[
            -1
        ]
        exported = base / "log.jsonl"
        kpledger(source, "export", "--out", str(exported))
        entries = sum(1 for line in exported.open(encoding="utf-8") if line.strip())

        started = time.perf_counter()
        kpledger(f"sqlite:///{base / 'imported.db'}", "import", "--quiet", str(exported))
        imported_s = time.perf_counter() - started

        participant, mine_id, occurred_at = _a_mine(source)
        writer = kpledger(
            source,
            "token",
            "create",
            "--role",
            "authority",
            "--participant",
            participant,
            "--name",
            "bench-writer",
        ).split()[-1]
        env = {
            "KPLEDGER_SIGNING_KEY": str(base / "source.pem"),
            "KPLEDGER_CHECKPOINT_INTERVAL": "1",
        }
        with running_server(source, env=env) as url:
            vkey = httpx.get(f"{url}/v1/audit/key", timeout=30).json()["vkey"]
            port = free_port()
            started = time.perf_counter()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "replica",
                    "--from",
                    url,
                    "--token",
                    token,
                    "--log-key",
                    vkey,
                    "--port",
                    str(port),
                    "--interval",
                    "0.2",
                ],
                env={
                    **os.environ,
                    "KPLEDGER_DATABASE_URL": f"sqlite:///{base / 'replica.db'}",
                    "KPLEDGER_SIGNING_KEY": str(base / "replica.pem"),
                    "KPLEDGER_SNAPSHOT": "off",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_until_held(f"http://127.0.0.1:{port}", entries)
                replica_s = time.perf_counter() - started
                lags = _lag_under_load(
                    url, f"http://127.0.0.1:{port}", writer, mine_id, occurred_at
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
    ours, baseline = entries / replica_s, entries / imported_s
    return [
        Result(
            "replica catch-up vs kpledger import",
            "entries/s",
            ours,
            baseline,
            ">= 0.5x",
            ours >= 0.5 * baseline,
            {"entries": entries, "replica_s": replica_s, "import_s": imported_s},
        ),
        Result(
            f"replica lag under batch capture ({BATCH:,} per POST, {LOAD_SECONDS} s)",
            "s (p95)",
            percentile(lags, 0.95),
            float("nan"),
            "report",
            True,
            {
                "batches": len(lags),
                "p50_s": median(lags),
                "max_s": max(lags),
                "checkpoint_interval_s": 1,
                "replica_interval_s": 0.2,
            },
        ),
    ]


def _a_mine(store_url: str) -> tuple[str, str, str]:
    """(participant, mine_id, the log's last occurred_at) of the world's first mine."""
    ledger = Ledger.open(store_url)
    try:
        head = ledger.head_position()
        last = ledger.read_log(head - 1, 1)[0].document["occurred_at"]
        after = 0
        while page := ledger.read_log(after, 1000):
            for entry in page:
                if entry.type == "mine.registered":
                    document = entry.document
                    return document["participant"], document["mine_id"], last
            after = page[-1].position
    finally:
        ledger.close()
    raise RuntimeError("the world has no mine")


def _lag_under_load(
    source: str, replica: str, token: str, mine_id: str, occurred_at: str
) -> list[float]:
    """Seconds from each batch's 201 at the source to the replica holding it."""
    held: list[tuple[float, int]] = []  # (when, replica's size)
    stop = threading.Event()

    def watch() -> None:
        with httpx.Client(base_url=replica, timeout=5) as client:
            while not stop.is_set():
                size = client.get("/health").json().get("replica", {}).get("size", 0)
                held.append((time.perf_counter(), size))
                stop.wait(0.1)

    acknowledged: list[tuple[float, int]] = []  # (when, position of the batch's last)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=source, headers=headers, timeout=600) as client:
            ends = time.perf_counter() + LOAD_SECONDS
            while time.perf_counter() < ends:
                answer = client.post("/v1/events", json={"events": _batch(mine_id, occurred_at)})
                assert answer.status_code == 201, answer.text
                acknowledged.append((time.perf_counter(), answer.json()["position"]))
        last = acknowledged[-1][1]
        deadline = time.monotonic() + 120
        while not held or held[-1][1] < last:
            assert time.monotonic() < deadline, "the replica did not catch up within 120 s"
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join()
    return [
        next(when for when, size in held if size >= position and when >= at) - at
        for at, position in acknowledged
    ]


def _batch(mine_id: str, occurred_at: str) -> list[dict[str, Any]]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "type": "lot.produced",
            "occurred_at": occurred_at,
            "lot_id": f"BENCH-{uuid.uuid4().hex[:12]}",
            "source_id": mine_id,
            "carats": "12.34",
            "value_usd": "1234.00",
        }
        for _ in range(BATCH)
    ]


def _wait_until_held(url: str, entries: int, within: float = 3600) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{url}/health", timeout=5).json()
            if health.get("replica", {}).get("size") == entries:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the replica did not hold {entries} entries within {within} s")

"""Projection rebuild, memory and cold start on a generated world (see `bench.world`).

- rebuild: `Reads.catch_up` from empty, against a psycopg SELECT of the journal rows
  with `json.loads` of each state (the least any rebuild from the log must spend);
- memory: resident set of a process holding the caught-up `Reads`, after minus before
  the catch-up, per lot (measured in a subprocess, so nothing else is resident);
- cold start: `kpledger serve` on the world, from process start to the first 200 on
  GET /v1/lots/{id}.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import psycopg

from bench.common import Result, median, running_server
from ledger.application import Ledger
from ledger.journal import JOURNAL_ID
from projections.reads import Reads

BUDGET_PER_LOT = 1024  # bytes: the target, <= 1 KB per lot


def _catch_up(url: str) -> tuple[float, Reads]:
    ledger = Ledger.open(url)
    reads = Reads(ledger)
    started = time.perf_counter()
    reads.catch_up()
    return time.perf_counter() - started, reads


def _raw_read(url: str) -> tuple[float, int]:
    """Seconds to stream every journal row's state and json-decode it; rows read."""
    started = time.perf_counter()
    rows = 0
    with (
        psycopg.connect(url) as connection,
        connection.cursor(name="journal") as cursor,
    ):
        cursor.itersize = 1000
        cursor.execute(
            "SELECT originator_version, state FROM ledger_events "
            "WHERE originator_id = %s ORDER BY originator_version",
            (JOURNAL_ID,),
        )
        for _, state in cursor:
            json.loads(state)
            rows += 1
    return time.perf_counter() - started, rows


def rebuild(url: str, runs: int = 3) -> Result:
    """Entries per second of `Reads.catch_up` from empty, against raw read + json.loads."""
    ours, raw = [], []
    entries = lots = 0
    for _ in range(runs):
        seconds, rows = _raw_read(url)
        raw.append(rows / seconds)
        seconds, reads = _catch_up(url)
        entries, lots = reads.position, len(reads.read(lambda view: view.custody.lots))
        ours.append(entries / seconds)
        del reads
        gc.collect()
    return Result(
        name="projection rebuild from the log",
        unit="entries/s",
        ours=median(ours),
        baseline=median(raw),
        target=">= 0.3x",
        met=median(ours) / median(raw) >= 0.3,
        notes={"entries": entries, "lots": lots, "runs": runs, "ours_all": ours, "raw_all": raw},
    )


def _rss() -> int:
    """This process's resident set, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _measure_memory(url: str) -> dict[str, Any]:
    """In this process: resident set grown by catching up on the world."""
    ledger = Ledger.open(url)
    ledger.head_position()
    gc.collect()
    before = _rss()
    reads = Reads(ledger)
    reads.catch_up()
    gc.collect()
    after = _rss()
    lots = len(reads.read(lambda view: view.custody.lots))
    return {"before": before, "after": after, "lots": lots, "entries": reads.position}


def memory(url: str) -> Result:
    """Bytes of resident set per lot held by a caught-up `Reads`, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.rebuild", "--memory", url],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout)
    per_lot = (figures["after"] - figures["before"]) / figures["lots"]
    return Result(
        name="memory of the caught-up read model",
        unit="bytes/lot",
        ours=per_lot,
        baseline=BUDGET_PER_LOT,
        target="<= 1 KB per lot",
        met=per_lot <= BUDGET_PER_LOT,
        notes={**figures, "rss_after_mb": figures["after"] / 2**20},
    )


def _server_rss(port: int) -> int | None:
    """Resident set of the process listening on `port` (the server), when found."""
    done = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    marker = "pid="
    if marker not in done.stdout:
        return None
    pid = done.stdout.split(marker, 1)[1].split(",", 1)[0]
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def cold_start(url: str, port: int = 8798) -> Result:
    """Seconds from `kpledger serve` starting to its first 200 on GET /v1/lots/{id}."""
    ledger = Ledger.open(url)
    token = ledger.create_token("investigator", "bench-cold-start")
    first = ledger.read_log(after=0, limit=1000)
    lot_id = next(e.document["lot_id"] for e in first if e.type == "lot.produced")
    ledger.close()
    started = time.perf_counter()
    with running_server(url, port) as base:
        answer = httpx.get(
            f"{base}/v1/lots/{lot_id}", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        seconds = time.perf_counter() - started
        answer.raise_for_status()
        rss = _server_rss(port)
    return Result(
        name="cold start to first read",
        unit="s",
        ours=seconds,
        baseline=float("nan"),
        target="report it",
        met=True,
        notes={"lot_id": lot_id, "server_rss_mb": rss / 2**20 if rss else None},
    )


if __name__ == "__main__" and sys.argv[1:2] == ["--memory"]:
    print(json.dumps(_measure_memory(sys.argv[2])))

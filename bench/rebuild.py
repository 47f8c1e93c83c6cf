"""Projection rebuild, memory and cold start on a generated world (see `bench.world`).

- rebuild: `Reads.catch_up` from empty, against a psycopg SELECT of the journal rows
  with `json.loads` of each state (the least any rebuild from the log must spend);
- memory: resident set of a process holding the caught-up `Reads`, after minus before
  the catch-up, per lot (measured in a subprocess, so nothing else is resident);
- cold start: `kpledger serve` on the world, from process start to the first 200 on
  GET /v1/lots/{id}, replaying the whole log (snapshots off) and from a read-model
  snapshot (saved by a server stopped beforehand), in the same run; plus, in process,
  the seconds a snapshot takes to save (and to pickle the custody state, the read lock
  held) and to load.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import Result, free_port, median, running_server
from ledger.application import Ledger
from ledger.journal import JOURNAL_ID
from projections import snapshot
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


def server_rss(port: int) -> int | None:
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


def _first_read(url: str, lot_id: str, token: str, env: dict[str, str]) -> tuple[float, Any]:
    """Seconds from `kpledger serve` starting to its first 200 on GET /v1/lots/{id}, its
    answer and the server's resident set (bytes, None when not found); stopped after."""
    port = free_port()
    started = time.perf_counter()
    with running_server(url, port, env) as base:
        answer = httpx.get(
            f"{base}/v1/lots/{lot_id}", headers={"Authorization": f"Bearer {token}"}, timeout=600
        )
        seconds = time.perf_counter() - started
        answer.raise_for_status()
        rss = server_rss(port)
    return seconds, (answer.json(), rss)


def _in_process(url: str, path: Path) -> dict[str, float]:
    """Seconds of a snapshot's save, of the read lock held meanwhile (the tables copied
    by columns, the rest pickled) and of its load (read, checked against the log,
    unpickled)."""
    ledger = Ledger.open(url)
    reads = Reads(ledger)
    reads.catch_up()
    started = time.perf_counter()
    pickling = reads.saved(snapshot.Pickling)
    locked = time.perf_counter() - started
    del pickling
    started = time.perf_counter()
    snapshot.save(reads, path, ledger.store.description)
    saved = time.perf_counter() - started
    del reads
    gc.collect()
    started = time.perf_counter()
    snapshot.load(path, ledger, ledger.store.description)
    loaded = time.perf_counter() - started
    ledger.close()
    return {"save_s": saved, "read_lock_s": locked, "load_s": loaded}


def cold_start(url: str) -> list[Result]:
    """`kpledger serve` from process start to its first 200 on GET /v1/lots/{id}: with
    snapshots off (a full replay of the log) and from a snapshot, in the same run."""
    ledger = Ledger.open(url)
    token = ledger.create_token("investigator", "bench-cold-start")
    first = ledger.read_log(after=0, limit=1000)
    lot_id = next(e.document["lot_id"] for e in first if e.type == "lot.produced")
    entries = ledger.head_position()
    ledger.close()
    with tempfile.TemporaryDirectory(prefix="kpl-bench-") as folder:
        path = Path(folder) / "read.snapshot"
        full, (full_answer, rss) = _first_read(url, lot_id, token, {"KPLEDGER_SNAPSHOT": "off"})
        _first_read(url, lot_id, token, {"KPLEDGER_SNAPSHOT": str(path)})  # saves on stop
        size = path.stat().st_size
        ours, (answer, rss_after) = _first_read(
            url, lot_id, token, {"KPLEDGER_SNAPSHOT": str(path)}
        )
        assert answer == full_answer, "the snapshot's answer differs from the full replay's"
        figures = _in_process(url, path)
    return [
        Result(
            name="cold start to first read, full replay",
            unit="s",
            ours=full,
            baseline=float("nan"),
            target="report it",
            met=True,
            notes={"lot_id": lot_id, "entries": entries, "server_rss_mb": (rss or 0) / 2**20},
        ),
        Result(
            name="cold start to first read, from a snapshot",
            unit="s",
            ours=ours,
            baseline=full,
            target="<= 3 s and >= 10x",
            met=ours <= 3 and full / ours >= 10,
            notes={
                "speedup": full / ours,
                "snapshot_mb": size / 2**20,
                "server_rss_mb": (rss_after or 0) / 2**20,
                **figures,
            },
        ),
    ]


if __name__ == "__main__" and sys.argv[1:2] == ["--memory"]:
    print(json.dumps(_measure_memory(sys.argv[2])))

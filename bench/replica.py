"""A replica's catch-up against `kpledger import` of the same log.

    .venv/bin/python -m bench replica [--quick]

A generated world of `lots` lots (`kpledger generate`) in a SQLite file is served by
`kpledger serve`; the baseline is `kpledger import` of its export into an empty SQLite
file (the process's start included), ours is `kpledger replica` into another empty SQLite
file, from its start until `GET /health` says it holds the whole log: every checkpoint
signature, bundle, root and document signature checked first, then the same replay
(target >= 0.5x). Both are entries per second.

The lag (reported): a replica following a source, with its default follow interval, while
one client posts batch capture to the source; for each POST, the seconds until the
replica holds what it appended (p50, p95 and the last one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result, free_port, kpledger, percentile, running_server

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

        env = {"KPLEDGER_SIGNING_KEY": str(base / "source.pem")}
        with running_server(source, env=env) as url:
            vkey = httpx.get(f"{url}/v1/audit/key", timeout=30).json()["vkey"]
            port = free_port()
            started = time.perf_counter()
            process = _replica(url, token, vkey, port, base / "replica.db", interval=0.2)
            try:
                _wait_until_held(f"http://127.0.0.1:{port}", entries)
                replica_s = time.perf_counter() - started
            finally:
                process.terminate()
                process.wait(timeout=30)
        lag = _lag_under_capture(base / "lag", batches=max(5, min(20, lots // 1000)))
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
        lag,
    ]


def _replica(
    url: str, token: str, vkey: str, port: int, store: Path, interval: float | None = None
) -> subprocess.Popen[bytes]:
    """`kpledger replica` of `url` into the SQLite file `store`, serving on `port`."""
    every = [] if interval is None else ["--interval", str(interval)]
    command = ["replica", "--from", url, "--token", token, "--log-key", vkey, *every]
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *command, "--port", str(port)],
        env={
            **os.environ,
            "KPLEDGER_DATABASE_URL": f"sqlite:///{store}",
            "KPLEDGER_SIGNING_KEY": f"{store}.pem",
            "KPLEDGER_SNAPSHOT": "off",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _lag_under_capture(folder: Path, batches: int, per_post: int = 1000) -> Result:
    """How far a replica (default follow interval, 1 s) trails a source that takes batch
    capture as fast as one client posts it (`bench capture`'s documents, 1,000 a POST):
    for each POST, the seconds from its answer until the replica's `/health` says it holds
    that position (p50 and p95; the last one is the catch-up once capture stops)."""
    import threading

    from bench.capture import _prepare, _produced

    folder.mkdir()
    source = f"sqlite:///{folder / 'source.db'}"
    authority = _prepare(source)
    token = kpledger(source, "token", "create", "--role", "auditor", "--name", "lag").split()[-1]
    held: list[tuple[float, int]] = []
    env = {"KPLEDGER_SIGNING_KEY": str(folder / "source.pem")}
    with running_server(source, env=env) as url:
        vkey = httpx.get(f"{url}/v1/audit/key", timeout=30).json()["vkey"]
        port = free_port()
        process = _replica(url, token, vkey, port, folder / "replica.db")
        replica_url = f"http://127.0.0.1:{port}"
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    health = httpx.get(f"{replica_url}/health", timeout=5).json()
                    held.append((time.perf_counter(), int(health["replica"]["size"])))
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        try:
            _wait_until_held(replica_url, 2)  # the prepared world: admitted, and a mine
            watcher.start()
            answered: list[tuple[float, int]] = []
            started = time.perf_counter()
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {authority}"}, timeout=600
            ) as client:
                for batch in range(batches):
                    body = [_produced(batch, index) for index in range(per_post)]
                    answer = client.post("/v1/events", json={"events": body})
                    answer.raise_for_status()
                    answered.append((time.perf_counter(), answer.json()["position"]))
            capture_s = time.perf_counter() - started
            _wait_until_held(replica_url, answered[-1][1])
            time.sleep(0.1)
        finally:
            done.set()
            watcher.join(timeout=10)
            process.terminate()
            process.wait(timeout=30)
    delays = []
    for at, position in answered:
        reached = next((seen for seen, size in held if seen >= at and size >= position), None)
        if reached is None:
            raise RuntimeError(f"the replica was never seen holding position {position}")
        delays.append(reached - at)
    p50, p95 = percentile(delays, 0.5), percentile(delays, 0.95)
    return Result(
        "replica lag under batch capture p50/p95",
        "s",
        p50,
        float("nan"),
        "report",
        True,
        {
            "p50_s": p50,
            "p95_s": p95,
            "last_s": delays[-1],
            "posts": batches,
            "documents_per_s": batches * per_post / capture_s,
            "follow_interval_s": 1.0,
        },
    )


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

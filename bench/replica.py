"""A replica's catch-up against `kpledger import` of the same log.

    .venv/bin/python -m bench replica [--quick]

A generated world of `lots` lots (`kpledger generate`) in a SQLite file is served by
`kpledger serve`; the baseline is `kpledger import` of its export into an empty SQLite
file (the process's start included), ours is `kpledger replica` into another empty SQLite
file, from its start until `GET /health` says it holds the whole log: every checkpoint
signature, bundle, root and document signature checked first, then the same replay
(target >= 0.5x). Both are entries per second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result, free_port, kpledger, running_server

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
        )
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

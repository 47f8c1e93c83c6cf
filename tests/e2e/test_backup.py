"""`kpledger backup` of a live SQLite store: taken while documents are being captured, it
restores to a store that verifies and holds every document acknowledged before it began."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from tests.support import admitted, mine, produced


def test_a_backup_taken_during_capture_restores_everything_acknowledged_before_it(
    sqlite_url: str, server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory(sqlite_url)
    secretariat, ghana = server.token("secretariat"), server.token("authority", "GH")
    with server.client(secretariat) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    with server.client(ghana) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
    acknowledged: list[str] = []
    stopping = threading.Event()

    def capture() -> None:
        with server.client(ghana) as client:
            number = 0
            while not stopping.is_set():
                document = produced(f"GH-B{number}", "GH-M1", "1.00")
                if client.post("/v1/events", json=document).status_code == 201:
                    acknowledged.append(document["event_id"])
                number += 1

    loop = threading.Thread(target=capture)
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 50:  # the WAL holds recent writes by now
            assert time.monotonic() < deadline and loop.is_alive()
            time.sleep(0.05)
        before = list(acknowledged)  # acknowledged before the backup began
        done = server.kpledger("backup", "--out", "backup.db")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("backed up to backup.db (")
        time.sleep(0.5)  # the loop goes on after it
    finally:
        stopping.set()
        loop.join(timeout=60)
    assert len(acknowledged) > len(before)
    refused = server.kpledger("backup", "--out", "backup.db")
    assert refused.returncode == 2 and "exists" in refused.stderr

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(server.workdir / "backup.db", restored / "kpledger.db")
    url = f"sqlite:///{restored / 'kpledger.db'}"
    restored_server = server_factory(url)
    verified = restored_server.kpledger("verify")
    assert verified.returncode == 0 and "ok: true" in verified.stdout, verified.stdout
    exported = restored_server.kpledger("export", "--out", "restored.jsonl")
    assert exported.returncode == 0, exported.stderr
    lines = (restored_server.workdir / "restored.jsonl").read_text().splitlines()
    in_backup = {json.loads(line)["event_id"] for line in lines if line.strip()}
    assert set(before) <= in_backup
    assert len(in_backup) >= len(before) + 2  # the admission and the mine too


def test_backup_of_a_postgresql_store_points_to_pg_dump(
    postgresql_url: str, server_factory: Any
) -> None:
    server = server_factory(postgresql_url)
    done = server.kpledger("backup", "--out", "x.db")
    assert done.returncode == 2
    assert "pg_dump" in done.stderr and len(done.stderr.splitlines()) == 1

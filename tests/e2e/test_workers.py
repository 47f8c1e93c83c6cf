"""`kpledger serve --workers N`: several processes on one address and one PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support import admitted, mine, produced


def test_two_workers_keep_read_your_writes(postgresql_url: str, server_factory: Any) -> None:
    server = server_factory(postgresql_url, "--workers", "2", env={"KPLEDGER_LOG_FORMAT": "json"})
    secretariat, ghana = server.token("secretariat"), server.token("authority", "GH")
    investigator = server.token("investigator")

    def fresh(token: str) -> httpx.Client:  # a new connection: either worker may answer
        return httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=30,
        )

    with fresh(secretariat) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    with fresh(ghana) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
    for round_ in range(30):
        lot_id = f"GH-L{round_}"
        with fresh(ghana) as writer:
            posted = writer.post("/v1/events", json=produced(lot_id, "GH-M1", "10"))
        assert posted.status_code == 201, posted.text
        with fresh(investigator) as reader:
            lot = reader.get(f"/v1/lots/{lot_id}")
            assert lot.status_code == 200, lot.text
            health = reader.get("/health").json()
        assert lot.json()["carats"] == "10.00"
        assert health["position"] >= posted.json()["position"]
    server.stop()
    lines = [json.loads(line) for line in server.stderr_text().splitlines() if line.strip()]
    answered_by = {line["pid"] for line in lines if line["logger"] == "kpledger.access"}
    assert len(answered_by) == 2  # both processes answered


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    line = _refusal_of_two_workers(tmp_path, KPLEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert "--workers" in line and "PostgreSQL" in line


def test_a_sole_writer_with_several_workers_is_refused_in_one_line(
    postgresql_url: str, tmp_path: Path
) -> None:
    line = _refusal_of_two_workers(
        tmp_path, KPLEDGER_DATABASE_URL=postgresql_url, KPLEDGER_SOLE_WRITER="true"
    )
    assert "KPLEDGER_SOLE_WRITER" in line and "--workers" in line


def _refusal_of_two_workers(workdir: Path, **env: str) -> str:
    """`kpledger serve --workers 2` under `env`: it must exit 1 with one line of stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", "1"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    return line

"""Schemathesis against a real server, on each store: every operation of the OpenAPI
document fuzzed with a bounded number of examples; the bar is no 5xx and no answer
outside its documented schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import admitted, export, mine, produced

EXAMPLES = int(os.environ.get("KPLEDGER_FUZZ_EXAMPLES", "8"))


def test_fuzzing_every_operation_finds_no_5xx_and_no_schema_violation(
    store_url: str, server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory(store_url)
    secretariat, ghana = server.token("secretariat"), server.token("authority", "GH")
    with server.client(secretariat) as client:
        for code in ("GH", "AE"):
            assert client.post("/v1/events", json=admitted(code)).status_code == 201
    with server.client(ghana) as client:
        for document in (
            mine("GH-M1", "GH"),
            produced("GH-L1", "GH-M1", "10"),
            export("GH-2005-1", "GH", "AE", ["GH-L1"], "10"),
        ):
            assert client.post("/v1/events", json=document).status_code == 201
    st = Path(sys.executable).with_name("st")
    done = subprocess.run(
        [
            str(st),
            "run",
            f"{server.base_url}/openapi.json",
            "--max-examples",
            str(EXAMPLES),
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            f"Authorization: Bearer {server.token('investigator')}",
            "--workers",
            "1",
            "--seed",
            "20261207",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "No issues found" in done.stdout or "passed" in done.stdout, summary
    assert server.process is not None and server.process.poll() is None

"""The image's entry point, run without Docker: the Dockerfile's ENTRYPOINT and CMD, on
the secrets scripts/docker-secrets makes, serve /health, and its HEALTHCHECK passes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _instruction(dockerfile: str, name: str) -> list[str]:
    """The JSON-array argument of the last `name` instruction (continuation lines joined)."""
    text = dockerfile.replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(?:.*?\bCMD\s+)?(\[.*\])\s*$", text, re.MULTILINE)
    assert found, f"no {name} with a JSON array"
    return list(json.loads(found[-1]))


def test_the_entry_point_serves_health_on_the_secrets(postgresql_url: str, tmp_path: Path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile, re.MULTILINE)
    assert re.search(r"^USER kpledger$", dockerfile, re.MULTILINE)
    entrypoint, command = _instruction(dockerfile, "ENTRYPOINT"), _instruction(dockerfile, "CMD")
    healthcheck = _instruction(dockerfile, "HEALTHCHECK")
    assert entrypoint == ["kpledger-entrypoint"] and command[:2] == ["kpledger", "serve"]

    secrets = tmp_path / "secrets"
    made = subprocess.run([ROOT / "scripts" / "docker-secrets", secrets], capture_output=True)
    assert made.returncode == 0, made.stderr
    assert secrets.stat().st_mode & 0o777 == 0o700
    assert "postgresql://kpledger:" in (secrets / "database-url").read_text()
    (secrets / "database-url").write_text(postgresql_url)  # this test's database instead

    port = free_port()
    command = [str(port) if part == "8000" else part for part in command]
    probe = [sys.executable if part == "python" else part for part in healthcheck]
    probe = [part.replace(":8000/", f":{port}/") for part in probe]
    env = {
        "PATH": f"{Path(sys.executable).parent}:{ROOT / 'scripts'}:/usr/bin:/bin",
        "KPLEDGER_DATABASE_URL_FILE": str(secrets / "database-url"),
        "KPLEDGER_SIGNING_KEY": str(secrets / "kpledger-signing.pem"),
    }
    script = ROOT / "scripts" / "docker-entrypoint"  # installed as kpledger-entrypoint
    server = subprocess.Popen(
        [script, *command], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(probe, capture_output=True).returncode != 0:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.3)
        health = httpx.get(f"http://127.0.0.1:{port}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        key = httpx.get(f"http://127.0.0.1:{port}/v1/audit/key").json()
        created = subprocess.run(
            [script, "kpledger", "token", "create", "--role", "auditor", "--name", "first"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        checkpoint = httpx.get(f"http://127.0.0.1:{port}/v1/audit/checkpoint", headers=headers)
        assert checkpoint.status_code == 200 and checkpoint.json()["key_id"] == key["key_id"]
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert not os.path.exists(tmp_path / "kpledger.db")  # PostgreSQL from the secret, not SQLite


def test_compose_runs_both_services_with_health_checks_and_secrets() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert compose.count("healthcheck:") == 3 and "condition: service_healthy" in compose
    assert "urlopen('http://127.0.0.1:8100/health'" in compose  # the witness
    assert "KPLEDGER_WITNESSES: /run/secrets/witnesses" in compose
    assert "urlopen('http://127.0.0.1:8000/health/ready'" in compose  # readiness
    assert "KPLEDGER_SIGNING_KEY: /run/secrets/kpledger_signing_key" in compose
    assert "KPLEDGER_DATABASE_URL_FILE: /run/secrets/database_url" in compose
    assert "POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password" in compose
    assert "PASSWORD: " not in compose.replace("POSTGRES_PASSWORD_FILE: ", "")
    for name in (
        "postgres_password",
        "database_url",
        "kpledger_signing_key",
        "witnesses",
        "witness_key",
        "log_vkey",
    ):
        assert re.search(rf"^  {name}:\n    file: \./secrets/", compose, re.MULTILINE), name


def test_the_secrets_introduce_the_log_and_its_witness(tmp_path: Path) -> None:
    """docker-secrets writes the vkeys with openssl alone: they are the ones kpledger
    computes from the same keys."""
    from ledger.note import COSIGNATURE_V1, NoteSigner
    from ledger.signing import load_key_file
    from ledger.witnessing import read_witnesses

    secrets = tmp_path / "secrets"
    made = subprocess.run([ROOT / "scripts" / "docker-secrets", secrets], capture_output=True)
    assert made.returncode == 0, made.stderr
    log = NoteSigner("kpledger", load_key_file(secrets / "kpledger-signing.pem"))
    assert (secrets / "log-vkey").read_text() == log.verifier.vkey
    witness = NoteSigner(
        "witness.kpledger.local/w1", load_key_file(secrets / "witness.pem"), COSIGNATURE_V1
    )
    (configured,) = read_witnesses(secrets / "witnesses")
    assert (configured.vkey, configured.url) == (witness.verifier.vkey, "http://witness:8100")

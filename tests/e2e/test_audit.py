"""The audit from outside: `kpledger verify/export/import`, and GET /v1/audit/verify of a
real server process started on a store altered behind its back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from tests.integration.test_audit import ENTRIES, StoredRows, audited_world

ROOT = Path(__file__).resolve().parents[2]


def kpledger(store_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs `python -m api.cli ARGS` on the store."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, "KPLEDGER_DATABASE_URL": store_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def built(store_url: str) -> tuple[StoredRows, str]:
    """The audited world on the store, SQL access to its rows, and its head."""
    ledger = Ledger.open(store_url)
    try:
        audited_world(ledger)
        head = ledger.read_log(ENTRIES - 1, 1)[0].hash
    finally:
        ledger.close()
    return StoredRows(store_url), head


def printed(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The `key: value` lines a command printed."""
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


def test_a_server_on_a_store_altered_behind_its_back_reports_it(
    store_url: str, server_factory: Any
) -> None:
    stored, head = built(store_url)
    server = server_factory(store_url)
    auditor, authority = server.token("auditor"), server.token("authority", "GH")
    with server.client(auditor) as client:
        assert client.get("/v1/audit/verify").json() == {
            "ok": True,
            "events": ENTRIES,
            "head": head,
            "signatures": {
                "verified": 0,
                "unsigned": ENTRIES,
                "invalid": 0,
                "first_invalid_position": None,
            },
        }

    stored.replace_in_state(stored.journal_row(6), b'"carats":"100.00"', b'"carats":"900.00"')
    server.stop()
    server.start()

    for role in ("auditor", "investigator", "secretariat"):
        with server.client(server.token(role)) as client:
            answer = client.get("/v1/audit/verify")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["ok"], body["events"], body["first_bad_position"]) == (False, ENTRIES, 6)
        assert body["head"] == head
    with server.client(authority) as client:
        forbidden = client.get("/v1/audit/verify")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    with server.client() as anonymous:
        assert anonymous.get("/v1/audit/verify").status_code == 401


def test_a_server_starts_on_a_store_with_an_undecodable_entry(
    store_url: str, server_factory: Any
) -> None:
    stored, _ = built(store_url)
    stored.set_state(stored.journal_row(4), b"\x00 not an entry")
    server = server_factory(store_url)
    with server.client(server.token("auditor")) as client:
        body = client.get("/v1/audit/verify").json()
    assert (body["ok"], body["first_bad_position"]) == (False, 4)


def test_an_entry_the_read_model_cannot_apply_stops_it_loudly(
    store_url: str, server_factory: Any
) -> None:
    """A split of a lot the log never produced (entry 8, altered behind the ledger's back)
    cannot be applied: the read model stops at entry 7 and says so, instead of answering
    as if the split had never been accepted."""
    stored, _ = built(store_url)
    stored.replace_in_state(stored.journal_row(8), b'"lot_id":"GH-L1"', b'"lot_id":"GH-ZZ"')
    server = server_factory(store_url)
    with server.client(server.token("investigator")) as client:
        for path in ("/v1/lots/GH-L1", "/v1/lots/GH-L1/provenance", "/v1/alerts"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "read_model_failed"
            assert error["detail"] == {"position": 8, "error": "KeyError"}
        health = client.get("/health").json()
        assert health["status"] == "degraded"
        assert health["read_model"] == {"state": "failed", "position": 8, "error": "KeyError"}
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()["read_model"]) == (503, "failed")
        verified = client.get("/v1/audit/verify").json()  # the audit reads the store itself
        assert (verified["ok"], verified["first_bad_position"]) == (False, 8)
        assert len(client.get("/v1/events", params={"limit": 100}).json()["events"]) == ENTRIES
    log = server.stderr_text()
    assert "the read model cannot apply entry 8" in log
    assert "Traceback" in log and "KeyError" in log


def test_kpledger_verify_exits_with_1_and_the_first_bad_position(store_url: str) -> None:
    stored, head = built(store_url)
    done = kpledger(store_url, "verify")
    assert done.returncode == 0, done.stderr
    assert printed(done) == {
        "ok": "true",
        "events": str(ENTRIES),
        "head": head,
        "signatures.verified": "0",
        "signatures.unsigned": str(ENTRIES),
        "signatures.invalid": "0",
    }

    stored.replace_in_state(stored.event_rows(6)[0], b'"_data_":"100.00"', b'"_data_":"900.00"')
    done = kpledger(store_url, "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    shown = printed(done)
    assert (shown["ok"], shown["first_bad_position"]) == ("false", "6")
    assert "stored events differ" in shown["reason"]


def test_kpledger_export_then_import_into_the_other_kind_of_store(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    _, head = built(store_url)
    other_kind = "postgresql" if store_url.startswith("sqlite") else "sqlite"
    other_url = str(request.getfixturevalue(f"{other_kind}_url"))
    path = tmp_path / "log.jsonl"

    exported = kpledger(store_url, "export", "--out", str(path))
    assert exported.returncode == 0, exported.stderr
    assert len(path.read_text(encoding="utf-8").splitlines()) == ENTRIES

    imported = kpledger(other_url, "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == f"imported {ENTRIES} entries; head {head}"
    assert printed(kpledger(other_url, "verify"))["head"] == head

    again = kpledger(other_url, "import", str(path), "--quiet")
    assert again.returncode == 1
    assert "already holds" in again.stderr


def test_kpledger_replay_prints_agreeing_digests(store_url: str) -> None:
    built(store_url)
    done = kpledger(store_url, "replay", "--as-of", "9")
    assert done.returncode == 0, done.stderr
    shown = printed(done)
    assert (shown["as_of"], shown["lots"], shown["same"]) == ("9", "4", "true")
    assert shown["incremental"] == shown["from_scratch"]
    assert kpledger(store_url, "replay", "--as-of", "nine").returncode == 2

"""`kpledger audit check` against a checkpoint saved earlier: an altered, a rewritten and a
truncated log are caught, even where `kpledger verify` passes."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.actors import Actor
from ledger.application import Ledger
from tests.e2e.test_audit import ROOT, printed
from tests.e2e.test_audit import kpledger as run_kpledger
from tests.integration.test_audit import ENTRIES, StoredRows, audited_world
from tests.integration.test_audit_export import rechained


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "signing.pem"


def kpledger(store_url: str, key_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A kpledger command on the store, signing with `key_file`."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={
            **os.environ,
            "KPLEDGER_DATABASE_URL": store_url,
            "KPLEDGER_SIGNING_KEY": str(key_file),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def saved_checkpoint(store_url: str, key_file: Path, path: Path) -> dict[str, Any]:
    done = kpledger(store_url, key_file, "checkpoint")
    assert done.returncode == 0, done.stderr
    path.write_text(done.stdout)
    return dict(json.loads(done.stdout))


def check(store_url: str, key_file: Path, checkpoint: Path) -> tuple[int, str]:
    done = kpledger(store_url, key_file, "audit", "check", "--checkpoint", str(checkpoint))
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    return done.returncode, lines[0]


@pytest.fixture
def world(store_url: str, key_file: Path, tmp_path: Path) -> tuple[StoredRows, Path]:
    """The audited world and a checkpoint of it saved in a file."""
    ledger = Ledger.open(store_url)
    try:
        audited_world(ledger)
    finally:
        ledger.close()
    path = tmp_path / "checkpoint.json"
    assert saved_checkpoint(store_url, key_file, path)["tree_size"] == ENTRIES
    return StoredRows(store_url), path


def test_the_log_extends_its_own_checkpoints(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path, tmp_path: Path
) -> None:
    _, path = world
    assert check(store_url, key_file, path)[0] == 0
    ledger = Ledger.open(store_url)
    try:
        ledger.create_token("auditor", "auditor-test")
        ledger.post(
            {"event_id": "6f0e1e6a-7d6f-4d3e-9b59-1c7c5a0d1f00", "type": "participant.admitted"}
            | {"occurred_at": "2005-06-02T10:00:00Z", "participant": "IN", "name": "India"},
            Actor("secretariat", "secretariat-test"),
        )
    finally:
        ledger.close()
    code, line = check(store_url, key_file, path)
    assert code == 0 and str(ENTRIES + 1) in line, line

    empty_log = tmp_path / "empty.json"
    empty_store = f"sqlite:///{tmp_path / 'empty.db'}"
    sqlite3.connect(tmp_path / "empty.db").close()  # an empty store (checkpoint makes none)
    assert saved_checkpoint(empty_store, key_file, empty_log)["tree_size"] == 0
    assert check(store_url, key_file, empty_log)[0] == 0


def test_a_row_altered_behind_the_ledgers_back_is_caught(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path
) -> None:
    stored, path = world
    stored.replace_in_state(stored.journal_row(6), b'"carats":"100.00"', b'"carats":"900.00"')
    code, line = check(store_url, key_file, path)
    assert code == 1
    assert f"different root at size {ENTRIES}" in line


def test_a_truncated_log_is_caught(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path
) -> None:
    stored, path = world
    for row in [*stored.event_rows(ENTRIES), stored.journal_row(ENTRIES)]:
        stored.delete(row)
    assert printed(run_kpledger(store_url, "verify"))["ok"] == "true"  # no chain to break
    code, line = check(store_url, key_file, path)
    assert code == 1
    assert "shorter log" in line and f"{ENTRIES - 1} entries" in line


def test_a_rewritten_chain_passes_verify_but_not_the_checkpoint(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path, tmp_path: Path
) -> None:
    """Export, change who recorded an entry, rewrite every hash so the file is
    self-consistent, import into a fresh store: the chain verifies, the tree does not."""
    _, path = world
    exported = tmp_path / "log.jsonl"
    assert run_kpledger(store_url, "export", "--out", str(exported)).returncode == 0
    entries = [json.loads(line) for line in exported.read_text().splitlines()]
    assert entries[8]["type"] == "export.certified"
    entries[8]["recorded_by"] = "authority-CI"
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(rechained(entries)) + "\n")
    forged_store = f"sqlite:///{tmp_path / 'forged.db'}"
    imported = run_kpledger(forged_store, "import", str(forged))
    assert imported.returncode == 0, imported.stderr
    assert printed(run_kpledger(forged_store, "verify"))["ok"] == "true"

    code, line = check(forged_store, key_file, path)
    assert code == 1
    assert f"different root at size {ENTRIES}" in line


def test_a_log_replayed_with_an_altered_document_is_caught(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path, tmp_path: Path
) -> None:
    """A forger who re-records every document through the ledger, one of them altered,
    gets a store whose chain verifies and whose export imports anywhere: not the root."""
    _, path = world
    exported = tmp_path / "log.jsonl"
    assert run_kpledger(store_url, "export", "--out", str(exported)).returncode == 0
    entries = [json.loads(line) for line in exported.read_text().splitlines()]
    assert entries[11]["type"] == "lot.flagged"
    entries[11]["document"]["reason"] = "routine inspection"
    forged_url = f"sqlite:///{tmp_path / 'forged.db'}"
    forger = Ledger.open(forged_url)
    try:
        for entry in entries:
            name = entry["recorded_by"]
            actor = (
                Actor("authority", name, name.removeprefix("authority-"))
                if name.startswith("authority-")
                else Actor(name.removesuffix("-test"), name)  # type: ignore[arg-type]
            )
            forger.post(entry["document"], actor)
    finally:
        forger.close()
    rewritten = tmp_path / "rewritten.jsonl"
    assert run_kpledger(forged_url, "export", "--out", str(rewritten)).returncode == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run_kpledger(fresh, "import", str(rewritten)).returncode == 0
    assert printed(run_kpledger(fresh, "verify"))["ok"] == "true"

    code, line = check(fresh, key_file, path)
    assert code == 1
    assert f"different root at size {ENTRIES}" in line


def test_a_checkpoint_that_does_not_verify_is_refused(
    world: tuple[StoredRows, Path], store_url: str, key_file: Path, tmp_path: Path
) -> None:
    _, path = world
    checkpoint = json.loads(path.read_text())
    forged = tmp_path / "forged.json"

    def refused(changed: dict[str, Any] | str, reason: str) -> None:
        forged.write_text(changed if isinstance(changed, str) else json.dumps(changed))
        code, line = check(store_url, key_file, forged)
        assert code == 1 and reason in line, line

    signature = bytearray(base64.b64decode(checkpoint["signature"]))
    signature[0] ^= 1
    refused(
        {**checkpoint, "signature": base64.b64encode(signature).decode()},
        "bad signature",
    )
    other_key = tmp_path / "other.pem"
    assert kpledger(store_url, other_key, "key", "create", "--out", str(other_key)).returncode == 0
    other_key_checkpoint = tmp_path / "other.json"
    saved_checkpoint(store_url, other_key, other_key_checkpoint)
    refused(json.loads(other_key_checkpoint.read_text()), "bad signature")

    refused("not json", "cannot be read")
    refused("[1, 2]", "not a JSON object")
    refused({**checkpoint, "tree_size": "12"}, "tree_size")
    refused({k: v for k, v in checkpoint.items() if k != "note"}, "no note")
    refused({**checkpoint, "root": "zz"}, "not hex")
    refused({**checkpoint, "tree_size": ENTRIES - 1}, "does not state")
    missing = kpledger(store_url, key_file, "audit", "check", "--checkpoint", str(tmp_path / "no"))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1

"""Commands that only read never create a store: on a SQLite file that does not exist,
one line and exit 2, nothing left behind; a port out of range is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

READING = [
    ["verify"],
    ["export", "--out", "log.jsonl"],
    ["replay", "--as-of", "1"],
    ["checkpoint"],
    ["token", "list"],
    ["token", "revoke", "someone"],
]


def _kpledger(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "KPLEDGER_DATABASE_URL": "sqlite:///absent.db"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_reading_command_on_a_missing_database_is_one_line_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    done = _kpledger(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("kpledger: no database at absent.db:")
    assert list(tmp_path.iterdir()) == []  # no database, no WAL, no export, no key


def test_token_create_makes_the_store_it_needs(tmp_path: Path) -> None:
    done = _kpledger(tmp_path, "token", "create", "--role", "auditor", "--name", "first")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "absent.db").is_file()
    assert _kpledger(tmp_path, "verify").returncode == 0


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, port: str) -> None:
    done = _kpledger(tmp_path, "serve", "--port", port)
    assert done.returncode == 2
    assert "is not a TCP port (0 to 65535)" in done.stderr
    assert list(tmp_path.iterdir()) == []

"""The kpledger command as a newcomer finds it: version, help, a busy port, a bad file."""

from __future__ import annotations

import fcntl
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port


def kpledger(
    *args: str, cwd: Path, store_url: str | None = None, timeout: float = 120, **popen: Any
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KPLEDGER_DATABASE_URL"}
    if store_url is not None:
        env["KPLEDGER_DATABASE_URL"] = store_url
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=cwd,
        capture_output="stderr" not in popen,
        stdout=subprocess.PIPE if "stderr" in popen else None,
        text=True,
        timeout=timeout,
        **popen,
    )


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    done = kpledger("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"kpledger {metadata.version('kpledger')}"


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["serve"], ["(default: 127.0.0.1)", "(default: 8000)"]),
        (["demo"], ["(default: 8000)"]),
        (["generate"], ["(default: 30)", "(default: 3)", "(default: 0)", "(default: 1000)"]),
        (["post"], ["(default: 10000)", "http://127.0.0.1:8000", "KPLEDGER_TOKEN", "auto"]),
    ],
)
def test_every_help_shows_the_defaults(
    tmp_path: Path, command: list[str], shown: list[str]
) -> None:
    done = kpledger(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for default in shown:
        assert default in text, done.stdout
    assert "(default: None)" not in text and "(default: False)" not in text


def test_serve_on_a_port_in_use_is_one_line_and_exit_1_before_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = kpledger("serve", "--port", str(port), cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"kpledger: port {port} on 127.0.0.1 is in use; choose another with --port"
    ]
    assert "serving" not in done.stdout


def test_a_file_that_is_not_sqlite_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "kpledger.db").write_text("these are my notes, not a database\n" * 100)
    for command in (["verify"], ["serve", "--port", str(free_port())]):
        done = kpledger(*command, cwd=tmp_path, timeout=60)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.splitlines()
        assert line == "kpledger: cannot open SQLite file kpledger.db: file is not a database"
        assert "serving" not in done.stdout


def test_generate_ends_with_exactly_one_line(store_url: str, tmp_path: Path) -> None:
    done = kpledger("generate", "--lots", "30", cwd=tmp_path, store_url=store_url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith("kpledger generate: ") and " lots in " in line


def test_verify_and_replay_show_progress_on_a_terminal_only(store_url: str, tmp_path: Path) -> None:
    assert kpledger("generate", "--lots", "20", cwd=tmp_path, store_url=store_url).returncode == 0
    for command, words in ((["verify"], "verifying"), (["replay", "--as-of", "5"], "replaying")):
        plain = kpledger(*command, cwd=tmp_path, store_url=store_url)
        assert plain.returncode == 0, plain.stderr
        assert plain.stderr == ""
        assert terminal_stderr(*command, cwd=tmp_path, store_url=store_url).count(words) >= 1
        quiet = terminal_stderr(*command, "--quiet", cwd=tmp_path, store_url=store_url)
        assert words not in quiet


def terminal_stderr(*args: str, cwd: Path, store_url: str) -> str:
    """What a kpledger command writes on stderr when stderr is a terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        done = kpledger(*args, cwd=cwd, store_url=store_url, stderr=follower)
        assert done.returncode == 0
        os.set_blocking(leader, False)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")
    finally:
        os.close(leader)
        os.close(follower)

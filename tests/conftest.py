"""Fixtures: a fresh store of each kind per test, and a real server process.

Every behavioural test that takes `store_url` (or `ledger`) runs once on a
SQLite file and once on a PostgreSQL database of its own, dropped afterwards.
PostgreSQL must be reachable (KPLEDGER_TEST_POSTGRES, default
postgresql://postgres@127.0.0.1:5432/postgres): when it is not, those tests
fail; they are never skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from ledger.application import Ledger

# A busy machine must never fail a correct build: no deadline anywhere, and in CI (CI set)
# the same examples every run, so that a failure there is reproduced by running it again.
hypothesis_settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

ADMIN_URL = os.environ.get(
    "KPLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is required for the tests and is unreachable: {error}")


@pytest.fixture(autouse=True)
def _snapshot_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's servers (in process or not) keep their read-model snapshot in its
    temporary folder, never in the working directory nor shared with another test."""
    monkeypatch.setenv("KPLEDGER_SNAPSHOT", str(tmp_path / "kpledger-readmodel.snapshot"))


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    dbname = f"kpl_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    try:
        yield _with_database(ADMIN_URL, dbname)
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store of each kind in turn."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    """A Ledger over a fresh store of each kind in turn."""
    opened = Ledger.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[Any] | None, *, kill: bool = False) -> None:
    """Stops a test's server process, if it still runs: SIGTERM (SIGKILL when `kill`),
    then SIGKILL if it has not ended within 20 s."""
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Server:
    """A real `kpledger serve` process on a free port."""

    def __init__(self, store_url: str, workdir: Path) -> None:
        self.store_url = store_url
        self.workdir = workdir
        self.env = {**os.environ, "KPLEDGER_DATABASE_URL": store_url}
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.stderr_path = workdir / f"serve-{uuid.uuid4().hex[:8]}.stderr"

    def kpledger(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a kpledger command on the same store."""
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def token(self, role: str, participant: str | None = None) -> str:
        """A token made with `kpledger token create`."""
        args = ["token", "create", "--role", role, "--name", f"{role}-{participant or 'all'}"]
        if participant:
            args += ["--participant", participant]
        done = self.kpledger(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def stderr_text(self) -> str:
        """Everything the server wrote on stderr (its log lines), every start included.

        A file, not a pipe: a pipe nobody reads would stop the server once full."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def start(self, *serve_args: str) -> Server:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        with self.stderr_path.open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *serve_args],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kpledger serve exited: {self.stderr_text()!r}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("kpledger serve did not answer /health within 60 s")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def client(self, token: str | None = None, *, json: bool = False) -> httpx.Client:
        """A client of the server with `token`; `json` sends `Content-Type:
        application/json` with every request (for bodies given as `content=`)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if json:
            headers["Content-Type"] = "application/json"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Starts real `kpledger serve` processes on a given store (with extra `serve` arguments
    and environment variables); stops them all afterwards."""
    servers: list[Server] = []

    def start(store_url: str, *serve_args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(store_url, tmp_path)
        server.env.update(env or {})
        servers.append(server.start(*serve_args))
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(store_url: str, server_factory: Any) -> Server:
    """One real server process on a fresh store of each kind in turn."""
    return server_factory(store_url)  # type: ignore[no-any-return]

"""A PostgreSQL instance of a test's own, to stop and restart: never the shared one.

`PrivatePostgres` runs `initdb` into a temporary folder (as the `postgres` OS user when
the tests run as root, since initdb refuses root), trust auth on 127.0.0.1, a free port,
and `pg_ctl` to start, stop and restart it. A missing initdb fails the test, never skips.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port

__all__ = ["PrivatePostgres", "find_bin"]


def find_bin() -> Path:
    """The newest PostgreSQL server bin folder that holds initdb and pg_ctl."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).parent)
    for folder in found:
        if (folder / "pg_ctl").exists():
            return folder
    pytest.fail("the fault tests need PostgreSQL's initdb (/usr/lib/postgresql/*/bin/initdb)")


class PrivatePostgres:
    """One private PostgreSQL cluster in a folder of its own, listening on 127.0.0.1:`port`."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="kpledger-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The URL of its `postgres` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def init(self) -> PrivatePostgres:
        """Creates the cluster (owned by the postgres user when running as root)."""
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
            self.folder.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    @property
    def _log(self) -> str:  # pg_ctl's server log: without one, the server holds our pipe
        return str(self.folder / "server.log")

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c max_connections=50"
        )

    def start(self) -> None:
        """Starts the server and waits until it accepts connections."""
        self._run(
            "pg_ctl", "start", "-w", "-D", str(self.data), "-l", self._log, "-o", self._options()
        )

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (fast: disconnects every client, as an administrator would)."""
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def restart(self) -> None:
        """Stops and starts again, terminating every connection."""
        self._run(
            "pg_ctl",
            "restart",
            "-w",
            "-m",
            "fast",
            "-D",
            str(self.data),
            "-l",
            self._log,
            "-o",
            self._options(),
        )

    def _processes(self) -> list[int]:
        """The postmaster and every process it started (backends, background workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        found = [postmaster]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:  # its parent
                    found.append(int(Path(stat).parent.name))
        return found

    def freeze(self) -> None:
        """Stops every process of the cluster with SIGSTOP: connections stay open and the
        kernel keeps accepting and acknowledging, but nothing answers (as a hung host)."""
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Lets every process of the cluster go on (SIGCONT)."""
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        """Stops the server if it runs and removes its folder (for a `finally` block)."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(OSError, ValueError):
                self.thaw()
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)

"""Real `kpledger witness serve` processes for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port, stop_process

__all__ = ["WitnessProcess", "witness_vkey"]


def witness_vkey(key: Path, name: str) -> str:
    """`kpledger witness vkey`: creates the key when absent, prints the vkey."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "witness", "vkey", "--key", str(key), "--name", name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class WitnessProcess:
    """A `kpledger witness serve` on a port of its own, kept across restarts."""

    def __init__(self, folder: Path, name: str, *log_vkeys: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.name, self.logs = folder, name, log_vkeys
        self.key = folder / "witness.pem"
        self.vkey = witness_vkey(self.key, name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WitnessProcess:
        args = ["witness", "serve", "--key", str(self.key), "--name", self.name]
        for vkey in self.logs:
            args += ["--log", vkey]
        args += ["--state", str(self.folder / "state"), "--port", str(self.port)]
        with (self.folder / "stderr").open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *args], stdout=stderr, stderr=stderr
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "stderr").read_text())
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the witness did not answer within 60 s")

    def kill9(self) -> None:
        """SIGKILL: no handler, no flush, no goodbye."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

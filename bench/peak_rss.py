"""Peak memory of a real `kpledger serve` taking the largest bodies it accepts.

    .venv/bin/python -m bench.peak_rss

Prints the server's resident memory (VmRSS, and the peak VmHWM from /proc) idle, after
the largest accepted batch (10,000 `lot.produced`), and after the worst body within
KPLEDGER_MAX_BODY_BYTES (8 MiB of empty objects, refused 422 once parsed), then four
8 MiB bodies of decimals (`[1.1,1.1,...]`) posted at once. The baseline is the idle
server of the same run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx


def _memory_mb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found["VmRSS"], found["VmHWM"]


def _document(type_: str, **fields: object) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "occurred_at": "2005-06-01T10:00:00Z",
        **fields,
    }


def main() -> int:
    """Runs the measurement on a fresh SQLite store and prints one line per stage."""
    folder = Path(tempfile.mkdtemp(prefix="kpl-rss-"))
    env = {**os.environ, "KPLEDGER_DATABASE_URL": f"sqlite:///{folder / 'rss.db'}"}
    env["KPLEDGER_SNAPSHOT"] = "off"

    def token(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "token", "create", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    secretariat = token("--role", "secretariat", "--name", "bench")
    ghana = token("--role", "authority", "--participant", "GH", "--name", "bench-gh")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)

        def post(body: bytes, bearer: str) -> int:
            headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
            return httpx.post(
                f"{base}/v1/events", content=body, headers=headers, timeout=600
            ).status_code

        admitted = _document("participant.admitted", participant="GH", name="Ghana")
        post(json.dumps(admitted).encode(), secretariat)
        source = _document(
            "mine.registered",
            mine_id="GH-M1",
            participant="GH",
            name="Akwatia",
            region="Eastern",
            location={"lat": 6.0, "lon": -0.8},
        )
        post(json.dumps(source).encode(), ghana)
        idle = _memory_mb(server.pid)
        print(f"idle: RSS {idle[0]} MiB")
        batch = {
            "events": [
                _document(
                    "lot.produced",
                    lot_id=f"L{i}",
                    source_id="GH-M1",
                    carats="10.50",
                    value_usd="100.00",
                )
                for i in range(10_000)
            ]
        }
        body = json.dumps(batch).encode()
        status = post(body, ghana)
        peak = _memory_mb(server.pid)[1]
        print(f"10,000 documents ({len(body):,} bytes, {status}): peak {peak} MiB")
        worst = b'{"events": [' + b"{}, " * (2 * 1024 * 1024 - 10) + b"{}]}"
        status = post(worst, ghana)
        peak = _memory_mb(server.pid)[1]
        print(f"worst body ({len(worst):,} bytes, {status}): peak {peak} MiB")
        numbers = b"[" + b"1.1," * (2 * 1024 * 1024 - 10) + b"1.1]"  # 8 MiB of decimals
        with ThreadPoolExecutor(4) as four:
            statuses = list(four.map(lambda _: post(numbers, ghana), range(4)))
        peak = _memory_mb(server.pid)[1]
        after = _memory_mb(server.pid)[0]
        print(
            f"four {len(numbers):,}-byte bodies of decimals at once ({statuses}): "
            f"peak {peak} MiB, RSS after {after} MiB"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

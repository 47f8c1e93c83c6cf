"""What the benchmarks share: throwaway PostgreSQL databases, a real server, timing."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

ADMIN_URL = os.environ.get(
    "KPLEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Result:
    """One benchmark's figures: ours against the baseline, and the target ratio."""

    name: str
    unit: str
    ours: float
    baseline: float
    target: str
    met: bool
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"kpl_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def kpledger(store_url: str, *args: str) -> str:
    """Runs a kpledger command on a store; returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, "KPLEDGER_DATABASE_URL": store_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@contextlib.contextmanager
def running_server(
    store_url: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
    workers: int = 1,
    module: str = "api.cli",
    ready_within: float = 600,
    stop_within: float = 30,
) -> Iterator[str]:
    """A real `kpledger serve --workers N` on the store, on a free port unless given, with
    `env` added to its environment; yields its base URL. `module` is the module run as
    `python -m MODULE serve` (one that wraps `api.cli`); it has `ready_within` seconds to
    answer /health, and `stop_within` to end once told to.

    The machine is shared: a fixed port could reach another run's server.
    """
    if port is None:
        port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, **(env or {}), "KPLEDGER_DATABASE_URL": store_url},
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=stop_within)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def results_dir() -> Path:
    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    return folder


def ratio(result: Result) -> float:
    """The ratio shown: x faster for latencies (baseline / ours), else ours / baseline."""
    for key in ("speedup_p95", "speedup"):
        if key in result.notes:
            return float(result.notes[key])
    return result.ratio


def _figure(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(results: list[Result]) -> str:
    """The results as a fixed-width table."""
    rows = [("benchmark", "unit", "ours", "baseline", "ratio", "target", "met?")]
    rows += [
        (
            r.name,
            r.unit,
            _figure(r.ours),
            _figure(r.baseline),
            "-" if math.isnan(ratio(r)) else f"{ratio(r):.3g}x",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)

"""The witnessed log: tiles, entry bundles, and the time to a cosigned checkpoint.

    .venv/bin/python -m bench tlog [--lots N] [--quick]

On the generated world (`bench.world`), against one `kpledger serve` process (run as
`python -m bench.tlog serve`: the server itself, with one bench token known to the
process so that nothing is written to the shared world, and the folder named by
`KPLEDGER_BENCH_FILES` served as static files under `/bench-files/`):

- tiles: requests per second for `GET /tile/0/<N>` over every full level-0 tile, 8 at a
  time, against the same bytes saved as files and served by the same server (target
  >= 0.5x);
- entry bundles: entries per second reading the whole log through `GET /tile/entries/...`
  against `GET /v1/events` paging (10,000 a page), one client (target >= 2x);
- cosigned: on a fresh store with two local `kpledger witness serve` processes and
  KPLEDGER_CHECKPOINT_INTERVAL=1, the time from an append's answer to `GET /checkpoint`
  serving a checkpoint that holds it, cosigned by both (p50 and p95; reported).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Result,
    free_port,
    fresh_postgres,
    kpledger,
    median,
    percentile,
    running_server,
    table,
)

_TOKEN_VARIABLE = "KPLEDGER_BENCH_TOKEN"
_FILES_VARIABLE = "KPLEDGER_BENCH_FILES"
CONCURRENCY = 8
ROUNDS = 3


def _serve() -> int:
    """`kpledger serve` with a bench investigator's token and `/bench-files/` mounted."""
    from fastapi.staticfiles import StaticFiles

    import api.app
    from api import cli
    from ledger.actors import Actor
    from ledger.application import Ledger

    bench_token = os.environ[_TOKEN_VARIABLE]
    original_actor = Ledger.actor_for_token

    def actor_for_token(self: Ledger, token: str) -> Actor | None:
        if secrets.compare_digest(token, bench_token):
            return Actor(role="investigator", name="bench-tlog")
        return original_actor(self, token)

    Ledger.actor_for_token = actor_for_token  # type: ignore[method-assign]
    original_app = api.app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original_app(*args, **kwargs)
        app.mount("/bench-files", StaticFiles(directory=os.environ[_FILES_VARIABLE]))
        return app

    api.app.create_app = create_app
    return cli.main(sys.argv[1:])


async def _throughput(base: str, paths: list[str], requests: int) -> float:
    """Requests per second for `requests` GETs cycling over `paths`, CONCURRENCY at once."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        counter = iter(range(requests))

        async def worker() -> None:
            for number in counter:
                answer = await client.get(paths[number % len(paths)])
                assert answer.status_code == 200 and len(answer.content) == 8192

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return requests / (time.perf_counter() - started)


def _tiles(base: str, files: Path, size: int) -> Result:
    full = size // 256
    paths = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for index in range(full):
            path = f"/tile/0/{_index(index)}"
            body = client.get(path).content
            target = files / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            paths.append(path)
    requests = max(2000, 4 * len(paths))
    ours, baseline = [], []
    for _ in range(ROUNDS):
        ours.append(asyncio.run(_throughput(base, paths, requests)))
        baseline.append(
            asyncio.run(_throughput(base, [f"/bench-files{p}" for p in paths], requests))
        )
    ratio = median(ours) / median(baseline)
    return Result(
        "tlog tiles",
        "req/s",
        median(ours),
        median(baseline),
        ">= 0.5x",
        ratio >= 0.5,
        {"tiles": len(paths), "requests": requests, "concurrency": CONCURRENCY},
    )


def _index(n: int) -> str:
    from ledger.tiles import encode_index

    return encode_index(n)


def _bundles(base: str, token: str, size: int) -> Result:
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    ours, baseline = [], []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            read = 0
            full, rest = divmod(size, 256)
            for index in range(full):
                answer = client.get(f"/tile/entries/{_index(index)}")
                read += _bundle_count(answer.content)
            if rest:
                answer = client.get(f"/tile/entries/{_index(full)}.p/{rest}")
                read += _bundle_count(answer.content)
            assert read == size
            ours.append(size / (time.perf_counter() - started))
            started = time.perf_counter()
            after, read = 0, 0
            while True:
                page = client.get("/v1/events", params={"after": after, "limit": 10_000}).json()
                if not page["events"]:
                    break
                read += len(page["events"])
                after = page["next_after"]
            assert read == size
            baseline.append(size / (time.perf_counter() - started))
    ratio = median(ours) / median(baseline)
    return Result(
        "tlog entry bundles",
        "entries/s",
        median(ours),
        median(baseline),
        ">= 2x",
        ratio >= 2,
        {
            "entries": size,
            "first_read_entries_per_s": ours[0],
            "first_read_ratio": ours[0] / median(baseline),
            "note": "full bundles are kept, compressed, once read: later reads skip the store",
        },
    )


def _bundle_count(bundle: bytes) -> int:
    count, at = 0, 0
    while at < len(bundle):
        at += 2 + int.from_bytes(bundle[at : at + 2], "big")
        count += 1
    return count


def _cosigned(samples: int) -> Result:
    """Append -> a checkpoint holding it cosigned by two local witnesses, p50 and p95."""
    from ledger.note import NoteSigner, parse_checkpoint, parse_note
    from ledger.signing import load_or_create

    codes = ["GH", "AE", "IN", "BE", "RU", "ZA", "BW", "NA", "CA", "AU", "CN", "JP", "IL"]
    codes += ["CH", "TH", "US", "AO", "CD", "SL", "LR", "GN", "CI", "BR", "GY", "VE"]
    with tempfile.TemporaryDirectory() as folder, fresh_postgres() as url:
        workdir = Path(folder)
        key = workdir / "log.pem"
        log_vkey = NoteSigner("kpledger", load_or_create(key)).verifier.vkey
        witnesses, lines = [], []
        try:
            for number in (1, 2):
                name = f"bench.witness/w{number}"
                wkey = workdir / f"w{number}.pem"
                port = free_port()
                command = [sys.executable, "-m", "api.cli", "witness"]
                identity = ["--key", str(wkey), "--name", name]
                where = ["--port", str(port), "--state", str(workdir / f"state{number}")]
                vkey = subprocess.run(
                    [*command, "vkey", *identity],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                witnesses.append(
                    subprocess.Popen(
                        [*command, "serve", *identity, "--log", log_vkey, *where],
                        stdout=subprocess.DEVNULL,
                    )
                )
                lines.append(f"{vkey} http://127.0.0.1:{port}")
            (workdir / "witnesses").write_text("\n".join(lines) + "\n")
            token = kpledger(url, "token", "create", "--role", "secretariat", "--name", "b")
            token = token.strip().splitlines()[-1]
            env = {
                "KPLEDGER_SIGNING_KEY": str(key),
                "KPLEDGER_WITNESSES": str(workdir / "witnesses"),
                "KPLEDGER_CHECKPOINT_INTERVAL": "1",
                "KPLEDGER_SNAPSHOT": "off",
                "KPLEDGER_LOG_LEVEL": "warning",
            }
            latencies = []
            with (
                running_server(url, env=env) as base,
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
                ) as client,
            ):
                for size, code in enumerate(codes[:samples], start=1):
                    document = {
                        "event_id": f"00000000-0000-4000-8000-{size:012d}",
                        "type": "participant.admitted",
                        "occurred_at": "2005-01-01T00:00:00Z",
                        "participant": code,
                        "name": code,
                    }
                    answer = client.post("/v1/events", json=document)
                    assert answer.status_code == 201, answer.text
                    answered = time.perf_counter()
                    deadline = answered + 120
                    while time.perf_counter() < deadline:
                        checkpoint = client.get("/checkpoint")
                        if checkpoint.status_code == 200:
                            note = parse_note(checkpoint.text)
                            held = parse_checkpoint(note.text).size >= size
                            if held and len(note.signatures) == 3:  # the log's and both
                                break
                        time.sleep(0.01)
                    else:
                        raise AssertionError("no cosigned checkpoint within 120 s")
                    latencies.append(time.perf_counter() - answered)
        finally:
            for process in witnesses:
                process.terminate()
                process.wait(timeout=30)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    return Result(
        "tlog append->cosigned p50/p95",
        "s",
        p50,
        float("nan"),
        "report",
        True,
        {"p50_s": p50, "p95_s": p95, "samples": len(latencies), "interval_s": 1, "witnesses": 2},
    )


def run(url: str, samples: int = 20) -> list[Result]:
    """The three figures on the world at `url` (cosigned: on a fresh store)."""
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as files:
        env = {
            _TOKEN_VARIABLE: token,
            _FILES_VARIABLE: files,
            "KPLEDGER_SNAPSHOT": "off",
            "KPLEDGER_LOG_LEVEL": "warning",
            "KPLEDGER_SIGNING_KEY": f"{files}.pem",
        }
        with running_server(url, env=env, module="bench.tlog") as base:
            headers = {"Authorization": f"Bearer {token}"}
            size = httpx.get(f"{base}/v1/audit/checkpoint", headers=headers, timeout=600).json()[
                "tree_size"
            ]
            results = [_tiles(base, Path(files), size), _bundles(base, token, size)]
    return [*results, _cosigned(min(samples, 25))]


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(_serve())
    from bench.world import world_url

    found = run(world_url(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
    print(table(found))
    for result in found:
        print(result.name, result.notes)

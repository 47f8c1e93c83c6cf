"""How fast `verify()` checks the stored log, against hashing the same stored bytes alone.

    .venv/bin/python bench/bench_verify.py [--entries 100000] [--store sqlite|postgresql]

Appends N `lot.produced` documents (in batches, as one authority) to a fresh
store (a temporary SQLite file, or a throwaway PostgreSQL database), then, in
the same run, times:

- verify: `ledger.audit.verify(ledger)`, every check it makes;
- read: paging through every stored row with `select_notifications`, as verify does;
- hashlib: one SHA-256 over every stored row's state bytes, already in memory.

It prints entries per second of each and verify's ratio to hashlib alone and
to read + hashlib (the least any verifier reading the store must spend).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_postgres  # noqa: E402
from ledger.actors import Actor  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.audit import PAGE_SIZE, verify  # noqa: E402

SECRETARIAT = Actor("secretariat", "bench-secretariat")
GHANA = Actor("authority", "bench-authority-GH", "GH")
OCCURRED_AT = "2005-06-01T10:00:00Z"


def _document(type_: str, **fields: object) -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "type": type_, "occurred_at": OCCURRED_AT, **fields}


def generate(ledger: Ledger, entries: int, batch_size: int) -> None:
    """A participant, a mine, then lots produced at it until the log holds `entries`."""
    ledger.post(_document("participant.admitted", participant="GH", name="Ghana"), SECRETARIAT)
    mine = _document(
        "mine.registered",
        mine_id="GH-M1",
        participant="GH",
        name="Bench mine",
        region="Eastern",
        location={"lat": 6.1, "lon": -1.2},
    )
    ledger.post(mine, GHANA)
    started, produced = time.perf_counter(), 0
    while (remaining := entries - ledger.head_position()) > 0:
        documents = [
            _document(
                "lot.produced",
                lot_id=f"GH-L{produced + index}",
                source_id="GH-M1",
                carats="12.34",
                value_usd="5678.90",
            )
            for index in range(min(batch_size, remaining))
        ]
        ledger.post({"events": documents}, GHANA)
        produced += len(documents)
        print(
            f"\rgenerated {ledger.head_position():,} entries "
            f"({produced / (time.perf_counter() - started):,.0f}/s)",
            end="",
            file=sys.stderr,
        )
    print(file=sys.stderr)


def read_and_hash(ledger: Ledger) -> tuple[float, float, int]:
    """Seconds spent reading every row in pages, seconds hashing their states, and rows."""
    reading = hashing = 0.0
    digest = hashlib.sha256()
    start, rows = 1, 0
    while True:
        began = time.perf_counter()
        page = ledger.recorder.select_notifications(start, PAGE_SIZE)
        read = time.perf_counter()
        for row in page:
            digest.update(row.state)
        hashing += time.perf_counter() - read
        reading += read - began
        if not page:
            return reading, hashing, rows
        rows += len(page)
        start = page[-1].id + 1


@contextlib.contextmanager
def fresh_store(kind: str) -> Iterator[str]:
    """The URL of a new empty store of that kind, removed afterwards."""
    if kind == "postgresql":
        with fresh_postgres() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="log entries to generate")
    parser.add_argument("--batch-size", type=int, default=1000, help="documents per append")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with fresh_store(args.store) as url:
        ledger = Ledger.open(url)
        generate(ledger, args.entries, args.batch_size)
        began = time.perf_counter()
        result = verify(ledger)
        verifying = time.perf_counter() - began
        assert result.ok, result
        reading, hashing, rows = read_and_hash(ledger)
        ledger.close()

    events = result.events
    print(f"store: {ledger.store.description}; {events:,} entries, {rows:,} stored rows")
    print(f"verify()           {verifying:8.2f} s  {events / verifying:12,.0f} entries/s")
    print(f"hashlib alone      {hashing:8.2f} s  {events / hashing:12,.0f} entries/s")
    print(
        f"read + hashlib     {reading + hashing:8.2f} s  "
        f"{events / (reading + hashing):12,.0f} entries/s"
    )
    print(f"verify / hashlib alone:  {hashing / verifying:.3f}")
    print(f"verify / read + hashlib: {(reading + hashing) / verifying:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

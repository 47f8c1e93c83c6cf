"""The background follower applies new entries without waiting for a read."""

from __future__ import annotations

import time
from collections.abc import Callable

from ledger.application import Ledger
from projections.follower import Follower
from projections.reads import Reads
from tests.support import SECRETARIAT, admitted


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_entries_written_by_another_writer_reach_the_read_model(store_url: str) -> None:
    reader, writer = Ledger.open(store_url), Ledger.open(store_url)
    reads = Reads(reader)
    # On PostgreSQL the timer is far longer than the wait: only a NOTIFY can wake it.
    interval = 60.0 if reader.store.kind == "postgresql" else 0.1
    follower = Follower(reads.catch_up, reader.store, interval=interval)
    follower.start()
    try:
        time.sleep(0.5)  # let it LISTEN
        writer.post(admitted("GH"), SECRETARIAT)
        assert _wait_for(lambda: reads.position == 1, 10)
    finally:
        follower.stop()
        reader.close()
        writer.close()

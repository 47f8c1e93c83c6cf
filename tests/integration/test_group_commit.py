"""Concurrent writers of one process are appended together, and one refusal touches no other."""

from __future__ import annotations

import threading

from ledger.application import Capture, Ledger
from ledger.errors import LedgerError
from tests.support import SECRETARIAT, admitted, authority, mine, produced

WRITERS, POSTS = 8, 15


def test_concurrent_posts_are_each_appended_or_refused_alone(ledger: Ledger) -> None:
    ledger.post(admitted("GH"), SECRETARIAT)
    ledger.post(mine("GH-M1", "GH"), authority("GH"))
    start = ledger.head_position()
    captures: list[Capture] = []
    refusals: list[LedgerError] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        for post in range(POSTS):
            source = "NO-SUCH-MINE" if post % 5 == 0 else "GH-M1"
            try:
                capture = ledger.post(produced(f"L{writer}-{post}", source, "1"), authority("GH"))
            except LedgerError as error:
                with lock:
                    refusals.append(error)
            else:
                with lock:
                    captures.append(capture)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    expected_refusals = WRITERS * len(range(0, POSTS, 5))
    assert [error.code for error in refusals] == ["unknown_source"] * expected_refusals
    assert len(captures) == WRITERS * POSTS - expected_refusals
    assert all(capture.accepted == 1 for capture in captures)
    positions = sorted(capture.position for capture in captures)
    assert positions == list(range(start + 1, start + 1 + len(captures)))
    assert ledger.head_position() == start + len(captures)

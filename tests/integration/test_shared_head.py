"""Reads share head queries (`projections.head`) and still read their writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ledger.application import Ledger
from projections.head import SharedHead, WrittenHead
from projections.reads import Reads
from tests.support import SECRETARIAT, admitted, authority, mine


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_read_begun_after_a_write_never_takes_a_head_query_begun_before_it(
    store_url: str,
) -> None:
    reader, writer = Ledger.open(store_url), Ledger.open(store_url)  # as two processes
    asked_before_the_write, release = threading.Event(), threading.Event()
    answers: list[int] = []

    def held_first_time() -> int:
        head = reader.read_head()
        answers.append(head)
        if not asked_before_the_write.is_set():  # the first query: held after asking
            asked_before_the_write.set()
            release.wait(10)
        return head

    shared = SharedHead(held_first_time)
    reads = Reads(reader, head=shared.now)
    seen: dict[str, int] = {}

    def read(name: str) -> None:
        seen[name] = reads.read(lambda view: view.position)

    try:
        writer.post(admitted("GH"), SECRETARIAT)
        first = threading.Thread(target=read, args=("before",))
        first.start()
        asked_before_the_write.wait(10)  # its query has its answer: position 1
        written = writer.post(mine("GH-M1", "GH"), authority("GH")).position
        later = [threading.Thread(target=read, args=(name,)) for name in ("after", "also")]
        for thread in later:
            thread.start()
        _wait_for(lambda: shared.waiting == 2)  # both arrived while the first was in flight
        release.set()
        for thread in (first, *later):
            thread.join(10)
        assert answers == [1, written]  # the query in flight had not seen the write; the
        # next one, shared by both reads that came while it was in flight, had
        assert seen["after"] == seen["also"] == written
    finally:
        release.set()
        reader.close()
        writer.close()


def test_a_failed_head_query_fails_its_own_read_only(store_url: str) -> None:
    ledger = Ledger.open(store_url)
    asked, release = threading.Event(), threading.Event()
    failures = [RuntimeError("the store went away")]

    def failing_first_time() -> int:
        if failures:
            asked.set()
            release.wait(10)
            raise failures.pop()
        return ledger.read_head()

    shared = SharedHead(failing_first_time)
    reads = Reads(ledger, head=shared.now)
    outcomes: dict[str, object] = {}

    def read(name: str) -> None:
        try:
            outcomes[name] = reads.read(lambda view: view.position)
        except RuntimeError as error:
            outcomes[name] = error

    try:
        written = ledger.post(admitted("GH"), SECRETARIAT).position
        first = threading.Thread(target=read, args=("first",))
        first.start()
        asked.wait(10)
        waiting = threading.Thread(target=read, args=("waiting",))
        waiting.start()
        _wait_for(lambda: shared.waiting == 1)
        release.set()
        first.join(10)
        waiting.join(10)
        assert isinstance(outcomes["first"], RuntimeError)
        assert outcomes["waiting"] == written  # it asked again, and got its own answer
    finally:
        release.set()
        ledger.close()


def test_a_sole_writer_reads_its_appends_asking_the_head_once(store_url: str) -> None:
    ledger = Ledger.open(store_url)
    asked: list[int] = []

    def counted() -> int:
        asked.append(ledger.read_head())
        return asked[-1]

    written = WrittenHead(counted)
    ledger.appended = written.appended
    reads = Reads(ledger, head=written.now)
    try:
        assert reads.read(lambda view: view.position) == 0
        for document, actor in (
            (admitted("GH"), SECRETARIAT),
            (mine("GH-M1", "GH"), authority("GH")),
        ):
            position = ledger.post(document, actor).position
            assert reads.read(lambda view: view.position) == position
        assert asked == [0]
        written.appended(None)  # an append of unknown outcome: the store is asked again
        assert reads.read(lambda view: view.position) == 2
        assert asked == [0, 2]
    finally:
        ledger.close()

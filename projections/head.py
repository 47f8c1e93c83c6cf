"""The log's head as reads ask for it: one store query shared by the reads that wait for
it, or none where this process is the store's only writer.

Read-your-writes needs each read to catch up to a head asked of the store *after* the
read began: a query already in flight when a read arrives may have taken its snapshot
before a write that was acknowledged before the read began. So `SharedHead.now()` never
hands a caller the answer of a query that started before it called: it waits for the
next query, which serves every caller that arrived while the previous one was in flight.
Under load that is at most one query in flight and one gathering callers, whatever the
number of concurrent reads (the way Raft's leaders batch their "read index" checks).

`WrittenHead` is for a process configured as the store's only writer
(`KPLEDGER_SOLE_WRITER`): every entry of the log was appended through its own ledger,
which tells it each position appended before the append is acknowledged, so the head is
known without asking. It asks the store once at start, and again after an append whose
outcome is unknown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["SharedHead", "WrittenHead"]


class SharedHead:
    """`query()` (the store's head) run by one caller at a time on behalf of every caller
    that arrived while the previous run was in flight."""

    def __init__(self, query: Callable[[], int]) -> None:
        self._query = query
        self._changed = threading.Condition()
        self._started = 0  # queries started
        self._finished = 0  # queries finished (they run one at a time, in order)
        self._running = False
        self._answer: int | None = 0  # of the last query finished (None: it failed)
        self.waiting = 0
        """Callers waiting for a query that has not started yet (for tests and metrics)."""

    @property
    def queries(self) -> int:
        """How many queries were started."""
        return self._started

    def now(self) -> int:
        """A head at least as far as the log's when this call began. A query that fails
        raises in its own caller only; those waiting for it wait for the next one."""
        with self._changed:
            wanted = self._started + 1  # the first query to start after this call
            self.waiting += 1
            try:
                while True:
                    if self._finished >= wanted:
                        if self._answer is not None:
                            return self._answer
                        wanted = self._finished + 1  # it failed: the next one, which
                        # starts (or started) after this call too
                    if not self._running:
                        self._started += 1
                        self._running = True
                        mine = self._started
                        break
                    self._changed.wait()
            finally:
                self.waiting -= 1
        answer = None
        try:
            answer = self._query()
            return answer
        finally:
            with self._changed:
                self._finished, self._running, self._answer = mine, False, answer
                self._changed.notify_all()


class WrittenHead:
    """The head of a log only this process appends to: asked of the store by `query` the
    first time (and after an append of unknown outcome), then the highest position the
    ledger reported appended."""

    def __init__(self, query: Callable[[], int]) -> None:
        self._query = query
        self._lock = threading.Lock()
        self._head: int | None = None

    def now(self) -> int:
        """The log's head: every entry this process's appends were acknowledged for."""
        with self._lock:
            if self._head is None:
                self._head = self._query()
            return self._head

    def appended(self, position: int | None) -> None:
        """An append reached `position` (told before the append is acknowledged), or its
        outcome is unknown (None): then the next head is asked of the store."""
        with self._lock:
            if position is None:
                self._head = None
            elif self._head is not None:
                self._head = max(self._head, position)

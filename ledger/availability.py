"""Whether the store answers: a circuit breaker in front of every use of it.

Any store call that fails because the database is away (a lost connection, a refused
one, no pooled connection within the store timeout) marks the store unreachable; while it
is so marked, store calls fail at once with `StoreUnavailable` (HTTP 503 `unavailable`)
instead of each waiting for the timeout. A probe, run by `watch` every `interval` s in a
background thread (and by `check` when no watcher runs), marks it reachable again, so a
server recovers without a restart.

A write that fails after its insert was sent may or may not have been committed:
`OutcomeUnknown` (503 `outcome_unknown`) says so; posting the same documents again is
safe, since a document whose `event_id` was accepted before is skipped.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

from ledger.errors import LedgerError
from ledger.store import (
    StoreConfig,
    check_reachable,
    interrupt_busy_connections,
    postgres_connect_kwargs,
    shut_down,
)

__all__ = ["Availability", "OutcomeUnknown", "StoreUnavailable", "is_store_away"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class StoreUnavailable(LedgerError):
    """503 `unavailable`: the store does not answer; nothing of the request was done."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("unavailable", message, detail={"retry_after": retry_after})
        self.retry_after = retry_after


class OutcomeUnknown(LedgerError):
    """503 `outcome_unknown`: the store went away after a write was sent."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("outcome_unknown", message, detail={"retry_after": retry_after})
        self.retry_after = retry_after


def is_store_away(error: BaseException) -> bool:
    """True for the errors that mean the database is away, not that a request is wrong.

    eventsourcing's `OperationalError` and `InterfaceError` (psycopg's, and a pool that
    gave no connection in time, are turned into those), a bare `PersistenceError`, and
    psycopg's and sqlite3's own operational errors when raised outside eventsourcing.
    An `IntegrityError` (a concurrent writer) or a `ProgrammingError` (a bug) is not.
    """
    if isinstance(error, OperationalError | InterfaceError) or type(error) is PersistenceError:
        return True
    if isinstance(error, sqlite3.OperationalError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


class Availability:
    """The store's reachability, learnt from every call and from a probe."""

    def __init__(self, store: StoreConfig, *, timeout: int, interval: float = 0.5) -> None:
        self.store = store
        self.timeout = timeout
        self.interval = interval
        self._reachable = True
        self._last_probe = 0.0
        self._lock = threading.Lock()
        self._probe_connection: Any = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._bounded_calls = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix="kpledger-bounded"
        )

    @property
    def reachable(self) -> bool:
        """Whether the store answered the last call or probe."""
        return self._reachable

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before trying again."""
        return max(1, round(self.interval * 2))

    def unavailable(self) -> StoreUnavailable:
        """The refusal for a request that needs the store while it is away."""
        return StoreUnavailable(
            f"the store ({self.store.description}) does not answer; nothing was done, "
            f"try again in {self.retry_after} s",
            self.retry_after,
        )

    def outcome_unknown(self) -> OutcomeUnknown:
        """The refusal for a write whose commit may or may not have happened."""
        return OutcomeUnknown(
            "the store went away while the documents were being appended: they may or may "
            "not have been accepted; post the same documents again, which is safe (an "
            "event_id accepted before is skipped)",
            self.retry_after,
        )

    def mark_unreachable(self, error: BaseException) -> None:
        """Records that a store call failed because the store is away."""
        if self._reachable:
            log.warning("the store does not answer: %s", " ".join(str(error).split()))
        self._reachable = False

    def check(self) -> None:
        """Raises `StoreUnavailable` at once while the store is known to be away.

        Without a watcher thread, probes again when the last probe is `interval` old.
        """
        if self._reachable:
            return
        watched = self._thread is not None and self._thread.is_alive()
        if not watched and time.monotonic() - self._last_probe >= self.interval:
            self.probe()
        if not self._reachable:
            raise self.unavailable()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Fails at once while the store is away; a call that finds it away marks it so,
        and is refused as `StoreUnavailable`."""
        self.check()
        try:
            yield
        except Exception as error:
            if not is_store_away(error):
                raise
            self.mark_unreachable(error)
            raise self.unavailable() from error

    @property
    def probe_deadline(self) -> float:
        """Seconds the probe's answer may take before the store is taken as not answering
        (half the store timeout, at least 1 s)."""
        return max(1.0, self.timeout / 2)

    def bounded(self, call: Callable[[], T]) -> T:
        """`call()`, in a thread of its own, waited for until it returns, or until the store
        is found away or `timeout` s have passed: then `StoreUnavailable` at once (the
        call, left behind, ends when its connection is interrupted). For answers that must
        never wait on a store that stopped answering, such as `/health`."""
        self.check()
        future = self._bounded_calls.submit(call)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return future.result(timeout=0.02)
            except concurrent.futures.TimeoutError:
                if not self._reachable or time.monotonic() >= deadline:
                    raise self.unavailable() from None

    def probe(self) -> bool:
        """Asks the store for one trivial answer, within `probe_deadline`; records the
        outcome. A store that does not answer in time (stopped with SIGSTOP, a network
        that drops packets) has every busy connection of this process interrupted, so
        that no request waits on it any longer."""
        with self._lock:
            self._last_probe = time.monotonic()
            try:
                self._ask()
            except Exception as error:
                self._drop_probe_connection()
                self.mark_unreachable(error)
                if self.store.kind == "postgresql":  # at each failed probe: waits begin anew
                    interrupted = interrupt_busy_connections()
                    if interrupted:
                        log.warning("interrupted %d connections waiting on the store", interrupted)
                return False
            if not self._reachable:
                log.warning("the store answers again")
            self._reachable = True
            return True

    def _ask(self) -> None:
        if self.store.kind != "postgresql":
            check_reachable(self.store)
            return
        import psycopg

        deadline = self.probe_deadline
        if self._probe_connection is None or self._probe_connection.closed:
            kwargs = {
                **postgres_connect_kwargs(self.store),
                "connect_timeout": max(1, round(deadline)),
            }
            self._probe_connection = psycopg.connect(**kwargs, autocommit=True)
        connection = self._probe_connection
        fired = threading.Event()

        def give_up() -> None:
            fired.set()
            shut_down(connection.fileno())

        # psycopg has no deadline of its own on an answer: past it, the socket is shut down
        alarm = threading.Timer(deadline, give_up)
        alarm.daemon = True
        alarm.start()
        try:
            connection.execute("SELECT 1").fetchone()
        finally:
            alarm.cancel()
        if fired.is_set():  # it answered just in time, and its socket was shut down after
            self._drop_probe_connection()

    def _drop_probe_connection(self) -> None:
        connection, self._probe_connection = self._probe_connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken
                connection.close()

    def watch(self, *, every: float = 0.5) -> None:
        """Probes in a daemon thread: every `interval` s while away, every `every` s else."""
        self._stopping.clear()

        def run() -> None:
            while not self._stopping.wait(self.interval if not self._reachable else every):
                self.probe()

        self._thread = threading.Thread(target=run, name="kpledger-store-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the watcher thread and closes its connection."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 2)
            self._thread = None
        with self._lock:
            self._drop_probe_connection()

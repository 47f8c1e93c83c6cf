"""Keeps a server's read model warm by following the log in the background.

Reads already catch up before answering (read-your-writes); the follower makes
that catch-up cheap by applying new entries as they arrive. On PostgreSQL it
LISTENs on the channel the event store NOTIFYs on each insert, and also polls on
a timer, so a lost notification delays it by one interval at most. On SQLite,
which cannot notify, it polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ledger.errors import LedgerError
from ledger.store import StoreConfig, postgres_connect_kwargs

__all__ = ["Follower"]

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "ledger_events"  # eventsourcing NOTIFYs on its events table's name
_SLICE = 0.25  # seconds between looks at the stop flag while listening
_GATHER = 0.05  # seconds to let further notifications arrive before catching up


class Follower:
    """Calls `catch_up` whenever the store announces new events, and every `interval` s."""

    def __init__(
        self, catch_up: Callable[[], int], store: StoreConfig, *, interval: float = 1.0
    ) -> None:
        self._catch_up = catch_up
        self._store = store
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts following in a daemon thread."""
        target = self._listen if self._store.kind == "postgresql" else self._poll
        self._thread = threading.Thread(target=target, name="kpledger-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops following and waits for the thread to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)

    def _step(self) -> None:
        try:
            self._catch_up()
        except LedgerError as error:  # the store is away (503): try again next interval
            log.debug("the follower could not catch up: %s", error.message)
        except Exception:  # the next read catches up anyway; keep following
            log.exception("the follower could not catch up")

    def _poll(self) -> None:
        while not self._stopping.wait(self._interval):
            self._step()

    def _listen(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    **postgres_connect_kwargs(self._store), autocommit=True
                ) as connection:
                    connection.execute(f"LISTEN {EVENTS_CHANNEL}")
                    last_step = time.monotonic()
                    while not self._stopping.is_set():
                        notified = any(
                            True for _ in connection.notifies(timeout=_SLICE, stop_after=1)
                        )
                        if notified:  # let a burst of appends gather, then catch up once
                            for _ in connection.notifies(timeout=_GATHER):
                                pass
                        if notified or time.monotonic() - last_step >= self._interval:
                            self._step()
                            last_step = time.monotonic()
            except psycopg.Error:
                log.warning("the follower lost its PostgreSQL connection; polling until back")
                if self._stopping.wait(self._interval):
                    return
                self._step()

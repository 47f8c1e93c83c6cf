"""Revoked tokens refused by every serving process within a second.

A process keeps the tokens it met in memory (so that a request needs no store
round trip to authenticate); `TokenRefresher` reads them all again every half second,
in one query, so that `kpledger token revoke` run anywhere reaches each process of
`kpledger serve --workers N` within a second. Expiry needs no refresh: it is checked
against the clock on every request. The refresher also records when tokens were last
used (`Ledger.refresh_tokens`). While the store is away, tokens met before are
answered as they were.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["INTERVAL", "TokenRefresher"]

log = logging.getLogger(__name__)

INTERVAL = 0.5
"""Seconds between two readings of the tokens a process met."""


class TokenRefresher:
    """Calls `ledger.refresh_tokens()` every `interval` seconds in a daemon thread."""

    def __init__(self, ledger: Any, interval: float = INTERVAL) -> None:
        self._ledger = ledger
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts refreshing (nothing for a ledger that keeps no tokens, as in unit tests)."""
        if not hasattr(self._ledger, "refresh_tokens"):
            return
        self._thread = threading.Thread(target=self._run, name="kpledger-tokens", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops refreshing and waits for the thread to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._ledger.refresh_tokens()
            except Exception as error:  # the store away: the tokens met stay as they were
                log.debug("tokens not refreshed: %s", error)

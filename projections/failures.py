"""A read model that cannot apply an entry stops, loudly.

Every entry in the log was accepted by the write side, so applying it cannot fail unless
the stored log was altered behind the ledger's back, or the read side has a bug. A read
model that skipped the entry would answer as if it had never been accepted, silently
wrong; one that stops answers 503 `read_model_failed` until a fixed build replays the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError
from ledger.log import LogEntry

__all__ = ["ReadModelFailed", "ReadModelFailure", "apply_all"]

log = logging.getLogger("projections.reads")


@dataclass(frozen=True, slots=True)
class ReadModelFailure:
    """An entry the read model could not apply: it stopped at the entry before it.

    A read model that skipped the entry would answer as if it had never been accepted,
    silently wrong; one that stops answers 503 `read_model_failed` until a fixed build
    replays the log.
    """

    position: int
    """The entry that could not be applied."""
    error: str
    """The exception's type."""

    def to_json(self) -> dict[str, Any]:
        """As `/health` and the error's `detail` show it."""
        return {"position": self.position, "error": self.error}

    def refusal(self) -> ReadModelFailed:
        """The error every read answers meanwhile."""
        return ReadModelFailed(self)


class ReadModelFailed(LedgerError):
    """503 `read_model_failed`: the read model stopped at `failure`."""

    def __init__(self, failure: ReadModelFailure) -> None:
        super().__init__(
            "read_model_failed",
            f"the read model stopped before entry {failure.position}, which it could not"
            f" apply ({failure.error}); the server's log has the traceback",
            detail=failure.to_json(),
        )
        self.failure = failure


def apply_all(models: Iterable[Callable[[LogEntry], None]], entries: Iterable[LogEntry]) -> None:
    """Feeds each entry to every `apply` of `models`, in order; an exception is raised as
    `read_model_failed` (503) naming the entry, after logging its traceback."""
    models = tuple(models)
    for entry in entries:
        try:
            for apply in models:
                apply(entry)
        except Exception as error:
            failure = ReadModelFailure(entry.position, type(error).__name__)
            log.error("the read model cannot apply entry %s", entry.position, exc_info=error)
            raise failure.refusal() from error

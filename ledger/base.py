"""What every aggregate of the ledger shares: ids derived from protocol ids, and a clock.

Aggregate ids are `uuid5` of a kind and the protocol's id, so that one lot id maps
to one aggregate everywhere. Event timestamps come from `recording_clock`: the
`recorded_at` of the document being captured, so that replaying the same log
(import) stores byte-identical events.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

__all__ = [
    "NAMESPACE",
    "LedgerAggregate",
    "Restorable",
    "aggregate_id",
    "recorded_at",
    "recording_clock",
    "register_stored_topics",
]

NAMESPACE = UUID("6a4c6f0e-3b9e-5d0c-9a55-6b706c656467")  # "kpledger"
_recorded_at: ContextVar[datetime | None] = ContextVar("recorded_at", default=None)


@functools.lru_cache(maxsize=1 << 17)
def aggregate_id(kind: str, protocol_id: str) -> UUID:
    """The aggregate id of a protocol object, e.g. aggregate_id("lot", "GH-L-1"): `uuid5`
    of `kind:protocol_id` in `NAMESPACE`, made without `UUID.__init__`'s checks (a batch
    makes two a document; a test compares them with `uuid5`).

    >>> from uuid import uuid5
    >>> aggregate_id("lot", "GH-L-1") == uuid5(NAMESPACE, "lot:GH-L-1")
    True
    """
    digest = hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{protocol_id}".encode()).digest()
    made = object.__new__(UUID)
    object.__setattr__(made, "int", int.from_bytes(digest[:16]) & _CLEARED | _VERSION_5)
    object.__setattr__(made, "is_safe", SafeUUID.unknown)
    return made


_NAMESPACE_BYTES = NAMESPACE.bytes
_CLEARED = ~((0xC000 << 48) | (0xF000 << 64))  # the variant's and the version's bits
_VERSION_5 = (0x8000 << 48) | (5 << 76)  # RFC 4122's variant, version 5


class recording_clock:
    """Within this block, new aggregate events are stamped with `moment`."""

    __slots__ = ("_moment", "_token")

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def __enter__(self) -> None:
        self._token = _recorded_at.set(self._moment)

    def __exit__(self, *_: object) -> None:
        _recorded_at.reset(self._token)


def recorded_at() -> datetime:
    """The instant the document being captured is recorded at (now, outside a capture)."""
    return _stamp()


def _stamp() -> datetime:
    moment = _recorded_at.get()
    if moment is None:
        return Aggregate.Event.create_timestamp()
    return moment


class Restorable:
    """State a retraction can take back (`ledger.retractions`): each change remembers the
    state before it, `restore` goes back, and `erased` marks a state whose forming was
    retracted (taken as absent; its id free to form again)."""

    erased = False
    """Whether a retracted document created it: it is then taken as absent, and a later
    document may form it again."""

    def remember(self) -> None:
        """Keeps the state as it is before a change, for `restore` to go back to (a
        retraction undoes the last changes of its document). Called by mutators."""
        saved = {k: copy.copy(v) for k, v in vars(self).items() if not k.startswith("_")}
        self.__dict__.setdefault("_before", []).append(saved)

    def restore(self, changes: int) -> None:
        """Goes back to the state before the last `changes` remembered changes."""
        saved: dict[str, Any] = {}
        for _ in range(changes):
            saved = self.__dict__["_before"].pop()
        self.__dict__.update(saved)

    def forget(self, erased: bool) -> None:
        """Drops the remembered states; `erased` as given (see `erased`)."""
        self.__dict__["_before"] = []
        self.erased = erased


def register_stored_topics(cls: type, module: str, event_base: type) -> None:
    """Names `cls` and its nested `event_base` classes by the topics `module:Qualname`
    (stored shapes are permanent: a class that moved keeps the topics it was stored under)."""
    nested = [
        value
        for value in vars(cls).values()
        if isinstance(value, type) and issubclass(value, event_base)
    ]
    for stored in (cls, *nested):
        topic = f"{module}:{stored.__qualname__}"
        stored.TOPIC = topic  # type: ignore[attr-defined]
        register_topic(topic, stored)


class LedgerAggregate(Restorable, Aggregate):
    """Base of the ledger's aggregates: events stamped by the recording clock.

    Stored events name their class by topic (`module:Class.Event`). An aggregate whose
    class moved to another module keeps the topics its events were first stored under
    by naming that module in `STORED_MODULE`: stored shapes are permanent.
    """

    STORED_MODULE: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = cls.__dict__.get("STORED_MODULE")
        if module is not None:
            register_stored_topics(cls, module, Aggregate.Event)

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return _stamp()

    class Created(Event, Aggregate.Created):
        pass

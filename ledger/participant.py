"""Participant: a KPCS member (a country, or the EU) and its standing."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id

ADMITTED, SUSPENDED, WITHDRAWN = "admitted", "suspended", "withdrawn"


class Participant(LedgerAggregate):
    """A participant of the scheme: admitted, suspended or withdrawn."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return aggregate_id("participant", code)

    class Admitted(LedgerAggregate.Created):
        code: str
        name: str

    @event(Admitted)
    def __init__(self, code: str, name: str) -> None:
        self.code = code
        self.name = name
        self.status = ADMITTED

    class Readmitted(LedgerAggregate.Event):
        name: str

    @event(Readmitted)
    def readmit(self, name: str) -> None:
        self.name = name
        self.status = ADMITTED

    class Suspended(LedgerAggregate.Event):
        reason: str

    @event(Suspended)
    def suspend(self, reason: str) -> None:
        self.status = SUSPENDED

    class Reinstated(LedgerAggregate.Event):
        pass

    @event(Reinstated)
    def reinstate(self) -> None:
        self.status = ADMITTED

    class Withdrawn(LedgerAggregate.Event):
        reason: str

    @event(Withdrawn)
    def withdraw(self, reason: str) -> None:
        self.status = WITHDRAWN

    @property
    def is_active(self) -> bool:
        """Admitted and neither suspended nor withdrawn: may export and import."""
        return self.status == ADMITTED

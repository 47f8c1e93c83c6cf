"""Embargoes: the register of embargoes declared by the secretariat, and which are in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id


@dataclass(frozen=True)
class Embargo:
    """An embargo on a participant's production, or on one region of it."""

    embargo_id: str
    participant: str
    region: str | None
    effective_from: date
    effective_to: date | None = None

    def in_force_on(self, day: date) -> bool:
        """In force from `effective_from` up to the day before `effective_to`."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def covers(self, participant: str, region: str) -> bool:
        """Whether a source of `participant` in `region` falls under this embargo."""
        return self.participant == participant and self.region in (None, region)


class EmbargoRegister(LedgerAggregate):
    """The one register of every embargo ever declared (a singleton aggregate)."""

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("register", "embargoes")

    class Opened(LedgerAggregate.Created):
        pass

    @event(Opened)
    def __init__(self) -> None:
        self.embargoes: dict[str, Embargo] = {}

    class Declared(LedgerAggregate.Event):
        embargo_id: str
        participant: str
        region: str | None
        effective_from: date

    @event(Declared)
    def declare(
        self, embargo_id: str, participant: str, region: str | None, effective_from: date
    ) -> None:
        self.embargoes[embargo_id] = Embargo(embargo_id, participant, region, effective_from)

    class Lifted(LedgerAggregate.Event):
        embargo_id: str
        effective_to: date

    @event(Lifted)
    def lift(self, embargo_id: str, effective_to: date) -> None:
        embargo = self.embargoes[embargo_id]
        self.embargoes[embargo_id] = Embargo(
            embargo.embargo_id,
            embargo.participant,
            embargo.region,
            embargo.effective_from,
            effective_to,
        )

    def in_force_on(self, day: date) -> list[Embargo]:
        """The embargoes in force on `day`, in declaration order."""
        return [embargo for embargo in self.embargoes.values() if embargo.in_force_on(day)]

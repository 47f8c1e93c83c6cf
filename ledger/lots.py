"""Lots: parcels of rough diamonds, produced at a source, split, merged, flagged, seized,
and sold between the operators of their holder.

Every lot carries its carats by source as exact fractions (`ledger.composition`):
splits take shares in proportion, merges add up, shipments change nothing. A lot may
also be held by an operator of its holder (`ledger.operators`): the one that produced
or imported it, or bought it (`lot.transferred`); split and merged lots stay with it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from pydantic import Field, field_validator

from ledger.base import Restorable, aggregate_id, recorded_at, register_stored_topics
from ledger.composition import combine, share
from ledger.errors import LedgerError
from ledger.fields import Carats, DocumentModel, Identifier, Strict, Text, Usd, added_field
from ledger.handling import UnitOfWork, handles
from ledger.operators import named_operator
from ledger.protocol import CONSUMED, HELD, IN_TRANSIT, MAX_BATCH, SEIZED
from ledger.sources import authority_of_source, find_source

__all__ = [
    "PRODUCING_ROLES",
    "Lot",
    "LotEvent",
    "LotFlagged",
    "LotProduced",
    "LotSeized",
    "LotSplit",
    "LotTransferred",
    "LotsMerged",
    "MergedLot",
    "SplitPart",
    "check_new_lot_id",
    "distinct",
    "find_lot",
    "form_lot",
    "lot_flagged",
    "lot_produced",
    "lot_seized",
    "lot_split",
    "lot_transferred",
    "lots_merged",
]

# -- documents ---------------------------------------------------------------------------


class SplitPart(Strict):
    lot_id: Identifier
    carats: Carats
    value_usd: Usd


class MergedLot(Strict):
    lot_id: Identifier
    value_usd: Usd


def distinct(ids: list[str], what: str) -> list[str]:
    """The ids, unless one appears twice (a validation error saying `what`)."""
    if len(set(ids)) != len(ids):
        raise ValueError(what)
    return ids


class LotProduced(DocumentModel):
    type: Literal["lot.produced"]
    lot_id: Identifier
    source_id: Identifier
    carats: Carats
    value_usd: Usd
    operator: Identifier | None = added_field()


class LotSplit(DocumentModel):
    type: Literal["lot.split"]
    lot_id: Identifier
    into: Annotated[list[SplitPart], Field(min_length=2, max_length=MAX_BATCH)]

    @field_validator("into")
    @classmethod
    def _distinct_children(cls, parts: list[SplitPart]) -> list[SplitPart]:
        distinct([part.lot_id for part in parts], "the new lots' ids must be distinct")
        return parts


class LotsMerged(DocumentModel):
    type: Literal["lots.merged"]
    lot_ids: Annotated[list[Identifier], Field(min_length=2, max_length=MAX_BATCH)]
    into: MergedLot

    @field_validator("lot_ids")
    @classmethod
    def _distinct_lots(cls, lot_ids: list[str]) -> list[str]:
        return distinct(lot_ids, "a lot can be merged only once")


class LotFlagged(DocumentModel):
    type: Literal["lot.flagged"]
    lot_id: Identifier
    reason: Text


class LotSeized(DocumentModel):
    type: Literal["lot.seized"]
    lot_id: Identifier
    reason: Text


class LotTransferred(DocumentModel):
    type: Literal["lot.transferred"]
    lot_id: Identifier
    to_operator: Identifier
    value_usd: Usd


PRODUCING_ROLES = frozenset({"miner", "digger"})
"""The roles of an operator that may produce a lot."""


# -- the lot's state and its stored events -----------------------------------------------


class LotEvent(DomainEvent):
    """A stored event of a lot. Loading a lot folds its events with `mutate`; a handler's
    change records one (`Lot._record`) and applies it with the same `apply`, so what the
    checks read is what the stored events say, however the lot was come by."""

    def apply(self, lot: Lot) -> None:
        """Changes the lot as this event says."""

    def mutate(self, lot: Lot | None) -> Lot:
        """The lot after this event (a lot's first event finds none)."""
        if lot is None:
            lot = Lot(self.originator_id)
        self.apply(lot)
        lot._version = self.originator_version
        return lot


class Lot(Restorable):
    """A lot: produced at a source, or formed by splitting or merging other lots.

    Not an eventsourcing aggregate: building one per document (its event object, the
    library's method decorators, its mapper's encoding) was a third of a batch's time.
    Its events are stored in eventsourcing's tables as they were when it was one (topics
    `ledger.lot:Lot.Formed`..., the same bytes: `tests/integration/test_lot_rows.py`), one
    version after another under the store's unique (id, version) key. Whether a check may
    trust what it read is settled by the journal's next position (`ledger.capture`).
    """

    def __init__(self, lot_id: UUID) -> None:
        """A lot of that aggregate id before its first event (see `LotEvent.mutate`)."""
        self._id = lot_id
        self._version = 0
        self._pending: list[LotEvent] = []

    @property
    def id(self) -> UUID:
        return self._id

    @property
    def version(self) -> int:
        """How many events the lot has, stored or recorded by this unit of work."""
        return self._version

    @staticmethod
    def create_id(lot_id: str) -> UUID:
        return aggregate_id("lot", lot_id)

    def _record(self, kind: type[LotEvent], **fields: Any) -> None:
        """Records an event of the lot now (`recorded_at`) and applies it."""
        version = self._version + 1
        event = object.__new__(kind)  # as eventsourcing's mapper makes them, without checks
        state = {"originator_id": self._id, "originator_version": version}
        state["timestamp"] = recorded_at()
        state.update(fields)
        object.__setattr__(event, "__dict__", state)
        event.apply(self)
        self._version = version
        self._pending.append(event)

    def collect_events(self) -> list[LotEvent]:
        """The events recorded since the last call, in order."""
        pending, self._pending = self._pending, []
        return pending

    class Formed(LotEvent):
        originator_topic: str
        lot_id: str
        carats: Decimal
        value_usd: Decimal
        holder: str
        composition: dict[str, Fraction]
        source_id: str | None
        parent_lot_ids: list[str]

        def apply(self, lot: Lot) -> None:
            lot._form(self)

        def row(self, timestamp: tuple[str, str]) -> StoredEvent:
            """The stored event, byte for byte what eventsourcing's mapper stores for it
            (its date-time as the name and text of the mapper's transcoding; Decimal and
            Fraction as `ledger.application` registers them)."""
            state = self.__dict__
            composition = ",".join(
                f'{_string(source)}:{{"_type_":"fraction","_data_":"{share.numerator}/'
                f'{share.denominator}"}}'
                for source, share in state["composition"].items()
            )
            source_id = state["source_id"]
            text = (
                f'{{"timestamp":{{"_type_":{_string(timestamp[0])},"_data_":'
                f'{_string(timestamp[1])}}},"originator_topic":{_string(state["originator_topic"])},'
                f'"lot_id":{_string(state["lot_id"])},'
                f'"carats":{{"_type_":"decimal_str","_data_":{_string(str(state["carats"]))}}},'
                f'"value_usd":{{"_type_":"decimal_str","_data_":{_string(str(state["value_usd"]))}}},'
                f'"holder":{_string(state["holder"])},"composition":{{{composition}}},'
                f'"source_id":{"null" if source_id is None else _string(source_id)},'
                f'"parent_lot_ids":[{",".join(map(_string, state["parent_lot_ids"]))}]}}'
            )
            return StoredEvent(
                originator_id=state["originator_id"],
                originator_version=state["originator_version"],
                topic=_FORMED,
                state=text.encode(),
            )

    class Reformed(LotEvent):
        lot_id: str
        carats: Decimal
        value_usd: Decimal
        holder: str
        composition: dict[str, Fraction]
        source_id: str | None
        parent_lot_ids: list[str]

        def apply(self, lot: Lot) -> None:
            lot._form(self)

    def _form(self, formed: Lot.Formed | Lot.Reformed) -> None:
        self.forget(erased=False)
        self.lot_id = formed.lot_id
        self.carats = formed.carats
        self.value_usd = formed.value_usd
        self.holder = formed.holder
        self.composition = dict(formed.composition)
        self.source_id = formed.source_id
        self.parent_lot_ids = list(formed.parent_lot_ids)
        self.status = HELD
        self.certificate_id: str | None = None
        self.importing_participant: str | None = None
        self.operator: str | None = None

    @staticmethod
    def form(
        lot_id: str,
        carats: Decimal,
        value_usd: Decimal,
        holder: str,
        composition: dict[str, Fraction],
        source_id: str | None,
        parent_lot_ids: list[str],
    ) -> Lot:
        """A new lot."""
        lot = Lot(Lot.create_id(lot_id))
        lot._record(
            Lot.Formed,
            originator_topic=_LOT_TOPIC,
            lot_id=lot_id,
            carats=carats,
            value_usd=value_usd,
            holder=holder,
            composition=composition,
            source_id=source_id,
            parent_lot_ids=parent_lot_ids,
        )
        return lot

    def reform(
        self,
        lot_id: str,
        carats: Decimal,
        value_usd: Decimal,
        holder: str,
        composition: dict[str, Fraction],
        source_id: str | None,
        parent_lot_ids: list[str],
    ) -> None:
        """Forms again a lot whose forming was retracted (its id was freed)."""
        self._record(
            Lot.Reformed,
            lot_id=lot_id,
            carats=carats,
            value_usd=value_usd,
            holder=holder,
            composition=composition,
            source_id=source_id,
            parent_lot_ids=parent_lot_ids,
        )

    class Erased(LotEvent):
        def apply(self, lot: Lot) -> None:
            lot.forget(erased=True)

    def erase(self) -> None:
        """The document that formed the lot was retracted: the lot is taken as absent."""
        self._record(Lot.Erased)

    class Undone(LotEvent):
        changes: int

        def apply(self, lot: Lot) -> None:
            lot.restore(self.changes)

    def undo(self, changes: int) -> None:
        """A retracted document's last `changes` changes to the lot are undone."""
        self._record(Lot.Undone, changes=changes)

    def check_usable(self, holder: str | None) -> None:
        """409 unless the lot can be split, merged or exported by `holder` (None: any)."""
        if self.status == CONSUMED:
            raise LedgerError("lot_consumed", f"lot {self.lot_id} was already split or merged")
        if self.status == SEIZED:
            raise LedgerError("lot_seized", f"lot {self.lot_id} was seized")
        if self.status == IN_TRANSIT:
            under = f" under {self.certificate_id}" if holder in (None, self.holder) else ""
            raise LedgerError("lot_in_transit", f"lot {self.lot_id} is in transit{under}")
        if holder is not None and self.holder != holder:
            raise LedgerError("lot_not_held", f"lot {self.lot_id} is not held by {holder}")

    class Split(LotEvent):
        child_lot_ids: list[str]

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.status = CONSUMED

    def split(
        self, parts: list[SplitPart], by: str | None, form: Callable[..., Lot] | None = None
    ) -> list[Lot]:
        """Splits the lot into new lots whose carats sum exactly to its own."""
        self.check_usable(by)
        total = sum((part.carats for part in parts), Decimal(0))
        if total != self.carats:
            raise LedgerError(
                "mass_balance",
                f"the parts of lot {self.lot_id} add up to {total} carats, not {self.carats}",
            )
        whole = Fraction(self.carats)
        make = form or Lot.form
        children = [
            make(
                lot_id=part.lot_id,
                carats=part.carats,
                value_usd=part.value_usd,
                holder=self.holder,
                composition=share(self.composition, Fraction(part.carats), whole),
                source_id=None,
                parent_lot_ids=[self.lot_id],
            )
            for part in parts
        ]
        if self.operator is not None:
            for child in children:
                child.pass_to_operator(self.operator)
        self._record(Lot.Split, child_lot_ids=[part.lot_id for part in parts])
        return children

    class Merged(LotEvent):
        into_lot_id: str

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.status = CONSUMED

    @staticmethod
    def merge(
        lots: list[Lot], into: MergedLot, by: str | None, form: Callable[..., Lot] | None = None
    ) -> Lot:
        """Merges lots of one holder into a new lot holding the sum of their carats."""
        holder = by or lots[0].holder
        for lot in lots:
            lot.check_usable(holder)
        operator = Lot.common_operator(lots)
        merged = (form or Lot.form)(
            lot_id=into.lot_id,
            carats=sum((lot.carats for lot in lots), Decimal(0)),
            value_usd=into.value_usd,
            holder=holder,
            composition=combine(lot.composition for lot in lots),
            source_id=None,
            parent_lot_ids=[lot.lot_id for lot in lots],
        )
        if operator is not None:
            merged.pass_to_operator(operator)
        for lot in lots:
            lot._record(Lot.Merged, into_lot_id=into.lot_id)
        return merged

    @staticmethod
    def common_operator(lots: list[Lot]) -> str | None:
        """The operator holding every one of the lots (None: none does); 409
        `operator_mismatch` when they are not held alike."""
        operators = {lot.operator for lot in lots}
        if len(operators) > 1:
            held = ", ".join(f"{lot.lot_id} by {lot.operator or 'no operator'}" for lot in lots)
            raise LedgerError("operator_mismatch", f"lots held by different operators: {held}")
        return operators.pop()

    class Shipped(LotEvent):
        certificate_id: str
        importing_participant: str

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.status = IN_TRANSIT
            lot.certificate_id = self.certificate_id
            lot.importing_participant = self.importing_participant

    def ship(self, certificate_id: str, importing_participant: str) -> None:
        self._record(
            Lot.Shipped, certificate_id=certificate_id, importing_participant=importing_participant
        )

    class Received(LotEvent):
        certificate_id: str
        holder: str

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.status = HELD
            lot.holder = self.holder
            lot.importing_participant = None
            lot.operator = None  # unless the importer names one (`TakenByOperator`)

    def check_not_seized(self) -> None:
        """409 `lot_seized` once the lot was seized (in transit, it cannot be received)."""
        if self.status == SEIZED:
            raise LedgerError("lot_seized", f"lot {self.lot_id} was seized in transit")

    def receive(self, certificate_id: str, holder: str) -> None:
        """The importer's confirmation: the lot passes to it, unless seized in transit."""
        self.check_not_seized()
        self._record(Lot.Received, certificate_id=certificate_id, holder=holder)

    class TakenByOperator(LotEvent):
        operator_id: str

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.operator = self.operator_id

    def pass_to_operator(self, operator_id: str) -> None:
        """The lot is now held by an operator of its holder (produced, cut, merged or
        imported by it)."""
        self._record(Lot.TakenByOperator, operator_id=operator_id)

    def check_operator(self, operator_id: str | None) -> None:
        """409 `lot_not_held` unless the lot is held by that operator (None: by none)."""
        if self.operator != operator_id:
            held = f"operator {self.operator}" if self.operator else "no operator"
            raise LedgerError(
                "lot_not_held", f"lot {self.lot_id} is held by {held}, not by {operator_id}"
            )

    class Transferred(LotEvent):
        to_operator: str
        value_usd: Decimal

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.operator = self.to_operator
            lot.value_usd = self.value_usd

    def transfer(self, to_operator: str, value_usd: Decimal, by: str | None) -> None:
        """Sells the lot to another operator of its holder, at `value_usd`."""
        self.check_usable(by)
        self._record(Lot.Transferred, to_operator=to_operator, value_usd=value_usd)

    class Flagged(LotEvent):
        reason: str

    def flag(self, reason: str) -> None:
        self._record(Lot.Flagged, reason=reason)

    class Seized(LotEvent):
        reason: str
        by: str | None

        def apply(self, lot: Lot) -> None:
            lot.remember()
            lot.status = SEIZED

    def seize(self, reason: str, by: str | None) -> None:
        """Seizes the lot, held or in transit; a consumed or seized lot cannot be."""
        if self.status != IN_TRANSIT:
            self.check_usable(None)
        self._record(Lot.Seized, reason=reason, by=by)


register_stored_topics(Lot, "ledger.lot", LotEvent)
_LOT_TOPIC = get_topic(Lot)
_FORMED = get_topic(Lot.Formed)
_string = encode_basestring  # a JSON string as eventsourcing's transcoder writes it


# -- lookups other families use ----------------------------------------------------------


def find_lot(work: UnitOfWork, lot_id: str) -> Lot:
    """The lot, or 409 `unknown_lot`."""
    lot = work.get(Lot, Lot.create_id(lot_id))
    if lot is None:
        raise LedgerError("unknown_lot", f"no lot {lot_id}")
    return lot


def form_lot(work: UnitOfWork, **fields: Any) -> Lot:
    """A new lot of the batch, or the lot of that id formed again when its forming was
    retracted (the aggregate goes on, its id freed; see `ledger.retractions`)."""
    retracted = work.erased(Lot, Lot.create_id(str(fields["lot_id"])))
    if retracted is not None:
        retracted.reform(**fields)
        lot = retracted
    else:
        lot = Lot.form(**fields)
    work.add(lot)
    return lot


def check_new_lot_id(work: UnitOfWork, lot_id: str) -> None:
    """409 `duplicate_id` when a lot with this id exists: lot ids are unique for ever."""
    if work.get(Lot, Lot.create_id(lot_id)) is not None:
        raise LedgerError("duplicate_id", f"lot {lot_id} already exists")


# -- jurisdictions -----------------------------------------------------------------------


def _authority_of_holder(doc: LotFlagged | LotTransferred, work: UnitOfWork) -> None:
    lot = work.get(Lot, Lot.create_id(doc.lot_id))
    if lot is not None and work.actor is not None and work.actor.role == "authority":
        work.require_authority_of(lot.holder, f"lot {doc.lot_id}")


def _authority_of_holder_or_importer(doc: LotSeized, work: UnitOfWork) -> None:
    lot = work.get(Lot, Lot.create_id(doc.lot_id))
    if lot is None:
        return
    receiving = lot.status == IN_TRANSIT and lot.importing_participant == work.acting
    if not receiving:
        work.require_authority_of(lot.holder, f"lot {doc.lot_id}")


# -- handlers ----------------------------------------------------------------------------


@handles(LotProduced, jurisdiction=authority_of_source("source_id"))
def lot_produced(doc: LotProduced, work: UnitOfWork) -> None:
    source = find_source(work, doc.source_id)
    day = doc.occurred_at.date()
    source.check_may_produce_on(day)
    check_new_lot_id(work, doc.lot_id)
    if doc.operator is not None:
        named_operator(work, doc.operator, source.participant, PRODUCING_ROLES, day)
    lot = form_lot(
        work,
        lot_id=doc.lot_id,
        carats=doc.carats,
        value_usd=doc.value_usd,
        holder=source.participant,
        composition={doc.source_id: Fraction(doc.carats)},
        source_id=doc.source_id,
        parent_lot_ids=[],
    )
    if doc.operator is not None:
        lot.pass_to_operator(doc.operator)


@handles(LotSplit)
def lot_split(doc: LotSplit, work: UnitOfWork) -> None:
    lot = find_lot(work, doc.lot_id)
    lot.check_usable(work.acting)
    for part in doc.into:
        check_new_lot_id(work, part.lot_id)
    lot.split(doc.into, by=work.acting, form=lambda **fields: form_lot(work, **fields))


@handles(LotsMerged)
def lots_merged(doc: LotsMerged, work: UnitOfWork) -> None:
    lots = [find_lot(work, lot_id) for lot_id in doc.lot_ids]
    for lot in lots:
        lot.check_usable(work.acting or lots[0].holder)
    if doc.into.lot_id in doc.lot_ids:
        raise LedgerError("duplicate_id", f"lot {doc.into.lot_id} already exists")
    check_new_lot_id(work, doc.into.lot_id)
    Lot.merge(lots, doc.into, by=work.acting, form=lambda **fields: form_lot(work, **fields))


@handles(
    LotFlagged,
    roles=frozenset({"investigator", "secretariat", "authority"}),
    jurisdiction=_authority_of_holder,
)
def lot_flagged(doc: LotFlagged, work: UnitOfWork) -> None:
    find_lot(work, doc.lot_id).flag(reason=doc.reason)


@handles(LotSeized, jurisdiction=_authority_of_holder_or_importer)
def lot_seized(doc: LotSeized, work: UnitOfWork) -> None:
    # `by` stays None: a replay of the log (kpledger import) cannot know which authority
    # posted the seizure, and the stored events must be the same either way.
    find_lot(work, doc.lot_id).seize(reason=doc.reason, by=None)


@handles(LotTransferred, jurisdiction=_authority_of_holder)
def lot_transferred(doc: LotTransferred, work: UnitOfWork) -> None:
    lot = find_lot(work, doc.lot_id)
    lot.check_usable(work.acting)
    named_operator(work, doc.to_operator, lot.holder, None, doc.occurred_at.date())
    lot.transfer(to_operator=doc.to_operator, value_usd=doc.value_usd, by=work.acting)

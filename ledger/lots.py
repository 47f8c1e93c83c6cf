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
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from pydantic import Field, field_validator

from ledger.base import LedgerAggregate, aggregate_id
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


# -- the aggregate -----------------------------------------------------------------------


class Lot(LedgerAggregate):
    """A lot: produced at a source, or formed by splitting or merging other lots."""

    STORED_MODULE = "ledger.lot"

    @staticmethod
    def create_id(lot_id: str) -> UUID:
        return aggregate_id("lot", lot_id)

    class Formed(LedgerAggregate.Created):
        lot_id: str
        carats: Decimal
        value_usd: Decimal
        holder: str
        composition: dict[str, Fraction]
        source_id: str | None
        parent_lot_ids: list[str]

    @event(Formed)
    def __init__(
        self,
        lot_id: str,
        carats: Decimal,
        value_usd: Decimal,
        holder: str,
        composition: dict[str, Fraction],
        source_id: str | None,
        parent_lot_ids: list[str],
    ) -> None:
        self._form(lot_id, carats, value_usd, holder, composition, source_id, parent_lot_ids)

    def _form(
        self,
        lot_id: str,
        carats: Decimal,
        value_usd: Decimal,
        holder: str,
        composition: dict[str, Fraction],
        source_id: str | None,
        parent_lot_ids: list[str],
    ) -> None:
        self.forget(erased=False)
        self.lot_id = lot_id
        self.carats = carats
        self.value_usd = value_usd
        self.holder = holder
        self.composition = dict(composition)
        self.source_id = source_id
        self.parent_lot_ids = list(parent_lot_ids)
        self.status = HELD
        self.certificate_id: str | None = None
        self.importing_participant: str | None = None
        self.operator: str | None = None

    class Reformed(LedgerAggregate.Event):
        lot_id: str
        carats: Decimal
        value_usd: Decimal
        holder: str
        composition: dict[str, Fraction]
        source_id: str | None
        parent_lot_ids: list[str]

    @event(Reformed)
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
        self._form(lot_id, carats, value_usd, holder, composition, source_id, parent_lot_ids)

    class Erased(LedgerAggregate.Event):
        pass

    @event(Erased)
    def erase(self) -> None:
        """The document that formed the lot was retracted: the lot is taken as absent."""
        self.forget(erased=True)

    class Undone(LedgerAggregate.Event):
        changes: int

    @event(Undone)
    def undo(self, changes: int) -> None:
        """A retracted document's last `changes` changes to the lot are undone."""
        self.restore(changes)

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

    class Split(LedgerAggregate.Event):
        child_lot_ids: list[str]

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
        make = form or Lot
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
        self._split(child_lot_ids=[part.lot_id for part in parts])
        return children

    @event(Split)
    def _split(self, child_lot_ids: list[str]) -> None:
        self.remember()
        self.status = CONSUMED

    class Merged(LedgerAggregate.Event):
        into_lot_id: str

    @staticmethod
    def merge(
        lots: list[Lot], into: MergedLot, by: str | None, form: Callable[..., Lot] | None = None
    ) -> Lot:
        """Merges lots of one holder into a new lot holding the sum of their carats."""
        holder = by or lots[0].holder
        for lot in lots:
            lot.check_usable(holder)
        operator = Lot.common_operator(lots)
        merged = (form or Lot)(
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
            lot._merged(into_lot_id=into.lot_id)
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

    @event(Merged)
    def _merged(self, into_lot_id: str) -> None:
        self.remember()
        self.status = CONSUMED

    class Shipped(LedgerAggregate.Event):
        certificate_id: str
        importing_participant: str

    @event(Shipped)
    def ship(self, certificate_id: str, importing_participant: str) -> None:
        self.remember()
        self.status = IN_TRANSIT
        self.certificate_id = certificate_id
        self.importing_participant = importing_participant

    class Received(LedgerAggregate.Event):
        certificate_id: str
        holder: str

    def check_not_seized(self) -> None:
        """409 `lot_seized` once the lot was seized (in transit, it cannot be received)."""
        if self.status == SEIZED:
            raise LedgerError("lot_seized", f"lot {self.lot_id} was seized in transit")

    def receive(self, certificate_id: str, holder: str) -> None:
        """The importer's confirmation: the lot passes to it, unless seized in transit."""
        self.check_not_seized()
        self._received(certificate_id=certificate_id, holder=holder)

    @event(Received)
    def _received(self, certificate_id: str, holder: str) -> None:
        self.remember()
        self.status = HELD
        self.holder = holder
        self.importing_participant = None
        self.operator = None  # unless the importer names one (`TakenByOperator`)

    class TakenByOperator(LedgerAggregate.Event):
        operator_id: str

    @event(TakenByOperator)
    def pass_to_operator(self, operator_id: str) -> None:
        """The lot is now held by an operator of its holder (produced, cut, merged or
        imported by it)."""
        self.remember()
        self.operator = operator_id

    def check_operator(self, operator_id: str | None) -> None:
        """409 `lot_not_held` unless the lot is held by that operator (None: by none)."""
        if self.operator != operator_id:
            held = f"operator {self.operator}" if self.operator else "no operator"
            raise LedgerError(
                "lot_not_held", f"lot {self.lot_id} is held by {held}, not by {operator_id}"
            )

    class Transferred(LedgerAggregate.Event):
        to_operator: str
        value_usd: Decimal

    def transfer(self, to_operator: str, value_usd: Decimal, by: str | None) -> None:
        """Sells the lot to another operator of its holder, at `value_usd`."""
        self.check_usable(by)
        self._transferred(to_operator=to_operator, value_usd=value_usd)

    @event(Transferred)
    def _transferred(self, to_operator: str, value_usd: Decimal) -> None:
        self.remember()
        self.operator = to_operator
        self.value_usd = value_usd

    class Flagged(LedgerAggregate.Event):
        reason: str

    @event(Flagged)
    def flag(self, reason: str) -> None:
        pass

    class Seized(LedgerAggregate.Event):
        reason: str
        by: str | None

    def seize(self, reason: str, by: str | None) -> None:
        """Seizes the lot, held or in transit; a consumed or seized lot cannot be."""
        if self.status != IN_TRANSIT:
            self.check_usable(None)
        self._seized(reason=reason, by=by)

    @event(Seized)
    def _seized(self, reason: str, by: str | None) -> None:
        self.remember()
        self.status = SEIZED


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
        lot = Lot(**fields)
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

"""The read side of operators and sanctions: their tables, apply functions and queries.

An operator's record keeps every lot it held at any time (in the order it took them,
with the position it did); a lot keeps its current operator and every operator that
held it (`projections.custody.Lot`). Sanction listings are in force as embargoes are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from ledger import lots as lot_documents
from ledger import operators as operator_documents
from ledger.amounts import cents
from ledger.errors import LedgerError
from ledger.log import LogEntry
from ledger.protocol import in_force
from projections.records import Lot
from projections.registry import applies

__all__ = [
    "Listing",
    "Operator",
    "OperatorTables",
    "find_operator",
    "in_force_listings",
    "operator_view",
    "sanctioned_parties",
]

_date = date.fromisoformat


class Listing:
    """A sanction listing naming one operator."""

    __slots__ = (
        "effective_from",
        "effective_to",
        "listing_id",
        "operator_id",
        "position",
        "reason",
    )

    def __init__(
        self, listing_id: str, operator_id: str, reason: str, effective_from: date, position: int
    ) -> None:
        self.listing_id = listing_id
        self.operator_id = operator_id
        self.reason = reason
        self.effective_from = effective_from
        self.effective_to: date | None = None
        self.position = position

    def in_force(self, on: date) -> bool:
        """In force from `effective_from` up to the day before `effective_to`."""
        return in_force(self.effective_from, self.effective_to, on)


class Operator:
    """A company or cooperative licensed by one participant, and the lots it held."""

    __slots__ = (
        "licence_number",
        "licence_valid_until",
        "listings",
        "lots",
        "name",
        "operator_id",
        "participant",
        "position",
        "revoked",
        "roles",
    )

    def __init__(self, document: dict[str, Any], position: int) -> None:
        self.operator_id: str = document["operator_id"]
        self.participant: str = document["participant"]
        self.name: str = document["name"]
        self.roles: tuple[str, ...] = tuple(document["roles"])
        self.licence_number: str = document["licence"]["number"]
        self.licence_valid_until = _date(document["licence"]["valid_until"])
        self.revoked = False
        self.position = position
        self.listings: list[str] = []  # in order of listing
        self.lots: dict[str, int] = {}  # lot id -> position it first took the lot


class OperatorTables:
    """The operators and sanction listings of `projections.custody.Custody`, and their
    apply methods (a part of Custody: it reads and changes its lots)."""

    lots: dict[str, Lot]
    operators: dict[str, Operator]
    listings: dict[str, Listing]
    _shared: Callable[[tuple[str, ...]], tuple[str, ...]]  # one tuple object for equal ones

    def hold(self, lot: Lot, operator_id: str | None, position: int) -> None:
        """From `position` on, the lot is held by that operator (None: by none). Lots hold
        the operator's own id string and tuples of takers shared between lots: downstream
        adds carats up by those tuples, which then compare by identity."""
        if operator_id is None:
            lot.operator = None
            return
        operator = self.operators[operator_id]
        lot.operator = operator_id = operator.operator_id
        lot.operators += ((operator_id, position),)
        made_from_its_own = lot.parents and position == lot.created_at
        if not made_from_its_own and operator_id not in lot.taken_by:
            lot.taken_by = self._shared((*lot.taken_by, operator_id))
        operator.lots.setdefault(lot.lot_id, position)

    @applies(operator_documents.OperatorLicensed)
    def _operator_licensed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        operator = Operator(document, entry.position)
        self.operators[operator.operator_id] = operator

    @applies(operator_documents.OperatorLicenceRevoked)
    def _operator_licence_revoked(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.operators[document["operator_id"]].revoked = True

    @applies(operator_documents.SanctionListed)
    def _sanction_listed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        listing = Listing(
            document["listing_id"],
            document["operator_id"],
            document["reason"],
            _date(document["effective_from"]),
            entry.position,
        )
        self.listings[listing.listing_id] = listing
        self.operators[listing.operator_id].listings.append(listing.listing_id)

    @applies(operator_documents.SanctionLifted)
    def _sanction_lifted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.listings[document["listing_id"]].effective_to = _date(document["effective_to"])

    @applies(lot_documents.LotTransferred)
    def _lot_transferred(self, entry: LogEntry, document: dict[str, Any]) -> None:
        lot = self.lots[document["lot_id"]]
        lot.value_usd = cents(document["value_usd"])
        lot.history += (entry.position,)
        self.hold(lot, document["to_operator"], entry.position)


# -- queries -------------------------------------------------------------------------------


def find_operator(state: OperatorTables, operator_id: str) -> Operator:
    """The operator with that id; `not_found` when there is none.

    >>> from projections.custody import Custody
    >>> from projections.examples import operator_entries
    >>> find_operator(Custody.replay(operator_entries()), "GH-OP-1").participant
    'GH'
    """
    operator = state.operators.get(operator_id)
    if operator is None:
        raise LedgerError("not_found", f"no operator {operator_id!r}")
    return operator


def in_force_listings(state: OperatorTables, operator: Operator, on: date) -> list[Listing]:
    """The listings naming the operator that are in force on `on`."""
    return [
        listing
        for listing in map(state.listings.__getitem__, operator.listings)
        if listing.in_force(on)
    ]


def operator_view(state: OperatorTables, operator_id: str, on: date) -> dict[str, Any]:
    """GET /v1/operators/{operator_id}: licence, listings (in force on `on`) and every lot
    it held at any time, in the order it took them.

    >>> from projections.custody import Custody
    >>> from projections.examples import operator_entries
    >>> view = operator_view(Custody.replay(operator_entries()), "GH-OP-2", date(2026, 3, 1))
    >>> view["roles"], view["sanctions"], view["lots_held"]
    (['buyer', 'exporter'], [{'listing_id': 'UN-1', 'in_force': True}], ['L-1A'])
    """
    operator = find_operator(state, operator_id)
    return {
        "operator_id": operator.operator_id,
        "participant": operator.participant,
        "name": operator.name,
        "roles": list(operator.roles),
        "licence": {
            "number": operator.licence_number,
            "valid_until": operator.licence_valid_until.isoformat(),
        },
        "revoked": operator.revoked,
        "sanctions": [
            {"listing_id": listing_id, "in_force": state.listings[listing_id].in_force(on)}
            for listing_id in operator.listings
        ],
        "lots_held": list(operator.lots),
    }


def sanctioned_parties(state: OperatorTables, on: date) -> Iterator[tuple[Operator, list[Listing]]]:
    """Each operator that holds or held a lot and is under a listing in force on `on`, with
    those listings."""
    for operator in state.operators.values():
        if operator.lots and operator.listings:
            listings = in_force_listings(state, operator, on)
            if listings:
                yield operator, listings

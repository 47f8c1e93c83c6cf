"""Retractions: `document.retracted` withdraws an accepted document without rewriting the log.

The retracted document stays in the log; from the retraction on, the ledger behaves
as if it had never been accepted. On the write side that means:

- who may retract: whoever may post the retracted document for the same participant
  or role (checked, as every jurisdiction, before any 409): its type's roles, the
  participant its type acts for, the authority of the lot's holder (split, merge,
  transfer, flag), of the lot's holder or importer (seizure), of the source, the
  certificate's importer, the review's participant. The log keeps the poster's name
  (`recorded_by`) but not its role, so for the types several roles may post
  (`lot.flagged`, `alert.reviewed`) the poster's role is that of the tokens of its name
  (`UnitOfWork.poster_roles`); a name no token bears may only retract its own.
- what may be retracted (`RETRACTABLE`), and when: while no document accepted after it,
  and not itself retracted, depends on what it did (`retraction_blocked`, naming the
  first that does). That is found by reading the log after the retracted document.
- what is restored: the aggregates it changed go back to their state before it
  (`LedgerAggregate.restore`), those it created are erased and their ids freed for a
  corrected document (`LedgerAggregate.erased`), a certified export's certificate is
  cancelled and keeps its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event

from ledger.base import LedgerAggregate, aggregate_id
from ledger.certificates import Certificate
from ledger.compliance import ParticipantReports, Review
from ledger.errors import LedgerError
from ledger.fields import DocumentModel, EventId, Text
from ledger.handling import UnitOfWork, document_types, handles
from ledger.journal import EventIdClaim, decode_row
from ledger.log import LogEntry
from ledger.lots import Lot
from ledger.operators import Operator
from ledger.sources import Source

__all__ = [
    "RETRACTABLE",
    "DocumentRetracted",
    "Retraction",
    "RetractionRegister",
    "dependent",
    "find_retracted",
]

PAGE = 1000
"""Log entries read at a time while looking for a document that depends on another."""
RETRACTION_TOKEN = b'"document.retracted"'
"""What the stored row of a retraction holds (its type, as a JSON string)."""

LOT_CHANGES = frozenset(
    {
        "lot.produced",
        "lot.split",
        "lots.merged",
        "lot.transferred",
        "import.confirmed",
        "lot.seized",
    }
)
"""Types whose retraction waits while a lot they created or changed is used since."""

LOT_USES = frozenset(
    {
        "lot.split",
        "lots.merged",
        "lot.transferred",
        "export.certified",
        "import.confirmed",
        "lot.flagged",
        "lot.seized",
    }
)
"""What "used since" means for a lot: split, merged, transferred, certified, confirmed,
flagged or seized."""

REGISTRATIONS = frozenset({"mine.registered", "alluvial_site.registered", "operator.licensed"})
ALWAYS = frozenset(
    {
        "report.submitted",
        "review.invited",
        "review.recommendation_implemented",
        "lot.flagged",
        "alert.reviewed",
    }
)
RETRACTABLE = LOT_CHANGES | REGISTRATIONS | ALWAYS | {"export.certified"}
"""The types a `document.retracted` may name; any other is `not_retractable`."""

SEVERAL_ROLES = frozenset({"lot.flagged", "alert.reviewed"})
"""Types several roles may post: the log keeps the poster's name, not its role."""

_SOURCE_FIELDS = ("source_id", "mine_id", "site_id")
_OPERATOR_FIELDS = ("operator", "operator_id", "to_operator")


class DocumentRetracted(DocumentModel):
    type: Literal["document.retracted"]
    retracted_event_id: EventId
    reason: Text


class Retraction(LedgerAggregate):
    """The retraction of one document, by the document's `event_id`: it is retracted once."""

    STORED_MODULE = "ledger.retraction"

    @staticmethod
    def create_id(event_id: str) -> UUID:
        return aggregate_id("retraction", event_id)

    class Recorded(LedgerAggregate.Created):
        event_id: str

    @event(Recorded)
    def __init__(self, event_id: str) -> None:
        self.event_id = event_id


class RetractionRegister(LedgerAggregate):
    """Every retraction of the log, in order: (position retracted, position of the
    retraction), so that a read model catching up knows them before it meets them."""

    STORED_MODULE = "ledger.retraction"

    @staticmethod
    def create_id() -> UUID:
        return aggregate_id("retractions", "register")

    class Opened(LedgerAggregate.Created):
        pass

    @event(Opened)
    def __init__(self) -> None:
        self.retractions: list[tuple[int, int]] = []

    class Added(LedgerAggregate.Event):
        retracted: int
        retraction: int

    @event(Added)
    def add(self, retracted: int, retraction: int) -> None:
        self.retractions.append((retracted, retraction))


def register(work: UnitOfWork) -> RetractionRegister:
    """The register of retractions, opened on the first."""
    found = work.get(RetractionRegister, RetractionRegister.create_id())
    if found is None:
        found = RetractionRegister()
        work.add(found)
    return found


# -- the retracted document ----------------------------------------------------------------


def find_retracted(work: UnitOfWork, event_id: str) -> LogEntry | None:
    """The log entry of the document with that `event_id`: appended earlier in this insert,
    or stored; None when the ledger never accepted one."""
    for entry in reversed(work.appended):
        if entry.event_id == event_id:
            return entry
    claim = work.get(EventIdClaim, EventIdClaim.create_id(event_id))
    if claim is None or work.entries is None:
        return None
    found = work.entries(claim.position - 1, 1)
    return found[0] if found else None


def _later_entries(work: UnitOfWork, position: int, watched: set[str]) -> Iterator[LogEntry]:
    """The entries after `position` that may name one of the `watched` ids, or be a
    retraction: the stored ones (a row that holds none of them as a JSON string is not
    decoded), then those of this insert."""
    if work.rows is not None:
        tokens = [RETRACTION_TOKEN, *(f'"{key}"'.encode() for key in watched)]
        after = position
        while page := work.rows(after, PAGE):
            for row in page:
                state = row[2]
                if any(token in state for token in tokens):
                    yield decode_row(*row)
            after = page[-1][0]
    for entry in work.appended:
        if entry.position > position:
            yield entry


def _watched(document: dict[str, Any], work: UnitOfWork) -> set[str]:
    """The ids a document depending on `document` names (see `dependent`)."""
    kind = document["type"]
    if kind in LOT_CHANGES:
        return _lots_changed(document, work)
    if kind == "export.certified":
        return {document["certificate_id"], *document["lot_ids"]}
    if kind in REGISTRATIONS:
        return {document.get("mine_id") or document.get("site_id") or document["operator_id"]}
    return set()


def _names(document: dict[str, Any], fields: tuple[str, ...]) -> set[str]:
    return {value for name in fields if isinstance(value := document.get(name), str)}


def _lots_named(document: dict[str, Any]) -> set[str]:
    named = _names(document, ("lot_id",))
    named.update(document.get("lot_ids") or ())
    return named


def _operators_named(document: dict[str, Any]) -> set[str]:
    named = _names(document, _OPERATOR_FIELDS)
    exporter = document.get("exporter")
    if isinstance(exporter, dict) and isinstance(exporter.get("operator_id"), str):
        named.add(exporter["operator_id"])
    return named


def _lots_changed(document: dict[str, Any], work: UnitOfWork) -> set[str]:
    """The lots a lot-changing document created or changed."""
    kind = document["type"]
    if kind == "lot.split":
        return {document["lot_id"], *(part["lot_id"] for part in document["into"])}
    if kind == "lots.merged":
        return {*document["lot_ids"], document["into"]["lot_id"]}
    if kind == "import.confirmed":
        certificate = work.get(Certificate, Certificate.create_id(document["certificate_id"]))
        return set(certificate.lot_ids) if certificate is not None else set()
    return {document["lot_id"]}


def dependent(retracted: dict[str, Any], later: dict[str, Any], work: UnitOfWork) -> bool:
    """Whether the `later` document depends on what the `retracted` one did (see
    PROTOCOL.md, "Corrections without rewriting")."""
    kind, later_kind = retracted["type"], later["type"]
    if kind in LOT_CHANGES:
        return later_kind in LOT_USES and bool(_lots_named(later) & _lots_changed(retracted, work))
    if kind == "export.certified":
        if later_kind == "import.confirmed":
            return bool(later["certificate_id"] == retracted["certificate_id"])
        return later_kind == "lot.seized" and later["lot_id"] in retracted["lot_ids"]
    if kind in ("mine.registered", "alluvial_site.registered"):
        source_id = retracted.get("mine_id") or retracted.get("site_id")
        return source_id in _names(later, _SOURCE_FIELDS)
    if kind == "operator.licensed":
        return retracted["operator_id"] in _operators_named(later)
    return False


def _first_dependent(entry: LogEntry, work: UnitOfWork) -> int | None:
    """The position of the first document after `entry` that depends on it and is not
    retracted itself (its retraction comes after it, so within the same stretch)."""
    candidates: list[tuple[int, str]] = []
    retracted: set[str] = set()
    document = entry.document
    if document["type"] in ALWAYS:
        return None
    changed = _lots_changed(document, work) if document["type"] in LOT_CHANGES else set()
    for later in _later_entries(work, entry.position, _watched(document, work)):
        if later.type == DocumentRetracted.type_name:
            retracted.add(later.document["retracted_event_id"])
        elif changed:
            if later.type in LOT_USES and not changed.isdisjoint(_lots_named(later.document)):
                candidates.append((later.position, later.event_id))
        elif dependent(document, later.document, work):
            candidates.append((later.position, later.event_id))
    return next((position for position, event_id in candidates if event_id not in retracted), None)


# -- who may retract ----------------------------------------------------------------------


def _lot_holder(work: UnitOfWork, lot_id: str) -> Lot | None:
    return work.get(Lot, Lot.create_id(lot_id))


def _may_retract(doc: DocumentRetracted, work: UnitOfWork) -> None:
    """403 unless the actor may post for the same participant or role as the retracted
    document did; an unknown document is left to the handler (409)."""
    actor = work.actor
    entry = find_retracted(work, doc.retracted_event_id)
    if actor is None or entry is None:
        return
    document = entry.document
    kind = entry.type
    handling = {model.type_name: handled for model, handled in document_types().items()}[kind]
    if actor.role not in handling.roles:
        raise LedgerError(
            "forbidden", f"a {kind} is retracted by whoever may post it, not the {actor.role} role"
        )
    poster_roles = work.poster_roles.get(entry.recorded_by, frozenset())
    if kind in SEVERAL_ROLES and actor.name != entry.recorded_by and actor.role not in poster_roles:
        raise LedgerError(
            "forbidden",
            f"this {kind} was posted by {entry.recorded_by}, not by a {actor.role}: "
            f"a {actor.role} may retract only what {actor.role}s posted",
        )
    if actor.role != "authority":
        return
    participants: set[str] = set()
    if handling.acts_for is not None:
        participants.add(document[handling.acts_for])
    elif kind in ("lot.split", "lot.transferred", "lot.flagged", "lots.merged", "lot.seized"):
        lot = _lot_holder(work, document.get("lot_id") or document["lot_ids"][0])
        if lot is None:
            return
        participants.add(lot.holder)
        if kind == "lot.seized" and lot.importing_participant is not None:
            participants.add(lot.importing_participant)  # seized in transit by the importer
    elif handling.jurisdiction is not None:
        handling.check_jurisdiction(handling.model.model_validate(document), work)
        return
    if participants and actor.participant not in participants:
        raise LedgerError(
            "forbidden", f"this {kind} is outside the jurisdiction of {actor.participant}"
        )


# -- undoing ------------------------------------------------------------------------------


def _lot(work: UnitOfWork, lot_id: str) -> Lot:
    lot = work.get(Lot, Lot.create_id(lot_id))
    assert lot is not None, lot_id  # nothing after the document used it
    return lot


def _certificate(work: UnitOfWork, certificate_id: str) -> Certificate:
    certificate = work.get(Certificate, Certificate.create_id(certificate_id))
    assert certificate is not None, certificate_id
    return certificate


def _undo(document: dict[str, Any], work: UnitOfWork) -> None:
    """Puts the aggregates the document changed back as they were before it."""
    kind = document["type"]
    if kind == "lot.produced":
        _lot(work, document["lot_id"]).erase()
    elif kind == "lot.split":
        _lot(work, document["lot_id"]).undo(changes=1)
        for part in document["into"]:
            _lot(work, part["lot_id"]).erase()
    elif kind == "lots.merged":
        for lot_id in document["lot_ids"]:
            _lot(work, lot_id).undo(changes=1)
        _lot(work, document["into"]["lot_id"]).erase()
    elif kind in ("lot.transferred", "lot.seized"):
        _lot(work, document["lot_id"]).undo(changes=1)
    elif kind == "import.confirmed":
        certificate = _certificate(work, document["certificate_id"])
        certificate.undo(changes=1)
        received = 2 if document.get("operator_id") is not None else 1
        for lot_id in certificate.lot_ids:
            _lot(work, lot_id).undo(changes=received)
    elif kind == "export.certified":
        _certificate(work, document["certificate_id"]).cancel()
        for lot_id in document["lot_ids"]:
            _lot(work, lot_id).undo(changes=1)
    elif kind in ("mine.registered", "alluvial_site.registered"):
        source_id = document.get("mine_id") or document["site_id"]
        source = work.get(Source, Source.create_id(source_id))
        assert source is not None, source_id
        source.erase()
        work.memo.get("places", {}).pop(source_id, None)
    elif kind == "operator.licensed":
        operator = work.get(Operator, Operator.create_id(document["operator_id"]))
        assert operator is not None
        operator.erase()
    elif kind == "report.submitted":
        reports = work.get(
            ParticipantReports, ParticipantReports.create_id(document["participant"])
        )
        assert reports is not None
        reports.withdraw(year=document["year"], kind=document["kind"])
    elif kind == "review.invited":
        review = work.get(Review, Review.create_id(document["review_id"]))
        assert review is not None
        review.erase()
    elif kind == "review.recommendation_implemented":
        review = work.get(Review, Review.create_id(document["review_id"]))
        if review is not None:  # None: its invitation was retracted since, nothing to undo
            review.unimplement(recommendation_id=document["recommendation_id"])
    # lot.flagged, alert.reviewed: they changed no aggregate


def _retraction_reads(doc: DocumentRetracted, work: UnitOfWork) -> Iterator[UUID]:
    yield Retraction.create_id(doc.retracted_event_id)
    yield RetractionRegister.create_id()


@handles(
    DocumentRetracted,
    roles=frozenset({"authority", "secretariat", "investigator"}),
    jurisdiction=_may_retract,
    loads=_retraction_reads,
)
def document_retracted(doc: DocumentRetracted, work: UnitOfWork) -> None:
    event_id = doc.retracted_event_id
    entry = find_retracted(work, event_id)
    if entry is None:
        raise LedgerError("unknown_document", f"no document {event_id} was accepted")
    if work.get(Retraction, Retraction.create_id(event_id)) is not None:
        raise LedgerError("already_retracted", f"document {event_id} was retracted before")
    if entry.type not in RETRACTABLE:
        raise LedgerError(
            "not_retractable",
            f"a {entry.type} cannot be retracted; it has its own counter-document"
            if entry.type != DocumentRetracted.type_name
            else "a retraction cannot be retracted",
        )
    blocking = _first_dependent(entry, work)
    if blocking is not None:
        raise LedgerError(
            "retraction_blocked",
            f"document {event_id} is depended on by the document at position {blocking}",
            detail={"blocking_position": blocking},
        )
    _undo(entry.document, work)
    work.add(Retraction(event_id=event_id))
    register(work).add(retracted=entry.position, retraction=work.position)

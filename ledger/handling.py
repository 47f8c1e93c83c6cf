"""How the write side handles a document type: who may post it, and what it does.

Every family module of `ledger/` (participants, sources, lots, certificates, ...)
declares its document models and, for each, one handler with `@handles(Model, ...)`:
the roles that may post the type, the document field naming the participant whose
authority must post it (`acts_for`), the part of the jurisdiction that depends on the
ledger's state (`jurisdiction`), and the handler itself, which checks the KPCS rules
on the aggregates of a `UnitOfWork` and changes them (raising `LedgerError` with a
409 code when a rule is broken). Handlers do no I/O of their own: a `UnitOfWork`
loads aggregates through the loader it is given, so rules run as well over a dict
of aggregates as over a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol

from ledger.actors import Actor, Role
from ledger.base import aggregate_id
from ledger.errors import LedgerError
from ledger.fields import DocumentModel
from ledger.log import LogEntry

__all__ = [
    "AUTHORITY",
    "SECRETARIAT",
    "AlertCheck",
    "Changing",
    "DocumentType",
    "EntryReader",
    "Loader",
    "RowReader",
    "UnitOfWork",
    "authority_of",
    "document_types",
    "handles",
]


class Changing(Protocol):
    """What a unit of work holds: an eventsourcing aggregate, or a lot (`ledger.lots.Lot`),
    whose changes are events to store."""

    @property
    def id(self) -> UUID: ...

    def collect_events(self) -> Sequence[DomainEventProtocol[UUID]]: ...


T = TypeVar("T", bound=Changing)
D = TypeVar("D", bound=DocumentModel)

AUTHORITY: frozenset[Role] = frozenset({"authority"})
SECRETARIAT: frozenset[Role] = frozenset({"secretariat"})

Loader = Callable[[Iterable[UUID]], Mapping[UUID, Changing | None]]
"""Loads aggregates by id: each id maps to its aggregate, or None when it does not exist."""

EntryReader = Callable[[int, int], list[LogEntry]]
"""Up to `limit` stored log entries after position `after`: `read(after, limit)`."""
RowReader = Callable[[int, int], list[tuple[int, str, bytes]]]
"""Up to `limit` stored journal rows after position `after`: `read(after, limit)`."""

AlertCheck = Callable[[str, date], bool]
"""Whether an alert (by `alert_id`) is raised by the ledger as stored, read on a date.

Alerts are derived on the read side; the write side is given this check by whoever
composes the two (see `Ledger.attach_alert_check`) and asks it inside the append.
"""


_UNLOADED: Any = object()
"""What `UnitOfWork` has of an aggregate it has not loaded yet."""


class UnitOfWork:
    """The aggregates one batch reads and changes, so later documents see earlier ones.

    `actor` is who posts the document being handled (None: a trusted replay of a log,
    whose roles and jurisdictions were checked when it was first appended).
    """

    def __init__(self, load: Loader, memo: dict[str, Any] | None = None) -> None:
        self._load = load
        self._aggregates: dict[UUID, Changing | None] = {}
        self._touched: dict[UUID, Changing] = {}
        self.actor: Actor | None = None
        self.memo: dict[str, Any] = memo if memo is not None else {}
        """Facts that never change once recorded (where a source is), kept across batches."""
        self.alerts: AlertCheck | None = None
        """The read side's alerts, for the rules that name one (see `AlertCheck`)."""
        self.verdicts: Any = None
        """The current request's signatures checked ahead (`ledger.verifier.Prefetched`)."""
        self.entries: EntryReader | None = None
        """Reads stored log entries (after a position, up to a number), for the rules
        that judge a document by what the log holds after it (`ledger.retractions`)."""
        self.rows: RowReader | None = None
        """The same, as the journal's stored rows `(position, topic, state)`, undecoded."""
        self.position = 0
        """The log position the document being handled will take."""
        self.poster_roles: Mapping[str, frozenset[str]] = {}
        """The roles of the tokens of each name: the log keeps a poster's name, not its role
        (`ledger.retractions` asks it who posted a type several roles may post)."""
        self.appended: list[LogEntry] = []
        """The entries this insert appends, so far, in order (their hashes left empty)."""

    @property
    def acting(self) -> str | None:
        """The acting participant: the participant of the posting authority."""
        return self.actor.participant if self.actor is not None else None

    def get(self, cls: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate as this batch has it so far, or None if it does not exist."""
        aggregate = self._aggregates.get(aggregate_id, _UNLOADED)
        if aggregate is _UNLOADED:
            self.preload([aggregate_id])
            aggregate = self._aggregates[aggregate_id]
        if aggregate is None or getattr(aggregate, "erased", False):
            return None  # an aggregate a retraction erased is absent (see `erased`)
        if not isinstance(aggregate, cls):
            raise TypeError(f"{aggregate_id} is a {type(aggregate).__name__}, not {cls.__name__}")
        self._touched[aggregate_id] = aggregate
        return aggregate

    def loaded(self, cls: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate if this batch has loaded it already, else None; loads nothing
        and does not count as reading it (for `DocumentType.loads`)."""
        aggregate = self._aggregates.get(aggregate_id)
        if getattr(aggregate, "erased", False):
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def erased(self, cls: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate if a retraction erased it (its id is free to form again), else None."""
        aggregate = self._aggregates.get(aggregate_id, _UNLOADED)
        if aggregate is _UNLOADED:
            self.preload([aggregate_id])
            aggregate = self._aggregates[aggregate_id]
        if isinstance(aggregate, cls) and getattr(aggregate, "erased", False):
            return aggregate
        return None

    def preload(self, aggregate_ids: Iterable[UUID]) -> None:
        """Loads (or learns the absence of) many aggregates at once."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in self._aggregates]
        if wanted:
            loaded = self._load(wanted)
            self._aggregates.update({i: loaded.get(i) for i in wanted})

    def known(self) -> dict[UUID, Changing]:
        """Every aggregate this batch loaded or created, as it has them now."""
        return {i: a for i, a in self._aggregates.items() if a is not None}

    def add(self, aggregate: Changing) -> None:
        """A new aggregate, created by the current document."""
        self._aggregates[aggregate.id] = aggregate
        self._touched[aggregate.id] = aggregate

    def take_pending(self) -> list[DomainEventProtocol[UUID]]:
        """The events the current document triggered, in a deterministic order."""
        pending: list[DomainEventProtocol[UUID]] = []
        for aggregate in self._touched.values():
            pending.extend(aggregate.collect_events())
        self._touched.clear()
        return pending

    def require_authority_of(self, participant: str, what: str) -> None:
        """403 unless the actor is the authority of `participant` (no actor: a replay)."""
        actor = self.actor
        if actor is None:
            return
        if actor.role != "authority" or actor.participant != participant:
            raise LedgerError(
                "forbidden",
                f"{what} is outside the jurisdiction of {actor.participant or actor.role}",
            )


Handler = Callable[[Any, UnitOfWork], None]
Jurisdiction = Callable[[Any, UnitOfWork], None]
Loads = Callable[[Any, UnitOfWork], Iterable[UUID]]
"""The ids of aggregates a document will read that it does not name (the lots of the
certificate it names, say), given what the batch has `loaded`: they are loaded for the
whole batch in one query, before the first document is handled."""


@dataclass(frozen=True)
class DocumentType:
    """One document type of the protocol, as the write side handles it."""

    model: type[DocumentModel]
    roles: frozenset[Role]
    handle: Handler
    acts_for: str | None = None
    jurisdiction: Jurisdiction | None = None
    loads: Loads | None = None

    @property
    def name(self) -> str:
        """The protocol's name of the type, e.g. `lot.split`."""
        return self.model.type_name

    def check_role(self, actor: Actor, document: DocumentModel) -> None:
        """403 unless the actor's role may post this type, and, where the document names
        the participant that must act (`acts_for`), unless it is that one's authority."""
        if actor.role not in self.roles:
            raise LedgerError("forbidden", f"the {actor.role} role may not post {self.name}")
        if self.acts_for is not None and actor.role == "authority":
            named = getattr(document, self.acts_for)
            if actor.participant != named:
                raise LedgerError(
                    "forbidden",
                    f"{self.name} for {named} is outside the jurisdiction of {actor.participant}",
                )

    def check_jurisdiction(self, document: DocumentModel, work: UnitOfWork) -> None:
        """403 unless the actor may act on what the document names, as the ledger stands.

        Names the ledger cannot resolve are left to the handler, which refuses them (409).
        """
        if self.jurisdiction is not None and work.actor is not None:
            self.jurisdiction(document, work)


def authority_of(
    aggregate: type[Aggregate], id_field: str, owner: str = "participant"
) -> Jurisdiction:
    """Jurisdiction: the authority of the participant (attribute `owner`) of the aggregate
    the document's `id_field` names; an id the ledger does not know is left to the handler.

    For example `authority_of(Operator, "operator_id")`: the operator's participant.
    """
    kind = id_field.removesuffix("_id")

    def check(document: Any, work: UnitOfWork) -> None:
        key = getattr(document, id_field)
        found = work.get(aggregate, aggregate.create_id(key))
        if found is not None:
            work.require_authority_of(getattr(found, owner), f"{kind} {key}")

    return check


_TYPES: dict[type[DocumentModel], DocumentType] = {}


def handles(
    model: type[D],
    *,
    roles: frozenset[Role] = AUTHORITY,
    acts_for: str | None = None,
    jurisdiction: Callable[[D, UnitOfWork], None] | None = None,
    loads: Callable[[D, UnitOfWork], Iterable[UUID]] | None = None,
) -> Callable[[Callable[[D, UnitOfWork], None]], Callable[[D, UnitOfWork], None]]:
    """Declares the handler of a document model (a decorator), with who may post it and
    what else it reads (`loads`, see `Loads`)."""

    def register(handler: Callable[[D, UnitOfWork], None]) -> Callable[[D, UnitOfWork], None]:
        if model in _TYPES:
            raise TypeError(f"{model.__name__} already has a handler")
        _TYPES[model] = DocumentType(model, roles, handler, acts_for, jurisdiction, loads)
        return handler

    return register


def document_types() -> dict[type[DocumentModel], DocumentType]:
    """Every document type declared so far, by model class (see `ledger.documents`)."""
    return dict(_TYPES)


REFERENCE_KINDS: dict[str, str] = {
    "lot_id": "lot",
    "lot_ids": "lot",
    "into": "lot",
    "source_id": "source",
    "mine_id": "source",
    "site_id": "source",
    "participant": "participant",
    "exporting_participant": "participant",
    "importing_participant": "participant",
    "certificate_id": "certificate",
    "operator": "operator",
    "operator_id": "operator",
    "to_operator": "operator",
    "listing_id": "listing",
    "retracted_event_id": "event_id",
}
"""Document fields naming aggregates, by the kind of their aggregate ids (see `base`)."""


_REFERENCES: dict[type[DocumentModel], list[tuple[str, str]]] = {}


def referenced_ids(document: DocumentModel) -> list[UUID]:
    """The ids of the aggregates a document names, so that a batch loads them in bulk.

    Others (the sources of a lot's composition, a register) are loaded when first used.
    """
    ids = [aggregate_id("event_id", document.event_id)]
    fields = vars(document)
    model = type(document)
    references = _REFERENCES.get(model)
    if references is None:  # the reference fields this model has, in REFERENCE_KINDS' order
        declared = model.model_fields
        references = [(name, kind) for name, kind in REFERENCE_KINDS.items() if name in declared]
        _REFERENCES[model] = references
    for name, kind in references:
        value = fields.get(name)
        for item in value if isinstance(value, list) else [value]:
            key = getattr(item, "lot_id", item)
            if isinstance(key, str):
                ids.append(aggregate_id(kind, key))
    return ids


def also_loaded(documents: Iterable[DocumentModel], work: UnitOfWork) -> Iterator[UUID]:
    """The ids the documents' types say they will read besides those they name (`Loads`)."""
    for document in documents:
        loads = _TYPES[type(document)].loads
        if loads is not None:
            yield from loads(document, work)

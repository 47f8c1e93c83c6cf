"""The chain-of-custody state, updated document by document, and its graph.

`Custody.apply(entry)` takes one accepted log entry. Every document in the log was
accepted by the write side, which enforced the KPCS rules, so applying never checks
them again. Amounts are integer hundredths (see `ledger.amounts`); a lot's
composition by source is exact (integer numerators over one denominator, see
`Composition`), fixed when the lot is created and shared with its split children, so
provenance is O(number of sources).

The graph is implied by the tables (a lot's source, parents, children and certificates;
a source's lots; a certificate's lots and importer): `successors` and `predecessors`
walk it without storing it, so that a large world costs no per-node or per-edge dicts.
Nodes are strings prefixed by kind (`lot:L1`, `source:M1`, `certificate:GH-1`,
`participant:GH`) so that ids of different kinds never collide. Edges follow the
material, each with `kind`, `position` and, where material moves, `carats` (hundredths):

    participant --registered-in--> source --produced-at--> lot
    lot --split-into--> lot      lot --merged-into--> lot
    lot --shipped-under--> certificate --received-by--> participant
    operator --held--> lot   (every lot the operator held at any time)

Operators and sanction listings have their own module (`projections.operators`).
"""

from __future__ import annotations

import functools
import logging
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, date
from fractions import Fraction
from math import gcd, lcm
from typing import TYPE_CHECKING, Any

from ledger import certificates, lots, participants, sources, triage
from ledger.amounts import cents
from ledger.fields import DocumentModel
from ledger.log import LogEntry
from ledger.protocol import (
    ADMITTED,
    ALLUVIAL_SITE,
    CONSUMED,
    HELD,
    IN_TRANSIT,
    MINE,
    SEIZED,
    SUSPENDED,
    WITHDRAWN,
    in_force,
)

if TYPE_CHECKING:
    from projections.operators import Listing, Operator

log = logging.getLogger(__name__)

__all__ = [
    "ALLUVIAL_SITE",
    "CONSUMED",
    "HELD",
    "IN_TRANSIT",
    "MINE",
    "NODE_KINDS",
    "SEIZED",
    "Certificate",
    "Composition",
    "Custody",
    "Embargo",
    "Lot",
    "Participant",
    "RapidReexport",
    "RoundTrip",
    "Source",
    "node_id",
    "node_key",
    "node_kind",
]

NODE_KINDS = ("lot", "source", "certificate", "participant", "operator")


class Composition:
    """A lot's shares of carats by source, exact: source `sources[i]` gave
    `numerators[i] / denominator` of the lot's carats.

    Sources are sorted; the numerators are positive, sum to the denominator, and have
    no common factor with it (the least common denominator of the shares). One integer
    per source, not a `Fraction` each: a deeply mixed lot has over a hundred sources
    with shares of dozens of digits. Never changed once made, and shared: a source's
    lots and a split's children hold their origin's object.

    >>> a = Composition.whole("M1")
    >>> mixed = Composition.merged([(200, a), (100, Composition.whole("M2"))])
    >>> mixed.sources, mixed.numerators, mixed.denominator
    (('M1', 'M2'), (2, 1), 3)
    >>> list(mixed)
    [('M1', Fraction(2, 3)), ('M2', Fraction(1, 3))]
    """

    __slots__ = ("denominator", "numerators", "sources")

    def __init__(self, sources: tuple[str, ...], numerators: tuple[int, ...], denominator: int):
        self.sources = sources
        self.numerators = numerators
        self.denominator = denominator

    @classmethod
    def whole(cls, source_id: str) -> Composition:
        """All of a lot's carats from one source."""
        return cls((source_id,), (1,), 1)

    @classmethod
    def merged(
        cls,
        parts: Iterable[tuple[int, Composition]],
        shared: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None,
    ) -> Composition:
        """The composition of lots merged together, given each one's (carats, composition):
        their shares weighted by carats, over the least common denominator. `shared`, if
        given, returns the one tuple kept for its equals (lots merged again and again at
        the same hubs mix the same sources)."""
        parts = list(parts)
        if len(parts) == 1:
            return parts[0][1]
        common = lcm(*(composition.denominator for _, composition in parts))
        sums: dict[str, int] = {}
        for carats, composition in parts:
            scale = carats * (common // composition.denominator)
            for source_id, numerator in composition.items():
                sums[source_id] = sums.get(source_id, 0) + numerator * scale
        sources = tuple(sorted(sums))
        numerators = [sums[source_id] for source_id in sources]
        if shared is not None:
            sources = shared(sources)
        denominator = common * sum(carats for carats, _ in parts)
        factor = gcd(denominator, *numerators)
        return cls(
            sources, tuple(numerator // factor for numerator in numerators), denominator // factor
        )

    def items(self) -> Iterator[tuple[str, int]]:
        """(source id, numerator) in source order."""
        return zip(self.sources, self.numerators, strict=True)

    def share_of(self, sources: AbstractSet[str]) -> int:
        """The numerator (over `denominator`) of the share from any of `sources`.

        A few sources among many (a downstream trace from one source through lots of a
        hundred) are looked up by bisection in the sorted sources, not walked past.

        >>> mixed = Composition(("M1", "M2", "M3"), (1, 2, 3), 6)
        >>> mixed.share_of({"M2"}), mixed.share_of({"M1", "M3", "M9"}), mixed.share_of(set())
        (2, 4, 0)
        """
        own = self.sources
        if len(sources) * 8 < len(own):
            total = 0
            for source_id in sources:
                at = bisect_left(own, source_id)
                if at < len(own) and own[at] == source_id:
                    total += self.numerators[at]
            return total
        return sum(numerator for source_id, numerator in self.items() if source_id in sources)

    def __iter__(self) -> Iterator[tuple[str, Fraction]]:
        """(source id, share) in source order, each share a `Fraction`."""
        denominator = self.denominator
        for source_id, numerator in self.items():
            yield source_id, Fraction(numerator, denominator)

    def __len__(self) -> int:
        return len(self.sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Composition):
            return NotImplemented
        return (self.sources, self.numerators, self.denominator) == (
            other.sources,
            other.numerators,
            other.denominator,
        )

    def __hash__(self) -> int:
        return hash((self.sources, self.numerators, self.denominator))

    def __repr__(self) -> str:
        return f"Composition({self.sources!r}, {self.numerators!r}, {self.denominator!r})"

    def __reduce__(self) -> tuple[type[Composition], tuple[Any, ...]]:
        return Composition, (self.sources, self.numerators, self.denominator)


def node_id(kind: str, identifier: str) -> str:
    """The graph node of an id of one kind.

    >>> node_id("lot", "L1")
    'lot:L1'
    """
    return f"{kind}:{identifier}"


def node_kind(node: str) -> str:
    """The kind of a graph node: lot, source, certificate, participant or operator.

    >>> node_kind("certificate:GH-1")
    'certificate'
    """
    return node.partition(":")[0]


def node_key(node: str) -> str:
    """The protocol id a graph node stands for.

    >>> node_key("lot:L1")
    'L1'
    """
    return node.partition(":")[2]


class Participant:
    """A KP participant and whether it is admitted, suspended or withdrawn.

    `changes` are its admissions, suspensions, reinstatements and withdrawals in
    order: (position, UTC date of `occurred_at`, status after it).
    """

    __slots__ = ("changes", "code", "name", "status")

    def __init__(self, code: str, name: str, status: str) -> None:
        self.code = code
        self.name = name
        self.status = status
        self.changes: list[tuple[int, date, str]] = []


class Source:
    """A mine or an alluvial site, with its production per calendar year (UTC)."""

    __slots__ = (
        "capacity",
        "composition",
        "exceeded_at",
        "kind",
        "licence_holder",
        "licence_number",
        "licence_revoked",
        "licence_valid_until",
        "lots",
        "participant",
        "position",
        "produced",
        "region",
        "source_id",
    )

    def __init__(
        self,
        source_id: str,
        kind: str,
        participant: str,
        region: str,
        capacity: int | None,
        position: int,
    ) -> None:
        self.source_id = source_id
        self.kind = kind
        self.participant = participant
        self.region = region
        self.capacity = capacity
        self.position = position
        self.licence_number: str | None = None
        self.licence_holder: str | None = None
        self.licence_valid_until: date | None = None
        self.licence_revoked = False
        self.composition = Composition.whole(source_id)
        self.produced: dict[int, int] = {}
        self.lots: list[str] = []  # produced here, in order
        self.exceeded_at: dict[int, int] = {}


class Embargo:
    """An embargo on a participant, or on one of its regions."""

    __slots__ = (
        "effective_from",
        "effective_to",
        "embargo_id",
        "participant",
        "position",
        "region",
    )

    def __init__(
        self,
        embargo_id: str,
        participant: str,
        region: str | None,
        effective_from: date,
        position: int,
    ) -> None:
        self.embargo_id = embargo_id
        self.participant = participant
        self.region = region
        self.effective_from = effective_from
        self.effective_to: date | None = None
        self.position = position

    def in_force(self, on: date) -> bool:
        """In force from `effective_from` up to the day before `effective_to`."""
        return in_force(self.effective_from, self.effective_to, on)

    def covers(self, source: Source) -> bool:
        """Whether the embargo's participant and region include the source."""
        return source.participant == self.participant and self.region in (None, source.region)


class Lot:
    """A parcel of rough diamonds: figures in hundredths, custody, lineage and history."""

    __slots__ = (
        "carats",
        "children",
        "composition",
        "history",
        "holder",
        "holders",
        "imports_before",
        "lot_id",
        "operator",
        "operators",
        "parents",
        "shipped_under",
        "status",
        "taken_by",
        "value_usd",
    )

    def __init__(
        self,
        lot_id: str,
        carats: int,
        value_usd: int,
        holder: str,
        composition: Composition,
        position: int,
        *,
        parents: tuple[str, ...] = (),
    ) -> None:
        """A lot made at `position`: produced (no `parents`; its composition is its
        source's whole) or split or merged from `parents`."""
        self.lot_id = lot_id
        self.carats = carats
        self.value_usd = value_usd
        self.holder = holder
        self.status = HELD
        self.shipped_under: tuple[str, ...] = ()  # certificates, in order of issue
        self.parents = parents
        self.children: tuple[str, ...] = ()
        self.holders: tuple[str, ...] = (holder,)
        self.imports_before: tuple[str, ...] = ()
        """For each participant that imported a lot this one was split or merged from (at
        any remove), the certificate of its latest such import (by date received, then
        certificate id), in order of participant. Set when the lot is made: its ancestors
        are consumed then (a lot in transit is never split or merged), their shipments
        final. Exports and imports read it instead of walking a deep lineage."""
        self.composition = composition
        self.history: tuple[int, ...] = (position,)
        self.operator: str | None = None
        self.operators: tuple[tuple[str, int], ...] = ()  # (operator, position taken)
        self.taken_by: tuple[str, ...] = ()
        """The operators that took the lot (produced, bought or imported it), each once: not
        one that made it by splitting or merging lots it held (see `hold`)."""

    @property
    def source_id(self) -> str | None:
        """The source the lot was produced at; None for a lot split or merged from others."""
        return None if self.parents else self.composition.sources[0]

    @property
    def created_at(self) -> int:
        """The position of the entry that created the lot."""
        return self.history[0]

    @property
    def certificate_id(self) -> str | None:
        """The last certificate the lot was shipped under, if any."""
        return self.shipped_under[-1] if self.shipped_under else None


class Certificate:
    """A KP certificate: the export's figures and, once confirmed, the import's."""

    __slots__ = (
        "carats",
        "certificate_id",
        "declared_origin",
        "expires_on",
        "exporter",
        "exporter_name",
        "hs_code",
        "importer",
        "importer_name",
        "issued_on",
        "issuing_authority",
        "lot_ids",
        "parcels",
        "position",
        "received_at",
        "received_carats",
        "received_on",
        "received_parcels",
        "received_value_usd",
        "seized_at",
        "value_usd",
    )

    def __init__(self, document: dict[str, Any], position: int) -> None:
        self.certificate_id: str = document["certificate_id"]
        self.exporter: str = sys.intern(document["exporting_participant"])
        self.importer: str = sys.intern(document["importing_participant"])
        self.lot_ids: tuple[str, ...] = tuple(document["lot_ids"])
        self.carats = cents(document["carats"])
        self.value_usd = cents(document["value_usd"])
        self.hs_code: str = sys.intern(document["hs_code"])
        self.declared_origin: str = sys.intern(document["declared_origin"])
        self.issued_on = _date(document["issued_on"])
        self.expires_on = _date(document["expires_on"])
        self.position = position
        self.received_carats: int | None = None
        self.received_value_usd: int | None = None
        self.received_on: date | None = None
        self.received_at: int | None = None
        self.exporter_name: str = sys.intern(document["exporter"]["name"])
        self.importer_name: str = sys.intern(document["importer"]["name"])
        authority = document.get("issuing_authority")
        self.issuing_authority: str | None = None if authority is None else authority["name"]
        self.parcels: int | None = document.get("parcels")
        self.received_parcels: int | None = None
        self.seized_at: int | None = None  # a lot of it seized while in transit under it

    @property
    def confirmed(self) -> bool:
        """Whether the importer confirmed receipt."""
        return self.received_at is not None


class RoundTrip:
    """Material that came back to a participant it had left, on an import confirmation."""

    __slots__ = ("certificate_id", "left_under", "lot_ids", "participant", "position")

    def __init__(
        self,
        certificate_id: str,
        participant: str,
        lot_ids: tuple[str, ...],
        left_under: tuple[str, ...],
        position: int,
    ) -> None:
        self.certificate_id = certificate_id
        self.participant = participant
        self.lot_ids = lot_ids
        self.left_under = left_under
        self.position = position


class RapidReexport:
    """An export certificate of material its exporter imported, with the shortest gap."""

    __slots__ = (
        "certificate_id",
        "days",
        "imported_under",
        "participant",
        "position",
        "received_on",
    )

    def __init__(
        self,
        certificate_id: str,
        participant: str,
        imported_under: str,
        received_on: date,
        days: int,
        position: int,
    ) -> None:
        self.certificate_id = certificate_id
        self.participant = participant
        self.imported_under = imported_under
        self.received_on = received_on
        self.days = days
        self.position = position


Apply = Callable[["Custody", LogEntry, dict[str, Any]], None]
"""How the read side takes one accepted document of a type into account."""

_APPLY: dict[str, Apply] = {}


def applies(*models: type[DocumentModel]) -> Callable[[Apply], Apply]:
    """Declares the read side's apply function of document models (a decorator)."""

    def register(apply: Apply) -> Apply:
        for model in models:
            if model.type_name in _APPLY:
                raise TypeError(f"{model.type_name} is applied twice")
            _APPLY[model.type_name] = apply
        return apply

    return register


def applied_types() -> frozenset[str]:
    """The document types the read side applies (every type of the protocol)."""
    return frozenset(_APPLY)


_ANNOTATIONS = frozenset({triage.AlertReviewed.type_name})
"""Document types that change no alert: they only annotate them."""

_date = functools.lru_cache(maxsize=8192)(date.fromisoformat)
"""A date from its ISO text, one object per date: a large world repeats few dates."""


def _edge(kind: str, position: int, carats: int | None) -> dict[str, Any]:
    """An edge's attributes: `carats` only where material moves."""
    if carats is None:
        return {"kind": kind, "position": position}
    return {"kind": kind, "position": position, "carats": carats}


class Custody:
    """The chain-of-custody state after the entries applied so far, and its graph."""

    def __init__(self) -> None:
        self.position = 0
        self.participants: dict[str, Participant] = {}
        self.sources: dict[str, Source] = {}
        self.embargoes: dict[str, Embargo] = {}
        self.lots: dict[str, Lot] = {}
        self.certificates: dict[str, Certificate] = {}
        self.round_trips: list[RoundTrip] = []
        self.rapid_reexports: list[RapidReexport] = []
        self.compliance = compliance.Compliance()
        self.operators: dict[str, Operator] = {}
        self.listings: dict[str, Listing] = {}
        self.reviews: dict[str, dict[str, Any]] = {}
        """The latest review of each alert reviewed: `{status, note, by, position}`."""
        self.flagged: dict[str, list[int]] = {}
        """The positions of each flagged lot's `lot.flagged` entries, in order."""
        self.facts_position = 0
        """The position of the last entry that may change alerts (every one but reviews)."""
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        """One tuple object for each sequence of holders or of a composition's sources:
        most lots share their holders', many merged lots their sources'."""

    @classmethod
    def replay(cls, entries: Iterable[LogEntry]) -> Custody:
        """A fresh state fed `entries` in order."""
        state = cls()
        for entry in entries:
            state.apply(entry)
        return state

    def apply(self, entry: LogEntry) -> None:
        """Takes one accepted document into account; unknown types only advance the position."""
        apply = _APPLY.get(entry.type)
        try:
            if apply is not None:
                apply(self, entry, entry.document)
        except Exception:  # only a log altered behind the ledger's back gets here
            log.exception("entry %s cannot be applied; the audit will report it", entry.position)
        self.position = entry.position
        if entry.type not in _ANNOTATIONS:
            self.facts_position = entry.position

    # -- lineage -------------------------------------------------------------------------

    def ancestry(self, lot_id: str) -> list[Lot]:
        """The lot and every lot it was split or merged from, each once, lot first."""
        seen = {lot_id}
        found = [self.lots[lot_id]]
        for lot in found:
            for parent in lot.parents:
                if parent not in seen:
                    seen.add(parent)
                    found.append(self.lots[parent])
        return found

    def shipments(self, lot: Lot) -> Iterator[Certificate]:
        """The certificates the lot was shipped under, in order of issue."""
        for certificate_id in lot.shipped_under:
            yield self.certificates[certificate_id]

    # -- graph ---------------------------------------------------------------------------

    def has_node(self, node: str) -> bool:
        """Whether the graph has the node (a participant only known from an edge counts).

        >>> from projections.examples import example_entries
        >>> state = Custody.replay(example_entries())
        >>> state.has_node("lot:L-A"), state.has_node("participant:AE")
        (True, True)
        """
        kind, key = node_kind(node), node_key(node)
        if kind == "participant":
            return key in self.participants or any(True for _ in self._edges_into(node))
        tables: dict[str, Mapping[str, object]] = {
            "lot": self.lots,
            "source": self.sources,
            "certificate": self.certificates,
            "operator": self.operators,
        }
        return key in tables.get(kind, {})

    def successors(self, node: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The edges out of a node of the graph: (target, attributes), in order of position.

        >>> from projections.examples import example_entries
        >>> [target for target, _ in Custody.replay(example_entries()).successors("lot:L-GH")]
        ['lot:L-MIX']
        """
        kind, key = node_kind(node), node_key(node)
        if kind == "participant":
            for source in self.sources.values():
                if source.participant == key:
                    target = node_id("source", source.source_id)
                    yield target, {"kind": "registered-in", "position": source.position}
        elif kind == "source":
            for lot_id in self.sources[key].lots:
                lot = self.lots[lot_id]
                yield node_id("lot", lot_id), _edge("produced-at", lot.created_at, lot.carats)
        elif kind == "lot":
            lot = self.lots[key]
            for certificate in self.shipments(lot):
                yield (
                    node_id("certificate", certificate.certificate_id),
                    _edge("shipped-under", certificate.position, lot.carats),
                )
            for child_id in lot.children:
                child = self.lots[child_id]
                if len(child.parents) > 1:
                    attributes = _edge("merged-into", child.created_at, lot.carats)
                else:
                    attributes = _edge("split-into", child.created_at, child.carats)
                yield node_id("lot", child_id), attributes
        elif kind == "certificate":
            certificate = self.certificates[key]
            if certificate.received_at is not None:
                yield (
                    node_id("participant", certificate.importer),
                    _edge("received-by", certificate.received_at, certificate.received_carats),
                )
        elif kind == "operator":
            for lot_id, position in self.operators[key].lots.items():
                yield node_id("lot", lot_id), _edge("held", position, self.lots[lot_id].carats)

    def predecessors(self, node: str) -> Iterator[str]:
        """The nodes with an edge into `node`.

        >>> from projections.examples import example_entries
        >>> list(Custody.replay(example_entries()).predecessors("lot:L-MIX"))
        ['lot:L-CI', 'lot:L-GH']
        """
        kind, key = node_kind(node), node_key(node)
        if kind == "participant":
            yield from self._edges_into(node)
        elif kind == "source":
            yield node_id("participant", self.sources[key].participant)
        elif kind == "lot":
            lot = self.lots[key]
            if lot.source_id is not None:
                yield node_id("source", lot.source_id)
            for parent in lot.parents:
                yield node_id("lot", parent)
            for operator_id in dict.fromkeys(operator_id for operator_id, _ in lot.operators):
                yield node_id("operator", operator_id)
        elif kind == "certificate":
            for lot_id in self.certificates[key].lot_ids:
                yield node_id("lot", lot_id)

    def _edges_into(self, participant: str) -> Iterator[str]:
        code = node_key(participant)
        for certificate in self.certificates.values():
            if certificate.importer == code and certificate.received_at is not None:
                yield node_id("certificate", certificate.certificate_id)

    # -- participants and embargoes --------------------------------------------------------

    @applies(participants.ParticipantAdmitted)
    def _participant_admitted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, ADMITTED).name = document["name"]

    def _participant_status(
        self, entry: LogEntry, document: dict[str, Any], status: str
    ) -> Participant:
        code = document["participant"]
        participant = self.participants.setdefault(code, Participant(code, code, status))
        participant.status = status
        participant.changes.append(
            (entry.position, entry.occurred_at.astimezone(UTC).date(), status)
        )
        return participant

    @applies(participants.ParticipantSuspended)
    def _participant_suspended(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, SUSPENDED)

    @applies(participants.ParticipantReinstated)
    def _participant_reinstated(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, ADMITTED)

    @applies(participants.ParticipantWithdrawn)
    def _participant_withdrawn(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._participant_status(entry, document, WITHDRAWN)

    @applies(participants.EmbargoDeclared)
    def _embargo_declared(self, entry: LogEntry, document: dict[str, Any]) -> None:
        embargo_id = document["embargo_id"]
        self.embargoes[embargo_id] = Embargo(
            embargo_id,
            document["participant"],
            document.get("region"),
            _date(document["effective_from"]),
            entry.position,
        )

    @applies(participants.EmbargoLifted)
    def _embargo_lifted(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.embargoes[document["embargo_id"]].effective_to = _date(document["effective_to"])

    # -- sources ---------------------------------------------------------------------------

    @applies(sources.MineRegistered)
    def _mine_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self._source_registered(entry, document, MINE, document["mine_id"])

    @applies(sources.AlluvialSiteRegistered)
    def _alluvial_site_registered(self, entry: LogEntry, document: dict[str, Any]) -> None:
        source = self._source_registered(entry, document, ALLUVIAL_SITE, document["site_id"])
        licence = document["licence"]
        source.licence_number = licence["number"]
        source.licence_holder = licence["holder"]
        source.licence_valid_until = _date(licence["valid_until"])

    def _source_registered(
        self, entry: LogEntry, document: dict[str, Any], kind: str, source_id: str
    ) -> Source:
        capacity = document.get("annual_capacity_carats")
        source = Source(
            source_id,
            kind,
            document["participant"],
            document["region"],
            None if capacity is None else cents(capacity),
            entry.position,
        )
        self.sources[source_id] = source
        return source

    @applies(sources.AlluvialSiteLicenceRevoked)
    def _licence_revoked(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.sources[document["site_id"]].licence_revoked = True

    # -- lots ------------------------------------------------------------------------------

    def _add_lot(self, lot: Lot) -> None:
        lot.holders = self._shared(lot.holders)
        self.lots[lot.lot_id] = lot

    def _shared(self, strings: tuple[str, ...]) -> tuple[str, ...]:
        return self._tuples.setdefault(strings, strings)

    def hold(self, lot: Lot, operator_id: str | None, position: int) -> None:
        """From `position` on, the lot is held by that operator (None: by none)."""
        lot.operator = operator_id
        if operator_id is not None:
            lot.operators += ((operator_id, position),)
            made_from_its_own = lot.parents and position == lot.created_at
            if not made_from_its_own and operator_id not in lot.taken_by:
                lot.taken_by += (operator_id,)
            self.operators[operator_id].lots.setdefault(lot.lot_id, position)

    @applies(lots.LotProduced)
    def _lot_produced(self, entry: LogEntry, document: dict[str, Any]) -> None:
        source = self.sources[document["source_id"]]
        lot = Lot(
            document["lot_id"],
            cents(document["carats"]),
            cents(document["value_usd"]),
            source.participant,
            source.composition,
            entry.position,
        )
        self._add_lot(lot)
        operator = document.get("operator")
        if operator is not None:
            self.hold(lot, operator, entry.position)
        source.lots.append(lot.lot_id)
        year = entry.occurred_at.astimezone(UTC).year
        produced = source.produced.get(year, 0) + lot.carats
        source.produced[year] = produced
        if source.capacity is not None and produced > source.capacity:
            source.exceeded_at.setdefault(year, entry.position)

    @applies(lots.LotSplit)
    def _lot_split(self, entry: LogEntry, document: dict[str, Any]) -> None:
        parent = self.lots[document["lot_id"]]
        parent.status = CONSUMED
        parent.history += (entry.position,)
        parent.children = tuple(part["lot_id"] for part in document["into"])
        parents = (parent.lot_id,)  # one tuple for every child
        imports_before = self._imports_before([parent])
        for part in document["into"]:
            child = Lot(
                part["lot_id"],
                cents(part["carats"]),
                cents(part["value_usd"]),
                parent.holder,
                parent.composition,
                entry.position,
                parents=parents,
            )
            child.imports_before = imports_before
            self._add_lot(child)
            if parent.operator is not None:
                self.hold(child, parent.operator, entry.position)

    @applies(lots.LotsMerged)
    def _lots_merged(self, entry: LogEntry, document: dict[str, Any]) -> None:
        parts = [self.lots[lot_id] for lot_id in document["lot_ids"]]
        into = document["into"]
        merged = Lot(
            into["lot_id"],
            sum(part.carats for part in parts),
            cents(into["value_usd"]),
            parts[0].holder,
            Composition.merged(
                ((part.carats, part.composition) for part in parts), shared=self._shared
            ),
            entry.position,
            parents=tuple(part.lot_id for part in parts),
        )
        merged.imports_before = self._imports_before(parts)
        self._add_lot(merged)
        if parts[0].operator is not None:
            self.hold(merged, parts[0].operator, entry.position)
        children = (merged.lot_id,)  # one tuple for every part
        for part in parts:
            part.status = CONSUMED
            part.children = children
            part.history += (entry.position,)

    @applies(lots.LotFlagged)
    def _lot_flagged(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.lots[document["lot_id"]].history += (entry.position,)
        self.flagged.setdefault(document["lot_id"], []).append(entry.position)

    @applies(lots.LotSeized)
    def _lot_seized(self, entry: LogEntry, document: dict[str, Any]) -> None:
        lot = self.lots[document["lot_id"]]
        if lot.status == IN_TRANSIT and lot.certificate_id is not None:
            certificate = self.certificates[lot.certificate_id]
            if certificate.seized_at is None:
                certificate.seized_at = entry.position
        lot.status = SEIZED
        lot.history += (entry.position,)

    # -- certificates ----------------------------------------------------------------------

    @applies(certificates.ExportCertified)
    def _export_certified(self, entry: LogEntry, document: dict[str, Any]) -> None:
        certificate = Certificate(document, entry.position)
        certificate.lot_ids = tuple(self.lots[lot_id].lot_id for lot_id in certificate.lot_ids)
        reexport = self._latest_import(certificate)
        if reexport is not None:
            self.rapid_reexports.append(reexport)
        self.certificates[certificate.certificate_id] = certificate
        shipped = (certificate.certificate_id,)  # one tuple for the lots shipped first
        for lot_id in certificate.lot_ids:
            lot = self.lots[lot_id]
            lot.status = IN_TRANSIT
            lot.shipped_under = lot.shipped_under + shipped if lot.shipped_under else shipped
            lot.history += (entry.position,)

    def _imports_before(self, parents: list[Lot]) -> tuple[str, ...]:
        """`imports_before` of a lot split or merged from `parents`: theirs, and their own
        imports."""
        if len(parents) == 1 and not parents[0].shipped_under:  # nothing imported since
            return parents[0].imports_before
        latest: dict[str, tuple[date, str]] = {}  # by importer
        for parent in parents:
            for certificate_id in (*parent.imports_before, *parent.shipped_under):
                certificate = self.certificates[certificate_id]
                if certificate.received_on is None:
                    continue
                received = (certificate.received_on, certificate_id)
                earlier = latest.get(certificate.importer)
                if earlier is None or received > earlier:
                    latest[certificate.importer] = received
        return tuple(latest[importer][1] for importer in sorted(latest))

    def _held_before(self, lot: Lot, participant: str) -> bool:
        """Whether `participant` held the lot or any lot it was split or merged from.

        A lot's first holder is its source's participant or its parents' holder, and it
        changes hands only by an import confirmed: so the participant held its lineage if
        it holds or held the lot, imported an ancestor, or produced one of its sources.
        """
        return (
            participant in lot.holders
            or any(self.certificates[c].importer == participant for c in lot.imports_before)
            or any(self.sources[s].participant == participant for s in lot.composition.sources)
        )

    def _latest_import(self, export: Certificate) -> RapidReexport | None:
        """The exporter's latest confirmed import of material it now exports, if any."""
        imports = []
        for lot_id in export.lot_ids:
            lot = self.lots[lot_id]
            for certificate_id in (*lot.imports_before, *lot.shipped_under):
                shipment = self.certificates[certificate_id]
                if shipment.importer == export.exporter and shipment.received_on is not None:
                    imports.append((shipment.received_on, certificate_id))
        if not imports:
            return None
        received_on, imported_under = max(imports)
        return RapidReexport(
            export.certificate_id,
            export.exporter,
            imported_under,
            received_on,
            (export.issued_on - received_on).days,
            export.position,
        )

    @applies(certificates.ImportConfirmed)
    def _import_confirmed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        certificate = self.certificates[document["certificate_id"]]
        certificate.received_carats = cents(document["carats"])
        certificate.received_value_usd = cents(document["value_usd"])
        certificate.received_on = _date(document["received_on"])
        certificate.received_at = entry.position
        certificate.received_parcels = document.get("parcels")
        self._check_round_trip(certificate, entry.position)
        importer = certificate.importer
        for lot_id in certificate.lot_ids:
            lot = self.lots[lot_id]
            lot.history += (entry.position,)
            if lot.status == IN_TRANSIT:
                lot.status = HELD
                lot.holder = importer
                if importer not in lot.holders:
                    lot.holders = self._shared((*lot.holders, importer))
                self.hold(lot, document.get("operator_id"), entry.position)

    def _check_round_trip(self, certificate: Certificate, position: int) -> None:
        """Records a round trip when the importer held any of the material before."""
        importer = certificate.importer
        returning: list[str] = []
        left_under: set[str] = set()
        for lot_id in certificate.lot_ids:
            if self._held_before(self.lots[lot_id], importer):
                returning.append(lot_id)
                left_under.update(  # the lineage is walked for the few that return
                    shipment.certificate_id
                    for ancestor in self.ancestry(lot_id)
                    for shipment in self.shipments(ancestor)
                    if shipment.exporter == importer
                )
        if returning:
            self.round_trips.append(
                RoundTrip(
                    certificate.certificate_id,
                    importer,
                    tuple(returning),
                    tuple(sorted(left_under)),
                    position,
                )
            )

    # -- triage ----------------------------------------------------------------------------

    @applies(triage.AlertReviewed)
    def _alert_reviewed(self, entry: LogEntry, document: dict[str, Any]) -> None:
        self.reviews[document["alert_id"]] = {
            "status": document["status"],
            "note": document["note"],
            "by": entry.recorded_by,
            "position": entry.position,
        }


# Families whose read-side state lives in a module of its own: importing it registers
# its apply functions (it imports this module, so it comes last).
from projections import compliance  # noqa: E402
from projections import operators as _operators  # noqa: E402, F401

"""The rows of the chain-of-custody tables: participants, sources, embargoes, lots and
certificates, and a lot's exact composition by source.

Amounts are integer hundredths (see `ledger.amounts`); a lot's composition by source is
exact (integer numerators over one denominator, see `Composition`), fixed when the lot
is created and shared with its split children, so provenance is O(number of sources).
Rows hold no logic beyond reading themselves; `projections.custody` fills them.
"""

from __future__ import annotations

import functools
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from datetime import date
from fractions import Fraction
from math import gcd, lcm
from typing import Any

from ledger.amounts import cents
from ledger.protocol import HELD, in_force

__all__ = [
    "Certificate",
    "Composition",
    "Embargo",
    "Lot",
    "Participant",
    "Source",
    "parse_date",
]

parse_date = functools.lru_cache(maxsize=8192)(date.fromisoformat)
"""A date from its ISO text, one object per date: a large world repeats few dates."""
_date = parse_date


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

"""The rows of the chain-of-custody tables: participants, sources, embargoes, lots and
certificates, and a lot's exact composition by source.

Amounts are integer hundredths (see `ledger.amounts`); a lot's composition by source is
held in fixed point (integers of 10^-34 carat, see `Composition`), fixed when the lot is
created and shared with its split children, so provenance is O(number of sources).
Rows hold no logic beyond reading themselves; `projections.custody` fills them.
"""

from __future__ import annotations

import functools
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from fractions import Fraction
from math import lcm
from typing import Any

from ledger.amounts import cents
from ledger.protocol import HELD, in_force

__all__ = [
    "UNITS",
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


UNITS = 10**32
"""A composition's units per hundredth of a carat: it holds its amounts in 10^-34 carat."""


class Composition:
    """A lot's carats by source, in fixed point: `sources[i]` gave `amounts()[i]` units
    (`UNITS` a hundredth of a carat) of the `carats` hundredths of the lot it was made for
    (produced or merged); every lot split from that one, at any remove, holds the same
    object, and its amounts are these scaled by its carats over `carats`: exact, so the
    parts of a split add up to their parent, source by source.

    The amounts add up exactly to `carats` in units. They are exact (`exact()[i]`) unless
    a merge rounded them: a merge adds its parts' amounts, and where a part split from
    another holds a fraction of a unit, the sum is apportioned by largest remainder so that
    the lot's amounts still add up to its carats; an inexact amount is within `bound` units
    of the exact one (strictly, and so is a lot's, scaled by its carats over `carats`).
    Every source any of the lot's carats came from is listed, even one whose amount rounded
    to nought: a non-zero share is decided by `holds_any`, which is exact.

    Sources are sorted; each amount is kept as `2 * amount + inexact` in `width` bytes
    (`data`), one object for a source's produced lots and a split's parts.

    >>> a = Composition.whole("M1")
    >>> mixed = Composition.merged([(200, a), (100, Composition.whole("M2"))])
    >>> mixed.sources, [amount // UNITS for amount in mixed.amounts()], mixed.carats
    (('M1', 'M2'), [200, 100], 300)
    >>> third = Composition.merged([(100, mixed), (100, Composition.whole("M3"))])
    >>> third.amounts()[0] == 200 * UNITS // 3 + 1, third.exact(), third.bound
    (True, [False, False, True], 1)
    """

    __slots__ = ("bound", "carats", "data", "sources")

    def __init__(
        self, sources: tuple[str, ...], packed: Sequence[int] | bytes, carats: int, bound: int = 0
    ) -> None:
        """`packed`: each source's `2 * amount + inexact`, or their bytes (`data`)."""
        if not isinstance(packed, bytes):
            width = (max(packed).bit_length() + 7) // 8
            packed = b"".join(value.to_bytes(width, "little") for value in packed)
        self.sources = sources
        self.data = packed
        self.carats = carats
        self.bound = bound

    @classmethod
    def whole(cls, source_id: str) -> Composition:
        """All of a lot's carats from one source."""
        return cls((source_id,), (UNITS << 1,), 1)

    @property
    def total(self) -> int:
        """The amounts' sum, in units: `carats` hundredths."""
        return self.carats * UNITS

    def packed(self) -> list[int]:
        """Each source's `2 * amount + inexact`, in source order."""
        data, width = self.data, len(self.data) // len(self.sources)
        return [_from_bytes(data[at : at + width], "little") for at in range(0, len(data), width)]

    def amounts(self) -> list[int]:
        """Each source's amount in units, in source order."""
        return [packed >> 1 for packed in self.packed()]

    def exact(self) -> list[bool]:
        """Whether each source's amount is exact, in source order."""
        return [not packed & 1 for packed in self.packed()]

    def shares(self) -> tuple[tuple[str, Fraction], ...]:
        """(source id, the share its amount gives), in source order: exact where `exact()`."""
        total = self.total
        return tuple(
            (source_id, Fraction(amount, total))
            for source_id, amount in zip(self.sources, self.amounts(), strict=True)
        )

    def items(self) -> Iterator[tuple[str, int]]:
        """(source id, `2 * amount + inexact`) in source order."""
        return zip(self.sources, self.packed(), strict=True)

    @classmethod
    def merged(
        cls,
        parts: Iterable[tuple[int, Composition]],
        shared: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None,
    ) -> Composition:
        """The composition of lots merged together, given each one's (carats, composition):
        their amounts added up, apportioned by largest remainder (ties to the first source)
        where parts split from others hold fractions of a unit. `shared`, if given, returns
        the one tuple kept for its equals (lots merged again and again at the same hubs mix
        the same sources)."""
        parts = list(parts)
        if len(parts) == 1:
            return parts[0][1]
        common = lcm(*(composition.carats for _, composition in parts))
        sums: dict[str, int] = {}  # amounts times `common`
        inexact: set[str] = set()
        for carats, composition in parts:
            scale = carats * (common // composition.carats)
            for source_id, packed in composition.items():
                sums[source_id] = sums.get(source_id, 0) + (packed >> 1) * scale
                if packed & 1:
                    inexact.add(source_id)
        sources = tuple(sorted(sums))
        carats = sum(carats for carats, _ in parts)
        splits = [divmod(sums[source_id], common) for source_id in sources]
        left = carats * UNITS - sum(amount for amount, _ in splits)
        bound = sum(composition.bound for _, composition in parts) + (left > 0)
        rounded_up = set(sorted(range(len(sources)), key=lambda at: -splits[at][1])[:left])
        amounts = [
            (amount + (at in rounded_up)) << 1 | (rest > 0 or sources[at] in inexact)
            for at, (amount, rest) in enumerate(splits)
        ]
        if shared is not None:
            sources = shared(sources)
        return cls(sources, amounts, carats, bound if inexact or left else 0)

    def holds_any(self, sources: AbstractSet[str]) -> bool:
        """Whether any of the lot's carats came from `sources` (exact: the lineage's)."""
        own = self.sources
        if len(sources) * 8 < len(own):
            return any(_holds(own, source_id) for source_id in sources)
        return not sources.isdisjoint(own)

    def share_of(self, sources: AbstractSet[str]) -> tuple[int, int]:
        """The amount (units, over `total`) from any of `sources`, and how many of the
        amounts summed are inexact.

        A few sources among many (a downstream trace from one source through lots of a
        hundred) are looked up by bisection in the sorted sources, not walked past.

        >>> mixed = Composition(("M1", "M2", "M3"), (2, 4, 7), 1)
        >>> mixed.share_of({"M2"}), mixed.share_of({"M1", "M3", "M9"}), mixed.share_of(set())
        ((2, 0), (4, 1), (0, 0))
        """
        own = self.sources
        total = inexact = 0
        if len(sources) * 8 < len(own):
            data, width = self.data, len(self.data) // len(own)
            for source_id in sources:
                at = bisect_left(own, source_id)
                if at < len(own) and own[at] == source_id:
                    packed = _from_bytes(data[at * width : (at + 1) * width], "little")
                    total += packed >> 1
                    inexact += packed & 1
            return total, inexact
        for source_id, packed in self.items():
            if source_id in sources:
                total += packed >> 1
                inexact += packed & 1
        return total, inexact

    def __len__(self) -> int:
        return len(self.sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Composition):
            return NotImplemented
        return (self.sources, self.packed(), self.carats, self.bound) == (
            other.sources,
            other.packed(),
            other.carats,
            other.bound,
        )

    def __hash__(self) -> int:
        return hash((self.sources, self.data, self.carats))

    def __repr__(self) -> str:
        return f"Composition({self.sources!r}, {self.packed()!r}, {self.carats!r}, {self.bound!r})"

    def __reduce__(self) -> tuple[type[Composition], tuple[Any, ...]]:
        return Composition, (self.sources, self.data, self.carats, self.bound)


_from_bytes = int.from_bytes


def _holds(sources: tuple[str, ...], source_id: str) -> bool:
    at = bisect_left(sources, source_id)
    return at < len(sources) and sources[at] == source_id


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

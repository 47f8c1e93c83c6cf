"""Pure queries over the custody state: lots, provenance, custody, downstream, subgraphs.

Each function takes a `Custody` (and, where the answer shows log entries, those
entries by position) and returns the protocol's JSON-ready answer. Unknown ids raise
`LedgerError("not_found")`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from fractions import Fraction
from functools import partial
from math import gcd, lcm
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ledger import certificates as certificate_documents
from ledger import lots as lot_documents
from ledger.amounts import amount_text, in_units
from ledger.errors import LedgerError
from ledger.log import LogEntry
from projections.certificates import find_certificate
from projections.custody import Composition, Custody, Embargo, Lot
from projections.graph import (
    NODE_KINDS,
    has_node,
    node_id,
    node_key,
    node_kind,
    predecessors,
    successors,
)
from projections.operators import find_operator as _find_operator
from projections.records import UNITS
from projections.shares import CENTS as _CENTS
from projections.shares import approximate_fraction as _approximate_fraction
from projections.shares import approximate_text as _approximate_text
from projections.shares import exact_share, share_answer
from projections.shares import exact_text as _exact_text
from projections.shares import hundredths_text as _hundredths_text
from projections.shares import rounded_text as _rounded_text
from projections.traversal import reach

if TYPE_CHECKING:  # networkx is imported when a graph is drawn: 70 ms of a server's start
    import networkx as nx

__all__ = [
    "DIRECTIONS",
    "check_selectors",
    "custody_positions",
    "custody_steps",
    "downstream",
    "find_lot",
    "graph_graphml",
    "graph_json",
    "history",
    "lot_view",
    "provenance",
    "subgraph",
]

DIRECTIONS = ("up", "down", "both")


def find_lot(state: Custody, lot_id: str) -> Lot:
    """The lot with that id; `not_found` when there is none.

    >>> from projections.examples import example_entries
    >>> find_lot(Custody.replay(example_entries()), "L-A").status
    'in_transit'
    """
    lot = state.lots.get(lot_id)
    if lot is None:
        raise LedgerError("not_found", f"no lot {lot_id!r}")
    return lot


def lot_view(state: Custody, lot_id: str) -> dict[str, Any]:
    """GET /v1/lots/{lot_id}: figures, holder, status, last certificate and lineage.

    >>> from projections.examples import example_entries
    >>> view = lot_view(Custody.replay(example_entries()), "L-A")
    >>> view["carats"], view["holder"], view["certificate_id"], view["parents"]
    ('160.00', 'GH', 'GH-1', ['L-MIX'])
    """
    lot = find_lot(state, lot_id)
    return {
        "lot_id": lot.lot_id,
        "carats": amount_text(in_units(lot.carats)),
        "value_usd": amount_text(in_units(lot.value_usd)),
        "holder": lot.holder,
        "status": lot.status,
        "certificate_id": lot.certificate_id,
        "source_id": lot.source_id,
        "parents": list(lot.parents),
        "children": list(lot.children),
        "operator": lot.operator,
    }


_FLOAT_SLACK = 2.0**-48
"""Relative error allowed for a double's product with an integer (a few ulps, generously)."""


def provenance(state: Custody, lot_id: str, on: date) -> dict[str, Any]:
    """Where the lot's carats came from, by source and participant, and the embargoes
    in force on `on` that cover any of them.

    >>> from projections.examples import example_entries
    >>> answer = provenance(Custody.replay(example_entries()), "L-A", date(2026, 3, 1))
    >>> [(s["source_id"], s["carats"]) for s in answer["sources"]]
    [('M-GH', '106.6667'), ('S-CI', '53.3333')]
    >>> answer["by_participant"]["CI"]["carats"], answer["embargoed"][0]["embargo_id"]
    ('53.3333', 'E-CI')
    """
    lot = find_lot(state, lot_id)
    composition = lot.composition
    total, bound, carats, known = composition.total, composition.bound, lot.carats, state.sources
    items = list(composition.items())
    sources = []
    by_participant: dict[str, list[int]] = {}  # [units, inexact amounts] by participant
    halves_per_share = 200 * carats  # halves of the 4th place, for all of the lot's carats
    halves_bound = 2 * halves_per_share * bound / total if bound else 0.0
    for source_id, packed in items:  # a deep lot's hundred: `share_answer` inlined
        source = known[source_id]
        amount = packed >> 1
        fraction = _approximate_fraction(amount, bound, total) if packed & 1 else amount / total
        text = None
        if fraction is not None:  # the text from the double, where no half is near it
            halves = halves_per_share * fraction
            whole = int(halves)
            slack = halves * _FLOAT_SLACK + (halves_bound if packed & 1 else 0.0)
            if halves - whole > slack and whole + 1 - halves > slack:
                text = _rounded_text((whole + 1) >> 1)
            elif packed & 1:
                text = _approximate_text(carats * amount, carats * bound, total)
            else:
                text = _exact_text(carats, amount, composition.carats)
        if text is None or fraction is None:
            exact = exact_share(state.lots, lot, {source_id})
            text, fraction = amount_text(in_units(carats) * exact), float(exact)
        sources.append(
            {
                "source_id": source_id,
                "kind": source.kind,
                "participant": source.participant,
                "region": source.region,
                "carats": text,
                "fraction": fraction,
            }
        )
        summed = by_participant.get(source.participant)
        if summed is None:
            by_participant[source.participant] = [amount, packed & 1]
        else:
            summed[0] += amount
            summed[1] += packed & 1
    embargoed = []
    for embargo in sorted(state.embargoes.values(), key=lambda e: e.embargo_id):
        if not embargo.in_force(on):
            continue
        if embargo.region is None:  # the whole participant: its share, summed above
            covered, inexact = by_participant.get(embargo.participant, (0, 0))
        else:
            covered = inexact = 0
            for source_id, packed in items:
                if embargo.covers(known[source_id]):
                    covered += packed >> 1
                    inexact += packed & 1
        if covered or inexact:  # an amount rounded to nought is still a non-zero share
            embargoed.append(
                {
                    "embargo_id": embargo.embargo_id,
                    **share_answer(
                        state.lots,
                        lot,
                        covered,
                        inexact,
                        partial(_covered, state, composition, embargo),
                    ),
                }
            )
    return {
        "lot_id": lot.lot_id,
        "carats": _hundredths_text(lot.carats),
        "sources": sources,
        "by_participant": {
            code: share_answer(
                state.lots,
                lot,
                amount,
                inexact,
                partial(_of_participant, state, composition, code),
            )
            for code, (amount, inexact) in sorted(by_participant.items())
        },
        "embargoed": embargoed,
    }


def _covered(state: Custody, composition: Composition, embargo: Embargo) -> set[str]:
    return {s for s in composition.sources if embargo.covers(state.sources[s])}


def _of_participant(state: Custody, composition: Composition, code: str) -> set[str]:
    return {s for s in composition.sources if state.sources[s].participant == code}


def _lineage_steps(state: Custody, lot_id: str) -> list[tuple[int, Lot]]:
    """(position, lot) for every entry that touched the lot or an ancestor, in log order."""
    steps = [(position, lot) for lot in state.ancestry(lot_id) for position in lot.history]
    steps.sort(key=lambda step: (step[0], step[1].created_at, step[1].lot_id))
    return steps


def custody_positions(state: Custody, lot_id: str) -> list[int]:
    """The positions of the entries that `custody_steps` needs, in order.

    >>> from projections.examples import example_entries
    >>> custody_positions(Custody.replay(example_entries()), "L-A")
    [6, 7, 8, 9, 10, 11, 12]
    """
    find_lot(state, lot_id)
    return sorted({position for position, _ in _lineage_steps(state, lot_id)})


def _initial_holder(state: Custody, lot: Lot) -> str:
    if lot.parents:
        return state.lots[lot.parents[0]].holder  # a consumed lot's holder never changes again
    return state.sources[lot.source_id].participant if lot.source_id else lot.holders[0]


def _initial_operator(state: Custody, lot: Lot, entry: LogEntry) -> str | None:
    if lot.parents:
        return state.lots[lot.parents[0]].operator  # a consumed lot's operator never changes
    return entry.document.get("operator")  # lot.produced


def custody_steps(state: Custody, lot_id: str, entries: Mapping[int, LogEntry]) -> dict[str, Any]:
    """One step per entry and lot it touched, for the lot and its ancestors, by position;
    `holder`, `certificate_id` and `operator` are as they stood after the entry.

    `entries` maps at least `custody_positions(state, lot_id)` to their log entries.

    >>> from projections.examples import example_entries
    >>> entries = example_entries()
    >>> state = Custody.replay(entries)
    >>> steps = custody_steps(state, "L-A", {e.position: e for e in entries})["steps"]
    >>> for step in steps[1:4]:
    ...     print(step["position"], step["lot_id"], step["type"], step["holder"])
    7 L-GH lot.produced GH
    8 L-CI export.certified CI
    9 L-CI import.confirmed GH
    """
    after: dict[str, dict[str, str | None]] = {}  # lot id -> its holder, certificate, operator
    steps = []
    for position, lot in _lineage_steps(state, lot_id):
        entry = entries[position]
        if position == lot.created_at:
            after[lot.lot_id] = {
                "holder": _initial_holder(state, lot),
                "certificate_id": None,
                "operator": _initial_operator(state, lot, entry),
            }
        else:
            change = _CUSTODY_CHANGES.get(entry.type)
            if change is not None:
                after[lot.lot_id].update(change(state, entry.document))
        steps.append(
            {
                "position": position,
                "occurred_at": entry.document["occurred_at"],
                "type": entry.type,
                "lot_id": lot.lot_id,
                **after[lot.lot_id],
            }
        )
    return {"lot_id": lot_id, "steps": steps}


def _imported(state: Custody, document: dict[str, Any]) -> dict[str, str | None]:
    certificate = state.certificates[document["certificate_id"]]
    return {
        "holder": certificate.importer,
        "certificate_id": certificate.certificate_id,
        "operator": document.get("operator_id"),
    }


_CUSTODY_CHANGES: dict[str, Callable[[Custody, dict[str, Any]], dict[str, str | None]]] = {
    certificate_documents.ExportCertified.type_name: lambda _, document: {
        "certificate_id": document["certificate_id"]
    },
    certificate_documents.ImportConfirmed.type_name: _imported,
    lot_documents.LotTransferred.type_name: lambda _, document: {
        "operator": document["to_operator"]
    },
}
"""What a document changes of a lot's custody step after it, by document class (the lot's
creation sets all three; the other documents that touch a lot change none)."""


def history(lot: Lot, entries: Mapping[int, LogEntry]) -> dict[str, Any]:
    """Every log entry that touched the lot, in order, shaped as in GET /v1/events.

    >>> from projections.examples import example_entries
    >>> entries = example_entries()
    >>> lot = Custody.replay(entries).lots["L-CI"]
    >>> [e["type"] for e in history(lot, {e.position: e for e in entries})["events"]]
    ['lot.produced', 'export.certified', 'import.confirmed', 'lots.merged']
    """
    return {"lot_id": lot.lot_id, "events": [entries[p].to_json() for p in lot.history]}


def check_selectors(
    *,
    source_id: str | None = None,
    participant: str | None = None,
    region: str | None = None,
    lot_id: str | None = None,
    operator: str | None = None,
) -> None:
    """`invalid` unless exactly one origin is given (region only with participant).

    >>> check_selectors(participant="CI", region="Seguela")
    >>> check_selectors(region="Seguela")
    Traceback (most recent call last):
    ledger.errors.LedgerError: give exactly one of source_id, participant, lot_id, operator
    """
    selectors = (source_id, participant, lot_id, operator)
    if sum(selector is not None for selector in selectors) != 1:
        raise LedgerError("invalid", "give exactly one of source_id, participant, lot_id, operator")
    if region is not None and participant is None:
        raise LedgerError("invalid", "region selects sources of a participant")


def _origins(
    state: Custody,
    source_id: str | None,
    participant: str | None,
    region: str | None,
    lot_id: str | None,
) -> list[str]:
    """The sources (or the one lot, when `lot_id`) that `downstream` starts from."""
    check_selectors(source_id=source_id, participant=participant, region=region, lot_id=lot_id)
    if lot_id is not None:
        return [find_lot(state, lot_id).lot_id]
    if source_id is not None:
        if source_id not in state.sources:
            raise LedgerError("not_found", f"no source {source_id!r}")
        return [source_id]
    selected = [
        source.source_id
        for source in state.sources.values()
        if source.participant == participant and region in (None, source.region)
    ]
    if not selected and participant not in state.participants:
        raise LedgerError("not_found", f"no participant {participant!r}")
    return selected


def _descendants(state: Custody, roots: list[str]) -> list[Lot]:
    """The lots `roots` and every lot split or merged from them, each once (the parts of a
    split in order of lot id). The same walk as `traversal.reach(roots, children)`, kept
    apart because it runs for every downstream answer: through `reach`'s neighbours
    callback it took 1.6-1.9x as long (0.40 ms against 0.22 ms for the 1,546 lots of the
    quick world's largest source; about 3% of that downstream)."""
    lots = state.lots
    seen = set(roots)
    found = [lots[lot_id] for lot_id in roots]
    for lot in found:
        children = lot.children
        if not children:
            continue
        if len(children) == 1:  # merged into a lot, or cut to one part
            child = children[0]
            if child not in seen:
                seen.add(child)
                found.append(lots[child])
            continue
        for child in sorted(children):
            if child not in seen:
                seen.add(child)
                found.append(lots[child])
    return found


Share = tuple[int, int, int]
"""The share of a lot's carats from the origin: `(numerator, denominator, 0)`, exactly
`numerator / denominator`; or `(amount, made_of, bound)`, the units (`UNITS` a hundredth)
from the origin of a composition made for `made_of` hundredths, within `bound` units."""
Reached = tuple[Lot, Share]
"""A lot reached downstream and its share from the origin."""
Taken = dict[tuple[str, ...], int]
"""Hundredths of carats taken, by the operators that took them (a lot's `taken_by`)."""


def _source_reach(state: Custody, source_ids: list[str]) -> Iterator[Reached]:
    """Each lot with material from the sources, with the share of its carats from there:
    its composition's amounts from those sources (split children share their parent's),
    an exact share in lowest terms (a produced lot's is 1/1)."""
    selected = set(source_ids)
    produced = [lot_id for source_id in source_ids for lot_id in state.sources[source_id].lots]
    shares: dict[int, Share] = {}  # by composition
    for lot in _descendants(state, produced):
        composition = lot.composition
        share = shares.get(id(composition))
        if share is None:
            amount, inexact = composition.share_of(selected)
            if inexact:
                share = (amount, composition.carats, composition.bound * inexact)
            elif len(composition.sources) == 1:  # all of it: the origin's
                share = (1, 1, 0)
            else:
                total = composition.total
                factor = gcd(amount, total)
                share = (amount // factor, total // factor, 0)
            shares[id(composition)] = share
        yield lot, share


def _lot_reach(state: Custody, lot_ids: list[str]) -> list[Reached]:
    """The lots (wholly) and each lot made from them, with the share of its carats from
    them."""
    lots = _descendants(state, lot_ids)
    lots.sort(key=lambda lot: lot.created_at)
    shares = dict.fromkeys(lot_ids, Fraction(1))
    for lot in lots:
        if lot.lot_id in shares:
            continue
        if len(lot.parents) == 1:
            shares[lot.lot_id] = shares[lot.parents[0]]
        else:
            inflow = sum(state.lots[p].carats * shares[p] for p in lot.parents if p in shares)
            shares[lot.lot_id] = Fraction(inflow, lot.carats)
    return [(lot, (*shares[lot.lot_id].as_integer_ratio(), 0)) for lot in lots]


_NO_LCM_WITHIN = 1 << 12
"""Bits of a certificate's common denominator up to which terms are added over the
product of their denominators: a gcd of integers that wide costs more than the sums'
larger numbers do, and lots of one certificate have few distinct shares."""


def _plus(total: Share, numerator: int, denominator: int, bound: int) -> Share:
    """`total + (numerator ± bound) / denominator`, as a numerator and a bound over a
    common denominator: the shared one, `denominator` when the total is nought, else their
    product, or their least common multiple once the product passes `_NO_LCM_WITHIN` bits.

    >>> _plus((1, 6, 0), 3, 4, 0), _plus((1, 6, 1), 3, 6, 1), _plus((0, 1, 0), 3, 4, 2)
    ((22, 24, 0), (4, 6, 2), (3, 4, 2))
    >>> _plus((1, 3 << 4096, 0), 1, 5 << 4096, 0) == (8, 15 << 4096, 0)
    True
    """
    over = total[1]
    if over == denominator:
        return total[0] + numerator, over, total[2] + bound
    if not total[0] and not total[2]:  # the first term
        return numerator, denominator, bound
    common = over * denominator
    if common.bit_length() <= _NO_LCM_WITHIN:
        return (
            total[0] * denominator + numerator * over,
            common,
            total[2] * denominator + bound * over,
        )
    common = lcm(over, denominator)
    scale, own = common // over, common // denominator
    return total[0] * scale + numerator * own, common, total[2] * scale + bound * own


def downstream(
    state: Custody,
    *,
    source_id: str | None = None,
    participant: str | None = None,
    region: str | None = None,
    lot_id: str | None = None,
    operator: str | None = None,
    with_operators: bool = True,
) -> dict[str, Any]:
    """Every lot, certificate, participant and operator that received material from a
    source, a participant's sources (optionally one region's), a lot (the lot included) or
    an operator (every lot it held at any time included). An operator's carats are those
    of the lots it took, other than by splitting or merging lots reached that it held (see
    `_uncount_again`); without `with_operators` (for comparison), `operators` is empty.

    >>> from projections.examples import example_entries
    >>> answer = downstream(Custody.replay(example_entries()), participant="CI")
    >>> [(lot["lot_id"], lot["carats_from_origin"]) for lot in answer["lots"]][-2:]
    [('L-A', '53.3333'), ('L-B', '46.6667')]
    >>> [c["certificate_id"] for c in answer["certificates"]], answer["participants"]
    (['CI-1', 'GH-1'], ['CI', 'GH'])
    """
    roots: AbstractSet[str] = frozenset()  # the origin's lots, when it is lots
    selected: AbstractSet[str] = frozenset()  # the origin's sources, when it is sources
    if operator is not None:
        check_selectors(
            source_id=source_id, participant=participant, lot_id=lot_id, operator=operator
        )
        roots = _find_operator(state, operator).lots.keys()
        reached: Iterable[Reached] = _lot_reach(state, list(roots))
    else:
        origins = _origins(state, source_id, participant, region, lot_id)
        if lot_id:
            roots = frozenset(origins)
            reached = _lot_reach(state, origins)
        else:
            selected = frozenset(origins)
            reached = _source_reach(state, origins)
    exact: dict[str, Fraction] = {}  # exact shares worked out, where bounds did not decide

    def exact_carats(lot: Lot) -> Fraction:
        return in_units(lot.carats) * exact_share(state.lots, lot, selected, exact)

    lots = []
    created = []
    certificate_carats: dict[str, Share] = {}  # hundredths
    # the carats from the origin of the lots taken, by their takers: whole hundredths (a
    # share over 1); whole units (other shares) and their bound
    whole: Taken = {}
    units: Taken = {}
    loose: Taken = {}
    inexact: dict[Lot, Share] = {}  # the lots of `units` (their exact carats, rarely)
    holders: set[tuple[str, ...]] = set()  # lots share their holders' tuples: few distinct
    elsewhere: dict[str, tuple[str, ...]] = {}  # takers other than `taken_by`, by lot
    if roots:  # the origin is lots: `reached` is a list
        reached = list(reached)
        elsewhere = _roots_made_elsewhere(reached, roots)
    for lot, share in reached:
        numerator, denominator, bound = share
        if bound:  # whole units, one more of bound: sums stay over one denominator
            numerator, denominator, bound = numerator * lot.carats // denominator, UNITS, bound + 1
            text = _approximate_text(numerator, bound, UNITS)
            if text is None:
                text = amount_text(exact_carats(lot))
        else:
            numerator *= lot.carats  # hundredths
            if denominator == 1:  # `_hundredths_text`'s first case, without the call
                text = f"{numerator // 100}{_CENTS[numerator % 100]}"
            else:
                text = _hundredths_text(numerator, denominator)
        lots.append(
            {
                "lot_id": lot.lot_id,
                "holder": lot.holder,
                "status": lot.status,
                "carats_from_origin": text,
            }
        )
        created.append(lot.history[0])
        holders.add(lot.holders)
        for certificate_id in lot.shipped_under:
            total = certificate_carats.get(certificate_id)
            if total is None:
                certificate_carats[certificate_id] = numerator, denominator, bound
            elif total[1] == denominator:  # lots of one composition share its denominator
                certificate_carats[certificate_id] = (
                    total[0] + numerator,
                    denominator,
                    total[2] + bound,
                )
            else:
                certificate_carats[certificate_id] = _plus(total, numerator, denominator, bound)
        if with_operators:  # the operators that took the lot, once each
            takers = lot.taken_by
            if elsewhere:
                takers = elsewhere.get(lot.lot_id, takers)
            if not takers:
                pass
            elif denominator == 1:
                whole[takers] = whole.get(takers, 0) + numerator
            else:
                inexact[lot] = share
                if not bound:  # whole units, one more of bound
                    numerator, rest = divmod(numerator * UNITS, denominator)
                    bound = 1 if rest else 0
                units[takers] = units.get(takers, 0) + numerator
                if bound:
                    loose[takers] = loose.get(takers, 0) + bound
    # by creation, then lot id: only the parts of a split share a creation, and they come
    # in lot id order (`_descendants`), which a stable sort keeps
    order = sorted(range(len(lots)), key=created.__getitem__)
    operator_hundredths, operator_units = _by_operator(whole), _by_operator(units)
    operator_loose = _by_operator(loose)
    certificates = sorted(
        map(state.certificates.__getitem__, certificate_carats), key=attrgetter("position")
    )

    def certificate_text(certificate_id: str) -> str:
        text = _approximate_text(*_numerator_bound_denominator(certificate_carats[certificate_id]))
        if text is None:
            text = amount_text(
                sum(
                    exact_carats(state.lots[lot_id])
                    for lot_id in state.certificates[certificate_id].lot_ids
                )
            )
        return text

    def operator_text(operator_id: str) -> str:
        amount = operator_units.get(operator_id)
        if amount is None:  # whole hundredths only
            return _hundredths_text(operator_hundredths[operator_id])
        amount += operator_hundredths.get(operator_id, 0) * UNITS
        text = _approximate_text(amount, operator_loose.get(operator_id, 0), UNITS)
        if text is None:
            text = amount_text(sum(operator_exact(operator_id)))
        return text

    def operator_exact(operator_id: str) -> Iterator[Fraction]:
        """The carats from the origin of the lots the operator took, exactly."""
        yield in_units(sum(amount for takers, amount in whole.items() if operator_id in takers))
        for lot, (numerator, denominator, bound) in inexact.items():
            if operator_id in elsewhere.get(lot.lot_id, lot.taken_by):
                if bound:
                    yield exact_carats(lot)
                else:
                    yield in_units(lot.carats) * Fraction(numerator, denominator)

    return {
        "lots": list(map(lots.__getitem__, order)),
        "certificates": [
            {
                "certificate_id": certificate.certificate_id,
                "exporting_participant": certificate.exporter,
                "importing_participant": certificate.importer,
                "carats_from_origin": _hundredths_text(numerator, denominator)
                if not bound
                else certificate_text(certificate.certificate_id),
            }
            for certificate in certificates
            for numerator, denominator, bound in (certificate_carats[certificate.certificate_id],)
        ],
        "participants": sorted(set().union(*holders)),
        "operators": [
            {
                "operator_id": operator_id,
                "participant": state.operators[operator_id].participant,
                "carats_from_origin": operator_text(operator_id),
            }
            for operator_id in sorted(operator_hundredths.keys() | operator_units.keys())
        ],
    }


def _numerator_bound_denominator(share: Share) -> Share:
    return share[0], share[2], share[1]


def _roots_made_elsewhere(
    reached: list[Reached], roots: AbstractSet[str]
) -> dict[str, tuple[str, ...]]:
    """The operators that held each of the origin's lots made from lots not reached before
    it, each once: they took it (a root made from reached lots was taken as any other
    reached lot is)."""
    reached_ids = {lot.lot_id for lot, _ in reached}
    return {
        lot.lot_id: tuple(dict.fromkeys(operator_id for operator_id, _ in lot.operators))
        for lot, _ in reached
        if lot.operators
        and lot.parents
        and lot.lot_id in roots
        and not any(parent in reached_ids for parent in lot.parents)
    }


def _by_operator(by_takers: Taken) -> dict[str, int]:
    """The sums of `by_takers`'s of each tuple of takers each operator is in (integers: a
    sum of fractions would cost a product or least common multiple of their
    denominators)."""
    totals: dict[str, int] = {}
    for takers, amount in by_takers.items():
        for operator_id in takers:
            totals[operator_id] = totals.get(operator_id, 0) + amount
    return totals


def _root_node(state: Custody, root: str) -> str:
    """The node of `root`, looked up as a lot, a source, a certificate, a participant, then
    an operator."""
    tables: tuple[Mapping[str, object], ...] = (
        state.lots,
        state.sources,
        state.certificates,
        state.participants,
    )
    for kind, table in zip(NODE_KINDS, tables, strict=False):
        if root in table:
            return node_id(kind, root)
    if state.retracted.cancelled_certificate(root, state.position) is not None:
        return node_id("certificate", root)
    if has_node(state, node_id("participant", root)):
        return node_id("participant", root)
    if root in state.operators:
        return node_id("operator", root)
    raise LedgerError("not_found", f"no lot, source, certificate, participant or operator {root!r}")


def _reach(state: Custody, root: str, forward: bool) -> set[str]:
    """Nodes reachable from `root` along (or against) the edges, not passing through
    participants other than the root: a participant ends a path, it does not relay it."""

    def neighbours(node: str) -> Iterator[str]:
        if node != root and node_kind(node) == "participant":
            return iter(())
        if forward:
            return (target for target, _ in successors(state, node))
        return predecessors(state, node)

    return set(reach([root], neighbours))


def _with_shipments(state: Custody, root: str, nodes: set[str]) -> set[str]:
    """`nodes` and the certificates their lots other than `root` travelled under, with
    those certificates' importers: the custody of upstream material includes its shipments."""
    shipments = {
        node_id("certificate", certificate_id)
        for node in nodes
        if node != root and node_kind(node) == "lot"
        for certificate_id in state.lots[node_key(node)].shipped_under
    }
    importers = {importer for shipment in shipments for importer, _ in successors(state, shipment)}
    return nodes | shipments | importers


def _node_attributes(state: Custody, node: str) -> dict[str, str | bool]:
    kind, key = node_kind(node), node_key(node)
    attributes: dict[str, str | bool | None] = {"kind": kind, "label": key}
    if kind == "lot":
        lot = state.lots[key]
        attributes |= {
            "carats": amount_text(in_units(lot.carats)),
            "value_usd": amount_text(in_units(lot.value_usd)),
            "holder": lot.holder,
            "status": lot.status,
        }
    elif kind == "source":
        source = state.sources[key]
        attributes |= {
            "source_kind": source.kind,
            "participant": source.participant,
            "region": source.region,
        }
    elif kind == "certificate":
        certificate = find_certificate(state, key)  # a cancelled one as it was issued
        attributes |= {
            "exporting_participant": certificate.exporter,
            "importing_participant": certificate.importer,
            "carats": amount_text(in_units(certificate.carats)),
            "issued_on": certificate.issued_on.isoformat(),
            "confirmed": certificate.confirmed,
        }
    elif kind == "operator":
        operator = state.operators[key]
        attributes |= {
            "participant": operator.participant,
            "name": operator.name,
            "roles": ",".join(operator.roles),
            "revoked": operator.revoked,
        }
    else:
        participant = state.participants.get(key)
        attributes["status"] = participant.status if participant else None
    return {name: value for name, value in attributes.items() if value is not None}


def subgraph(state: Custody, root: str, direction: str = "both") -> nx.DiGraph:
    """The custody subgraph upstream, downstream or both ways from `root`, with
    GraphML-safe attributes (str, int, bool; carats as decimal strings). Upstream
    includes the shipments of the upstream lots.

    >>> from projections.examples import example_entries
    >>> graph = subgraph(Custody.replay(example_entries()), "L-A", "up")
    >>> list(graph.nodes)[:4], graph.nodes["lot:L-A"]["carats"]
    (['lot:L-A', 'lot:L-CI', 'lot:L-GH', 'lot:L-MIX'], '160.00')
    """
    if direction not in DIRECTIONS:
        raise LedgerError("invalid", f"direction must be one of {', '.join(DIRECTIONS)}")
    start = _root_node(state, root)
    nodes: set[str] = set()
    if direction in ("up", "both"):
        nodes |= _with_shipments(state, start, _reach(state, start, forward=False))
    if direction in ("down", "both"):
        nodes |= _reach(state, start, forward=True)
    ordered = sorted(nodes, key=_node_order)
    import networkx as nx

    exported = nx.DiGraph(root=start, direction=direction)
    for node in ordered:
        exported.add_node(node, **_node_attributes(state, node))
    for node in ordered:
        for target, edge in successors(state, node):
            if target in nodes:
                moved = edge.get("carats")
                if moved is None:
                    moved = _produced(state, target) if edge["kind"] == "registered-in" else 0
                else:
                    edge["carats"] = amount_text(in_units(moved))
                edge["weight"] = float(in_units(moved))
                exported.add_edge(node, target, **edge)
    return exported


def _produced(state: Custody, node: str) -> int:
    """The hundredths of carats produced at a source node so far: what came out of its
    participant's ground through it, the weight of a `registered-in` edge."""
    return sum(state.sources[node_key(node)].produced.values())


def _node_order(node: str) -> tuple[int, str]:
    return NODE_KINDS.index(node_kind(node)), node


def graph_json(graph: nx.DiGraph) -> dict[str, Any]:
    """Node-link JSON of a subgraph (`nodes`, `edges`).

    >>> from projections.examples import example_entries
    >>> data = graph_json(subgraph(Custody.replay(example_entries()), "S-CI", "down"))
    >>> data["nodes"][0]["id"], sorted({edge["kind"] for edge in data["edges"]})
    ('lot:L-A', ['merged-into', 'produced-at', 'received-by', 'shipped-under', 'split-into'])
    """
    import networkx as nx

    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


GRAPHML_NUMBERS = frozenset({"carats", "value_usd", "fraction", "weight"})
"""Attributes GraphML types `double` (the JSON answer keeps amounts as decimal strings);
integers (`position`) are typed `long`."""


def _typed(attributes: dict[str, Any]) -> dict[str, Any]:
    """Amounts as numbers; lists (a node's `risk`) as one comma-separated string."""
    return {
        name: float(value)
        if name in GRAPHML_NUMBERS and isinstance(value, str)
        else ",".join(value)
        if isinstance(value, list)
        else value
        for name, value in attributes.items()
    }


def graph_graphml(graph: nx.DiGraph) -> str:
    """GraphML of a subgraph, as Gephi opens it: amounts and fractions typed `double`,
    positions `long`, and every edge weighted by the carats that moved along it.

    >>> from projections.examples import example_entries
    >>> text = graph_graphml(subgraph(Custody.replay(example_entries()), "GH-1", "up"))
    >>> text.startswith("<graphml") and 'node id="certificate:GH-1"' in text
    True
    >>> 'for="edge" attr.name="weight" attr.type="double"' in text
    True
    """
    import networkx as nx

    typed = nx.DiGraph(**graph.graph)
    typed.add_nodes_from((node, _typed(data)) for node, data in graph.nodes(data=True))
    typed.add_edges_from((u, v, _typed(data)) for u, v, data in graph.edges(data=True))
    return "\n".join(nx.generate_graphml(typed))

"""Properties over random worlds of produce, split, merge, ship, confirm and seize."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.amounts import amount_text, in_units
from ledger.log import LogEntry
from projections.custody import CONSUMED, Composition, Custody, Lot
from projections.examples import numbered
from projections.provenance import _hundredths_text, downstream, lot_view, provenance
from projections.reads import Reads
from projections.records import UNITS
from tests.exact import downstream_from_shares
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    merged,
    mine,
    produced,
    seized,
    site,
    split,
)
from tests.unit.worlds import MemoryLog, carats_by_source, graph_from_state, walked_graph

PARTICIPANTS = ("GH", "CI", "AE", "IN")
SOURCES = (
    mine("M1", "GH", "Eastern", annual_capacity_carats="500"),
    mine("M2", "GH", "Ashanti"),
    site("S1", "CI", "Seguela"),
    mine("S2", "IN", "Panna"),
)
READ_ON = datetime(2026, 6, 1, tzinfo=UTC)


def _text(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@st.composite
def worlds(draw: st.DrawFn) -> list[LogEntry]:
    """A valid log: every document one the write side would accept."""
    documents: list[dict[str, Any]] = [admitted(code) for code in PARTICIPANTS]
    documents += SOURCES
    if draw(st.booleans()):
        region = draw(st.sampled_from([None, "Seguela", "Other"]))
        documents.append(embargo("E1", "CI", "2026-01-01", region=region))
    lots: dict[str, tuple[str, str, int]] = {}  # lot_id -> (holder, status, hundredths)
    pending: dict[str, tuple[str, list[str]]] = {}
    counter = 0

    def new_id(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter}"

    for _ in range(draw(st.integers(1, 25))):
        held = sorted(lot_id for lot_id, (_, status, _) in lots.items() if status == "held")
        operation = draw(st.sampled_from(["produce", "split", "merge", "ship", "confirm", "seize"]))
        if operation == "produce" or not held:
            source = draw(st.sampled_from(SOURCES))
            source_id = source.get("mine_id") or source["site_id"]
            hundredths = draw(st.integers(1, 100_000))
            lot_id = new_id("P")
            documents.append(produced(lot_id, source_id, _text(hundredths)))
            lots[lot_id] = (source["participant"], "held", hundredths)
        elif operation == "split":
            lot_id = draw(st.sampled_from(held))
            holder, _, hundredths = lots[lot_id]
            if hundredths < 2:
                continue
            cuts = draw(
                st.lists(st.integers(1, hundredths - 1), min_size=1, max_size=3, unique=True)
            )
            bounds = [0, *sorted(cuts), hundredths]
            parts = [(new_id("D"), bounds[i + 1] - bounds[i]) for i in range(len(bounds) - 1)]
            documents.append(split(lot_id, *((child, _text(c)) for child, c in parts)))
            lots[lot_id] = (holder, CONSUMED, hundredths)
            lots.update({child: (holder, "held", c) for child, c in parts})
        elif operation == "merge":
            holder = draw(st.sampled_from(sorted({lots[lot_id][0] for lot_id in held})))
            mine_ = [lot_id for lot_id in held if lots[lot_id][0] == holder]
            if len(mine_) < 2:
                continue
            parts_ = draw(st.lists(st.sampled_from(mine_), min_size=2, max_size=4, unique=True))
            into = new_id("M")
            documents.append(merged(parts_, into))
            lots[into] = (holder, "held", sum(lots[lot_id][2] for lot_id in parts_))
            lots.update({lot_id: (holder, CONSUMED, lots[lot_id][2]) for lot_id in parts_})
        elif operation == "ship":
            holder = draw(st.sampled_from(sorted({lots[lot_id][0] for lot_id in held})))
            mine_ = [lot_id for lot_id in held if lots[lot_id][0] == holder]
            shipped = draw(st.lists(st.sampled_from(mine_), min_size=1, max_size=3, unique=True))
            importer = draw(st.sampled_from([code for code in PARTICIPANTS if code != holder]))
            certificate_id = new_id(f"{holder}-")
            total = sum(lots[lot_id][2] for lot_id in shipped)
            documents.append(export(certificate_id, holder, importer, shipped, _text(total)))
            lots.update({lot_id: (holder, "in_transit", lots[lot_id][2]) for lot_id in shipped})
            pending[certificate_id] = (importer, shipped)
        elif operation == "confirm" and pending:
            certificate_id = draw(st.sampled_from(sorted(pending)))
            importer, shipped = pending.pop(certificate_id)
            total = sum(lots[lot_id][2] for lot_id in shipped)
            received = draw(st.sampled_from([total, total + 1]))
            received_on = draw(st.sampled_from(["2005-07-02", "2005-07-05", "2005-07-20"]))
            documents.append(confirmed(certificate_id, _text(received), received_on=received_on))
            lots.update({lot_id: (importer, "held", lots[lot_id][2]) for lot_id in shipped})
        elif operation == "seize":
            lot_id = draw(st.sampled_from(held))
            documents.append(seized(lot_id))
            lots[lot_id] = (lots[lot_id][0], "seized", lots[lot_id][2])
    return numbered(documents)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _lot_amounts(lot: Lot) -> dict[str, Fraction]:
    """The lot's amounts by source, in units: its composition's, scaled by its carats."""
    composition = lot.composition
    scale = Fraction(lot.carats, composition.carats)
    return {
        source_id: amount * scale
        for source_id, amount in zip(composition.sources, composition.amounts(), strict=True)
    }


@PROPERTY
@given(worlds())
def test_a_lots_amounts_sum_exactly_to_its_carats_each_within_its_bound(
    entries: list[LogEntry],
) -> None:
    state = Custody.replay(entries)
    for lot in state.lots.values():
        composition = lot.composition
        assert sum(composition.amounts()) == composition.total == composition.carats * UNITS
        assert list(composition.sources) == sorted(set(composition.sources))
        amounts = _lot_amounts(lot)
        assert sum(amounts.values()) == lot.carats * UNITS
        exact = carats_by_source(state, lot.lot_id)  # carats, by the lineage oracle
        assert amounts.keys() == exact.keys()  # every source reached, none other
        for (source_id, amount), is_exact in zip(amounts.items(), composition.exact(), strict=True):
            error = abs(amount - exact[source_id] * 100 * UNITS)
            if is_exact:
                assert error == 0
            else:
                assert error < Fraction(composition.bound * lot.carats, composition.carats)


@PROPERTY
@given(worlds())
def test_the_parts_of_a_split_add_up_exactly_to_their_parent_source_by_source(
    entries: list[LogEntry],
) -> None:
    state = Custody.replay(entries)
    for parent in state.lots.values():
        if len(parent.children) < 2:
            continue
        parts = [_lot_amounts(state.lots[child]) for child in parent.children]
        summed: dict[str, Fraction] = {}
        for part in parts:
            for source_id, amount in part.items():
                summed[source_id] = summed.get(source_id, Fraction(0)) + amount
        assert summed == _lot_amounts(parent)


@PROPERTY
@given(worlds())
def test_each_sources_carats_are_conserved_across_lots_not_consumed(
    entries: list[LogEntry],
) -> None:
    """Exactly in the answers (provenance's carats are the exact ones, see
    tests/unit/test_fixed_point.py); in the amounts, within the merges' rounding."""
    state = Custody.replay(entries)
    held: dict[str, Fraction] = {}
    amounts: dict[str, Fraction] = {}
    slack: dict[str, Fraction] = {}
    for lot in state.lots.values():
        if lot.status != CONSUMED:
            for source_id, carats in carats_by_source(state, lot.lot_id).items():
                held[source_id] = held.get(source_id, Fraction(0)) + carats
            bound = Fraction(lot.composition.bound * lot.carats, lot.composition.carats)
            for source_id, amount in _lot_amounts(lot).items():
                amounts[source_id] = amounts.get(source_id, Fraction(0)) + amount
                slack[source_id] = slack.get(source_id, Fraction(0)) + bound
    produced_by_source = {
        source.source_id: Fraction(sum(source.produced.values()), 100)
        for source in state.sources.values()
        if source.produced
    }
    assert held == produced_by_source
    assert amounts.keys() == produced_by_source.keys()
    for source_id, carats in produced_by_source.items():
        assert abs(amounts[source_id] - carats * 100 * UNITS) <= slack[source_id]


@PROPERTY
@given(worlds())
def test_the_maintained_graph_equals_one_rebuilt_from_scratch(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    assert nx.utils.graphs_equal(walked_graph(state), graph_from_state(state))


@PROPERTY
@given(worlds())
def test_downstream_from_a_source_agrees_with_compositions(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    for source_id in state.sources:
        traced = {
            lot["lot_id"]: lot["carats_from_origin"]
            for lot in downstream(state, source_id=source_id)["lots"]
        }
        expected = {
            lot.lot_id: provenance_carats
            for lot in state.lots.values()
            for source, provenance_carats in _source_carats(state, lot.lot_id)
            if source == source_id
        }
        assert traced == expected


def _walked_latest_import(state: Custody, export: dict[str, Any]) -> tuple[date, str] | None:
    """(received on, certificate) of the exporter's latest confirmed import of anything in
    the export's lots or their lineage, by walking every ancestor's shipments."""
    exporter = export["exporting_participant"]
    imports = [
        (shipment.received_on, shipment.certificate_id)
        for lot_id in export["lot_ids"]
        for ancestor in state.ancestry(lot_id)
        for shipment in state.shipments(ancestor)
        if shipment.importer == exporter and shipment.received_on is not None
    ]
    return max(imports, default=None)


def _walked_round_trip(state: Custody, certificate_id: str) -> tuple[list[str], list[str]]:
    """The lots of the certificate whose lineage the importer held, and the certificates
    it exported any of their lineage under, by walking every ancestor."""
    certificate = state.certificates[certificate_id]
    importer = certificate.importer
    returning = [
        lot_id
        for lot_id in certificate.lot_ids
        if any(importer in ancestor.holders for ancestor in state.ancestry(lot_id))
    ]
    left_under = {
        shipment.certificate_id
        for lot_id in returning
        for ancestor in state.ancestry(lot_id)
        for shipment in state.shipments(ancestor)
        if shipment.exporter == importer
    }
    return returning, sorted(left_under)


def check_against_walked_lineages(entries: list[LogEntry]) -> tuple[int, int]:
    """Replays `entries`, checking each rapid re-export and round trip found against one
    found by walking the lineage as it stood; returns how many of each there were."""
    state = Custody()
    for entry in entries:
        rapid, round_trips = len(state.rapid_reexports), len(state.round_trips)
        if entry.type == "export.certified":
            latest = _walked_latest_import(state, entry.document)
            state.apply(entry)
            found = [(r.received_on, r.imported_under) for r in state.rapid_reexports[rapid:]]
            assert found == ([] if latest is None else [latest])
        elif entry.type == "import.confirmed":
            returning, left_under = _walked_round_trip(state, entry.document["certificate_id"])
            state.apply(entry)
            trips = [(list(t.lot_ids), list(t.left_under)) for t in state.round_trips[round_trips:]]
            assert trips == ([(returning, left_under)] if returning else [])
        else:
            state.apply(entry)
    return len(state.rapid_reexports), len(state.round_trips)


@PROPERTY
@given(worlds())
def test_rapid_reexports_and_round_trips_agree_with_walking_each_lineage(
    entries: list[LogEntry],
) -> None:
    check_against_walked_lineages(entries)


def _lot_shares(state: Custody, lot_id: str) -> dict[str, Fraction]:
    """The lot (wholly) and each lot made from it, with the share of its carats from it."""
    shares = {lot_id: Fraction(1)}
    lots: list[Lot] = sorted(state.lots.values(), key=lambda lot: lot.created_at)
    for lot in lots:
        if lot.lot_id in shares or not any(p in shares for p in lot.parents):
            continue
        if len(lot.parents) == 1:  # a split's part: its parent's share
            shares[lot.lot_id] = shares[lot.parents[0]]
        else:
            inflow = [state.lots[p].carats * shares[p] for p in lot.parents if p in shares]
            shares[lot.lot_id] = sum(inflow, Fraction(0)) / lot.carats
    return shares


@PROPERTY
@given(worlds())
def test_downstream_equals_a_plain_fraction_computation(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    origins = [({"source_id": source_id}, {source_id}) for source_id in state.sources]
    origins += [
        (
            {"participant": code},
            {s.source_id for s in state.sources.values() if s.participant == code},
        )
        for code in PARTICIPANTS
    ]
    for selector, selected in origins:
        shares = {  # the lineage oracle's, not the compositions'
            lot.lot_id: share / in_units(lot.carats)
            for lot in state.lots.values()
            if (
                share := sum(
                    c for s, c in carats_by_source(state, lot.lot_id).items() if s in selected
                )
            )
        }
        assert downstream(state, **selector) == downstream_from_shares(state, shares)
    for lot_id in state.lots:
        expected = downstream_from_shares(state, _lot_shares(state, lot_id))
        assert downstream(state, lot_id=lot_id) == expected


@given(st.integers(0, 10**60), st.integers(1, 10**60) | st.integers(1, 10**4))
def test_hundredths_text_is_amount_text_of_big_fractions(numerator: int, denominator: int) -> None:
    assert _hundredths_text(numerator, denominator) == amount_text(
        Fraction(numerator, 100 * denominator)
    )


def _source_carats(state: Custody, lot_id: str) -> list[tuple[str, str]]:
    answer = provenance(state, lot_id, READ_ON.date())
    return [(source["source_id"], source["carats"]) for source in answer["sources"]]


@PROPERTY
@given(worlds(), st.data())
def test_as_of_a_position_equals_a_model_fed_only_that_prefix(
    entries: list[LogEntry], data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(entries)))
    reads = Reads(MemoryLog(entries), clock=lambda: READ_ON)
    prefix = Custody.replay(entries[:position])
    live_at_prefix = Reads(MemoryLog(entries[:position]), clock=lambda: READ_ON)
    as_of = position
    for lot_id in prefix.lots:
        assert reads.lot(lot_id, as_of=as_of) == lot_view(prefix, lot_id)
        assert reads.custody(lot_id, as_of=as_of) == live_at_prefix.custody(lot_id)
    on = entries[position - 1].recorded_at.date() if position else READ_ON.date()
    for lot_id in prefix.lots:
        assert reads.provenance(lot_id, as_of=as_of) == provenance(prefix, lot_id, on)
    reading_day = datetime(on.year, on.month, on.day, tzinfo=UTC)
    expected_alerts = Reads(MemoryLog(entries[:position]), clock=lambda: reading_day).alerts()
    assert reads.alerts(as_of=as_of) == expected_alerts
    if "GH" in prefix.participants:
        subgraph_as_of = reads.graph("GH", "both", as_of=as_of)
        assert nx.utils.graphs_equal(subgraph_as_of, live_at_prefix.graph("GH", "both"))


@given(st.sets(st.text("ABCDEFGHIJ", min_size=1, max_size=3), min_size=30, max_size=80), st.data())
def test_a_share_of_some_sources_is_the_sum_of_their_amounts(
    names: set[str], data: st.DataObject
) -> None:
    """Bisected (a few sources among many) or walked (the rest), the same sum and count of
    inexact amounts; sources the composition does not hold (some sorting among its own)
    count nought, and `holds_any` agrees."""
    sources = tuple(sorted(names))
    packed = tuple(
        data.draw(st.lists(st.integers(1, 10**30), min_size=len(sources), max_size=len(sources)))
    )
    composition = Composition(sources, packed, 1)
    absent = ["B0", "E0", "H0", "ZZZZ"]
    few = data.draw(st.sets(st.sampled_from([*sources, *absent]), max_size=3))
    many = data.draw(st.sets(st.sampled_from([*sources, *absent])))
    for wanted in (few, many, set(absent)):
        chosen = [p for source, p in zip(sources, packed, strict=True) if source in wanted]
        expected = (sum(p >> 1 for p in chosen), sum(p & 1 for p in chosen))
        assert composition.share_of(wanted) == expected
        assert composition.holds_any(wanted) == bool(chosen)

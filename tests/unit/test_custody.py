"""The custody state, entry by entry: lots, compositions, certificates, graph."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import networkx as nx
import pytest

from projections.custody import CONSUMED, HELD, IN_TRANSIT, SEIZED, Custody
from projections.examples import example_entries, numbered
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    flagged,
    lifted,
    merged,
    mine,
    produced,
    revoked,
    seized,
    site,
    split,
    suspended,
)
from tests.unit.worlds import carats_by_source, graph_from_state, walked_graph

SETUP = [admitted("GH"), admitted("CI"), mine("M1", "GH", "Eastern"), site("S1", "CI", "Seguela")]


def world(*documents: dict) -> Custody:
    return Custody.replay(numbered([*SETUP, *documents]))


def test_empty_world_has_nothing() -> None:
    state = Custody.replay([])
    assert (state.position, state.lots, walked_graph(state).number_of_nodes()) == (0, {}, 0)


def test_a_produced_lot_is_held_by_its_sources_participant() -> None:
    state = world(produced("L1", "M1", "160"))
    lot = state.lots["L1"]
    assert (lot.carats, lot.holder, lot.status, lot.source_id) == (16000, "GH", HELD, "M1")
    assert lot.composition.shares() == (("M1", Fraction(1)),)
    assert lot.composition.exact() == [True]
    assert lot.history == (5,)
    assert state.position == 5


def test_a_split_consumes_the_lot_and_children_keep_its_composition() -> None:
    state = world(produced("L1", "M1", "100"), split("L1", ("A", "30"), ("B", "70")))
    parent, child = state.lots["L1"], state.lots["A"]
    assert parent.status == CONSUMED and parent.children == ("A", "B")
    assert child.parents == ("L1",) and child.holder == "GH" and child.carats == 3000
    assert child.composition is parent.composition  # shared, not copied
    assert parent.history == (5, 6)


def test_a_merge_of_two_sources_then_a_split_is_exact() -> None:
    state = Custody.replay(example_entries())
    assert state.lots["L-MIX"].composition.shares() == (
        ("M-GH", Fraction(2, 3)),
        ("S-CI", Fraction(1, 3)),
    )
    assert state.lots["L-MIX"].composition.exact() == [True, True]
    assert carats_by_source(state, "L-A") == {"M-GH": Fraction(320, 3), "S-CI": Fraction(160, 3)}


def test_a_diamond_reaches_back_to_one_source_along_two_paths() -> None:
    state = world(
        produced("L1", "M1", "10"),
        split("L1", ("A", "3.33"), ("B", "6.67")),
        merged(["A", "B"], "C"),
    )
    assert state.lots["C"].carats == 1000
    assert state.lots["C"].composition.shares() == (("M1", Fraction(1)),)
    assert state.lots["C"].composition.exact() == [True]
    assert set(walked_graph(state).predecessors("lot:C")) == {"lot:A", "lot:B"}


def test_a_deep_chain_keeps_lineage_and_ancestry() -> None:
    documents = [produced("L0", "M1", "1024")]
    for depth in range(10):
        half = f"{1024 / 2 ** (depth + 1):.2f}"
        documents.append(split(f"L{depth}", (f"L{depth + 1}", half), (f"R{depth + 1}", half)))
    state = world(*documents)
    assert [lot.lot_id for lot in state.ancestry("L10")] == [f"L{d}" for d in range(10, -1, -1)]
    assert state.lots["L10"].carats == 100
    assert state.lots["L10"].composition.shares() == (("M1", Fraction(1)),)


def test_export_then_import_moves_the_lots() -> None:
    state = world(
        produced("L1", "S1", "10"),
        export("CI-1", "CI", "GH", ["L1"], "10"),
    )
    lot = state.lots["L1"]
    assert (lot.status, lot.holder, lot.certificate_id) == (IN_TRANSIT, "CI", "CI-1")
    state.apply(numbered([confirmed("CI-1", "9.5", "900")], start=7)[0])
    certificate = state.certificates["CI-1"]
    assert (lot.status, lot.holder, lot.holders) == (HELD, "GH", ("CI", "GH"))
    assert (certificate.received_carats, certificate.received_at) == (950, 7)
    assert walked_graph(state).edges["certificate:CI-1", "participant:GH"]["carats"] == 950


def test_flagged_and_seized_lots_record_history() -> None:
    state = world(produced("L1", "M1", "10"), flagged("L1"), seized("L1"))
    assert state.lots["L1"].history == (5, 6, 7)
    assert state.lots["L1"].status == SEIZED


def test_participants_embargoes_and_licences() -> None:
    state = world(
        suspended("GH", "audit"),
        embargo("E1", "CI", "2026-02-01", region="Seguela"),
        lifted("E1", "2026-03-01"),
        revoked("S1"),
    )
    assert state.participants["GH"].status == "suspended"
    assert state.embargoes["E1"].effective_to is not None
    assert state.embargoes["E1"].covers(state.sources["S1"])
    assert not state.embargoes["E1"].covers(state.sources["M1"])
    assert state.sources["S1"].licence_revoked


@pytest.mark.parametrize(
    ("on", "expected"),
    [("2026-01-31", False), ("2026-02-01", True), ("2026-02-28", True), ("2026-03-01", False)],
)
def test_an_embargo_is_in_force_from_its_first_day_to_the_day_before_it_is_lifted(
    on: str, expected: bool
) -> None:
    state = world(embargo("E1", "CI", "2026-02-01"), lifted("E1", "2026-03-01"))
    assert state.embargoes["E1"].in_force(date.fromisoformat(on)) is expected


def test_the_maintained_graph_equals_one_rebuilt_from_the_tables() -> None:
    state = Custody.replay(example_entries())
    rebuilt = graph_from_state(state)
    assert nx.utils.graphs_equal(walked_graph(state), rebuilt)


def test_unknown_document_types_only_advance_the_position() -> None:
    entry = numbered([admitted("GH")])[0]
    state = Custody()
    document = {**entry.document, "type": "something.else"}
    state.apply(entry.__class__(**{**_fields(entry), "document": document, "position": 9}))
    assert state.position == 9 and state.participants == {}


def _fields(entry: object) -> dict:
    return {name: getattr(entry, name) for name in entry.__slots__}  # type: ignore[attr-defined]

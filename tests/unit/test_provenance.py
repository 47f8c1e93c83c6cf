"""Queries over the custody state: lot view, provenance, custody, downstream, subgraph."""

from __future__ import annotations

import io
from datetime import date
from fractions import Fraction

import networkx as nx
import pytest

from ledger.amounts import amount_text, cents
from ledger.errors import LedgerError
from projections.custody import Custody
from projections.examples import example_entries, numbered
from projections.provenance import (
    custody_positions,
    custody_steps,
    downstream,
    graph_graphml,
    graph_json,
    history,
    lot_view,
    provenance,
    subgraph,
)
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    lifted,
    merged,
    mine,
    produced,
    site,
    split,
)

MARCH = date(2026, 3, 1)


@pytest.fixture(scope="module")
def entries() -> list:
    return example_entries()


@pytest.fixture(scope="module")
def state(entries: list) -> Custody:
    return Custody.replay(entries)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(160), "160.00"),
        (Fraction(1605, 10), "160.50"),
        (Fraction(12345, 1000), "12.345"),
        (Fraction(1, 10000), "0.0001"),
        (Fraction(160, 3), "53.3333"),
        (Fraction(320, 3), "106.6667"),
        (Fraction(1, 20000), "0.0001"),
        (Fraction(0), "0.00"),
    ],
)
def test_amounts_are_exact_or_rounded_to_four_places(value: Fraction, text: str) -> None:
    assert amount_text(value) == text


def test_cents_never_go_through_floats() -> None:
    assert cents("0.29") == 29 and cents("123456789012.34") == 12345678901234


def test_lot_view(state: Custody) -> None:
    assert lot_view(state, "L-B") == {
        "lot_id": "L-B",
        "carats": "140.00",
        "value_usd": "19000.00",
        "holder": "GH",
        "status": "held",
        "certificate_id": None,
        "source_id": None,
        "parents": ["L-MIX"],
        "children": [],
        "operator": None,
    }


def test_unknown_lot_is_not_found(state: Custody) -> None:
    with pytest.raises(LedgerError) as raised:
        lot_view(state, "nope")
    assert raised.value.code == "not_found"


def test_provenance_of_a_merge_then_split(state: Custody) -> None:
    answer = provenance(state, "L-A", MARCH)
    assert answer["sources"] == [
        {
            "source_id": "M-GH",
            "kind": "mine",
            "participant": "GH",
            "region": "Eastern",
            "carats": "106.6667",
            "fraction": pytest.approx(2 / 3),
        },
        {
            "source_id": "S-CI",
            "kind": "alluvial_site",
            "participant": "CI",
            "region": "Seguela",
            "carats": "53.3333",
            "fraction": pytest.approx(1 / 3),
        },
    ]
    assert answer["by_participant"]["GH"]["carats"] == "106.6667"
    assert answer["embargoed"] == [
        {"embargo_id": "E-CI", "carats": "53.3333", "fraction": pytest.approx(1 / 3)}
    ]


def test_embargoes_not_yet_in_force_are_not_listed(state: Custody) -> None:
    assert provenance(state, "L-A", date(2026, 1, 31))["embargoed"] == []


def test_a_regional_embargo_covers_only_that_region() -> None:
    state = Custody.replay(
        numbered(
            [
                admitted("CI"),
                site("S1", "CI", "Seguela"),
                site("S2", "CI", "Tortiya"),
                produced("A", "S1", "10"),
                produced("B", "S2", "30"),
                merged(["A", "B"], "C"),
                embargo("E1", "CI", "2026-01-01", region="Tortiya"),
                embargo("E2", "CI", "2025-01-01"),
                lifted("E2", "2025-06-01"),
            ]
        )
    )
    embargoed = provenance(state, "C", MARCH)["embargoed"]
    assert embargoed == [{"embargo_id": "E1", "carats": "30.00", "fraction": 0.75}]


def test_custody_steps_cover_ancestors_with_holder_after_each_entry(
    state: Custody, entries: list
) -> None:
    by_position = {entry.position: entry for entry in entries}
    steps = custody_steps(state, "L-A", by_position)["steps"]
    summary = [(s["position"], s["lot_id"], s["holder"], s["certificate_id"]) for s in steps]
    assert summary == [
        (6, "L-CI", "CI", None),
        (7, "L-GH", "GH", None),
        (8, "L-CI", "CI", "CI-1"),
        (9, "L-CI", "GH", "CI-1"),
        (10, "L-CI", "GH", "CI-1"),
        (10, "L-GH", "GH", None),
        (10, "L-MIX", "GH", None),
        (11, "L-MIX", "GH", None),
        (11, "L-A", "GH", None),
        (12, "L-A", "GH", "GH-1"),
    ]
    assert steps[0]["occurred_at"] == by_position[6].document["occurred_at"]
    assert custody_positions(state, "L-A") == [6, 7, 8, 9, 10, 11, 12]


def test_history_is_shaped_like_the_events_feed(state: Custody, entries: list) -> None:
    events = history(state.lots["L-A"], {e.position: e for e in entries})["events"]
    assert [event["position"] for event in events] == [11, 12]
    assert events[1] == entries[11].to_json()


def test_downstream_from_a_source(state: Custody) -> None:
    answer = downstream(state, source_id="M-GH")
    assert [(lot["lot_id"], lot["carats_from_origin"]) for lot in answer["lots"]] == [
        ("L-GH", "200.00"),
        ("L-MIX", "200.00"),
        ("L-A", "106.6667"),
        ("L-B", "93.3333"),
    ]
    assert answer["certificates"] == [
        {
            "certificate_id": "GH-1",
            "exporting_participant": "GH",
            "importing_participant": "AE",
            "carats_from_origin": "106.6667",
        }
    ]
    assert answer["participants"] == ["GH"]


def test_downstream_from_a_lot_includes_the_lot(state: Custody) -> None:
    answer = downstream(state, lot_id="L-CI")
    assert [(lot["lot_id"], lot["carats_from_origin"]) for lot in answer["lots"]] == [
        ("L-CI", "100.00"),
        ("L-MIX", "100.00"),
        ("L-A", "53.3333"),
        ("L-B", "46.6667"),
    ]
    assert [c["carats_from_origin"] for c in answer["certificates"]] == ["100.00", "53.3333"]


def test_downstream_by_participant_and_region(state: Custody) -> None:
    assert downstream(state, participant="CI", region="Elsewhere")["lots"] == []
    lots = downstream(state, participant="CI", region="Seguela")["lots"]
    assert [lot["lot_id"] for lot in lots] == ["L-CI", "L-MIX", "L-A", "L-B"]


@pytest.mark.parametrize(
    ("selectors", "code"),
    [
        ({}, "invalid"),
        ({"source_id": "M-GH", "lot_id": "L-A"}, "invalid"),
        ({"region": "Eastern"}, "invalid"),
        ({"source_id": "nope"}, "not_found"),
        ({"lot_id": "nope"}, "not_found"),
        ({"participant": "RU"}, "not_found"),
    ],
)
def test_downstream_selectors(state: Custody, selectors: dict, code: str) -> None:
    with pytest.raises(LedgerError) as raised:
        downstream(state, **selectors)
    assert raised.value.code == code


def test_subgraph_directions(state: Custody) -> None:
    up = subgraph(state, "L-A", "up")
    assert set(up.nodes) == {
        "lot:L-A",
        "lot:L-MIX",
        "lot:L-CI",
        "lot:L-GH",
        "source:S-CI",
        "source:M-GH",
        "participant:CI",
        "participant:GH",
        "certificate:CI-1",
    }
    down = subgraph(state, "L-A", "down")
    assert set(down.nodes) == {"lot:L-A", "certificate:GH-1"}
    both = subgraph(state, "L-A", "both")
    assert set(both.nodes) == set(up.nodes) | set(down.nodes)
    assert both.edges["lot:L-MIX", "lot:L-A"] == {
        "kind": "split-into",
        "position": 11,
        "carats": "160.00",
        "weight": 160.0,
    }


def test_a_participant_root_is_relayed_but_other_participants_end_paths(state: Custody) -> None:
    down = subgraph(state, "CI", "down")
    assert "participant:CI" in down and "lot:L-A" in down and "participant:GH" in down
    assert "source:M-GH" not in down  # GH received CI material; its own mine is not downstream


def test_subgraph_root_lookup_order_and_not_found(state: Custody) -> None:
    assert subgraph(state, "GH-1", "up").graph["root"] == "certificate:GH-1"
    assert subgraph(state, "AE", "up").graph["root"] == "participant:AE"
    with pytest.raises(LedgerError):
        subgraph(state, "nope")
    with pytest.raises(LedgerError):
        subgraph(state, "L-A", "sideways")


def test_graphml_opens_again_and_json_is_node_link(state: Custody) -> None:
    graph = subgraph(state, "M-GH", "both")
    reread = nx.read_graphml(io.StringIO(graph_graphml(graph)))
    assert set(reread.nodes) == set(graph.nodes)
    assert reread.nodes["lot:L-A"]["carats"] == 160.0
    data = graph_json(graph)
    assert {node["id"] for node in data["nodes"]} == set(graph.nodes)
    assert len(data["edges"]) == graph.number_of_edges()


def test_shipments_reach_importers_in_downstream() -> None:
    state = Custody.replay(
        numbered(
            [
                admitted("GH"),
                admitted("AE"),
                mine("M1", "GH", "Eastern"),
                produced("L1", "M1", "10"),
                split("L1", ("A", "4"), ("B", "6")),
                export("GH-1", "GH", "AE", ["A"], "4"),
                confirmed("GH-1", "4"),
            ]
        )
    )
    answer = downstream(state, source_id="M1")
    assert answer["participants"] == ["AE", "GH"]
    assert [lot["holder"] for lot in answer["lots"]] == ["GH", "AE", "GH"]


def test_graphml_types_numbers_and_weighs_every_edge(state: Custody) -> None:
    graph = subgraph(state, "CI", "both")
    reread = nx.read_graphml(io.StringIO(graph_graphml(graph)))
    numeric = 0
    for _, data in reread.nodes(data=True):
        for name in ("carats", "value_usd"):
            if name in data:
                assert isinstance(data[name], float), (name, data)
                numeric += 1
    assert numeric
    kinds = set()
    for _, _, data in reread.edges(data=True):
        kinds.add(data["kind"])
        assert isinstance(data["weight"], float) and data["weight"] >= 0, data
        assert isinstance(data["position"], int), data
        if "carats" in data:
            assert isinstance(data["carats"], float) and data["carats"] == data["weight"]
    assert {"registered-in", "produced-at", "merged-into", "received-by"} <= kinds
    # registered-in: the carats produced at the source; produced-at: the lot's carats
    assert reread.edges["participant:CI", "source:S-CI"]["weight"] == 100.0
    assert reread.edges["source:S-CI", "lot:L-CI"]["weight"] == 100.0
    assert reread.edges["lot:L-CI", "lot:L-MIX"]["weight"] == 100.0
    text = graph_graphml(graph)
    for name in ("carats", "value_usd", "weight"):
        assert f'attr.name="{name}" attr.type="double"' in text
    assert 'attr.name="position" attr.type="long"' in text


def test_json_edges_carry_the_weight_beside_the_decimal_carats(state: Custody) -> None:
    data = graph_json(subgraph(state, "L-A", "up"))
    edge = next(e for e in data["edges"] if (e["source"], e["target"]) == ("lot:L-MIX", "lot:L-A"))
    assert (edge["carats"], edge["weight"]) == ("160.00", 160.0)

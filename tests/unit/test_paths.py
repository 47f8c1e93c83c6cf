"""Paths: the generic best-first search, and the custody answer checked against every simple
path networkx enumerates on a small deep-mixing world."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

import networkx as nx
import pytest
from hypothesis import given

from ledger.amounts import amount_text
from projections.custody import Custody
from projections.examples import numbered
from projections.graph import node_id, node_key, node_kind
from projections.paths import Step, best_paths, custody_paths
from projections.provenance import downstream
from tests.integration.test_generate import recorded
from tests.unit.test_operator_properties import PARTICIPANTS, PROPERTY, operator_worlds

# -- the generic search ------------------------------------------------------------------------


def _steps(edges: dict[str, list[tuple[str, Any]]]) -> Any:
    def steps(node: str) -> Iterable[Step]:
        return [(target, {"kind": "e"}, Fraction(factor)) for target, factor in edges.get(node, [])]

    return steps


def _every_path(edges: dict[str, list[tuple[str, Any]]], start: str, goal: str) -> list[Any]:
    graph = nx.DiGraph(
        [(a, b, {"factor": Fraction(f)}) for a, out in edges.items() for b, f in out]
    )
    found = []
    for nodes in nx.all_simple_paths(graph, start, goal):
        amount = Fraction(1)
        for a, b in itertools.pairwise(nodes):
            amount *= graph.edges[a, b]["factor"]
        found.append((amount, tuple(nodes)))
    return sorted(found, key=lambda item: (-item[0], item[1]))


DIAMOND = {
    "s": [("a", 1), ("b", 1), ("c", Fraction(1, 2))],
    "a": [("m", Fraction(1, 2)), ("n", Fraction(1, 2))],
    "b": [("m", 1)],
    "c": [("t", 1)],
    "m": [("t", Fraction(1, 3)), ("n", 1)],
    "n": [("t", Fraction(1, 2))],
    "x": [("t", 1)],  # not reachable from s
}


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 10])
def test_the_best_paths_are_those_of_an_enumeration(limit: int) -> None:
    every = _every_path(DIAMOND, "s", "t")
    found = best_paths("s", "t", _steps(DIAMOND), limit=limit)
    assert [(amount, nodes) for amount, nodes, _ in found.paths] == every[:limit]
    assert found.truncated == (len(every) > limit)
    assert found.total == sum(amount for amount, _ in every)


def test_ties_come_in_order_of_their_nodes_and_edges_follow_the_nodes() -> None:
    edges = {"s": [("b", 1), ("a", 1)], "a": [("t", 1)], "b": [("t", 1)]}
    found = best_paths("s", "t", _steps(edges), limit=5, start_amount=Fraction(7))
    assert [(amount, nodes) for amount, nodes, _ in found.paths] == [
        (7, ("s", "a", "t")),
        (7, ("s", "b", "t")),
    ]
    assert found.paths[0][2] == (
        {"source": "s", "target": "a", "kind": "e"},
        {"source": "a", "target": "t", "kind": "e"},
    )
    assert found.total == 14


def test_no_way_there_and_the_start_itself() -> None:
    assert best_paths("t", "s", _steps(DIAMOND), limit=3).paths == []
    assert best_paths("x", "s", _steps(DIAMOND), limit=3).total == 0
    itself = best_paths("s", "s", _steps(DIAMOND), limit=3, start_amount=Fraction(5))
    assert [(amount, nodes) for amount, nodes, _ in itself.paths] == [(5, ("s",))]


def test_a_long_chain_does_not_recurse() -> None:
    chain = {str(i): [(str(i + 1), 1)] for i in range(5_000)}
    found = best_paths("0", "5000", _steps(chain), limit=1)
    assert len(found.paths[0][1]) == 5_001


# -- a deep world, against every simple path ----------------------------------------------------


@pytest.fixture(scope="module")
def deep() -> Custody:
    documents = [document for _, document in recorded(lots=2000, seed=5, mixing="deep").posted]
    return Custody.replay(numbered(documents))


def _material_graph(state: Custody) -> nx.DiGraph:
    """The ways material moves, built from the tables directly: source -> produced lot,
    lot -> split part or merged lot, lot -> certificate -> importer once received."""
    graph = nx.DiGraph()
    for lot in state.lots.values():
        lot_node = node_id("lot", lot.lot_id)
        if lot.source_id is not None:
            graph.add_edge(node_id("source", lot.source_id), lot_node)
        for child in lot.children:
            graph.add_edge(lot_node, node_id("lot", child))
        for certificate_id in lot.shipped_under:
            certificate = state.certificates[certificate_id]
            graph.add_edge(lot_node, node_id("certificate", certificate_id))
            if certificate.received_at is not None:
                graph.add_edge(
                    node_id("certificate", certificate_id),
                    node_id("participant", certificate.importer),
                )
    return graph


def _carried(state: Custody, nodes: list[str]) -> Fraction:
    """Hundredths of carats a path carries: its first lot's, times each split's share."""
    lots = [state.lots[node_key(node)] for node in nodes if node_kind(node) == "lot"]
    amount = Fraction(lots[0].carats)
    for parent, child in itertools.pairwise(lots):
        if len(child.parents) == 1:
            amount *= Fraction(child.carats, parent.carats)
    return amount


def _path_count(graph: nx.DiGraph, start: str, goal: str) -> int:
    @cache
    def count(node: str) -> int:
        return 1 if node == goal else sum(count(target) for target in graph.successors(node))

    ancestors = nx.ancestors(graph, goal) | {goal}
    if start not in ancestors:
        return 0
    order = [n for n in reversed(list(nx.topological_sort(graph.subgraph(ancestors))))]
    for node in order:  # bottom-up, so that the recursion stays shallow
        count(node)
    return count(start)


def _pairs(state: Custody, graph: nx.DiGraph) -> list[tuple[str, str]]:
    """Sources and lots (each with several paths, up to a few thousand) towards deep lots,
    certificates and participants."""
    ends = [
        node
        for node in graph
        if node_kind(node) in ("lot", "certificate", "participant")
        and len(nx.ancestors(graph, node)) >= 30
    ]
    ends.sort()
    pairs = []
    for goal in ends[:: max(1, len(ends) // 40)]:
        starts = sorted(n for n in nx.ancestors(graph, goal) if node_kind(n) in ("source", "lot"))
        for start in starts[:: max(1, len(starts) // 5)]:
            if 2 <= _path_count(graph, start, goal) <= 3000:
                pairs.append((start, goal))
    return pairs


def test_the_deep_worlds_paths_are_the_best_of_every_simple_path(deep: Custody) -> None:
    graph = _material_graph(deep)
    pairs = _pairs(deep, graph)
    assert len(pairs) >= 30, len(pairs)
    truncated = 0
    for start, goal in pairs:
        every = sorted(
            ((_carried(deep, nodes), nodes) for nodes in nx.all_simple_paths(graph, start, goal)),
            key=lambda item: (-item[0], item[1]),
        )
        answer = custody_paths(deep, node_key(start), node_key(goal), limit=10)
        expected = [(amount_text(amount / 100), nodes) for amount, nodes in every[:10]]
        assert [(path["carats"], path["nodes"]) for path in answer["paths"]] == expected
        assert answer["truncated"] == (len(every) > 10)
        truncated += answer["truncated"]
        total = sum((amount for amount, _ in every), Fraction())
        assert answer["carats"] == amount_text(total / 100)
        for path in answer["paths"]:
            pairs_of_nodes = list(itertools.pairwise(path["nodes"]))
            assert [(e["source"], e["target"]) for e in path["edges"]] == pairs_of_nodes
    assert truncated >= 5


def test_the_total_is_the_downstream_carats_from_the_origin(deep: Custody) -> None:
    """The carats of every path add up to what the downstream trace (by compositions)
    finds from the origin in the lot or certificate."""
    sources = sorted(deep.sources)[:6]
    for source_id in sources:
        trace = downstream(deep, source_id=source_id)
        for lot in trace["lots"][-5:]:
            answer = custody_paths(deep, source_id, lot["lot_id"], limit=1)
            assert answer["carats"] == lot["carats_from_origin"]
        for certificate in trace["certificates"][-3:]:
            answer = custody_paths(deep, source_id, certificate["certificate_id"], limit=1)
            assert answer["carats"] == certificate["carats_from_origin"]


# -- the companies downstream, on random worlds of operators ------------------------------------


def _plain_takers(state: Custody, answer: dict[str, Any]) -> dict[str, Fraction]:
    """Each company's carats from the origin, plainly: the lots reached that it took other
    than by splitting or merging reached lots it held, each lot once."""
    reached = {
        lot["lot_id"]: Fraction(Decimal(lot["carats_from_origin"])) for lot in answer["lots"]
    }
    carats: dict[str, Fraction] = {}
    for lot_id, amount in reached.items():
        lot = state.lots[lot_id]
        made_from_reached = any(parent in reached for parent in lot.parents)
        takers = {
            operator_id
            for operator_id, position in lot.operators
            if not (made_from_reached and position == lot.created_at)
        }
        for operator_id in takers:
            carats[operator_id] = carats.get(operator_id, Fraction()) + amount
    return carats


@PROPERTY
@given(operator_worlds())
def test_downstream_operators_are_the_plain_sum_and_the_paths_to_them(
    world: tuple[list[dict[str, Any]], dict[str, str | None]],
) -> None:
    state = Custody.replay(numbered(world[0]))
    origins = [{"source_id": source_id} for source_id in state.sources]
    origins += [{"participant": code} for code in PARTICIPANTS]
    origins += [{"lot_id": lot_id} for lot_id in state.lots]
    origins += [{"operator": operator_id} for operator_id in state.operators]
    for origin in origins:
        answer = downstream(state, **origin)
        found = {
            entry["operator_id"]: Fraction(Decimal(entry["carats_from_origin"]))
            for entry in answer["operators"]
        }
        plain = _plain_takers(state, answer)
        assert found.keys() == plain.keys(), origin
        for operator_id, carats in found.items():
            rounding = Fraction(len(answer["lots"]), 10**4)  # the lots' amounts are rounded
            assert abs(carats - plain[operator_id]) <= rounding, origin
            assert state.operators[operator_id].participant == next(
                e["participant"] for e in answer["operators"] if e["operator_id"] == operator_id
            )
            if "operator" not in origin:  # an operator's own lots may be taken by others before
                (start,) = origin.values()
                paths = custody_paths(state, start, operator_id, limit=1)
                assert paths["carats"] == next(
                    e["carats_from_origin"]
                    for e in answer["operators"]
                    if e["operator_id"] == operator_id
                ), (origin, operator_id)


def test_from_a_lot_to_itself_and_to_whoever_held_it() -> None:
    from projections.examples import operator_entries

    state = Custody.replay(operator_entries())
    itself = custody_paths(state, "L-1A", "L-1A")
    assert itself["carats"] == "60.00"
    assert [(p["carats"], p["nodes"], p["edges"]) for p in itself["paths"]] == [
        ("60.00", ["lot:L-1A"], [])
    ]
    # L-1A was cut from L-1 by its first holder, then sold: the lot `from` counts for both
    assert custody_paths(state, "L-1A", "GH-OP-1")["carats"] == "60.00"
    assert custody_paths(state, "L-1A", "GH-OP-2")["carats"] == "60.00"
    # from the lot it was cut from: its holder took that lot, not again the part it cut
    cutter = custody_paths(state, "L-1", "GH-OP-1")
    assert [(p["carats"], p["nodes"]) for p in cutter["paths"]] == [
        ("100.00", ["lot:L-1", "operator:GH-OP-1"])
    ]
    companies = {
        entry["operator_id"]: entry["carats_from_origin"]
        for entry in downstream(state, lot_id="L-1")["operators"]
    }
    assert companies == {"GH-OP-1": "100.00", "GH-OP-2": "60.00", "AE-OP-1": "60.00"}
    assert custody_paths(state, "L-1", "GH-OP-2")["carats"] == "60.00"
    assert custody_paths(state, "GH", "GH")["paths"] == []

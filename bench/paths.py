"""Paths and the companies downstream, on worlds generated in memory (no store: these are
read-model queries, and the worlds are built in the run).

- `GET /v1/paths` (limit 10) on a deep-mixing world (`worlds.generate`, `mixing="deep"`):
  pairs drawn from the world (a lot at least `DEEP` splits and merges deep, and a source or
  lot among its ancestors), against networkx enumerating every simple path between the
  pair (`all_simple_paths` over the material's graph) and keeping the 10 with the most
  carats. networkx's enumeration explores every path out of the start, dead ends
  included, so only pairs whose start has at most `ENUMERABLE` paths out of it are drawn
  (each then finishes well within a minute; any that takes longer is left out and
  counted). The answers (carats and nodes of each path, and `truncated`) must be equal
  before anything is timed. p95 over the pairs, each pair's time the median of `REPEATS`.
  The notes also give the baseline's p95 when networkx is handed only the nodes between
  the pair (a pruning a careful user would add; finding them is timed with it).
- `GET /v1/trace/downstream` with `operators` against the same trace without them, on a
  plain world with operators: from the sources with the widest downstream, each timed
  `DOWNSTREAM_REPEATS` times both ways, interleaved, in CPU time; the ratio of the sums
  of the fastest runs. Twice: on a world without operators (as the 1M-lot world of
  `bench.world`) and on one where most lots pass through one to three companies.

    .venv/bin/python -m bench paths [--lots N] [--seed S] [--quick]
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any

import networkx as nx

from bench.common import Result, percentile
from ledger.actors import Actor
from ledger.amounts import amount_text
from projections.custody import Custody
from projections.examples import numbered
from projections.graph import node_id, node_key, node_kind
from projections.paths import custody_paths
from projections.provenance import downstream
from worlds import lineage
from worlds.generate import generate

__all__ = ["downstream_operators", "paths", "run"]

DEEP = 10  # splits and merges: the lots paths end at
LIMIT = 10
ENUMERABLE = 2_000_000  # paths out of the start: networkx's enumeration walks them all
BASELINE_SECONDS = 60.0
REPEATS = 3
DOWNSTREAM_REPEATS = 15
WIDEST_SOURCES = 20


class _Collected:
    """Stands in for the ledger: keeps the documents posted, in order."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    def post(self, payload: dict[str, Any], actor: Actor) -> None:
        self.documents.extend(payload["events"])


def world(lots: int, seed: int, **arguments: Any) -> Custody:
    """A generated world, replayed into a custody state."""
    collected = _Collected()
    generate(collected, lots=lots, seed=seed, progress=False, **arguments)
    return Custody.replay(numbered(collected.documents))


def material_graph(state: Custody) -> nx.DiGraph:
    """The ways material moves, as networkx sees them: source -> lot produced, lot -> part
    or merged lot, lot -> certificate -> importer once received."""
    graph = nx.DiGraph()
    for lot in state.lots.values():
        here = node_id("lot", lot.lot_id)
        if lot.source_id is not None:
            graph.add_edge(node_id("source", lot.source_id), here)
        for child in lot.children:
            graph.add_edge(here, node_id("lot", child))
        for certificate_id in lot.shipped_under:
            certificate = state.certificates[certificate_id]
            graph.add_edge(here, node_id("certificate", certificate_id))
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


def enumerated_best(
    state: Custody, graph: nx.DiGraph, start: str, goal: str, deadline: float
) -> tuple[list[tuple[str, list[str]]], bool] | None:
    """The baseline: every simple path from `start` to `goal`, the `LIMIT` with the most
    carats (ties by nodes), and whether there were more; None past `deadline`."""
    every = []
    for nodes in nx.all_simple_paths(graph, start, goal):
        every.append((_carried(state, nodes), nodes))
        if time.perf_counter() > deadline:
            return None
    every.sort(key=lambda item: (-item[0], item[1]))
    best = [(amount_text(amount / 100), nodes) for amount, nodes in every[:LIMIT]]
    return best, len(every) > LIMIT


def _enumerated_between(
    state: Custody, graph: nx.DiGraph, start: str, goal: str
) -> tuple[list[tuple[str, list[str]]], bool] | None:
    """The baseline pruned as a careful user would: networkx given only the nodes between
    the pair (found by networkx too, and timed with it)."""
    between = nx.descendants(graph, start) & nx.ancestors(graph, goal) | {start, goal}
    return enumerated_best(state, graph.subgraph(between), start, goal, float("inf"))


def _paths_out(graph: nx.DiGraph, order: list[str]) -> dict[str, int]:
    """For each node, the number of paths out of it (itself included): the prefixes a
    depth-first enumeration from it walks through, in a graph without cycles."""
    out: dict[str, int] = {}
    for node in reversed(order):
        out[node] = 1 + sum(out[target] for target in graph.successors(node))
    return out


def _timed(call: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """The median seconds of `repeats` calls, and the last answer."""
    seconds = []
    answer = None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), answer


def _pairs(
    state: Custody, graph: nx.DiGraph, samples: int, seed: int
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    rng = random.Random(seed)
    depth = lineage.depths(state.lots)
    deep = sorted(lot_id for lot_id, d in depth.items() if d >= DEEP)
    out = _paths_out(graph, list(nx.topological_sort(graph)))
    rng.shuffle(deep)
    pairs = []
    for lot_id in deep:
        goal = node_id("lot", lot_id)
        starts = sorted(
            node
            for node in nx.ancestors(graph, goal)
            if node_kind(node) in ("source", "lot") and out[node] <= ENUMERABLE
        )
        if starts:
            pairs.append((rng.choice(starts), goal))
        if len(pairs) == samples:
            break
    return pairs, {"deep_lots": len(deep), "max_depth": max(depth.values())}


def paths(lots: int, seed: int, samples: int) -> Result:
    """`GET /v1/paths` against networkx's enumeration, p95 over pairs of the deep world."""
    state = world(lots, seed, mixing="deep")
    graph = material_graph(state)
    pairs, facts = _pairs(state, graph, samples, seed)
    ours_s, baseline_s, pruned_s, paths_found = [], [], [], []
    slow = truncated = 0
    for start, goal in pairs:
        started = time.perf_counter()
        best = enumerated_best(state, graph, start, goal, started + BASELINE_SECONDS)
        baseline = time.perf_counter() - started
        if best is None:
            slow += 1
            continue
        pruned, _ = _timed(partial(_enumerated_between, state, graph, start, goal), 1)
        ours, answer = _timed(
            partial(custody_paths, state, node_key(start), node_key(goal), limit=LIMIT)
        )
        found = [(path["carats"], path["nodes"]) for path in answer["paths"]]
        if (found, answer["truncated"]) != best:
            raise AssertionError(f"paths from {start} to {goal} differ from the enumeration's")
        ours_s.append(ours)
        baseline_s.append(baseline)
        pruned_s.append(pruned)
        paths_found.append(len(found))
        truncated += answer["truncated"]
    ours_p95, baseline_p95 = percentile(ours_s, 0.95), percentile(baseline_s, 0.95)
    speedup = baseline_p95 / ours_p95
    return Result(
        name="paths, deep world, limit 10 (p95)",
        unit="ms",
        ours=ours_p95 * 1000,
        baseline=baseline_p95 * 1000,
        target=">= 10x faster",
        met=speedup >= 10,
        notes={
            "speedup_p95": speedup,
            "lots": lots,
            "pairs": len(ours_s),
            "pairs_left_out_past_a_minute": slow,
            "pairs_truncated": truncated,
            "ours_median_ms": statistics.median(ours_s) * 1000,
            "baseline_median_ms": statistics.median(baseline_s) * 1000,
            "baseline_between_the_pair_p95_ms": percentile(pruned_s, 0.95) * 1000,
            "enumerable_paths_out_of_start": ENUMERABLE,
            **facts,
        },
    )


def downstream_operators(lots: int, seed: int, operators: int) -> Result:
    """Downstream with `operators` against without, from the widest sources."""
    state = world(lots, seed, operators=operators)
    widest = sorted(state.sources.values(), key=lambda source: -len(source.lots))
    chosen = [source.source_id for source in widest[:WIDEST_SOURCES]]
    with_s, without_s = [], []
    reached = 0
    for source_id in chosen:
        fastest_with = fastest_without = float("inf")
        for _ in range(DOWNSTREAM_REPEATS):
            started = time.process_time()  # CPU time: the machine may be shared
            answer = downstream(state, source_id=source_id, with_operators=False)
            fastest_without = min(fastest_without, time.process_time() - started)
            started = time.process_time()
            with_them = downstream(state, source_id=source_id)
            fastest_with = min(fastest_with, time.process_time() - started)
        if with_them["lots"] != answer["lots"]:
            raise AssertionError(f"downstream from {source_id} changed with operators")
        with_s.append(fastest_with)
        without_s.append(fastest_without)
        reached += len(answer["lots"])
    ratio = sum(with_s) / sum(without_s)
    return Result(
        name=f"downstream with operators / without, {operators} operators",
        unit="s (sum)",
        ours=sum(with_s),
        baseline=sum(without_s),
        target="<= 1.1x",
        met=ratio <= 1.1,
        notes={
            "lots": lots,
            "operators": operators,
            "sources": len(chosen),
            "lots_reached": reached,
            "operators_in_world": len(state.operators),
        },
    )


def run(deep_lots: int, lots: int, seed: int, samples: int) -> list[Result]:
    """Both benchmarks: `deep_lots` for paths; `lots` for downstream, on a world without
    operators (as the 1M-lot benchmark world) and on one where most lots pass through
    one to three companies."""
    return [
        paths(deep_lots, seed, samples),
        downstream_operators(lots, seed, operators=0),
        downstream_operators(lots, seed, operators=max(50, lots // 100)),
    ]

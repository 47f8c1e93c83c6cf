"""Paths between two parties: the ways material went from one to the other, most carats first.

Two layers. `best_paths` is generic: given a start, a goal and a function giving the
steps out of a node (next node, edge attributes, factor), it finds the N paths whose
product of factors is highest, without enumerating every path. `custody_paths` answers
`GET /v1/paths` with it over the custody graph (`Custody.successors`' edges, restricted to
the ways material moves), with factors that make a path's product the carats from `from`
that travelled along it.

What a path's carats are (exact, as `Fraction`s of hundredths):
- a path starts with all of a lot's carats: the lot `from`, a lot produced at the source
  `from` (or at a source of the participant `from`), or a lot the operator `from` took;
- a split passes on the child's part (`child / parent` of what the parent carried), a merge
  all of it, a shipment all of the lot's (a certificate carries its lots'), an import all of
  the certificate's;
- so the carats of every path into a lot add up to the carats of the lot that came from
  `from` (lots mix in proportion to carats: `Custody`'s compositions), and the carats of a
  merge's paths add up where it joins them; `carats` of the answer is that total in `to`
  (for a participant, over the certificates it received; for an operator, over the lots it
  took), summed over every path, not only those listed;
- an operator `from` counts material from the last time it held it: a path from it never
  passes through another lot it took (the lot starts a path of its own), as the
  downstream trace from an operator counts every lot it held wholly.

The search (`best_paths`) first walks the nodes reachable from the start once, working out
for each the best product of factors still to come to the goal and the sum over every
way there (the graph is acyclic: lineage runs forward in time). Then a best-first search
keyed on "carats so far times the best still to come" is exact (A* with a perfect
estimate): each path popped at the goal is the next best, and it stops after N + 1 (the
last only says `truncated`). Ties are broken by the path's nodes in lexicographic order,
which the same order on prefixes keeps, so the answer is deterministic. Work: the nodes
and edges reachable once, then about N times the paths' length pushes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ledger.amounts import amount_text
from ledger.errors import LedgerError
from projections.custody import Custody, Lot
from projections.graph import has_node, node_id, node_key, node_kind

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Found",
    "Step",
    "Steps",
    "best_paths",
    "custody_paths",
    "custody_predecessors",
    "custody_steps",
    "entry_lots",
]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

Step = tuple[str, dict[str, Any], Fraction]
"""One edge out of a node: (next node, edge attributes, factor applied to the amount)."""

Steps = Callable[[str], Iterable[Step]]
"""The steps out of a node (a neighbours function, as a generic traversal takes)."""

Predecessors = Callable[[str], Iterable[str]]
"""The nodes with a step into a node (a superset does no harm)."""

_ONE = Fraction(1)


@dataclass(frozen=True, slots=True)
class Found:
    """The paths found: the best `limit` of them, whether there were more, and the sum of
    the amounts of every path from start to goal."""

    paths: list[tuple[Fraction, tuple[str, ...], tuple[dict[str, Any], ...]]]
    truncated: bool
    total: Fraction


def _to_goal(
    start: str, goal: str, steps: Steps
) -> tuple[dict[str, tuple[Fraction, Fraction]], dict[str, list[Step]]]:
    """For every node reachable from `start` that reaches `goal`: (the best product of
    factors from it to the goal, the sum of the products over every way), and the steps
    out of it that lead to the goal. One depth-first walk, iterative (lineage is deep)."""
    reaching: dict[str, tuple[Fraction, Fraction]] = {goal: (_ONE, _ONE)}
    dead: set[str] = set()
    kept: dict[str, list[Step]] = {}
    on_stack = {start}
    frames: list[tuple[str, Iterator[Step], list[Step]]] = [(start, iter(steps(start)), [])]
    pending: list[Step | None] = [None]  # the step whose target each frame waits on
    while frames:
        node, todo, useful = frames[-1]
        waited = pending[-1]
        if waited is not None:
            pending[-1] = None
            if waited[0] in reaching:
                useful.append(waited)
        descended = False
        for step in todo:
            target = step[0]
            if target in reaching:
                useful.append(step)
            elif target in dead or target in on_stack:  # a cycle: never in custody's graph
                continue
            else:
                pending[-1] = step
                on_stack.add(target)
                frames.append((target, iter(steps(target)), []))
                pending.append(None)
                descended = True
                break
        if descended:
            continue
        frames.pop()
        pending.pop()
        on_stack.discard(node)
        if useful:
            best = max(factor * reaching[target][0] for target, _, factor in useful)
            total = sum((factor * reaching[target][1] for target, _, factor in useful), Fraction())
            reaching[node] = (best, total)
            kept[node] = useful
        else:
            dead.add(node)
    return reaching, kept


def _ancestors(goal: str, predecessors: Predecessors) -> set[str]:
    """The goal and every node that leads to it."""
    found = {goal}
    frontier = [goal]
    while frontier:
        for node in predecessors(frontier.pop()):
            if node not in found:
                found.add(node)
                frontier.append(node)
    return found


def best_paths(
    start: str,
    goal: str,
    steps: Steps,
    *,
    limit: int,
    start_amount: Fraction = _ONE,
    predecessors: Predecessors | None = None,
) -> Found:
    """The `limit` paths from `start` to `goal` with the highest amounts (`start_amount`
    times the product of the steps' factors, each factor >= 0), highest first, ties in
    lexicographic order of their nodes; `steps` must describe an acyclic graph.

    `predecessors`, if given, leads back from a node to (at least) every node with a step
    into it: the walk forward then keeps to the goal's ancestors, found first, which is
    much less than all that is reachable when the start has a wide downstream and the goal
    a narrow upstream (a source and a lot).

    >>> edges = {"s": [("a", 2), ("b", 1)], "a": [("t", Fraction(1, 4))], "b": [("t", 1)]}
    >>> def steps(node):
    ...     return [(n, {"kind": "e"}, Fraction(f)) for n, f in edges.get(node, [])]
    >>> found = best_paths("s", "t", steps, limit=1)
    >>> [(str(amount), nodes) for amount, nodes, _ in found.paths], found.truncated
    ([('1', ('s', 'b', 't'))], True)
    >>> str(found.total)
    '3/2'
    """
    if start == goal:
        return Found([(start_amount, (start,), ())], False, start_amount)
    if predecessors is not None:
        upstream = _ancestors(goal, predecessors)
        if start not in upstream:
            return Found([], False, Fraction())
        every_step = steps

        def steps(node: str) -> Iterator[Step]:
            return (step for step in every_step(node) if step[0] in upstream)

    reaching, kept = _to_goal(start, goal, steps)
    if start not in reaching:
        return Found([], False, Fraction())
    found: list[tuple[Fraction, tuple[str, ...], tuple[dict[str, Any], ...]]] = []
    truncated = False
    heap: list[tuple[Fraction, tuple[str, ...], Fraction, tuple[dict[str, Any], ...]]] = [
        (-start_amount * reaching[start][0], (start,), start_amount, ())
    ]
    while heap:
        _, nodes, amount, edges = heapq.heappop(heap)
        node = nodes[-1]
        if node == goal:
            if len(found) == limit:
                truncated = True
                break
            found.append((amount, nodes, edges))
            continue
        for target, attributes, factor in kept[node]:
            moved = amount * factor
            heapq.heappush(
                heap,
                (
                    -moved * reaching[target][0],
                    (*nodes, target),
                    moved,
                    (*edges, {"source": node, "target": target, **attributes}),
                ),
            )
    return Found(found, truncated, start_amount * reaching[start][1])


# -- the custody graph ------------------------------------------------------------------------


def entry_lots(state: Custody, operator_id: str) -> dict[str, int]:
    """The lots the operator took (produced, imported or bought), not those it made by
    splitting or merging lots it held, with the position it first took each.

    >>> from projections.examples import operator_entries
    >>> entry_lots(Custody.replay(operator_entries()), "GH-OP-2")
    {'L-1A': 9}
    """
    taken: dict[str, int] = {}
    for lot_id in state.operators[operator_id].lots:
        position = _taken_at(state.lots[lot_id], operator_id)
        if position is not None:
            taken[lot_id] = position
    return taken


def _taken_at(lot: Lot, operator_id: str) -> int | None:
    """When the operator first took the lot other than by making it from lots it held."""
    made_from_its_own = bool(lot.parents)
    for holder, position in lot.operators:
        if holder == operator_id and not (made_from_its_own and position == lot.created_at):
            return position
    return None


def _edge(kind: str, position: int, hundredths: int | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "position": position,
        "carats": None if hundredths is None else amount_text(Fraction(hundredths, 100)),
    }


def _start_node(state: Custody, identifier: str) -> str:
    """The node `from` names: a lot, a source, a participant or an operator."""
    if identifier in state.lots:
        return node_id("lot", identifier)
    if identifier in state.sources:
        return node_id("source", identifier)
    if identifier in state.participants or has_node(state, node_id("participant", identifier)):
        return node_id("participant", identifier)
    if identifier in state.operators:
        return node_id("operator", identifier)
    raise LedgerError("not_found", f"no lot, source, participant or operator {identifier!r}")


def _goal_node(state: Custody, identifier: str) -> str:
    """The node `to` names: a lot, a certificate, a participant or an operator."""
    if identifier in state.lots:
        return node_id("lot", identifier)
    if identifier in state.certificates or _cancelled(state, identifier):
        return node_id("certificate", identifier)
    if identifier in state.participants or has_node(state, node_id("participant", identifier)):
        return node_id("participant", identifier)
    if identifier in state.operators:
        return node_id("operator", identifier)
    raise LedgerError("not_found", f"no lot, certificate, participant or operator {identifier!r}")


def _cancelled(state: Custody, certificate_id: str) -> bool:
    """Whether the id is a cancelled certificate's: readable, but nothing was shipped under it."""
    return state.retracted.cancelled_certificate(certificate_id, state.position) is not None


def custody_steps(state: Custody, start: str, goal: str) -> Steps:
    """The steps material takes in the custody graph, for a search from `start` to `goal`,
    with the factors that make a path's product its carats (hundredths) from the start.

    Participants and operators are ends, never relays: a participant leads to its sources
    and is reached by the certificates it received; an operator leads to the lots it took
    and is reached from them."""
    goal_kind, goal_key = node_kind(goal), node_key(goal)
    start_kind, start_key = node_kind(start), node_key(start)
    goal_lots = entry_lots(state, goal_key) if goal_kind == "operator" else {}
    start_lots = entry_lots(state, start_key) if start_kind == "operator" else {}
    lots, certificates = state.lots, state.certificates

    def shipment_leads(certificate_id: str) -> bool:
        if goal_kind == "certificate":
            return certificate_id == goal_key
        certificate = certificates[certificate_id]
        return certificate.importer == goal_key and certificate.received_at is not None

    def steps(node: str) -> Iterator[Step]:
        kind, key = node_kind(node), node_key(node)
        if kind == "lot":
            lot = lots[key]
            if goal_kind in ("certificate", "participant"):
                for certificate_id in lot.shipped_under:
                    if shipment_leads(certificate_id):
                        yield (
                            node_id("certificate", certificate_id),
                            _edge(
                                "shipped-under", certificates[certificate_id].position, lot.carats
                            ),
                            _ONE,
                        )
            for child_id in lot.children:
                if child_id in start_lots:  # an operator's material counts from its last hold
                    continue
                child = lots[child_id]
                if len(child.parents) > 1:
                    yield (
                        node_id("lot", child_id),
                        _edge("merged-into", child.created_at, lot.carats),
                        _ONE,
                    )
                else:
                    yield (
                        node_id("lot", child_id),
                        _edge("split-into", child.created_at, child.carats),
                        Fraction(child.carats, lot.carats),
                    )
            taken = goal_lots.get(key)
            if taken is None and node == start and goal_kind == "operator":
                # the lot `from` itself: whoever held it took the origin's material
                taken = next((p for o, p in lot.operators if o == goal_key), None)
            if taken is not None:
                yield goal, _edge("held", taken, lot.carats), _ONE
        elif kind == "certificate":
            certificate = certificates[key]
            if goal_kind == "participant" and shipment_leads(key):
                yield (
                    goal,
                    _edge("received-by", certificate.received_at or 0, certificate.received_carats),
                    _ONE,
                )
        elif kind == "source":
            for lot_id in state.sources[key].lots:
                lot = lots[lot_id]
                yield (
                    node_id("lot", lot_id),
                    _edge("produced-at", lot.created_at, lot.carats),
                    Fraction(lot.carats),
                )
        elif node == start and kind == "participant":
            for source in state.sources.values():
                if source.participant == key:
                    yield (
                        node_id("source", source.source_id),
                        _edge("registered-in", source.position, None),
                        _ONE,
                    )
        elif node == start and kind == "operator":
            for lot_id, taken_at in start_lots.items():
                lot = lots[lot_id]
                yield (
                    node_id("lot", lot_id),
                    _edge("held", taken_at, lot.carats),
                    Fraction(lot.carats),
                )

    return steps


def custody_predecessors(state: Custody, start: str, goal: str) -> Predecessors | None:
    """What leads back towards the goal, for pruning (`best_paths`): a lot's parents and
    source, a certificate's lots, an operator's lots, a source's participant. None (no
    pruning) for a participant goal: what it received can be most of the world."""
    if node_kind(goal) == "participant":
        return None
    lots, certificates = state.lots, state.certificates
    start_operator = node_key(start) if node_kind(start) == "operator" else None

    def back(node: str) -> Iterator[str]:
        kind, key = node_kind(node), node_key(node)
        if kind == "lot":
            lot = lots[key]
            for parent in lot.parents:
                yield node_id("lot", parent)
            if lot.source_id is not None:
                yield node_id("source", lot.source_id)
            if start_operator is not None and any(o == start_operator for o, _ in lot.operators):
                yield start
        elif kind == "certificate":
            for lot_id in certificates[key].lot_ids:
                yield node_id("lot", lot_id)
        elif kind == "operator":
            for lot_id in state.operators[key].lots:
                yield node_id("lot", lot_id)
        elif kind == "source":
            yield node_id("participant", state.sources[key].participant)

    return back


def custody_paths(
    state: Custody, from_id: str, to_id: str, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """`GET /v1/paths`: the `limit` paths that carried the most carats from `from_id` (a lot,
    source, participant or operator) to `to_id` (a lot, certificate, participant or
    operator), each with its carats, nodes and edges; `carats` the total from `from_id` in
    `to_id`; `not_found` for an unknown id.

    >>> from projections.examples import example_entries
    >>> answer = custody_paths(Custody.replay(example_entries()), "CI", "L-A")
    >>> answer["carats"], [path["carats"] for path in answer["paths"]]
    ('53.3333', ['53.3333'])
    >>> answer["paths"][0]["nodes"]
    ['participant:CI', 'source:S-CI', 'lot:L-CI', 'lot:L-MIX', 'lot:L-A']
    """
    start, goal = _start_node(state, from_id), _goal_node(state, to_id)
    start_amount = Fraction(state.lots[from_id].carats) if node_kind(start) == "lot" else _ONE
    if (start == goal and node_kind(start) != "lot") or (
        node_kind(goal) == "certificate" and to_id not in state.certificates
    ):  # a cancelled certificate: nothing was shipped under it
        found = Found([], False, Fraction())
    else:
        found = best_paths(
            start,
            goal,
            custody_steps(state, start, goal),
            limit=limit,
            start_amount=start_amount,
            predecessors=custody_predecessors(state, start, goal),
        )
    return {
        "from": from_id,
        "to": to_id,
        "carats": _carats(found.total),
        "paths": [
            {"carats": _carats(amount), "nodes": list(nodes), "edges": list(edges)}
            for amount, nodes, edges in found.paths
        ],
        "truncated": found.truncated,
    }


def _carats(hundredths: Fraction) -> str:
    return amount_text(hundredths / 100)

"""Pure queries over the custody state: lots, provenance, custody, downstream, subgraphs.

Each function takes a `Custody` (and, where the answer shows log entries, those
entries by position) and returns the protocol's JSON-ready answer. Unknown ids raise
`LedgerError("not_found")`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import Any

import networkx as nx

from ledger.errors import LedgerError
from ledger.log import LogEntry
from projections.amounts import amount_text, fraction_number, in_units
from projections.custody import (
    NODE_KINDS,
    Custody,
    Lot,
    node_id,
    node_key,
    node_kind,
)

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
_MATERIAL_EDGES = frozenset({"produced-at", "split-into", "merged-into"})


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
    }


def _share(carats: Fraction, share: Fraction) -> dict[str, Any]:
    return {"carats": amount_text(carats * share), "fraction": fraction_number(share)}


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
    carats = in_units(lot.carats)
    sources = []
    by_participant: dict[str, Fraction] = {}
    for source_id, share in lot.composition:
        source = state.sources[source_id]
        sources.append(
            {
                "source_id": source_id,
                "kind": source.kind,
                "participant": source.participant,
                "region": source.region,
                **_share(carats, share),
            }
        )
        by_participant[source.participant] = by_participant.get(source.participant, 0) + share
    embargoed = []
    for embargo in sorted(state.embargoes.values(), key=lambda e: e.embargo_id):
        if not embargo.in_force(on):
            continue
        covered = sum(
            (
                share
                for source_id, share in lot.composition
                if embargo.covers(state.sources[source_id])
            ),
            Fraction(0),
        )
        if covered:
            embargoed.append({"embargo_id": embargo.embargo_id, **_share(carats, covered)})
    return {
        "lot_id": lot.lot_id,
        "carats": amount_text(carats),
        "sources": sources,
        "by_participant": {
            code: _share(carats, share) for code, share in sorted(by_participant.items())
        },
        "embargoed": embargoed,
    }


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


def custody_steps(state: Custody, lot_id: str, entries: Mapping[int, LogEntry]) -> dict[str, Any]:
    """One step per entry and lot it touched, for the lot and its ancestors, by position;
    `holder` and `certificate_id` are as they stood after the entry.

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
    holders: dict[str, str] = {}
    certificates: dict[str, str | None] = {}
    steps = []
    for position, lot in _lineage_steps(state, lot_id):
        entry = entries[position]
        if position == lot.created_at:
            holders[lot.lot_id] = _initial_holder(state, lot)
            certificates[lot.lot_id] = None
        elif entry.type == "export.certified":
            certificates[lot.lot_id] = entry.document["certificate_id"]
        elif entry.type == "import.confirmed":
            certificate = state.certificates[entry.document["certificate_id"]]
            certificates[lot.lot_id] = certificate.certificate_id
            holders[lot.lot_id] = certificate.importer
        steps.append(
            {
                "position": position,
                "occurred_at": entry.document["occurred_at"],
                "type": entry.type,
                "lot_id": lot.lot_id,
                "holder": holders[lot.lot_id],
                "certificate_id": certificates[lot.lot_id],
            }
        )
    return {"lot_id": lot_id, "steps": steps}


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
) -> None:
    """`invalid` unless exactly one origin is given (region only with participant).

    >>> check_selectors(participant="CI", region="Seguela")
    >>> check_selectors(region="Seguela")
    Traceback (most recent call last):
    ledger.errors.LedgerError: give exactly one of source_id, participant, lot_id
    """
    if sum(selector is not None for selector in (source_id, participant, lot_id)) != 1:
        raise LedgerError("invalid", "give exactly one of source_id, participant, lot_id")
    if region is not None and participant is None:
        raise LedgerError("invalid", "region selects sources of a participant")


def _origins(
    state: Custody,
    source_id: str | None,
    participant: str | None,
    region: str | None,
    lot_id: str | None,
) -> list[str]:
    """The graph nodes that `downstream` starts from."""
    check_selectors(source_id=source_id, participant=participant, region=region, lot_id=lot_id)
    if lot_id is not None:
        return [node_id("lot", find_lot(state, lot_id).lot_id)]
    if source_id is not None:
        if source_id not in state.sources:
            raise LedgerError("not_found", f"no source {source_id!r}")
        return [node_id("source", source_id)]
    selected = [
        node_id("source", source.source_id)
        for source in state.sources.values()
        if source.participant == participant and region in (None, source.region)
    ]
    if not selected and participant not in state.participants:
        raise LedgerError("not_found", f"no participant {participant!r}")
    return selected


def _material_reach(state: Custody, origins: list[str]) -> dict[str, Fraction]:
    """Each lot that received material from `origins`, with the share of its carats that
    came from there (origins themselves count as wholly from there)."""
    graph = state.graph
    reached: set[str] = set()
    frontier = list(origins)
    while frontier:
        node = frontier.pop()
        for successor, edge in graph.succ[node].items():
            if edge["kind"] in _MATERIAL_EDGES and successor not in reached:
                reached.add(successor)
                frontier.append(successor)
    shares = dict.fromkeys(origins, Fraction(1))
    for node in sorted(reached, key=lambda n: state.lots[node_key(n)].created_at):
        lot = state.lots[node_key(node)]
        inflow = sum(
            (
                edge["carats"] * shares[parent]
                for parent, edge in graph.pred[node].items()
                if parent in shares
            ),
            Fraction(0),
        )
        shares[node] = inflow / lot.carats
    return {node_key(node): share for node, share in shares.items() if node_kind(node) == "lot"}


def downstream(
    state: Custody,
    *,
    source_id: str | None = None,
    participant: str | None = None,
    region: str | None = None,
    lot_id: str | None = None,
) -> dict[str, Any]:
    """Every lot, certificate and participant that received material from a source, a
    participant's sources (optionally one region's) or a lot (the lot included).

    >>> from projections.examples import example_entries
    >>> answer = downstream(Custody.replay(example_entries()), participant="CI")
    >>> [(lot["lot_id"], lot["carats_from_origin"]) for lot in answer["lots"]][-2:]
    [('L-A', '53.3333'), ('L-B', '46.6667')]
    >>> [c["certificate_id"] for c in answer["certificates"]], answer["participants"]
    (['CI-1', 'GH-1'], ['CI', 'GH'])
    """
    origins = _origins(state, source_id, participant, region, lot_id)
    shares = _material_reach(state, origins)
    lots = sorted((state.lots[key] for key in shares), key=lambda lot: (lot.created_at, lot.lot_id))
    from_origin = {lot.lot_id: in_units(lot.carats) * shares[lot.lot_id] for lot in lots}
    certificate_carats: dict[str, Fraction] = {}
    for lot in lots:
        for certificate in state.shipments(lot):
            certificate_carats[certificate.certificate_id] = (
                certificate_carats.get(certificate.certificate_id, Fraction(0))
                + from_origin[lot.lot_id]
            )
    certificates = sorted(
        (state.certificates[key] for key in certificate_carats), key=lambda c: c.position
    )
    return {
        "lots": [
            {
                "lot_id": lot.lot_id,
                "holder": lot.holder,
                "status": lot.status,
                "carats_from_origin": amount_text(from_origin[lot.lot_id]),
            }
            for lot in lots
        ],
        "certificates": [
            {
                "certificate_id": certificate.certificate_id,
                "exporting_participant": certificate.exporter,
                "importing_participant": certificate.importer,
                "carats_from_origin": amount_text(certificate_carats[certificate.certificate_id]),
            }
            for certificate in certificates
        ],
        "participants": sorted({holder for lot in lots for holder in lot.holders}),
    }


def _root_node(state: Custody, root: str) -> str:
    """The node of `root`, looked up as a lot, a source, a certificate, then a participant."""
    tables: tuple[Mapping[str, object], ...] = (
        state.lots,
        state.sources,
        state.certificates,
        state.participants,
    )
    for kind, table in zip(NODE_KINDS, tables, strict=True):
        if root in table:
            return node_id(kind, root)
    if state.graph.has_node(node_id("participant", root)):
        return node_id("participant", root)
    raise LedgerError("not_found", f"no lot, source, certificate or participant {root!r}")


def _reach(graph: nx.DiGraph, root: str, forward: bool) -> set[str]:
    """Nodes reachable from `root` along (or against) the edges, not passing through
    participants other than the root: a participant ends a path, it does not relay it."""
    adjacency = graph.succ if forward else graph.pred
    seen = {root}
    frontier = [root]
    while frontier:
        node = frontier.pop()
        if node != root and node_kind(node) == "participant":
            continue
        for neighbour in adjacency[node]:
            if neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return seen


def _with_shipments(graph: nx.DiGraph, root: str, nodes: set[str]) -> set[str]:
    """`nodes` and the certificates their lots other than `root` travelled under, with
    those certificates' importers: the custody of upstream material includes its shipments."""
    shipments = {
        successor
        for node in nodes
        if node != root and node_kind(node) == "lot"
        for successor in graph.succ[node]
        if node_kind(successor) == "certificate"
    }
    importers = {importer for shipment in shipments for importer in graph.succ[shipment]}
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
        certificate = state.certificates[key]
        attributes |= {
            "exporting_participant": certificate.exporter,
            "importing_participant": certificate.importer,
            "carats": amount_text(in_units(certificate.carats)),
            "issued_on": certificate.issued_on.isoformat(),
            "confirmed": certificate.confirmed,
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
        nodes |= _with_shipments(state.graph, start, _reach(state.graph, start, forward=False))
    if direction in ("down", "both"):
        nodes |= _reach(state.graph, start, forward=True)
    exported = nx.DiGraph(root=start, direction=direction)
    for node in sorted(nodes, key=_node_order):
        exported.add_node(node, **_node_attributes(state, node))
    for source, target, edge in state.graph.subgraph(nodes).edges(data=True):
        attributes: dict[str, Any] = {"kind": edge["kind"], "position": edge["position"]}
        if "carats" in edge:
            attributes["carats"] = amount_text(in_units(edge["carats"]))
        exported.add_edge(source, target, **attributes)
    return exported


def _node_order(node: str) -> tuple[int, str]:
    return NODE_KINDS.index(node_kind(node)), node


def graph_json(graph: nx.DiGraph) -> dict[str, Any]:
    """Node-link JSON of a subgraph (`nodes`, `edges`).

    >>> from projections.examples import example_entries
    >>> data = graph_json(subgraph(Custody.replay(example_entries()), "S-CI", "down"))
    >>> data["nodes"][0]["id"], sorted({edge["kind"] for edge in data["edges"]})
    ('lot:L-A', ['merged-into', 'produced-at', 'received-by', 'shipped-under', 'split-into'])
    """
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


def graph_graphml(graph: nx.DiGraph) -> str:
    """GraphML of a subgraph, as Gephi opens it.

    >>> from projections.examples import example_entries
    >>> text = graph_graphml(subgraph(Custody.replay(example_entries()), "GH-1", "up"))
    >>> text.startswith("<graphml") and 'node id="certificate:GH-1"' in text
    True
    """
    return "\n".join(nx.generate_graphml(graph))

"""The chain-of-custody graph, implied by the custody tables, and one bounded traversal.

The graph is implied by the tables (a lot's source, parents, children and certificates;
a source's lots; a certificate's lots and importer): `successors` and `predecessors`
walk it without storing it, so that a large world costs no per-node or per-edge dicts.
Nodes are strings prefixed by kind (`lot:L1`, `source:M1`, `certificate:GH-1`,
`participant:GH`, `operator:GH-OP-1`) so that ids of different kinds never collide.
Edges follow the material, each with `kind`, `position` and, where material moves,
`carats` (hundredths):

    participant --registered-in--> source --produced-at--> lot
    lot --split-into--> lot      lot --merged-into--> lot
    lot --shipped-under--> certificate --received-by--> participant
    operator --held--> lot   (every lot the operator held at any time)

A cancelled certificate (its `export.certified` retracted) is a node joined to nothing:
its lots were never shipped under it, as every other read says.

The queries walk it with `projections.traversal.reach`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from projections.custody import Custody

__all__ = [
    "NODE_KINDS",
    "has_node",
    "node_id",
    "node_key",
    "node_kind",
    "predecessors",
    "successors",
]

NODE_KINDS = ("lot", "source", "certificate", "participant", "operator")


def node_id(kind: str, identifier: str) -> str:
    """The graph node of an id of one kind.

    >>> node_id("lot", "L1")
    'lot:L1'
    """
    return f"{kind}:{identifier}"


def node_kind(node: str) -> str:
    """The kind of a graph node: lot, source, certificate, participant or operator.

    >>> node_kind("certificate:GH-1")
    'certificate'
    """
    return node.partition(":")[0]


def node_key(node: str) -> str:
    """The protocol id a graph node stands for.

    >>> node_key("lot:L1")
    'L1'
    """
    return node.partition(":")[2]


def _edge(kind: str, position: int, carats: int | None) -> dict[str, Any]:
    """An edge's attributes: `carats` only where material moves."""
    if carats is None:
        return {"kind": kind, "position": position}
    return {"kind": kind, "position": position, "carats": carats}


def has_node(state: Custody, node: str) -> bool:
    """Whether the graph has the node (a participant only known from an edge counts).

    >>> from projections.custody import Custody
    >>> from projections.examples import example_entries
    >>> state = Custody.replay(example_entries())
    >>> has_node(state, "lot:L-A"), has_node(state, "participant:AE")
    (True, True)
    """
    kind, key = node_kind(node), node_key(node)
    if kind == "participant":
        return key in state.participants or any(True for _ in _edges_into(state, node))
    tables: dict[str, Mapping[str, object]] = {
        "lot": state.lots,
        "source": state.sources,
        "certificate": state.certificates,
        "operator": state.operators,
    }
    return key in tables.get(kind, {})


def successors(state: Custody, node: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The edges out of a node of the graph: (target, attributes), in order of position.

    >>> from projections.custody import Custody
    >>> from projections.examples import example_entries
    >>> [target for target, _ in successors(Custody.replay(example_entries()), "lot:L-GH")]
    ['lot:L-MIX']
    """
    kind, key = node_kind(node), node_key(node)
    if kind == "participant":
        for source in state.sources.values():
            if source.participant == key:
                target = node_id("source", source.source_id)
                yield target, {"kind": "registered-in", "position": source.position}
    elif kind == "source":
        for lot_id in state.sources[key].lots:
            lot = state.lots[lot_id]
            yield node_id("lot", lot_id), _edge("produced-at", lot.created_at, lot.carats)
    elif kind == "lot":
        lot = state.lots[key]
        for certificate in state.shipments(lot):
            yield (
                node_id("certificate", certificate.certificate_id),
                _edge("shipped-under", certificate.position, lot.carats),
            )
        for child_id in lot.children:
            child = state.lots[child_id]
            if len(child.parents) > 1:
                attributes = _edge("merged-into", child.created_at, lot.carats)
            else:
                attributes = _edge("split-into", child.created_at, child.carats)
            yield node_id("lot", child_id), attributes
    elif kind == "certificate":
        shipment = state.certificates.get(key)  # None: cancelled, joined to nothing
        if shipment is not None and shipment.received_at is not None:
            yield (
                node_id("participant", shipment.importer),
                _edge("received-by", shipment.received_at, shipment.received_carats),
            )
    elif kind == "operator":
        for lot_id, position in state.operators[key].lots.items():
            yield node_id("lot", lot_id), _edge("held", position, state.lots[lot_id].carats)


def predecessors(state: Custody, node: str) -> Iterator[str]:
    """The nodes with an edge into `node`.

    >>> from projections.custody import Custody
    >>> from projections.examples import example_entries
    >>> list(predecessors(Custody.replay(example_entries()), "lot:L-MIX"))
    ['lot:L-CI', 'lot:L-GH']
    """
    kind, key = node_kind(node), node_key(node)
    if kind == "participant":
        yield from _edges_into(state, node)
    elif kind == "source":
        yield node_id("participant", state.sources[key].participant)
    elif kind == "lot":
        lot = state.lots[key]
        if lot.source_id is not None:
            yield node_id("source", lot.source_id)
        for parent in lot.parents:
            yield node_id("lot", parent)
        for operator_id in dict.fromkeys(operator_id for operator_id, _ in lot.operators):
            yield node_id("operator", operator_id)
    elif kind == "certificate":
        certificate = state.certificates.get(key)  # None: cancelled, joined to nothing
        for lot_id in certificate.lot_ids if certificate is not None else ():
            yield node_id("lot", lot_id)


def _edges_into(state: Custody, participant: str) -> Iterator[str]:
    code = node_key(participant)
    for certificate in state.certificates.values():
        if certificate.importer == code and certificate.received_at is not None:
            yield node_id("certificate", certificate.certificate_id)

"""Risk marks: which nodes an investigator should worry about, on a reading date.

One list of marks per node of the custody graph (`lot:…`, `source:…`, `certificate:…`,
`operator:…`, `participant:…`), in the order of `MARKS`:

- `embargoed_source`: a source under an embargo in force;
- `embargoed_origin`: a lot with a non-zero share of carats from such a source;
- `sanctioned`: an operator under a sanction listing in force;
- `possible_sanctions_match`: an operator the sanctions screening matched to a listed
  company, that match not dismissed in triage (the `screening` given to `RiskMarks`);
- `flagged`: a lot an investigator (or the holder's authority) flagged;
- `seized`: a lot seized, or a certificate a lot was seized under while in transit;
- `cancelled`: a certificate cancelled by retracting its `export.certified`
  (`certificate_cancelled`).

`RiskMarks` works out the embargoed sources once per reading, and each composition's
mark once (lots share their compositions), so marking a large graph costs a lookup a node.
`GET /v1/graph` and `GET /v1/search` both use it (`mark_graph`, `mark_results`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from projections.custody import SEIZED, Custody
from projections.graph import node_id, node_key, node_kind
from projections.operators import Operator, in_force_listings

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "MARKS",
    "RiskMarks",
    "certificate_cancelled",
    "graphml_text",
    "mark_graph",
    "mark_results",
    "no_screening",
]

MARKS = (
    "embargoed_source",
    "embargoed_origin",
    "sanctioned",
    "possible_sanctions_match",
    "flagged",
    "seized",
    "cancelled",
)


def no_screening(state: Custody, operator: Operator) -> bool:
    """Without sanctions lists, no operator is a possible match."""
    return False


def certificate_cancelled(state: Custody, certificate_id: str) -> bool:
    """Whether the certificate was cancelled: its `export.certified` retracted."""
    return state.retracted.cancelled_certificate(certificate_id, state.position) is not None


ScreeningHook = Callable[[Custody, Operator], bool]
CancellationHook = Callable[[Custody, str], bool]

_SEARCH_KINDS = {
    "lot": "lot",
    "mine": "source",
    "alluvial_site": "source",
    "certificate": "certificate",
    "participant": "participant",
    "operator": "operator",
}
"""The graph's node kind of each kind of search result."""


class RiskMarks:
    """The marks of the nodes of one custody state read on one date.

    >>> from projections.examples import example_entries
    >>> marks = RiskMarks(Custody.replay(example_entries()), date(2026, 3, 1))
    >>> marks.of("source:S-CI"), marks.of("lot:L-A"), marks.of("lot:L-GH")
    (['embargoed_source'], ['embargoed_origin'], [])
    """

    def __init__(
        self,
        state: Custody,
        on: date,
        *,
        screening: ScreeningHook = no_screening,
        cancellation: CancellationHook = certificate_cancelled,
    ) -> None:
        self.state = state
        self.on = on
        self._screening = screening
        self._cancellation = cancellation
        embargoes = [embargo for embargo in state.embargoes.values() if embargo.in_force(on)]
        self.embargoed_sources = frozenset(
            source.source_id
            for source in state.sources.values()
            if any(embargo.covers(source) for embargo in embargoes)
        )
        self._tainted: dict[int, bool] = {}  # by composition

    def of(self, node: str) -> list[str]:
        """The marks of a node, in the order of `MARKS` (an unknown node has none)."""
        kind, key = node_kind(node), node_key(node)
        state = self.state
        found: set[str] = set()
        if kind == "lot":
            lot = state.lots.get(key)
            if lot is None:
                return []
            composition = lot.composition
            tainted = self._tainted.get(id(composition))
            if tainted is None:
                tainted = self._tainted[id(composition)] = bool(
                    self.embargoed_sources and composition.holds_any(self.embargoed_sources)
                )
            if tainted:
                found.add("embargoed_origin")
            if key in state.flagged:
                found.add("flagged")
            if lot.status == SEIZED:
                found.add("seized")
        elif kind == "source":
            if key in self.embargoed_sources:
                found.add("embargoed_source")
        elif kind == "certificate":
            certificate = state.certificates.get(key)
            if certificate is not None and certificate.seized_at is not None:
                found.add("seized")
            if self._cancellation(state, key):
                found.add("cancelled")
        elif kind == "operator":
            operator = state.operators.get(key)
            if operator is None:
                return []
            if operator.listings and in_force_listings(state, operator, self.on):
                found.add("sanctioned")
            if self._screening(state, operator):
                found.add("possible_sanctions_match")
        return [mark for mark in MARKS if mark in found]


def mark_graph(graph: nx.DiGraph, marks: RiskMarks) -> nx.DiGraph:
    """Gives every node of a custody subgraph its `risk` (a list); returns the graph."""
    for node, attributes in graph.nodes(data=True):
        attributes["risk"] = marks.of(node)
    return graph


def mark_results(results: Iterable[dict[str, Any]], marks: RiskMarks) -> list[dict[str, Any]]:
    """Search results (`{id, kind, label}`), each with its `risk`."""
    return [
        {**result, "risk": marks.of(node_id(_SEARCH_KINDS[result["kind"]], result["id"]))}
        for result in results
    ]


def graphml_text(risk: list[str]) -> str:
    """A node's marks as GraphML's string attribute: comma-separated, empty when none.

    >>> graphml_text(["embargoed_origin", "flagged"]), graphml_text([])
    ('embargoed_origin,flagged', '')
    """
    return ",".join(risk)

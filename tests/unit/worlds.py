"""For the read-side tests: an in-memory log, an oracle, the custody graph rebuilt.

Documents come from `tests.support`; `projections.examples.numbered` makes log entries
of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from fractions import Fraction

import networkx as nx

from ledger.actors import Actor
from ledger.log import LogEntry
from ledger.store import StoreConfig
from projections.custody import Custody
from projections.graph import node_id, successors

__all__ = ["MemoryLog", "StandInLedger", "carats_by_source", "graph_from_state"]


class MemoryLog:
    """A LogReader over a list of entries that tests can extend; counts the reads made."""

    def __init__(self, entries: list[LogEntry] | None = None) -> None:
        self.entries: list[LogEntry] = list(entries or [])
        self.reads: list[tuple[int, int]] = []

    def append(self, *entries: LogEntry) -> None:
        """Appends entries as the write side would."""
        self.entries.extend(entries)

    def head_position(self) -> int:
        """The last position, 0 when empty."""
        return self.entries[-1].position if self.entries else 0

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries after `after`, recording the call."""
        self.reads.append((after, limit))
        return [entry for entry in self.entries if entry.position > after][:limit]

    def attach_alert_check(self, check: Callable[[str, date], bool]) -> None:
        """Keeps the read side's alert check, as `Ledger.attach_alert_check` does."""
        self.alert_check = check


class StandInLedger(MemoryLog):
    """The log, the token lookup and a store description: all the app's read routes (and
    its follower, which polls a SQLite store) ask of the ledger."""

    store = StoreConfig(kind="sqlite", description="in memory", env={})

    def __init__(self, entries: list[LogEntry], tokens: Mapping[str, Actor]) -> None:
        super().__init__(entries)
        self.tokens = dict(tokens)

    def known_actor(self, token: str) -> Actor | None:
        """Who holds `token`, if anyone."""
        return self.tokens.get(token)

    actor_for_token = known_actor


def carats_by_source(state: Custody, lot_id: str) -> dict[str, Fraction]:
    """An independent oracle: carats by source, recomputed recursively through the lineage
    (a split child takes its share of the parent's carats, a merge sums its parts)."""
    lot = state.lots[lot_id]
    if lot.source_id is not None:
        return {lot.source_id: Fraction(lot.carats, 100)}
    found: dict[str, Fraction] = {}
    for parent_id in lot.parents:
        parent = state.lots[parent_id]
        weight = Fraction(1) if len(lot.parents) > 1 else Fraction(lot.carats, parent.carats)
        for source_id, carats in carats_by_source(state, parent_id).items():
            found[source_id] = found.get(source_id, Fraction(0)) + carats * weight
    return found


def walked_graph(state: Custody) -> nx.DiGraph:
    """The custody graph as the queries walk it: every node's `successors`."""
    participants = dict.fromkeys(state.participants)
    participants.update(dict.fromkeys(s.participant for s in state.sources.values()))
    participants.update(
        dict.fromkeys(c.importer for c in state.certificates.values() if c.received_at)
    )
    graph = nx.DiGraph()
    for node in [
        *(node_id("participant", code) for code in participants),
        *(node_id("source", key) for key in state.sources),
        *(node_id("lot", key) for key in state.lots),
        *(node_id("certificate", key) for key in state.certificates),
        *(node_id("operator", key) for key in state.operators),
    ]:
        graph.add_node(node)
        for target, attributes in successors(state, node):
            graph.add_edge(node, target, **attributes)
    return graph


def graph_from_state(state: Custody) -> nx.DiGraph:
    """The custody graph rebuilt from the state's tables alone, to compare with the one
    maintained entry by entry."""
    graph = nx.DiGraph()
    for code in state.participants:
        graph.add_node(node_id("participant", code))
    for source in state.sources.values():
        graph.add_edge(
            node_id("participant", source.participant),
            node_id("source", source.source_id),
            kind="registered-in",
            position=source.position,
        )
    for lot in state.lots.values():
        node = node_id("lot", lot.lot_id)
        graph.add_node(node)
        if lot.source_id is not None:
            graph.add_edge(
                node_id("source", lot.source_id),
                node,
                kind="produced-at",
                position=lot.created_at,
                carats=lot.carats,
            )
        for parent_id in lot.parents:
            parent = state.lots[parent_id]
            many = len(lot.parents) > 1
            graph.add_edge(
                node_id("lot", parent_id),
                node,
                kind="merged-into" if many else "split-into",
                position=lot.created_at,
                carats=parent.carats if many else lot.carats,
            )
    for certificate in state.certificates.values():
        node = node_id("certificate", certificate.certificate_id)
        graph.add_node(node)
        for lot_id in certificate.lot_ids:
            graph.add_edge(
                node_id("lot", lot_id),
                node,
                kind="shipped-under",
                position=certificate.position,
                carats=state.lots[lot_id].carats,
            )
        if certificate.received_at is not None:
            graph.add_edge(
                node,
                node_id("participant", certificate.importer),
                kind="received-by",
                position=certificate.received_at,
                carats=certificate.received_carats,
            )
    for operator_id in state.operators:
        graph.add_node(node_id("operator", operator_id))
    for lot in state.lots.values():
        for operator_id, position in lot.operators:
            edge = (node_id("operator", operator_id), node_id("lot", lot.lot_id))
            if not graph.has_edge(*edge):  # the first time the operator took the lot
                graph.add_edge(*edge, kind="held", position=position, carats=lot.carats)
    return graph

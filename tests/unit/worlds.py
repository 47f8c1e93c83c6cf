"""Hand-built worlds for the read-side tests: raw documents, an in-memory log, an oracle."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

import networkx as nx

from ledger.log import LogEntry
from projections.custody import Custody, node_id
from projections.examples import log_entry, numbered

__all__ = [
    "MemoryLog",
    "admitted",
    "carats_by_source",
    "certified",
    "confirmed",
    "embargo",
    "flagged",
    "graph_from_state",
    "lifted",
    "log_entry",
    "merged",
    "mine",
    "numbered",
    "produced",
    "seized",
    "site",
    "split",
]

LOCATION = {"lat": 6.0, "lon": -1.0}


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


def admitted(code: str, name: str | None = None) -> dict[str, Any]:
    return {"type": "participant.admitted", "participant": code, "name": name or code}


def mine(
    mine_id: str, participant: str, region: str, capacity: str | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": "mine.registered",
        "mine_id": mine_id,
        "participant": participant,
        "name": mine_id,
        "region": region,
        "location": LOCATION,
    }
    if capacity is not None:
        document["annual_capacity_carats"] = capacity
    return document


def site(site_id: str, participant: str, region: str) -> dict[str, Any]:
    return {
        "type": "alluvial_site.registered",
        "site_id": site_id,
        "participant": participant,
        "region": region,
        "location": LOCATION,
        "licence": {"number": "L-1", "holder": "Coop", "valid_until": "2030-12-31"},
    }


def produced(
    lot_id: str, source_id: str, carats: str, value_usd: str = "1000", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "lot.produced",
        "lot_id": lot_id,
        "source_id": source_id,
        "carats": carats,
        "value_usd": value_usd,
        **extra,
    }


def split(lot_id: str, *parts: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "lot.split",
        "lot_id": lot_id,
        "into": [
            {"lot_id": child, "carats": carats, "value_usd": "100"} for child, carats in parts
        ],
    }


def merged(into: str, *lot_ids: str) -> dict[str, Any]:
    return {
        "type": "lots.merged",
        "lot_ids": list(lot_ids),
        "into": {"lot_id": into, "value_usd": "100"},
    }


def certified(
    certificate_id: str,
    exporter: str,
    importer: str,
    lot_ids: list[str],
    carats: str,
    value_usd: str = "1000",
    issued_on: str = "2026-01-10",
    expires_on: str = "2026-03-10",
) -> dict[str, Any]:
    return {
        "type": "export.certified",
        "certificate_id": certificate_id,
        "exporting_participant": exporter,
        "importing_participant": importer,
        "lot_ids": lot_ids,
        "exporter": {"name": "Exporter"},
        "importer": {"name": "Importer"},
        "hs_code": "7102.10",
        "carats": carats,
        "value_usd": value_usd,
        "declared_origin": "MIXED",
        "issued_on": issued_on,
        "expires_on": expires_on,
    }


def confirmed(
    certificate_id: str, carats: str, value_usd: str = "1000", received_on: str = "2026-01-12"
) -> dict[str, Any]:
    return {
        "type": "import.confirmed",
        "certificate_id": certificate_id,
        "carats": carats,
        "value_usd": value_usd,
        "received_on": received_on,
    }


def embargo(
    embargo_id: str, participant: str, effective_from: str, region: str | None = None
) -> dict[str, Any]:
    document = {
        "type": "embargo.declared",
        "embargo_id": embargo_id,
        "participant": participant,
        "reason": "UNSC resolution",
        "effective_from": effective_from,
    }
    if region is not None:
        document["region"] = region
    return document


def lifted(embargo_id: str, effective_to: str) -> dict[str, Any]:
    return {"type": "embargo.lifted", "embargo_id": embargo_id, "effective_to": effective_to}


def flagged(lot_id: str) -> dict[str, Any]:
    return {"type": "lot.flagged", "lot_id": lot_id, "reason": "suspicious"}


def seized(lot_id: str) -> dict[str, Any]:
    return {"type": "lot.seized", "lot_id": lot_id, "reason": "smuggled"}


def at(instant: str) -> dict[str, Any]:
    """An `occurred_at` field, to merge into a raw document."""
    return {"occurred_at": datetime.fromisoformat(instant).isoformat()}


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
    return graph

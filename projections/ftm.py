"""A custody subgraph as FollowTheMoney entities, one JSON object a line, for Aleph and
OpenSanctions' tools (`ftm`, `alephclient`).

Every entity is built and checked by the `followthemoney` library's model:

- an operator is a `Company` (its licence number, its participant as jurisdiction), tagged
  `sanction` while a listing is in force on the reading date; each of its listings is a
  `Sanction` of it;
- a participant's KP authority is a `PublicBody`, and an `UnknownLink` (role `licensed`)
  joins it to each operator it licensed;
- a lot is an `Asset` (its carats in `description`, its value in USD), and each operator
  that held it an `Ownership` from the day it took the lot (`startDate`) to the day it
  passed it on, or the lot was split, merged or received by an importer that named no
  operator (`endDate`; none while it still holds it).

The entities are those of the subgraph's nodes (lots, operators, participants, and the
participants of its sources and certificates) and of the operators that held its lots.
Ids are `kpl-<kind>-<id>` (`kpl-<kind>-<SHA-1>` for an id FtM does not take as is).
Dates are the `occurred_at` days of the documents at those positions, as posted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING

from followthemoney import EntityProxy, model, registry

from ledger.amounts import amount_text, in_units
from projections.certificates import find_certificate
from projections.custody import CONSUMED, Custody, Lot
from projections.graph import node_key, node_kind

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["MEDIA_TYPE", "ftm_entities", "ftm_lines"]

MEDIA_TYPE = "application/x-ndjson"

Dates = Callable[[Iterable[int]], Mapping[int, date]]
"""The day of each log position asked for."""


def _entity_id(kind: str, key: str) -> str:
    """`kpl-<kind>-<key>`, or a digest of the key where FtM refuses it as an id.

    >>> _entity_id("lot", "GH-ACC-2005-0412"), _entity_id("lot", "A_1")
    ('kpl-lot-GH-ACC-2005-0412', 'kpl-lot-86684571efbdc2d7a49562ba')
    """
    readable = f"kpl-{kind}-{key}"
    if registry.entity.clean(readable) == readable:
        return readable
    return f"kpl-{kind}-{hashlib.sha1(key.encode()).hexdigest()[:24]}"


def _make(schema: str, kind: str, key: str) -> EntityProxy:
    entity = model.make_entity(schema)
    entity.id = _entity_id(kind, key)
    return entity


def _country(code: str) -> str | None:
    return registry.country.clean(code)


class _Builder:
    """Builds the entities of one subgraph from the state it was cut from."""

    def __init__(self, state: Custody, today: date) -> None:
        self.state = state
        self.today = today
        self.positions: set[int] = set()  # whose days the ownerships need

    def authority(self, code: str) -> EntityProxy:
        participant = self.state.participants.get(code)
        name = participant.name if participant is not None else code
        body = _make("PublicBody", "authority", code)
        body.add("name", f"{name}: Kimberley Process authority")
        body.add("jurisdiction", _country(code))
        body.add("country", _country(code))
        return body

    def company(self, operator_id: str) -> Iterator[EntityProxy]:
        operator = self.state.operators[operator_id]
        company = _make("Company", "operator", operator_id)
        company.add("name", operator.name)
        company.add("jurisdiction", _country(operator.participant))
        company.add("licenseNumber", operator.licence_number)
        company.add("classification", list(operator.roles))
        listings = [self.state.listings[listing_id] for listing_id in operator.listings]
        if any(listing.in_force(self.today) for listing in listings):
            company.add("topics", "sanction")
        yield company
        for listing in listings:
            sanction = _make("Sanction", "listing", listing.listing_id)
            sanction.add("entity", company.id)
            sanction.add("authorityId", listing.listing_id)
            sanction.add("reason", listing.reason)
            sanction.add("startDate", listing.effective_from.isoformat())
            if listing.effective_to is not None:
                sanction.add("endDate", listing.effective_to.isoformat())
            yield sanction
        licensed = _make("UnknownLink", "licence", operator_id)
        licensed.add("subject", _entity_id("authority", operator.participant))
        licensed.add("object", company.id)
        licensed.add("role", "licensed")
        yield licensed

    def asset(self, lot: Lot) -> EntityProxy:
        asset = _make("Asset", "lot", lot.lot_id)
        asset.add("name", lot.lot_id)
        asset.add("description", f"{amount_text(in_units(lot.carats))} ct of rough diamonds")
        asset.add("amount", amount_text(in_units(lot.value_usd)))
        asset.add("currency", "USD")
        asset.add("amountUsd", amount_text(in_units(lot.value_usd)))
        return asset

    def holdings(self, lot: Lot) -> Iterator[tuple[str, int, int | None]]:
        """(operator, position taken, position passed on or None) of each operator that
        held the lot, in order."""
        holdings = lot.operators
        for index, (operator_id, taken) in enumerate(holdings):
            if index + 1 < len(holdings):
                yield operator_id, taken, holdings[index + 1][1]
            elif lot.status == CONSUMED:
                yield operator_id, taken, lot.history[-1]
            elif lot.operator is None:  # received by an importer that named no operator
                received = [
                    certificate.received_at
                    for certificate in self.state.shipments(lot)
                    if certificate.received_at is not None and certificate.received_at > taken
                ]
                yield operator_id, taken, min(received) if received else None
            else:
                yield operator_id, taken, None

    def ownership(
        self,
        lot: Lot,
        operator_id: str,
        taken: int,
        passed_on: int | None,
        days: Mapping[int, date],
    ) -> EntityProxy:
        ownership = _make("Ownership", "ownership", f"{lot.lot_id}.{operator_id}.{taken}")
        ownership.add("owner", _entity_id("operator", operator_id))
        ownership.add("asset", _entity_id("lot", lot.lot_id))
        ownership.add("role", "held")
        ownership.add("startDate", days[taken].isoformat())
        if passed_on is not None:
            ownership.add("endDate", days[passed_on].isoformat())
        return ownership


def ftm_entities(state: Custody, graph: nx.DiGraph, today: date, dates: Dates) -> list[EntityProxy]:
    """The FollowTheMoney entities of a subgraph cut from `state` (see the module), listings
    judged on `today`; `dates` gives the day of the positions the ownerships start and end.
    """
    builder = _Builder(state, today)
    lots = [state.lots[node_key(node)] for node in graph if node_kind(node) == "lot"]
    participants: dict[str, None] = {}
    operators: dict[str, None] = {}
    for node in graph:
        kind, key = node_kind(node), node_key(node)
        if kind == "participant":
            participants[key] = None
        elif kind == "source":
            participants[state.sources[key].participant] = None
        elif kind == "certificate":
            certificate = find_certificate(state, key)  # a cancelled one as issued
            participants[certificate.exporter] = participants[certificate.importer] = None
        elif kind == "operator":
            operators[key] = None
    holdings = {lot.lot_id: list(builder.holdings(lot)) for lot in lots}
    for lot in lots:
        participants.update(dict.fromkeys(lot.holders))
        operators.update(dict.fromkeys(operator_id for operator_id, _, _ in holdings[lot.lot_id]))
    participants.update(dict.fromkeys(state.operators[o].participant for o in operators))
    positions = {p for held in holdings.values() for _, *ends in held for p in ends if p}
    days = dates(sorted(positions))
    entities = [builder.authority(code) for code in sorted(participants)]
    for operator_id in sorted(operators):
        entities.extend(builder.company(operator_id))
    for lot in lots:
        entities.append(builder.asset(lot))
        for operator_id, taken, passed_on in holdings[lot.lot_id]:
            entities.append(builder.ownership(lot, operator_id, taken, passed_on, days))
    return entities


def ftm_lines(entities: Iterable[EntityProxy]) -> str:
    """The entities as FtM's line-delimited JSON (one object a line)."""
    return "".join(json.dumps(entity.to_dict(), sort_keys=True) + "\n" for entity in entities)

"""Properties over random worlds of operators: produce, cut, merge, sell, ship, receive,
seize, revoke and list. No store: the write side runs over a dict of aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import networkx as nx
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.documents import HANDLING, parse_document
from ledger.handling import UnitOfWork
from ledger.lots import Lot
from projections.custody import Custody
from projections.examples import numbered
from projections.operators import operator_view
from projections.provenance import custody_steps, downstream, lot_view
from projections.reads import Reads
from tests.support import (
    admitted,
    confirmed,
    export,
    licensed,
    listed,
    merged,
    mine,
    operator_revoked,
    produced,
    seized,
    split,
    transferred,
)
from tests.unit.worlds import MemoryLog, graph_from_state, walked_graph

PARTICIPANTS = ("GH", "CI", "AE")
SOURCES = {"M-GH": "GH", "M-CI": "CI", "M-AE": "AE"}
ROLES = {"D": ("digger",), "B": ("buyer", "dealer"), "X": ("exporter",), "I": ("importer",)}
READ_ON = datetime(2026, 6, 1, tzinfo=UTC)


def _text(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


class Naive:
    """The world as the strategy knows it: each lot's holder, status, size and operator."""

    def __init__(self) -> None:
        self.lots: dict[str, dict[str, Any]] = {}
        self.barred: set[str] = set()  # revoked or listed: may no longer be named

    def held(self, holder: str | None = None) -> list[str]:
        return sorted(
            lot_id
            for lot_id, lot in self.lots.items()
            if lot["status"] == "held" and holder in (None, lot["holder"])
        )

    def usable(self, participant: str, kind: str) -> list[str]:
        operator_id = f"{participant}-{kind}"
        return [] if operator_id in self.barred else [operator_id]


@st.composite
def operator_worlds(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """A valid sequence of documents, and the operator holding each lot after it."""
    documents: list[dict[str, Any]] = [admitted(code) for code in PARTICIPANTS]
    documents += [mine(mine_id, code) for mine_id, code in SOURCES.items()]
    documents += [
        licensed(f"{code}-{kind}", *roles) for code in PARTICIPANTS for kind, roles in ROLES.items()
    ]
    world = Naive()
    pending: dict[str, tuple[str, list[str]]] = {}
    counter = 0

    def new_id(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter}"

    for _ in range(draw(st.integers(1, 30))):
        held = world.held()
        operation = draw(
            st.sampled_from(
                ["produce", "split", "merge", "transfer", "ship", "confirm", "seize", "bar"]
            )
        )
        if operation == "produce" or not held:
            source_id, holder = draw(st.sampled_from(sorted(SOURCES.items())))
            operator = draw(st.sampled_from([None, *world.usable(holder, "D")]))
            hundredths = draw(st.integers(2, 10_000))
            lot_id = new_id("P")
            extra = {} if operator is None else {"operator": operator}
            documents.append(produced(lot_id, source_id, _text(hundredths), **extra))
            world.lots[lot_id] = {
                "holder": holder,
                "status": "held",
                "hundredths": hundredths,
                "operator": operator,
            }
        elif operation == "split":
            lot_id = draw(st.sampled_from(held))
            lot = world.lots[lot_id]
            if lot["hundredths"] < 2:
                continue
            cut = draw(st.integers(1, lot["hundredths"] - 1))
            parts = [(new_id("D"), cut), (new_id("D"), lot["hundredths"] - cut)]
            documents.append(split(lot_id, *((child, _text(c)) for child, c in parts)))
            lot["status"] = "consumed"
            for child, hundredths in parts:
                world.lots[child] = {**lot, "status": "held", "hundredths": hundredths}
        elif operation == "merge":
            groups: dict[tuple[str, str | None], list[str]] = {}
            for lot_id in held:
                lot = world.lots[lot_id]
                groups.setdefault((lot["holder"], lot["operator"]), []).append(lot_id)
            candidates = [key for key, lot_ids in groups.items() if len(lot_ids) > 1]
            if not candidates:
                continue
            key = draw(st.sampled_from(candidates))
            parts_ = draw(
                st.lists(st.sampled_from(groups[key]), min_size=2, max_size=3, unique=True)
            )
            into = new_id("M")
            documents.append(merged(parts_, into))
            total = sum(world.lots[lot_id]["hundredths"] for lot_id in parts_)
            world.lots[into] = {
                "holder": key[0],
                "status": "held",
                "hundredths": total,
                "operator": key[1],
            }
            for lot_id in parts_:
                world.lots[lot_id]["status"] = "consumed"
        elif operation == "transfer":
            lot_id = draw(st.sampled_from(held))
            lot = world.lots[lot_id]
            kind = draw(st.sampled_from(sorted(ROLES)))
            buyers = world.usable(lot["holder"], kind)
            if not buyers:
                continue
            documents.append(transferred(lot_id, buyers[0]))
            lot["operator"] = buyers[0]
        elif operation == "ship":
            lot_id = draw(st.sampled_from(held))
            lot = world.lots[lot_id]
            exporter, operator = lot["holder"], lot["operator"]
            if operator is not None and (not operator.endswith("-X") or operator in world.barred):
                continue
            importer = draw(st.sampled_from([code for code in PARTICIPANTS if code != exporter]))
            certificate_id = new_id(f"{exporter}-C")
            document = export(
                certificate_id, exporter, importer, [lot_id], _text(lot["hundredths"])
            )
            if operator is not None:
                document["exporter"] = {"name": "Exporter", "operator_id": operator}
            documents.append(document)
            lot["status"] = "in_transit"
            pending[certificate_id] = (importer, [lot_id])
        elif operation == "confirm" and pending:
            certificate_id = draw(st.sampled_from(sorted(pending)))
            importer, shipped = pending.pop(certificate_id)
            operator = draw(st.sampled_from([None, *world.usable(importer, "I")]))
            carats = _text(sum(world.lots[lot_id]["hundredths"] for lot_id in shipped))
            extra = {} if operator is None else {"operator_id": operator}
            documents.append(confirmed(certificate_id, carats, **extra))
            for lot_id in shipped:
                world.lots[lot_id].update(holder=importer, status="held", operator=operator)
        elif operation == "seize":
            lot_id = draw(st.sampled_from(held))
            documents.append(seized(lot_id))
            world.lots[lot_id]["status"] = "seized"
        elif operation == "bar":
            code = draw(st.sampled_from(PARTICIPANTS))
            operator_id = f"{code}-{draw(st.sampled_from(sorted(ROLES)))}"
            if operator_id in world.barred:
                continue
            if draw(st.booleans()):
                documents.append(operator_revoked(operator_id))
            else:
                documents.append(listed(new_id("UN-"), operator_id, effective_from="2005-01-01"))
            world.barred.add(operator_id)
    return documents, {lot_id: lot["operator"] for lot_id, lot in world.lots.items()}


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def write_side(documents: list[dict[str, Any]]) -> UnitOfWork:
    """Every document handled, in order, by the write side's rules over a dict of aggregates."""
    store: dict[UUID, Aggregate] = {}
    work = UnitOfWork(lambda ids: {i: store.get(i) for i in ids})
    for raw in documents:
        document = parse_document(raw)
        HANDLING[type(document)].handle(document, work)
        work.take_pending()
    return work


@PROPERTY
@given(operator_worlds())
def test_the_operator_holding_each_lot_is_the_naive_replays(
    world: tuple[list[dict[str, Any]], dict[str, str | None]],
) -> None:
    documents, expected = world
    work = write_side(documents)
    written = {lot_id: work.get(Lot, Lot.create_id(lot_id)) for lot_id in expected}
    assert {lot_id: lot.operator for lot_id, lot in written.items() if lot} == expected
    state = Custody.replay(numbered(documents))
    assert {lot_id: lot.operator for lot_id, lot in state.lots.items()} == expected
    for lot_id, operator in expected.items():
        assert lot_view(state, lot_id)["operator"] == operator
        if operator is not None:
            assert lot_id in state.operators[operator].lots


@PROPERTY
@given(operator_worlds(), st.integers(1, 7))
def test_a_model_caught_up_piecewise_equals_one_rebuilt_from_the_log(
    world: tuple[list[dict[str, Any]], dict[str, str | None]], step: int
) -> None:
    entries = numbered(world[0])
    log = MemoryLog()
    reads = Reads(log, clock=lambda: READ_ON)
    for start in range(0, len(entries), step):
        log.append(*entries[start : start + step])
        reads.catch_up()
    rebuilt = Custody.replay(entries)
    by_position = {entry.position: entry for entry in entries}
    for lot_id in rebuilt.lots:
        assert reads.lot(lot_id) == lot_view(rebuilt, lot_id)
        assert reads.custody(lot_id) == custody_steps(rebuilt, lot_id, by_position)
    for operator_id in rebuilt.operators:
        assert reads.operator(operator_id) == operator_view(rebuilt, operator_id, READ_ON.date())
        assert reads.downstream(operator=operator_id) == downstream(rebuilt, operator=operator_id)
    assert nx.utils.graphs_equal(walked_graph(rebuilt), graph_from_state(rebuilt))
    assert reads.alerts() == Reads(MemoryLog(entries), clock=lambda: READ_ON).alerts()


@PROPERTY
@given(operator_worlds())
def test_custody_steps_name_the_operator_after_each_entry(
    world: tuple[list[dict[str, Any]], dict[str, str | None]],
) -> None:
    documents, expected = world
    entries = numbered(documents)
    state = Custody.replay(entries)
    by_position = {entry.position: entry for entry in entries}
    for lot_id, operator in expected.items():
        steps = [
            s for s in custody_steps(state, lot_id, by_position)["steps"] if s["lot_id"] == lot_id
        ]
        assert steps[-1]["operator"] == operator
        # the operator a step names is the one the model held right after that entry
        for step in steps:
            prefix = Custody.replay(entries[: step["position"]])
            assert prefix.lots[lot_id].operator == step["operator"]


@PROPERTY
@given(operator_worlds(), st.data())
def test_operators_as_of_a_position_equal_a_model_fed_only_that_prefix(
    world: tuple[list[dict[str, Any]], dict[str, str | None]], data: st.DataObject
) -> None:
    entries = numbered(world[0])
    position = data.draw(st.integers(0, len(entries)))
    reads = Reads(MemoryLog(entries), clock=lambda: READ_ON)
    prefix = Custody.replay(entries[:position])
    on = entries[position - 1].recorded_at.date() if position else READ_ON.date()
    for operator_id in prefix.operators:
        assert reads.operator(operator_id, as_of=position) == operator_view(prefix, operator_id, on)
        assert reads.downstream(operator=operator_id, as_of=position) == downstream(
            prefix, operator=operator_id
        )


def test_the_naive_model_is_not_trivial() -> None:
    """The strategy reaches every kind of document (a guard against a vacuous property)."""
    kinds: set[str] = set()

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operator_worlds())
    def collect(world: tuple[list[dict[str, Any]], dict[str, str | None]]) -> None:
        kinds.update(document["type"] for document in world[0])
        kinds.update(
            "exporter-operator" for d in world[0] if "operator_id" in d.get("exporter", {})
        )

    collect()
    assert {
        "lot.transferred",
        "sanction.listed",
        "operator.licence_revoked",
        "lots.merged",
    } <= kinds
    assert "exporter-operator" in kinds
    assert date(2005, 6, 1) < READ_ON.date()

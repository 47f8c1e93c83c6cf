"""Generated worlds with random retractions answer every read as worlds that never had the
retracted documents (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.actors import Actor
from ledger.errors import LedgerError
from tests.integration.test_retractions import (
    answers,
    cancelled_taken_out,
    names,
    post_all,
    reads_of,
    retraction,
)
from tests.support import (
    INVESTIGATOR,
    SECRETARIAT,
    admitted,
    authority,
    confirmed,
    export,
    flagged,
    merged,
    mine,
    produced,
    quick_ledger,
    seized,
    split,
)

PARTICIPANTS = ("GH", "CI", "AE")


@dataclass
class World:
    """A small ledger's documents, generated valid, with the model needed to keep them so."""

    posts: list[tuple[dict[str, Any], Actor]] = field(default_factory=list)
    held: dict[str, tuple[str, int]] = field(default_factory=dict)  # lot -> holder, carats
    in_transit: dict[str, tuple[str, list[str], int]] = field(default_factory=dict)
    mines: dict[str, str] = field(default_factory=dict)  # mine -> participant
    count: int = 0

    def post(self, document: dict[str, Any], actor: Actor) -> None:
        self.posts.append((document, actor))
        self.count += 1

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{self.count}"


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    for code in PARTICIPANTS:
        world.post(admitted(code), SECRETARIAT)
    for code in PARTICIPANTS:
        world.post(mine(f"{code}-M1", code), authority(code))
        world.mines[f"{code}-M1"] = code
    for _ in range(draw(st.integers(3, 12))):
        kinds = ["produce", "mine"]
        if world.held:
            kinds += ["split", "export", "flag", "seize"]
        holders = [holder for holder, _ in world.held.values()]
        if any(holders.count(holder) > 1 for holder in holders):
            kinds.append("merge")
        if world.in_transit:
            kinds.append("confirm")
        kind = draw(st.sampled_from(kinds))
        if kind == "mine":
            code = draw(st.sampled_from(PARTICIPANTS))
            mine_id = world.new_id(f"{code}-M")
            world.post(mine(mine_id, code), authority(code))
            world.mines[mine_id] = code
        elif kind == "produce":
            mine_id = draw(st.sampled_from(sorted(world.mines)))
            code = world.mines[mine_id]
            carats = draw(st.integers(2, 500))
            lot_id = world.new_id(f"{code}-L")
            world.post(produced(lot_id, mine_id, str(carats)), authority(code))
            world.held[lot_id] = (code, carats)
        elif kind == "split":
            lot_id = draw(st.sampled_from(sorted(world.held)))
            code, carats = world.held[lot_id]
            if carats < 2:
                continue
            first = draw(st.integers(1, carats - 1))
            a, b = world.new_id(f"{code}-A"), world.new_id(f"{code}-B")
            world.post(split(lot_id, (a, str(first)), (b, str(carats - first))), authority(code))
            del world.held[lot_id]
            world.held[a], world.held[b] = (code, first), (code, carats - first)
        elif kind == "merge":
            code = draw(st.sampled_from(sorted({h for h in holders if holders.count(h) > 1})))
            mine_lots = sorted(lot for lot, (holder, _) in world.held.items() if holder == code)
            chosen = draw(st.lists(st.sampled_from(mine_lots), min_size=2, max_size=3, unique=True))
            into = world.new_id(f"{code}-X")
            world.post(merged(chosen, into), authority(code))
            world.held[into] = (code, sum(world.held.pop(lot)[1] for lot in chosen))
        elif kind == "export":
            lot_id = draw(st.sampled_from(sorted(world.held)))
            code, carats = world.held.pop(lot_id)
            importer = draw(st.sampled_from([p for p in PARTICIPANTS if p != code]))
            certificate_id = world.new_id(f"{code}-C")
            world.post(
                export(certificate_id, code, importer, [lot_id], str(carats)), authority(code)
            )
            world.in_transit[certificate_id] = (importer, [lot_id], carats)
        elif kind == "confirm":
            certificate_id = draw(st.sampled_from(sorted(world.in_transit)))
            importer, lot_ids, carats = world.in_transit.pop(certificate_id)
            world.post(confirmed(certificate_id, str(carats)), authority(importer))
            for lot_id in lot_ids:
                world.held[lot_id] = (importer, carats)
        elif kind == "flag":
            world.post(flagged(draw(st.sampled_from(sorted(world.held)))), INVESTIGATOR)
        elif kind == "seize":
            lot_id = draw(st.sampled_from(sorted(world.held)))
            code, _ = world.held.pop(lot_id)
            world.post(seized(lot_id), authority(code))
    return world


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=worlds(), data=st.data())
def test_random_retractions_answer_as_if_never_posted(
    kind: str, world: World, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder: Path = tmp_path_factory.mktemp("world")
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    with (
        quick_ledger(kind, folder / "a") as ledger,
        quick_ledger(kind, folder / "b") as other,
    ):
        post_all(ledger, world.posts)
        followed = reads_of(ledger)
        followed.catch_up()
        retractable = [
            index
            for index, (document, _) in enumerate(world.posts)
            if document["type"] not in ("participant.admitted",)
        ]
        tried = data.draw(st.lists(st.sampled_from(retractable), max_size=3, unique=True))
        retracted: set[int] = set()
        for index in tried:
            document, actor = world.posts[index]
            try:
                ledger.post(retraction(document), actor)
            except LedgerError as error:
                assert error.code == "retraction_blocked", error
                continue
            retracted.add(index)
        kept = [post for index, post in enumerate(world.posts) if index not in retracted]
        post_all(other, kept)
        named = names(ledger, other)
        expected = answers(reads_of(other), named)
        for found in (answers(followed, named), answers(reads_of(ledger), named)):
            for index in retracted:  # a cancelled certificate stays readable, as cancelled
                document = world.posts[index][0]
                if document["type"] == "export.certified":
                    found = cancelled_taken_out(found, document["certificate_id"])
                    expected.pop(f"certificate {document['certificate_id']}", None)
            assert found == expected

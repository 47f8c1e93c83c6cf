"""Deep mixing: parcels split, merged and re-exported among the hubs, on each store."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from projections.custody import Custody
from projections.examples import numbered
from projections.reads import Reads
from tests.integration.test_generate import Recorder, recorded
from tests.unit.test_custody_properties import check_against_walked_lineages
from worlds import lineage
from worlds.generate import DEEP_HUBS, DEEP_PATHS_CAP, generate

LOTS = 4000


def test_the_same_seed_gives_the_same_deep_world() -> None:
    first = recorded(lots=LOTS, seed=3, mixing="deep")
    assert first.posted == recorded(lots=LOTS, seed=3, mixing="deep").posted
    other = recorded(lots=LOTS, seed=4, mixing="deep")
    assert [d for _, d in other.posted] != [d for _, d in first.posted]


def test_deep_mixing_names_its_own_documents() -> None:
    """A deep world and the plain one of the same arguments share no event_id, so both
    can be posted to one store."""
    plain = {d["event_id"] for _, d in recorded(lots=500, seed=1).posted}
    deep = {d["event_id"] for _, d in recorded(lots=500, seed=1, mixing="deep").posted}
    assert not plain & deep


def test_plain_worlds_are_unchanged_by_the_option() -> None:
    assert recorded(lots=500, seed=2).posted == recorded(lots=500, seed=2, mixing="none").posted


@pytest.mark.parametrize(
    "arguments", [{"mixing": "shallow"}, {"mixing": "deep", "participants": 3}]
)
def test_deep_mixing_arguments_out_of_range_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate(Recorder(), lots=50, progress=False, **arguments)


def _check_deep(custody: Custody) -> None:
    lots: dict[str, Any] = custody.lots
    depth = lineage.depths(lots)
    paths = lineage.paths(lots)
    deep = [lot_id for lot_id, d in depth.items() if d >= 20]
    assert max(depth.values()) >= 20
    assert len(deep) >= LOTS // 20, len(deep)
    assert {custody.lots[lot_id].holder for lot_id in deep} <= set(DEEP_HUBS)
    widest = max((lineage.fan_in(lots, lot_id) for lot_id in deep), key=lambda f: f.ancestors)
    assert widest.ancestors >= 200, widest
    assert len(custody.lots[widest.lot_id].composition) == widest.sources >= 10
    # Distinct ancestors never exceed the paths that reach them; merges keep paths bounded.
    assert widest.ancestors < paths[widest.lot_id] <= DEEP_PATHS_CAP + 2


def test_a_deep_world_replayed_has_the_depth_and_fan_in() -> None:
    documents = [document for _, document in recorded(lots=LOTS, seed=0, mixing="deep").posted]
    _check_deep(Custody.replay(numbered(documents)))


def test_a_small_deep_world_is_accepted_with_the_depth_and_fan_in(ledger: Ledger) -> None:
    report = generate(ledger, lots=LOTS, seed=0, mixing="deep", progress=False)
    assert report.lots == LOTS
    assert ledger.head_position() == report.documents
    expected = recorded(lots=LOTS, seed=0, mixing="deep").posted
    log = ledger.read_log(0, report.documents + 1)
    assert [entry.document for entry in log] == [document for _, document in expected]
    reads = Reads(ledger)
    _check_deep(reads.read(lambda view: view.custody))


def test_a_deep_worlds_rapid_reexports_and_round_trips_agree_with_walking_each_lineage() -> None:
    documents = [document for _, document in recorded(lots=LOTS, seed=0, mixing="deep").posted]
    rapid_reexports, round_trips = check_against_walked_lineages(numbered(documents))
    assert rapid_reexports >= LOTS // 20 and round_trips >= 1

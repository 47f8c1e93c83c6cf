"""Reads: following the log incrementally, reading instants, as_of, concurrency."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.errors import LedgerError
from projections import reads as module
from projections.examples import BASE_INSTANT, example_entries, log_entry
from projections.reads import Reads
from tests.support import admitted, mine, produced
from tests.unit.worlds import MemoryLog

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def reads_over(log: MemoryLog, **options: object) -> Reads:
    return Reads(log, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def test_reads_catch_up_only_on_new_entries() -> None:
    entries = example_entries()
    log = MemoryLog(entries[:7])
    reads = reads_over(log)
    assert reads.lot("L-GH")["holder"] == "GH"
    assert log.reads == [(0, 1000)]
    log.append(*entries[7:])
    assert reads.lot("L-A")["status"] == "in_transit"
    assert log.reads == [(0, 1000), (7, 1000)]
    reads.lot("L-A")
    assert len(log.reads) == 2  # nothing new: no read of the log


def test_catch_up_reads_in_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [log_entry(p, admitted(code)) for p, code in enumerate(["GH", "CI", "AE"], 1)]
    log = MemoryLog(entries)
    monkeypatch.setattr(module, "_PAGE", 2)
    assert reads_over(log).catch_up() == 3
    assert log.reads == [(0, 2), (2, 2)]


def test_every_entry_feeds_statistics() -> None:
    seen: list[int] = []
    reads = reads_over(MemoryLog(example_entries()))
    reads.statistics.apply = lambda entry: seen.append(entry.position)  # type: ignore[method-assign]
    reads.catch_up()
    assert seen == list(range(1, 14))
    assert reads.with_statistics(lambda statistics: statistics) is reads.statistics


def test_reading_date_is_now_without_as_of() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    assert reads.provenance("L-A")["embargoed"][0]["embargo_id"] == "E-CI"
    assert {a["type"] for a in reads.alerts()} >= {"embargoed_origin", "unconfirmed_certificate"}


def test_as_of_a_position_answers_as_if_only_those_documents_were_posted() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    assert reads.lot("L-CI", as_of=8)["status"] == "in_transit"
    assert reads.lot("L-CI")["status"] == "consumed"
    with pytest.raises(LedgerError) as raised:
        reads.lot("L-A", as_of=10)
    assert raised.value.code == "not_found"
    assert reads.history("L-CI", as_of=9)["events"][-1]["position"] == 9


def test_as_of_a_position_reads_on_the_date_that_entry_was_recorded() -> None:
    entries = example_entries()
    late = replace(entries[-1], recorded_at=datetime(2026, 2, 20, tzinfo=UTC))
    reads = reads_over(MemoryLog([*entries[:-1], late]))
    assert reads.provenance("L-A", as_of=13)["embargoed"] != []
    # as of position 12 the embargo was not yet known, whatever the date
    assert reads.provenance("L-A", as_of=12)["embargoed"] == []


def test_as_of_an_instant_takes_documents_recorded_until_then() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    recorded_8 = BASE_INSTANT + timedelta(hours=8)
    assert reads.lot("L-CI", as_of=recorded_8)["status"] == "in_transit"
    assert reads.lot("L-CI", as_of=recorded_8 - timedelta(microseconds=1))["status"] == "held"
    plus_two = recorded_8.astimezone(datetime.fromisoformat("2026-01-01T00:00+02:00").tzinfo)
    assert reads.lot("L-CI", as_of=plus_two)["status"] == "in_transit"
    with pytest.raises(LedgerError):
        reads.lot("L-CI", as_of=BASE_INSTANT)


def test_as_of_an_instant_judges_embargoes_on_its_date() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    assert reads.provenance("L-A", as_of=datetime(2026, 1, 31, tzinfo=UTC))["embargoed"] == []
    in_february = reads.provenance("L-A", as_of=datetime(2026, 2, 2, tzinfo=UTC))
    assert in_february["embargoed"][0]["carats"] == "53.3333"


def test_as_of_beyond_head_is_head_and_zero_is_empty() -> None:
    log = MemoryLog(example_entries())
    reads = reads_over(log)
    assert reads.lot("L-A", as_of=10**6) == reads.lot("L-A", as_of=13)
    assert reads.alerts(as_of=0) == []


def test_positions_with_gaps() -> None:
    entries = [
        log_entry(2, admitted("GH")),
        log_entry(5, mine("M1", "GH", "Eastern")),
        log_entry(9, produced("L1", "M1", "10")),
    ]
    reads = reads_over(MemoryLog(entries))
    assert reads.catch_up() == 9
    with pytest.raises(LedgerError):
        reads.lot("L1", as_of=8)
    assert reads.lot("L1", as_of=9)["carats"] == "10.00"
    assert [s["position"] for s in reads.custody("L1")["steps"]] == [9]
    assert reads.history("L1")["events"][0]["position"] == 9


def test_replayed_states_are_cached_in_a_small_lru() -> None:
    log = MemoryLog(example_entries())
    reads = reads_over(log, replay_cache_size=2)
    reads.lot("L-CI", as_of=8)
    calls = len(log.reads)
    reads.lot("L-CI", as_of=8)
    assert len(log.reads) == calls
    reads.lot("L-CI", as_of=9)
    reads.lot("L-CI", as_of=10)
    reads.lot("L-CI", as_of=8)
    assert len(log.reads) > calls + 2  # 8 was evicted and replayed again


def test_custody_and_history_reread_entries_from_the_log() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    steps = reads.custody("L-A")["steps"]
    assert [step["position"] for step in steps] == [6, 7, 8, 9, 10, 10, 10, 11, 11, 12]
    history = reads.history("L-A")
    assert [event["type"] for event in history["events"]] == ["lot.split", "export.certified"]


def test_has_held_uses_the_ledger_as_it_stands_now() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    assert reads.has_held("L-CI", "CI") and reads.has_held("L-CI", "GH")
    assert not reads.has_held("L-A", "AE") and not reads.has_held("nope", "GH")


def test_alerts_filter_and_cache() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    all_alerts = reads.alerts()
    assert reads.alerts() is not all_alerts and reads.alerts() == all_alerts
    assert {a["type"] for a in reads.alerts(alert_type="rapid_reexport")} == {"rapid_reexport"}
    assert reads.alerts(participant="AE") == []


def test_downstream_and_graph_answer_through_reads() -> None:
    reads = reads_over(MemoryLog(example_entries()))
    assert reads.downstream(source_id="S-CI", as_of=7)["lots"][0]["lot_id"] == "L-CI"
    assert "certificate:GH-1" not in reads.graph("L-A", "down", as_of=11)
    assert "certificate:GH-1" in reads.graph("L-A", "down")


def test_concurrent_reads_while_the_log_grows() -> None:
    entries = example_entries()
    log = MemoryLog(entries[:5])
    reads = reads_over(log)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(50):
                reads.alerts()
                reads.catch_up()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for entry in entries[5:]:
        log.append(entry)
    for thread in threads:
        thread.join()
    assert errors == []
    assert reads.catch_up() == 13
    assert reads.lot("L-A")["carats"] == "160.00"


def test_reads_on_an_empty_log() -> None:
    reads = reads_over(MemoryLog())
    assert reads.alerts() == [] and reads.catch_up() == 0
    with pytest.raises(LedgerError):
        reads.lot("L1")

"""The read side's filter over a log that cannot list its retractions (no `Ledger`): a
first pass finds them (`kpledger replay`'s from-scratch state), and `Reads` following it
rebuilds after each."""

from __future__ import annotations

from datetime import UTC, datetime

from projections import provenance as queries
from projections.custody import Custody
from projections.examples import log_entry
from projections.reads import Reads
from projections.retractions import from_scratch
from tests.support import admitted, mine, produced
from tests.unit.worlds import MemoryLog


def documents() -> list[dict[str, object]]:
    return [
        admitted("GH"),
        mine("GH-M1", "GH"),
        produced("GH-L1", "GH-M1", "1600.00"),
        produced("GH-L2", "GH-M1", "50.00"),
    ]


def test_a_log_without_a_register_is_filtered_after_a_first_pass() -> None:
    kept = documents()
    wrong = kept[2]
    retraction = {
        "type": "document.retracted",
        "retracted_event_id": wrong["event_id"],
        "reason": "mistyped",
    }
    corrected = produced("GH-L1", "GH-M1", "160.00")
    log = MemoryLog(
        [log_entry(p, d) for p, d in enumerate([*kept, retraction, corrected], start=1)]
    )
    state = from_scratch(Custody(), log, 6)
    never = Custody.replay(
        log_entry(p, d) for p, d in enumerate([kept[0], kept[1], kept[3], corrected], start=1)
    )
    assert queries.lot_view(state, "GH-L1")["carats"] == "160.00"
    assert queries.lot_view(state, "GH-L1")["carats"] == queries.lot_view(never, "GH-L1")["carats"]
    assert sorted(state.lots) == sorted(never.lots)
    assert queries.lot_view(from_scratch(Custody(), log, 4), "GH-L1")["carats"] == "1600.00"
    reads = Reads(log, clock=lambda: datetime(2026, 3, 1, tzinfo=UTC))
    assert reads.lot("GH-L1")["carats"] == "160.00"
    assert reads.lot("GH-L1", as_of=4)["carats"] == "1600.00"
    assert [e.get("retracted_by") for e in reads.history("GH-L1")["events"]] == [5, None, None]

"""The demonstration world's operators on each store: the Kade parcel's chain of operators,
the sanctioned exporter, and the README's first-minute answers."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.application import Ledger
from projections.reads import Reads
from worlds.demo import EXPORTER, KADE_PARCEL, load_demo


def test_the_kade_parcel_passes_from_diggers_to_a_sanctioned_exporter_to_dubai(
    ledger: Ledger,
) -> None:
    load_demo(ledger)
    reads = Reads(ledger, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    lot = reads.lot(KADE_PARCEL)
    assert (lot["holder"], lot["operator"], lot["carats"]) == ("AE", "AE-DXB-ROUGH", "595.00")
    steps = reads.custody(KADE_PARCEL)["steps"]
    chain = [step["operator"] for step in steps if step["lot_id"] == KADE_PARCEL]
    assert chain == ["GH-KADE-BUYERS", EXPORTER, EXPORTER, "AE-DXB-ROUGH"]
    first = [(s["lot_id"], s["operator"]) for s in steps if s["type"] == "lot.produced"]
    assert first == [("GH-AKW-2006-0101", "GH-AKW-DIGGERS"), ("GH-AKW-2006-0102", "GH-AKW-DIGGERS")]

    exporter = reads.operator(EXPORTER)
    assert exporter["sanctions"] == [{"listing_id": "UNSC-1572-2006-01", "in_force": True}]
    assert exporter["lots_held"] == [KADE_PARCEL]
    reach = reads.downstream(operator="GH-AKW-DIGGERS")
    assert [c["certificate_id"] for c in reach["certificates"]] == ["GH-2006-0150"]
    assert reach["participants"] == ["AE", "GH"]
    found = [a for a in reads.alerts() if a["type"] == "sanctioned_party"]
    assert [(a["subject"], a["participant"]) for a in found] == [(EXPORTER, "GH")]


def test_the_replay_digest_covers_operators_and_agrees_both_ways(ledger: Ledger) -> None:
    from projections.replay import replay

    result = load_demo(ledger)
    for as_of in (result.head_position - 1, result.head_position):
        assert replay(ledger, as_of).same

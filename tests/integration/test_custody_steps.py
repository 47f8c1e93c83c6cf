"""A lot's custody steps (GET /v1/lots/{id}/custody) say, after each entry, the holder and
operator the read model itself holds after that entry: a document type that changes a
lot's custody and is missing from the steps' table fails here, not silently."""

from __future__ import annotations

from collections import defaultdict

from ledger.application import Ledger
from projections.custody import Custody
from projections.provenance import custody_steps
from worlds.generate import generate


def test_every_step_states_the_custody_the_read_model_held_after_its_entry(
    ledger: Ledger,
) -> None:
    report = generate(ledger, lots=400, seed=11, operators=30, progress=False)
    entries = list(ledger.read_log(0, report.documents))
    final = Custody.replay(entries)
    touched: dict[int, list[str]] = defaultdict(list)
    for lot in final.lots.values():
        for position in lot.history:
            touched[position].append(lot.lot_id)

    held_after: dict[tuple[int, str], tuple[str, str | None]] = {}
    state = Custody()
    for entry in entries:
        state.apply(entry)
        for lot_id in touched[entry.position]:
            lot = state.lots[lot_id]
            held_after[entry.position, lot_id] = (lot.holder, lot.operator)

    by_position = {entry.position: entry for entry in entries}
    kinds_seen = set()
    for lot_id in final.lots:
        for step in custody_steps(final, lot_id, by_position)["steps"]:
            if step["lot_id"] != lot_id:
                continue  # an ancestor's step, checked as its own lot's
            kinds_seen.add(step["type"])
            expected = held_after[step["position"], lot_id]
            assert (step["holder"], step["operator"]) == expected, step
    assert {"lot.transferred", "export.certified", "import.confirmed", "lot.split"} <= kinds_seen

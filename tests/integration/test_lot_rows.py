"""Lots' stored events are byte for byte what they were when lots were aggregates.

`tests/data/lots_log.jsonl` was exported at commit 6691144, when every lot was an
eventsourcing aggregate: lots produced (with and without an operator), split, merged,
flagged, transferred, certified, received by an importer's operator, seized (held and in
transit), and the retraction of each of those (a lot erased, restored, and formed again),
every kind of stored lot event. Importing it replays every document through today's rules
and must reproduce every hash, which covers each document's stored events (`events_digest`);
`tests/data/lots_states.json` holds each lot's state as the write side read it back then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from ledger.audit import import_log, verify
from ledger.lots import Lot

DATA = Path(__file__).parent.parent / "data"


def _state(lot: Any) -> dict[str, Any]:
    """A lot's public fields as text, as `lots_states.json` keeps them."""
    shown: dict[str, Any] = {"version": lot.version}
    for name, value in vars(lot).items():
        if name.startswith("_") or name in ("id", "version"):
            continue
        if isinstance(value, dict):
            value = {source: str(carats) for source, carats in value.items()}
        elif not isinstance(value, list | bool | None):
            value = str(value)
        shown[name] = value
    return shown


def test_a_log_of_every_lot_event_imports_with_every_hash_and_state(ledger: Ledger) -> None:
    lines = (DATA / "lots_log.jsonl").read_text(encoding="utf-8").splitlines()
    checked = import_log(ledger, lines)
    assert checked.events == len(lines) == ledger.head_position() == 42
    verification = verify(ledger)
    assert verification.ok and verification.head == checked.head
    expected = json.loads((DATA / "lots_states.json").read_text(encoding="utf-8"))
    read = {lot_id: _state(ledger.repository.get(Lot.create_id(lot_id))) for lot_id in expected}
    assert read == expected

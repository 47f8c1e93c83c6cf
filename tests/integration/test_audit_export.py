"""Export of the log as JSON Lines, and its import into an empty store of the other kind."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.audit import AuditError, export_log, import_log, verify
from ledger.log import GENESIS_HASH, entry_hash
from tests.integration.test_audit import ENTRIES, StoredRows, audited_world
from tests.support import authority, basic_world, export, seized

GH = authority("GH")

LINE_FIELDS = [
    "position",
    "event_id",
    "type",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "document",
    "events_digest",
    "prev_hash",
    "hash",
]


@pytest.fixture
def exported(ledger: Ledger) -> list[str]:
    """The audited world's log, exported."""
    audited_world(ledger)
    out = io.StringIO()
    assert export_log(ledger, out) == ENTRIES
    return out.getvalue().splitlines()


@pytest.fixture
def other_store(store_url: str, request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """A fresh store of the other kind: PostgreSQL for SQLite, SQLite for PostgreSQL."""
    kind = "postgresql" if store_url.startswith("sqlite") else "sqlite"
    opened = Ledger.open(request.getfixturevalue(f"{kind}_url"))
    try:
        yield opened
    finally:
        opened.close()


def rechained(entries: list[dict[str, Any]]) -> list[str]:
    """The entries renumbered and their chain rewritten, as a forger would."""
    prev_hash, lines = GENESIS_HASH, []
    for position, entry in enumerate(entries, start=1):
        entry = {**entry, "position": position, "prev_hash": prev_hash}
        entry["hash"] = prev_hash = entry_hash(
            prev_hash=prev_hash,
            position=position,
            recorded_at=datetime.fromisoformat(entry["recorded_at"]),
            recorded_by=entry["recorded_by"],
            document=entry["document"],
            events_digest=entry["events_digest"],
        )
        lines.append(json.dumps(entry))
    return lines


def refused(target: Ledger, lines: list[str], position: int | None, reason: str) -> None:
    with pytest.raises(AuditError) as caught:
        import_log(target, lines)
    assert caught.value.position == position, caught.value
    assert reason in str(caught.value), caught.value
    assert target.head_position() == 0, "a refused file was partly imported"


def test_the_export_has_one_line_per_entry(exported: list[str], ledger: Ledger) -> None:
    entries = [json.loads(line) for line in exported]
    assert [list(entry) for entry in entries] == [LINE_FIELDS] * ENTRIES
    assert [entry["position"] for entry in entries] == list(range(1, ENTRIES + 1))
    for entry, stored in zip(entries, ledger.read_log(0, ENTRIES), strict=True):
        assert entry["hash"] == stored.hash
        assert entry["document"] == stored.document
        assert entry["recorded_at"] == stored.recorded_at.isoformat()


def test_export_then_import_into_the_other_kind_of_store_reproduces_every_entry(
    exported: list[str], ledger: Ledger, other_store: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(exported) + "\n", encoding="utf-8")
    with path.open(encoding="utf-8") as lines:
        imported = import_log(other_store, lines)
    original = verify(ledger)
    assert imported == original
    assert verify(other_store) == original
    assert other_store.read_log(0, 1000) == ledger.read_log(0, 1000)
    again = io.StringIO()
    export_log(other_store, again)
    assert again.getvalue().splitlines() == exported


def test_import_refuses_a_store_that_holds_entries(exported: list[str], ledger: Ledger) -> None:
    with pytest.raises(AuditError, match="already holds 12 entries"):
        import_log(ledger, exported)
    assert ledger.head_position() == ENTRIES


def test_import_refuses_an_altered_document(exported: list[str], other_store: Ledger) -> None:
    altered = exported[5].replace('"carats": "100.00"', '"carats": "900.00"', 1)
    assert altered != exported[5]
    refused(other_store, [*exported[:5], altered, *exported[6:]], 6, "hash does not recompute")


def test_import_refuses_a_file_missing_an_entry(exported: list[str], other_store: Ledger) -> None:
    refused(other_store, exported[:2] + exported[3:], 3, "entry 3 is missing")


def test_import_refuses_reordered_entries(exported: list[str], other_store: Ledger) -> None:
    refused(other_store, [*exported[:3], exported[4], exported[3], *exported[5:]], 4, "missing")


def test_import_refuses_a_line_that_is_no_entry(exported: list[str], other_store: Ledger) -> None:
    refused(other_store, [*exported[:4], '{"position": 5}', *exported[5:]], 5, "line 5")
    refused(other_store, [*exported[:4], "not JSON", *exported[5:]], 5, "line 5")


def test_import_refuses_a_field_that_contradicts_the_document(
    exported: list[str], other_store: Ledger
) -> None:
    entry = json.loads(exported[6])
    entry["type"] = "lot.seized"
    refused(other_store, [*exported[:6], json.dumps(entry), *exported[7:]], 7, "type")


def test_import_refuses_a_rechained_file_that_resends_a_document(
    exported: list[str], other_store: Ledger
) -> None:
    entries = [json.loads(line) for line in exported]
    forged = rechained([*entries[:3], entries[1], *entries[3:]])
    refused(other_store, forged, 4, "resends event_id")


def test_import_refuses_a_rechained_file_the_ledger_does_not_reproduce(
    exported: list[str], other_store: Ledger
) -> None:
    entries = [json.loads(line) for line in exported]
    entries[0]["document"]["name"] = "Republic of Ghana"
    with pytest.raises(AuditError, match="does not reproduce its hash"):
        import_log(other_store, rechained(entries))


def test_a_batch_the_ledger_does_not_reproduce_is_not_appended(
    exported: list[str], other_store: Ledger
) -> None:
    entries = [json.loads(line) for line in exported]
    entries[0]["document"]["name"] = "Republic of Ghana"
    refused(other_store, rechained(entries), 1, "does not reproduce its hash")


def test_export_refuses_an_entry_it_cannot_read(ledger: Ledger, store_url: str) -> None:
    audited_world(ledger)
    stored = StoredRows(store_url)
    stored.set_state(stored.journal_row(4), b"not JSON")
    with pytest.raises(AuditError, match="entry 4 cannot be read"):
        export_log(ledger, io.StringIO())


def test_a_log_with_seizures_reimports_with_every_hash(
    ledger: Ledger, other_store: Ledger, tmp_path: Path
) -> None:
    """A seizure's stored events must not depend on who posted it: a replay does not know."""
    basic_world(ledger)
    ledger.post(export("GH-0001", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"), GH)
    ledger.post(seized("GH-L1"), authority("AE"))  # by the importer, in transit
    ledger.post(seized("CI-L1"), authority("CI"))  # by the holder
    path = tmp_path / "log.jsonl"
    with path.open("w", encoding="utf-8") as out:
        export_log(ledger, out)
    with path.open(encoding="utf-8") as lines:
        assert import_log(other_store, lines) == verify(ledger)

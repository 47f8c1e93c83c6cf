"""Read-model snapshots: a restart from one answers as a full replay; a snapshot that
does not fit the log is refused with one warning line, and the log replayed in full."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.application import Ledger
from ledger.journal import JOURNAL_ID
from ledger.log import LogEntry, LogReader
from ledger.store import store_config
from projections import snapshot
from projections.reads import Reads
from projections.snapshot import Snapshots, snapshot_path
from projections.tables import LazyTable
from worlds.generate import generate

LOTS = 150


class LogUpTo:
    """The log as it stood when its head was `position` (a reader of the real log)."""

    def __init__(self, log: LogReader, position: int) -> None:
        self.log, self.position = log, position

    def head_position(self) -> int:
        return min(self.log.head_position(), self.position)

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        if after >= self.position:
            return []
        page = self.log.read_log(after, min(limit, self.position - after))
        return [entry for entry in page if entry.position <= self.position]


def answers(reads: Reads) -> str:
    """A digest of what the read model answers: every lot's view and provenance, the
    alerts, operators, statistics, search, participants, compliance and the Merkle root."""
    lot_ids, operator_ids = reads.read(
        lambda view: (sorted(view.custody.lots), sorted(view.custody.operators))
    )
    last = reads.entries([reads.position])[reads.position]
    everything = {
        "position": reads.position,
        "lots": {
            lot_id: [reads.lot(lot_id), reads.provenance(lot_id), reads.history(lot_id)]
            for lot_id in lot_ids
        },
        "alerts": reads.alerts(),
        "operators": [reads.operator(operator_id) for operator_id in operator_ids],
        "statistics": reads.with_statistics(
            lambda figures: [figures.report(year) for year in range(2000, 2030)]
        ),
        "search": reads.search("L", kind=None, limit=200, reader=None),
        "participants": reads.participants(),
        "compliance": [reads.compliance(year) for year in range(2004, 2010)],
        "root": reads.with_proofs(lambda tree: [tree.size, tree.tree.root().hex()]),
        "as_of_instant": reads.lot(lot_ids[-1], as_of=last.recorded_at),
    }
    return hashlib.sha256(json.dumps(everything, sort_keys=True, default=str).encode()).hexdigest()


@pytest.fixture
def world(store_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(store_url)
    generate(opened, lots=LOTS, seed=5, progress=False, operators=4)
    try:
        yield opened
    finally:
        opened.close()


def full_replay(ledger: Ledger) -> str:
    reads = Reads(ledger)
    reads.catch_up()
    return answers(reads)


def started(ledger: Ledger, path: Path) -> tuple[Reads, Snapshots]:
    reads = Reads(ledger)
    snapshots = Snapshots(reads, ledger.store, path)
    snapshots.start()
    return reads, snapshots


def saved_at(log: LogReader, ledger: Ledger, path: Path) -> snapshot.Header:
    """A snapshot of the read model of `log` (a view of `ledger`'s log), saved to `path`."""
    reads = Reads(log)
    reads.catch_up()
    header = snapshot.save(reads, path, ledger.store.description)
    assert header is not None
    return header


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name == snapshot.__name__
    ]


def test_a_restart_from_a_snapshot_answers_as_a_full_replay(
    world: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "read.snapshot"
    head = world.head_position()
    header = saved_at(LogUpTo(world, head // 2), world, path)
    assert header.position == head // 2
    caplog.set_level(logging.INFO, logger=snapshot.__name__)
    reads, snapshots = started(world, path)
    assert snapshots.saved_at == head // 2  # loaded, then caught up
    assert reads.position == head
    assert any("loaded from" in record.getMessage() for record in caplog.records)
    assert warnings_of(caplog) == []
    assert answers(reads) == full_replay(world)


def test_a_snapshot_of_a_model_loaded_from_one_answers_as_a_full_replay(
    world: Ledger, tmp_path: Path
) -> None:
    """A server started from a snapshot saves again while most of its lots were never
    made into objects (a third of the log applied on top); a restart from that one
    answers as a full replay."""
    path = tmp_path / "read.snapshot"
    head = world.head_position()
    saved_at(LogUpTo(world, head // 3), world, path)
    reads = Reads(LogUpTo(world, 2 * head // 3))
    Snapshots(reads, world.store, path).start()
    lots = reads.read(lambda view: view.custody.lots)
    assert isinstance(lots, LazyTable) and lots.pending > 0
    pending = lots.pending
    assert snapshot.save(reads, path, world.store.description) is not None
    assert lots.pending == pending  # saving made no lot
    again, _ = started(world, path)
    assert answers(again) == full_replay(world)


def test_the_snapshot_file_is_private_whole_and_holds_no_token(
    world: Ledger, tmp_path: Path
) -> None:
    token = world.create_token("investigator", "someone")
    reads = Reads(world)
    snapshots = Snapshots(reads, world.store, tmp_path / "read.snapshot", every=10**9)
    snapshots.start()
    snapshots.stop()  # saves: the read model moved on since no snapshot
    path = tmp_path / "read.snapshot"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if "snapshot" in p.name) == [path.name]
    data = path.read_bytes()
    assert token.encode() not in data
    assert hashlib.sha256(token.encode()).hexdigest().encode() not in data
    header, _ = snapshot.read_file(path)
    assert header.position == world.head_position() == snapshots.saved_at


def test_a_server_saves_once_the_log_has_grown_by_every_entries(
    world: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "read.snapshot"
    reads = Reads(world)
    snapshots = Snapshots(reads, world.store, path, every=50, interval=0.05)
    snapshots.start()
    try:
        deadline = time.monotonic() + 20
        while snapshots.saved_at != world.head_position() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert snapshot.read_file(path)[0].position == world.head_position()
    finally:
        snapshots.stop()


def _rewritten(path: Path, **changes: Any) -> None:
    header, payload = snapshot.read_file(path)
    snapshot.write_file(path, dataclasses.replace(header, **changes), bytes(payload))


def _flip_a_payload_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-len(data) // 3] ^= 0x20
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])


SPOILED = {
    "corrupt payload": (_flip_a_payload_byte, "corrupt: its payload's SHA-256"),
    "not a snapshot": (
        lambda path: path.write_bytes(b"PK\x03\x04" * 64),
        "corrupt: not a kpledger",
    ),
    "truncated": (_truncate, "truncated:"),
    "truncated header": (lambda p: p.write_bytes(p.read_bytes()[:40]), "truncated:"),
    "format version": (
        lambda path: _rewritten(path, format=snapshot.FORMAT_VERSION + 1),
        f"format version {snapshot.FORMAT_VERSION + 1}, "
        f"this kpledger reads version {snapshot.FORMAT_VERSION}",
    ),
    "exact compositions (format 2)": (
        lambda path: _rewritten(path, format=2),
        f"format version 2, this kpledger reads version {snapshot.FORMAT_VERSION}",
    ),
    "other code": (lambda path: _rewritten(path, code="0" * 64), "another version of kpledger"),
    "other store": (
        lambda path: _rewritten(path, store="PostgreSQL database other at elsewhere:5432"),
        "from another store (PostgreSQL database other",
    ),
    "other entry 1": (
        lambda path: _rewritten(path, genesis="0" * 64),
        "from another store (its entry 1 is not this log's)",
    ),
    "other entry at its position": (
        lambda path: _rewritten(path, entry_hash="0" * 64),
        "stale: the log's entry",
    ),
}


@pytest.mark.parametrize("spoil", SPOILED)
def test_a_snapshot_that_does_not_fit_is_refused_in_one_line(
    spoil: str, world: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "read.snapshot"
    saved_at(LogUpTo(world, world.head_position() - 7), world, path)
    spoiling, reason = SPOILED[spoil]
    spoiling(path)
    reads, snapshots = started(world, path)
    (warning,) = warnings_of(caplog)
    assert reason in warning, warning
    assert warning.endswith("replaying the log in full") and "\n" not in warning
    assert snapshots.saved_at == 0
    assert answers(reads) == full_replay(world)


def _forget_entries_after(store_url: str, position: int) -> None:
    """Deletes the journal rows after `position` behind the ledger's back, as a log
    restored from an older backup would stand."""
    if store_url.startswith("sqlite:"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as connection:
            connection.execute(
                "DELETE FROM stored_events WHERE originator_id = ? AND originator_version > ?",
                (JOURNAL_ID.hex, position),
            )
        return
    with psycopg.connect(store_url) as connection:
        connection.execute(
            "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version > %s",
            (JOURNAL_ID, position),
        )


def test_a_snapshot_ahead_of_the_log_is_refused(
    store_url: str, world: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "read.snapshot"
    head = world.head_position()
    saved_at(world, world, path)
    _forget_entries_after(store_url, head - 5)
    assert world.head_position() == head - 5
    reads, _ = started(world, path)
    (warning,) = warnings_of(caplog)
    assert f"ahead of the log: taken at position {head}, the log's head is {head - 5}" in warning
    assert reads.position == head - 5
    assert answers(reads) == full_replay(world)


def test_no_snapshot_and_off_replay_in_full_without_a_warning(
    world: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reads, snapshots = started(world, tmp_path / "absent.snapshot")
    assert reads.position == world.head_position() and snapshots.saved_at == 0
    off = Snapshots(Reads(world), world.store, None)
    assert off.start() == world.head_position()
    off.stop()
    assert warnings_of(caplog) == []
    assert [path for path in tmp_path.iterdir() if "snapshot" in path.name] == []


def test_the_setting_names_the_file_or_turns_snapshots_off(tmp_path: Path) -> None:
    sqlite = store_config(f"sqlite:///{tmp_path / 'ledger.db'}")
    postgresql = store_config("postgresql://someone:secret@db.example:5433/kpl")
    assert snapshot_path("", sqlite) == tmp_path / "ledger.readmodel.snapshot"
    assert snapshot_path("", postgresql) == Path("kpledger-readmodel.snapshot")
    assert snapshot_path("/var/lib/kpl/read.snapshot", postgresql) == Path(
        "/var/lib/kpl/read.snapshot"
    )
    assert snapshot_path("off", sqlite) is None and snapshot_path("OFF", postgresql) is None
    assert "secret" not in postgresql.description  # the header names the store by it


def test_a_snapshot_that_cannot_be_written_is_a_warning(
    world: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reads = Reads(world)
    snapshots = Snapshots(reads, world.store, tmp_path / "no such folder" / "read.snapshot")
    snapshots.start()
    assert snapshots.save() is None
    snapshots.stop()  # tries once more, as a server stopping would
    found = warnings_of(caplog)
    assert len(found) == 2 and all("not written" in line for line in found), found
    assert reads.position == world.head_position()

"""A long catch-up reads the log in a process of its own (`ledger.reader`): the read
model it builds is the one a catch-up reading in this process builds, findings included,
on each store, and it reads here when that process fails."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.log import LogEntry
from ledger.store import StoreConfig
from projections.reads import ReadModel, Reads
from tests.integration.test_audit import ENTRIES, StoredRows, audited_world, world
from tests.support import SECRETARIAT, flagged

__all__ = ["world"]  # the fixture, used below

ALWAYS = 1
"""`process_from` that sends every catch-up to the reader process."""


class _Log:
    """The ledger's log, under another store's description (for the reader process)."""

    def __init__(self, ledger: Ledger, store: StoreConfig) -> None:
        self.ledger, self.store = ledger, store

    def head_position(self) -> int:
        return self.ledger.head_position()

    def read_log(self, after: int, limit: int) -> list[LogEntry]:
        return self.ledger.read_log(after, limit)


def _model(reads: Reads) -> list[bytes]:
    """The read model, each part pickled: custody, statistics, directory, tree, instants
    (parts pickled apart: which strings two parts share is no part of what they hold)."""

    def dump(model: ReadModel) -> list[bytes]:
        return [pickle.dumps(getattr(model, field.name)) for field in dataclasses.fields(model)]

    return reads.saved(dump)


def _caught_up(log: Any, process_from: int) -> Reads:
    reads = Reads(log, process_from=process_from)
    assert reads.catch_up() == ENTRIES
    return reads


def test_a_catch_up_read_in_another_process_builds_the_same_model(ledger: Ledger) -> None:
    audited_world(ledger)
    here, there = _caught_up(ledger, 10**9), _caught_up(ledger, ALWAYS)
    assert _model(there) == _model(here)
    assert there.proofs.tree.root() == here.proofs.tree.root()
    ledger.post(flagged("GH-L1a"), SECRETARIAT)  # and from a position other than 0
    assert here.catch_up() == there.catch_up() == ENTRIES + 1
    assert _model(there) == _model(here)


def test_the_reader_process_reports_the_entries_it_cannot_read(
    world: StoredRows, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    # entry 12 (a flag) is one no later entry depends on: without it the read model still
    # applies every other entry (one it depends on stops it: see tests/e2e/test_audit.py)
    world.set_state(world.journal_row(12), b"\xff\xfe not JSON \x00")
    world.replace_in_state(world.journal_row(6), b'"event_id"', b'"event_no"')
    models = []
    for process_from in (10**9, ALWAYS):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            reads = Reads(ledger, process_from=process_from)
            reads.catch_up()
        warnings = [record.getMessage() for record in caplog.records]
        assert any("log entry 12 cannot be decoded" in text for text in warnings), warnings
        assert any("entry 6 has no shape of GET /v1/events" in text for text in warnings)
        assert 12 not in reads.proofs.positions and 6 in reads.proofs.positions
        models.append(_model(reads))
    assert models[0] == models[1]


def test_a_failed_reader_process_leaves_the_catch_up_to_this_one(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    audited_world(ledger)
    nowhere = dataclasses.replace(
        ledger.store,
        env={**ledger.store.env, "SQLITE_DBNAME": "/nonexistent/kpledger.db"}
        | (
            {"POSTGRES_DBNAME": "kpl_no_such_database"} if ledger.store.kind == "postgresql" else {}
        ),
    )
    with caplog.at_level(logging.WARNING):
        reads = _caught_up(_Log(ledger, nowhere), ALWAYS)
    assert "the log's reader process stopped" in caplog.text
    assert _model(reads) == _model(_caught_up(ledger, 10**9))

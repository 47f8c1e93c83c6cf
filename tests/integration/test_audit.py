"""The audit of the stored log on each store: verification, and tampering behind its back.

Tampering is plain SQL on the store's events table (sqlite3 on the file, psycopg
on the database), as someone with write access to the database could do it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
import pytest
from eventsourcing.utils import get_topic

from ledger.application import Ledger
from ledger.audit import verify
from ledger.journal import JOURNAL_ID
from ledger.log import GENESIS_HASH
from ledger.tokens import ApiToken
from tests.support import (
    SECRETARIAT,
    authority,
    basic_world,
    batch,
    confirmed,
    export,
    flagged,
    split,
)

TOKEN_TOPIC = get_topic(ApiToken.Issued)
ENTRIES = 12
"""How many entries `audited_world` appends."""


def audited_world(ledger: Ledger) -> None:
    """`basic_world` (entries 1-7), a split (8), an export and a flag posted as one batch
    (9, 10), the import's confirmation (11) and a flag (12); API tokens in between."""
    ledger.create_token("auditor", "auditor-test")
    basic_world(ledger)
    ledger.create_token("authority", "authority-GH", "GH")
    ledger.post(split("GH-L1", ("GH-L1a", "40"), ("GH-L1b", "60")), authority("GH"))
    ledger.post(
        batch(
            export("GH-0001", "GH", "AE", ["GH-L1a"], "40", declared_origin="GH"),
            flagged("GH-L1b"),
        ),
        authority("GH"),
    )
    ledger.create_token("secretariat", "secretariat-test")
    ledger.post(confirmed("GH-0001", "40"), authority("AE"))
    ledger.post(flagged("CI-L1"), SECRETARIAT)
    assert ledger.head_position() == ENTRIES


class Row(NamedTuple):
    id: int
    originator_id: str
    version: int
    topic: str
    state: bytes


def _uuid(value: Any) -> str:
    try:
        return str(UUID(str(value)))
    except ValueError:
        return str(value)


def _bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


class StoredRows:
    """Direct SQL on a store's events table, behind the ledger's back."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self.is_sqlite = store_url.startswith("sqlite:")
        self.table = "stored_events" if self.is_sqlite else "ledger_events"
        self.id_column = "rowid" if self.is_sqlite else "notification_id"

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.is_sqlite:
            connection: Any = sqlite3.connect(self.store_url.removeprefix("sqlite:///"))
        else:
            connection = psycopg.connect(self.store_url)
        try:
            yield connection
            connection.commit()
        finally:
            connection.close()

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Runs one statement (`?` placeholders, `{table}` and `{id}` filled in)."""
        sql = sql.format(table=self.table, id=self.id_column)
        if not self.is_sqlite:
            sql = sql.replace("?", "%s")
        with self._connection() as connection:
            cursor = connection.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def rows(self) -> list[Row]:
        found = self.execute(
            "SELECT {id}, originator_id, originator_version, topic, state "
            "FROM {table} ORDER BY {id}"
        )
        return [Row(i, _uuid(o), v, t, _bytes(s)) for i, o, v, t, s in found]

    def journal_row(self, position: int) -> Row:
        """The journal row of the entry at `position`."""
        (row,) = [
            row
            for row in self.rows()
            if row.originator_id == str(JOURNAL_ID) and row.version == position
        ]
        return row

    def event_rows(self, position: int) -> list[Row]:
        """The aggregate event rows stored with the entry at `position`."""
        group: list[Row] = []
        for row in self.rows():
            if row.topic == TOKEN_TOPIC:
                continue
            if row.originator_id != str(JOURNAL_ID):
                group.append(row)
            elif row.version == position:
                return group
            else:
                group = []
        raise AssertionError(f"no entry {position}")

    def set_state(self, row: Row, state: bytes) -> None:
        self.execute("UPDATE {table} SET state = ? WHERE {id} = ?", state, row.id)

    def replace_in_state(self, row: Row, old: bytes, new: bytes) -> None:
        assert old in row.state, (old, row.state)
        self.set_state(row, row.state.replace(old, new, 1))

    def delete(self, row: Row) -> None:
        self.execute("DELETE FROM {table} WHERE {id} = ?", row.id)

    def swap_states(self, first: Row, second: Row) -> None:
        assert first.state != second.state
        self.set_state(first, second.state)
        self.set_state(second, first.state)

    def insert(self, originator_id: str, version: int, topic: str, state: bytes) -> None:
        self.execute(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            originator_id,
            version,
            topic,
            state,
        )


@pytest.fixture
def world(ledger: Ledger, store_url: str) -> StoredRows:
    """The audited world on a fresh store of each kind, and SQL access to its rows."""
    audited_world(ledger)
    assert verify(ledger).ok
    return StoredRows(store_url)


def assert_caught(ledger: Ledger, position: int, reason: str) -> None:
    found = verify(ledger)
    assert not found.ok
    assert found.first_bad_position == position, found
    assert found.reason is not None and reason in found.reason, found
    assert verify(ledger) == found, "verification is not repeatable"


# ------------------------------------------------------------------- an unaltered log


def test_an_empty_log_verifies(ledger: Ledger) -> None:
    ledger.create_token("auditor", "auditor-test")
    assert verify(ledger).to_json() == {
        "ok": True,
        "events": 0,
        "head": GENESIS_HASH,
        "signatures": {"verified": 0, "unsigned": 0, "invalid": 0, "first_invalid_position": None},
    }


def test_an_unaltered_log_verifies_repeatably_whatever_the_page_size(ledger: Ledger) -> None:
    audited_world(ledger)
    head = ledger.read_log(ENTRIES - 1, 1)[0].hash
    expected = {
        "ok": True,
        "events": ENTRIES,
        "head": head,
        "signatures": {
            "verified": 0,
            "unsigned": ENTRIES,
            "invalid": 0,
            "first_invalid_position": None,
        },
    }
    assert verify(ledger).to_json() == expected
    assert verify(ledger).to_json() == expected
    for page_size in (1, 2, 3, 7):
        assert verify(ledger, page_size=page_size).to_json() == expected


def test_tokens_are_not_part_of_the_log(world: StoredRows, ledger: Ledger) -> None:
    before = verify(ledger)
    ledger.create_token("investigator", "investigator-test")
    (token,) = [row for row in world.rows() if row.topic == TOKEN_TOPIC][:1]
    world.replace_in_state(token, b'"auditor"', b'"investigator"')
    assert verify(ledger) == before


# ------------------------------------------------------------------- altered rows


def test_an_update_of_a_journal_row_is_caught(world: StoredRows, ledger: Ledger) -> None:
    world.replace_in_state(world.journal_row(6), b'"carats":"100.00"', b'"carats":"900.00"')
    assert_caught(ledger, 6, "hash does not recompute")


def test_an_update_of_an_entry_hash_is_caught(world: StoredRows, ledger: Ledger) -> None:
    row = world.journal_row(ENTRIES)
    stored_hash = row.state[-66:-2]
    world.replace_in_state(row, stored_hash, b"f" * 64)
    assert_caught(ledger, ENTRIES, "hash does not recompute")


def test_an_update_of_an_aggregate_event_row_is_caught(world: StoredRows, ledger: Ledger) -> None:
    (formed, _claim) = world.event_rows(6)
    world.replace_in_state(formed, b'"_data_":"100.00"', b'"_data_":"900.00"')
    assert_caught(ledger, 6, "stored events differ")


def test_an_update_of_an_event_row_of_a_batch_is_caught(world: StoredRows, ledger: Ledger) -> None:
    world.replace_in_state(world.event_rows(10)[0], b"suspicious", b"innocuous")
    assert_caught(ledger, 10, "stored events differ")


def test_an_update_that_keeps_the_meaning_of_a_journal_row_is_caught(
    world: StoredRows, ledger: Ledger
) -> None:
    world.replace_in_state(world.journal_row(3), b',"recorded_by"', b', "recorded_by"')
    assert_caught(ledger, 3, "not stored as the ledger encodes it")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b',"recorded_by"', b',"note":"added","recorded_by"'),
        (b'{"timestamp"', b'{"recorded_by":"someone","timestamp"'),
    ],
    ids=["an added field", "a field twice"],
)
def test_a_journal_row_holding_other_fields_is_caught(
    world: StoredRows, ledger: Ledger, old: bytes, new: bytes
) -> None:
    world.replace_in_state(world.journal_row(7), old, new)
    assert_caught(ledger, 7, "does not hold the fields of an entry")


def test_a_journal_row_with_its_fields_reordered_is_caught(
    world: StoredRows, ledger: Ledger
) -> None:
    row = world.journal_row(2)
    prefix, rest = row.state.split(b',"document":', 1)
    document, suffix = rest.split(b',"recorded_by":', 1)
    reordered = b'{"document":' + document + b"," + prefix[1:] + b',"recorded_by":' + suffix
    world.set_state(row, reordered)
    assert_caught(ledger, 2, "does not hold the fields of an entry")


def test_corrupt_bytes_in_a_journal_row_are_a_finding(world: StoredRows, ledger: Ledger) -> None:
    world.set_state(world.journal_row(4), b"\xff\xfe not JSON \x00")
    assert_caught(ledger, 4, "cannot be decoded")


def test_a_journal_row_given_another_topic_is_caught(world: StoredRows, ledger: Ledger) -> None:
    row = world.journal_row(5)
    world.execute(
        "UPDATE {table} SET topic = ? WHERE {id} = ?", world.event_rows(5)[0].topic, row.id
    )
    assert_caught(ledger, 5, "topic")


def test_an_event_row_moved_to_another_aggregate_is_caught(
    world: StoredRows, ledger: Ledger
) -> None:
    row = world.event_rows(7)[0]
    world.execute(
        "UPDATE {table} SET originator_version = ? WHERE {id} = ?", row.version + 100, row.id
    )
    assert_caught(ledger, 7, "stored events differ")


# ------------------------------------------------------------------- removed rows


def test_a_deleted_aggregate_event_row_is_caught(world: StoredRows, ledger: Ledger) -> None:
    world.delete(world.event_rows(5)[0])
    assert_caught(ledger, 5, "stored events differ")


def test_a_deleted_journal_row_is_caught(world: StoredRows, ledger: Ledger) -> None:
    world.delete(world.journal_row(3))
    assert_caught(ledger, 3, "entry 3 is missing")
    assert verify(ledger).events == ENTRIES - 1


def test_a_deleted_last_journal_row_is_caught(world: StoredRows, ledger: Ledger) -> None:
    world.delete(world.journal_row(ENTRIES))
    assert_caught(ledger, ENTRIES, "follow the last entry")
    assert verify(ledger).head == ledger.read_log(ENTRIES - 2, 1)[0].hash


# ------------------------------------------------------------------- swapped rows


def test_swapped_journal_rows_are_caught(world: StoredRows, ledger: Ledger) -> None:
    world.swap_states(world.journal_row(3), world.journal_row(5))
    assert_caught(ledger, 3, "prev_hash")


def test_swapped_event_rows_of_two_entries_are_caught(world: StoredRows, ledger: Ledger) -> None:
    world.swap_states(world.event_rows(2)[0], world.event_rows(8)[0])
    assert_caught(ledger, 2, "stored events differ")


def test_swapped_event_rows_of_one_entry_are_caught(world: StoredRows, ledger: Ledger) -> None:
    first, second = world.event_rows(6)
    world.swap_states(first, second)
    assert_caught(ledger, 6, "stored events differ")


# ------------------------------------------------------------------- inserted rows


def test_an_inserted_row_after_the_last_entry_is_caught(world: StoredRows, ledger: Ledger) -> None:
    copied = world.event_rows(6)[0]
    world.insert(copied.originator_id, copied.version + 100, copied.topic, copied.state)
    assert_caught(ledger, ENTRIES + 1, "1 stored events follow the last entry")
    assert verify(ledger).events == ENTRIES


def test_an_inserted_entry_that_does_not_chain_is_caught(world: StoredRows, ledger: Ledger) -> None:
    for row in [*world.event_rows(ENTRIES), world.journal_row(ENTRIES)]:
        version = row.version + 1 if row.originator_id == str(JOURNAL_ID) else row.version + 100
        world.insert(row.originator_id, version, row.topic, row.state)
    assert_caught(ledger, ENTRIES + 1, "prev_hash")
    assert verify(ledger).events == ENTRIES + 1


# ------------------------------------------------------------------- SQLite's loose typing


def test_rows_sqlite_cannot_even_return_are_a_finding(sqlite_url: str) -> None:
    ledger = Ledger.open(sqlite_url)
    audited_world(ledger)
    stored = StoredRows(sqlite_url)
    stored.execute(
        "UPDATE {table} SET state = CAST(state AS TEXT) WHERE {id} = ?", stored.event_rows(4)[0].id
    )
    assert_caught(ledger, 4, "stored events differ")
    stored.execute(
        "UPDATE {table} SET originator_id = 'not a uuid' WHERE {id} = ?",
        stored.event_rows(2)[0].id,
    )
    assert_caught(ledger, 2, "cannot be read")

"""The snapshot's encodings of the read model's values: compositions and tables by columns."""

from __future__ import annotations

import io
import pickle
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.log import LogEntry
from projections import snapshot, tables
from projections.custody import Composition, Custody, Lot, RapidReexport
from projections.examples import example_entries, operator_entries
from projections.reads import Reads
from tests.unit.worlds import MemoryLog

sources = st.sampled_from(["S1", "S2", "S3", "S4"])
compositions = st.recursive(
    sources.map(Composition.whole),
    lambda inner: st.lists(
        st.tuples(st.integers(min_value=1, max_value=10**9), inner), min_size=2, max_size=4
    ).map(Composition.merged),
    max_leaves=12,
)


@given(compositions)
def test_a_composition_comes_back_equal_through_the_snapshot_unpickler(
    composition: Composition,
) -> None:
    restored = snapshot._Unpickler(io.BytesIO(pickle.dumps(composition, protocol=5))).load()
    assert restored == composition
    assert (restored.data, restored.carats, restored.bound) == (
        composition.data,
        composition.carats,
        composition.bound,
    )


def test_a_table_of_lots_comes_back_slot_for_slot() -> None:
    lots = {
        f"L{i}": Lot(f"L{i}", 100 + i, 2000 + i, "GH", Composition.whole("S"), i) for i in range(5)
    }
    lots["L3"].history += (9,)
    encoded = tables.encode(lots)
    assert encoded[0] == "columns"
    history = encoded[4][Lot.__slots__.index("history")]
    assert isinstance(history, tables.PackedTuples)  # tuples of positions: packed
    assert all(isinstance(column, list) for column in encoded[4] if column is not history)
    rebuilt = tables.decode(pickle.loads(pickle.dumps(encoded)))
    assert list(rebuilt) == list(lots)
    for lot_id, lot in lots.items():
        for slot in Lot.__slots__:
            assert getattr(rebuilt[lot_id], slot) == getattr(lot, slot), slot


def test_a_column_of_another_length_is_refused() -> None:
    lots = {
        "L1": Lot("L1", 1, 1, "GH", Composition.whole("S"), 1),
        "L2": Lot("L2", 2, 2, "GH", Composition.whole("S"), 2),
    }
    kind, name, slots, keys, columns, by_key = tables.encode(lots)
    columns[0] = columns[0][:1]
    try:
        tables.decode((kind, name, slots, keys, columns, by_key))
    except ValueError as error:
        assert "length" in str(error)
    else:
        raise AssertionError("a short column was accepted")


def test_the_unpickler_finds_nothing_of_the_snapshot_module() -> None:
    payload = pickle.dumps((Composition.whole("S"), snapshot.load))
    try:
        snapshot._Unpickler(io.BytesIO(payload)).load()
    except pickle.UnpicklingError as error:
        assert "projections.snapshot.load" in str(error)
    else:
        raise AssertionError("projections.snapshot.load was found")


def _lots(count: int) -> dict[str, Lot]:
    return {
        f"L{i:03d}"[::-1]: Lot(
            f"L{i:03d}"[::-1], 100 + i, 2000 + i, "GH", Composition.whole("S"), i
        )
        for i in range(count)
    }


def _same(table: dict[str, Lot], expected: dict[str, Lot]) -> None:
    """The table holds what `expected` holds, in its order, slot for slot."""
    assert list(table) == list(expected)
    for (key, lot), (expected_key, expected_lot) in zip(
        table.items(), expected.items(), strict=True
    ):
        assert key == expected_key
        assert [getattr(lot, slot) for slot in Lot.__slots__] == [
            getattr(expected_lot, slot) for slot in Lot.__slots__
        ]


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["get", "missing", "in", "len", "add", "touch", "replace", "keys", "iterate"]
        ),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=25,
)


@given(st.integers(min_value=0, max_value=30), _OPERATIONS)
def test_a_lazy_table_behaves_as_the_dict_it_was_saved_from(
    count: int, operations: list[tuple[str, int]]
) -> None:
    """Lookups, `in`, `len`, new keys, a row changed after it was made, a row replaced,
    iteration, and the table saved again part made: always what a plain dict does."""
    expected = _lots(count)
    table = tables.decode(pickle.loads(pickle.dumps(tables.encode(_lots(count)))))
    assert isinstance(table, tables.LazyTable) or count == 0
    for operation, number in operations:
        key = f"L{number:03d}"[::-1]
        if operation == "get":
            assert (table.get(key) is None) == (key not in expected)
        elif operation == "missing":
            if key in expected:
                assert table[key].lot_id == key
            else:
                try:
                    table[key]
                except KeyError:
                    pass
                else:
                    raise AssertionError(f"{key} was found")
        elif operation == "in":
            assert (key in table) == (key in expected)
        elif operation == "len":
            assert len(table) == len(expected)
        elif operation == "add" and key not in expected:
            table[key] = Lot(key, 1, 1, "AE", Composition.whole("S"), 999)
            expected[key] = Lot(key, 1, 1, "AE", Composition.whole("S"), 999)
        elif operation == "touch" and key in expected:
            table[key].history += (1000,)
            expected[key].history += (1000,)
        elif operation == "replace" and key in expected:
            table[key] = Lot(key, 7, 7, "IN", Composition.whole("S"), 7)
            expected[key] = Lot(key, 7, 7, "IN", Composition.whole("S"), 7)
        elif operation == "keys":  # in order, both ways, without making any row
            pending = table.pending if isinstance(table, tables.LazyTable) else 0
            assert list(table.keys()) == list(expected) and list(table) == list(expected)
            assert list(reversed(table)) == list(reversed(expected))
            assert (table.pending if isinstance(table, tables.LazyTable) else 0) == pending
        elif operation == "iterate":
            _same(table, expected)
        again = tables.decode(pickle.loads(pickle.dumps(tables.encode(table))))
        _same(again, expected)
    _same(table, expected)


def test_a_lazy_table_makes_only_the_rows_looked_up() -> None:
    table = tables.decode(tables.encode(_lots(1000)))
    assert isinstance(table, tables.LazyTable)
    assert table["L100"[::-1]].carats == 200 and "L999"[::-1] in table
    assert table.pending == 999 and len(table) == 1000
    assert "L1000"[::-1] not in table and table.get("nothing") is None
    table.complete()
    assert table.pending == 0 and len(table) == 1000


def test_a_list_of_records_comes_back_whole_and_in_order() -> None:
    reexports = [
        RapidReexport(f"C{i}", "AE", f"I{i}", date(2020, 1, i + 1), i, 10 + i) for i in range(5)
    ]
    encoded = tables.encode(reexports)
    assert encoded[0] == "rows"
    again = tables.decode(pickle.loads(pickle.dumps(encoded)))
    assert [[getattr(r, slot) for slot in RapidReexport.__slots__] for r in again] == [
        [getattr(r, slot) for slot in RapidReexport.__slots__] for r in reexports
    ]
    assert tables.decode(tables.encode([])) == []


def _rows(table: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [getattr(row, slot) for slot in type(row).__slots__] for key, row in table.items()}


@pytest.mark.parametrize(
    "entries", [example_entries(), operator_entries()], ids=["lots", "operators"]
)
def test_a_payload_is_the_model_as_it_stood_when_its_pickling_began(
    entries: list[LogEntry],
) -> None:
    """Reads wait only while `Pickling` starts; the log applied before it finishes (lots
    split, shipped, received, new lots) is not in the payload."""
    for taken_at in range(1, len(entries)):
        log = MemoryLog(entries[:taken_at])
        reads = Reads(log)
        reads.catch_up()
        pickling = reads.saved(snapshot.Pickling)
        log.append(*entries[taken_at:])
        reads.catch_up()
        restored = snapshot._unpickled(io.BytesIO(pickling.finish()))  # type: ignore[arg-type]
        expected = Custody.replay(entries[:taken_at])
        assert restored.custody.position == taken_at
        for name in ("lots", "certificates", "sources"):
            assert _rows(getattr(restored.custody, name)) == _rows(getattr(expected, name)), name

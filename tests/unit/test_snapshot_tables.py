"""The snapshot's encodings of the read model's values: fractions and tables by columns."""

from __future__ import annotations

import io
import pickle
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from projections import snapshot
from projections.custody import Lot


@given(st.fractions())
def test_a_fraction_comes_back_equal_with_the_same_hash(value: Fraction) -> None:
    restored = snapshot._fraction(*snapshot._reduce_fraction(value)[1])
    assert restored == value
    assert hash(restored) == hash(value)
    assert (restored.numerator, restored.denominator) == (value.numerator, value.denominator)
    assert restored + 1 == value + 1


def test_a_table_of_lots_comes_back_slot_for_slot() -> None:
    lots = {
        f"L{i}": Lot(f"L{i}", 100 + i, 2000 + i, "GH", (("S", Fraction(1, 3)),), i)
        for i in range(5)
    }
    lots["L3"].history += (9,)
    encoded = snapshot._columns(lots)
    assert encoded[0] == "columns"
    rebuilt = snapshot._table(pickle.loads(pickle.dumps(encoded)))
    assert list(rebuilt) == list(lots)
    for lot_id, lot in lots.items():
        for slot in Lot.__slots__:
            assert getattr(rebuilt[lot_id], slot) == getattr(lot, slot), slot


def test_a_column_of_another_length_is_refused() -> None:
    lots = {"L1": Lot("L1", 1, 1, "GH", (), 1), "L2": Lot("L2", 2, 2, "GH", (), 2)}
    kind, name, slots, keys, columns = snapshot._columns(lots)
    columns[0] = columns[0][:1]
    try:
        snapshot._table((kind, name, slots, keys, columns))
    except ValueError as error:
        assert "length" in str(error)
    else:
        raise AssertionError("a short column was accepted")


def test_the_unpickler_finds_the_fraction_maker_and_nothing_else_of_the_module() -> None:
    payload = pickle.dumps((snapshot._fraction, snapshot.load))
    try:
        snapshot._Unpickler(io.BytesIO(payload)).load()
    except pickle.UnpicklingError as error:
        assert "projections.snapshot.load" in str(error)
    else:
        raise AssertionError("projections.snapshot.load was found")

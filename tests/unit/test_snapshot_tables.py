"""The snapshot's encodings of the read model's values: compositions and tables by columns."""

from __future__ import annotations

import io
import pickle

from hypothesis import given
from hypothesis import strategies as st

from projections import snapshot
from projections.custody import Composition, Lot

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
    assert list(restored) == list(composition)


def test_a_table_of_lots_comes_back_slot_for_slot() -> None:
    lots = {
        f"L{i}": Lot(f"L{i}", 100 + i, 2000 + i, "GH", Composition.whole("S"), i) for i in range(5)
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
    lots = {
        "L1": Lot("L1", 1, 1, "GH", Composition.whole("S"), 1),
        "L2": Lot("L2", 2, 2, "GH", Composition.whole("S"), 2),
    }
    kind, name, slots, keys, columns = snapshot._columns(lots)
    columns[0] = columns[0][:1]
    try:
        snapshot._table((kind, name, slots, keys, columns))
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

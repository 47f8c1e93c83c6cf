"""Properties of lot compositions (ledger.composition): exact, never rounded, conserved."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.composition import combine, share

SOURCES = ["GH-M1", "GH-M2", "CI-S1", "AE-M1"]

compositions = st.dictionaries(
    st.sampled_from(SOURCES),
    st.fractions(min_value=Fraction(1, 100), max_value=Fraction(10**6), max_denominator=10**4),
    min_size=1,
)


def total(composition: dict[str, Fraction]) -> Fraction:
    return sum(composition.values(), Fraction(0))


@given(compositions, st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=8))
def test_the_parts_of_a_split_add_up_exactly_to_the_whole(
    parent: dict[str, Fraction], weights: list[int]
) -> None:
    whole = total(parent)
    parts = [whole * weight / sum(weights) for weight in weights]
    shares = [share(parent, part, whole) for part in parts]
    for part, child in zip(parts, shares, strict=True):
        assert total(child) == part
        assert set(child) == set(parent)
    assert combine(shares) == parent


@given(compositions, st.fractions(min_value=Fraction(1, 10**4), max_value=1))
def test_a_share_keeps_the_proportions_of_every_source(
    parent: dict[str, Fraction], ratio: Fraction
) -> None:
    whole = total(parent)
    child = share(parent, whole * ratio, whole)
    assert all(child[source] == carats * ratio for source, carats in parent.items())


@given(st.lists(compositions, min_size=1, max_size=6))
def test_a_merge_adds_every_source_up(lots: list[dict[str, Fraction]]) -> None:
    merged = combine(lots)
    assert total(merged) == sum((total(lot) for lot in lots), Fraction(0))
    for source in SOURCES:
        assert merged.get(source, Fraction(0)) == sum(
            (lot.get(source, Fraction(0)) for lot in lots), Fraction(0)
        )


def test_a_third_stays_a_third_through_repeated_splits() -> None:
    lot = {"GH-M1": Fraction(1), "CI-S1": Fraction(2)}
    for _ in range(30):
        lot = share(lot, Fraction(1, 3) * total(lot), total(lot))
    assert lot["GH-M1"] * 2 == lot["CI-S1"]
    assert total(lot) == Fraction(3, 3**30)

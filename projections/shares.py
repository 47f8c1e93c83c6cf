"""Answers from fixed-point compositions, exactly as the exact shares would give them.

A composition's amounts (`projections.records.Composition`) are exact, or within a known
bound of the exact amounts. An answer shows carats to 4 places (`amount_text`) and
fractions as doubles: from an amount within its bound the answer is decided when every
value within the bound prints the same (`approximate_text`, `approximate_fraction`);
otherwise, rarely, the exact share is worked out along the lot's lineage (`exact_share`).
So every answer equals the one exact shares give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from fractions import Fraction
from typing import Any

from ledger.amounts import amount_text, in_units
from projections.records import UNITS, Lot

__all__ = [
    "CENTS",
    "approximate_fraction",
    "approximate_text",
    "exact_share",
    "exact_text",
    "hundredths_text",
    "rounded_text",
    "share_answer",
]

CENTS = [f".{part:02d}" for part in range(100)]
"""The text of each number of hundredths after the point."""
_DIGITS = [f"{part:02d}" for part in range(100)]


def hundredths_text(numerator: int, denominator: int = 1) -> str:
    """`numerator / denominator` hundredths (not negative) as `amount_text` shows them.

    >>> from ledger.amounts import amount_text
    >>> hundredths_text(16005), hundredths_text(16000, 3), hundredths_text(2469, 2)
    ('160.05', '53.3333', '12.345')
    >>> all(
    ...     hundredths_text(n, d) == amount_text(Fraction(n, 100 * d))
    ...     for n in range(1000)
    ...     for d in range(1, 25)
    ... )
    True
    """
    if denominator == 1:
        return f"{numerator // 100}{CENTS[numerator % 100]}"
    units, rest = divmod(numerator * 100, denominator)
    if rest:  # rounded half-up to 4 places
        hundredths, part = divmod(units + (2 * rest >= denominator), 100)
        return f"{hundredths // 100}{CENTS[hundredths % 100]}{_DIGITS[part]}"
    whole, part = divmod(units, 10000)
    return f"{whole}.{f'{part:04d}'.rstrip('0'):0<2}"


def exact_text(carats: int, amount: int, made_of: int) -> str:
    """The text of `amount` units of a composition made for `made_of` hundredths, in a lot
    of `carats` hundredths (`hundredths_text`, on small integers when the amount is whole
    hundredths, as exact amounts mostly are).

    >>> exact_text(300, 100 * UNITS, 300), exact_text(100, 100 * UNITS, 300)
    ('1.00', '0.3333')
    >>> exact_text(100, UNITS // 3 + 1, 1) == hundredths_text(100 * (UNITS // 3 + 1), UNITS)
    True
    """
    hundredths, rest = divmod(amount, UNITS)
    if rest:
        return hundredths_text(carats * amount, made_of * UNITS)
    if carats == made_of:
        return hundredths_text(hundredths)
    return hundredths_text(carats * hundredths, made_of)


def approximate_text(numerator: int, bound: int, denominator: int) -> str | None:
    """What `hundredths_text` shows for a value within `bound / denominator` (strictly) of
    `numerator / denominator` hundredths, or None when values that close print differently
    (a 4-place decimal, or a half of the 4th place, lies within the bound).

    >>> approximate_text(10**6 + 1, 1, 30000), approximate_text(30000, 1, 30000)
    ('0.3333', None)
    """
    if not bound:
        return hundredths_text(numerator, denominator)
    halves, rest = divmod(200 * numerator, denominator)  # halves of the 4th place
    margin = 200 * bound
    if rest < margin or rest + margin >= denominator:
        return None
    return rounded_text((halves + 1) >> 1)  # strictly between two halves: rounded


def rounded_text(units: int) -> str:
    """Ten-thousandths of a carat as a decimal of 4 places.

    >>> rounded_text(1600500), rounded_text(7)
    ('160.0500', '0.0007')
    """
    hundredths, part = divmod(units, 100)
    return f"{hundredths // 100}{CENTS[hundredths % 100]}{_DIGITS[part]}"


def approximate_fraction(numerator: int, bound: int, denominator: int) -> float | None:
    """The double nearest every value within `bound / denominator` (strictly) of
    `numerator / denominator`, or None when they do not round to one double.

    >>> approximate_fraction(1, 0, 3) == 1 / 3, approximate_fraction(2**80, 1, 3 * 2**80)
    (True, 0.3333333333333333)
    >>> approximate_fraction(1, 1, 3) is None
    True
    """
    if not bound:
        return numerator / denominator
    low = (numerator - bound) / denominator  # correctly rounded, and rounding is monotone
    return low if low == (numerator + bound) / denominator else None


def exact_share(
    lots: Mapping[str, Lot],
    lot: Lot,
    sources: AbstractSet[str],
    known: dict[str, Fraction] | None = None,
) -> Fraction:
    """The exact share of the lot's carats from `sources`, along its lineage: a produced
    lot's is all or nothing, a split's part has its parent's, a merged lot the carats its
    parts brought over its own. Only ancestors holding any of `sources` are visited;
    `known` keeps shares (of these `sources`) between calls.

    >>> from projections.examples import example_entries
    >>> from projections.custody import Custody
    >>> state = Custody.replay(example_entries())
    >>> exact_share(state.lots, state.lots["L-A"], {"S-CI"})
    Fraction(1, 3)
    """
    shares: dict[str, Fraction] = {} if known is None else known
    pending = [lot]
    while pending:
        current = pending[-1]
        if current.lot_id in shares:
            pending.pop()
            continue
        if not current.composition.holds_any(sources):
            shares[current.lot_id] = Fraction(0)
        elif not current.parents:
            shares[current.lot_id] = Fraction(1)
        else:
            parents = [lots[parent] for parent in current.parents]
            unknown = [parent for parent in parents if parent.lot_id not in shares]
            if unknown:
                pending.extend(unknown)
                continue
            if len(parents) == 1:
                shares[current.lot_id] = shares[parents[0].lot_id]
            else:
                brought = sum(parent.carats * shares[parent.lot_id] for parent in parents)
                shares[current.lot_id] = Fraction(brought, current.carats)
        pending.pop()
    return shares[lot.lot_id]


def share_answer(
    lots: Mapping[str, Lot],
    lot: Lot,
    amount: int,
    inexact: int,
    sources: Callable[[], AbstractSet[str]],
) -> dict[str, Any]:
    """`{carats, fraction}` of the lot's `amount` units from some sources, `inexact` of the
    amounts summed being inexact, as the exact share gives them: from the amount where its
    bound decides, else from `exact_share` of `sources()`."""
    composition = lot.composition
    total, bound = composition.total, composition.bound * inexact
    if bound:
        carats = approximate_text(lot.carats * amount, lot.carats * bound, total)
    else:
        carats = exact_text(lot.carats, amount, composition.carats)
    fraction = approximate_fraction(amount, bound, total)
    if carats is None or fraction is None:
        exact = exact_share(lots, lot, sources())
        carats, fraction = amount_text(in_units(lot.carats) * exact), float(exact)
    return {"carats": carats, "fraction": fraction}

"""A lot's composition: how many of its carats came from each source, as exact fractions.

Proportions survive every split exactly (Fraction, never rounded), so that the
composition of any lot sums to its carats and a source's carats are conserved
across all the lots that hold them.

>>> from fractions import Fraction
>>> parent = {"MINE-A": Fraction(10), "SITE-B": Fraction(5)}
>>> share(parent, Fraction(7), Fraction(15))
{'MINE-A': Fraction(14, 3), 'SITE-B': Fraction(7, 3)}
>>> combine([{"MINE-A": Fraction(1)}, {"MINE-A": Fraction(2), "SITE-B": Fraction(3)}])
{'MINE-A': Fraction(3, 1), 'SITE-B': Fraction(3, 1)}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

__all__ = ["Composition", "combine", "share"]

Composition = dict[str, Fraction]


def share(composition: Mapping[str, Fraction], part: Fraction, whole: Fraction) -> Composition:
    """The composition of `part` carats taken in proportion from a lot of `whole` carats."""
    ratio = part / whole
    return {source: carats * ratio for source, carats in composition.items()}


def combine(compositions: Iterable[Mapping[str, Fraction]]) -> Composition:
    """The composition of lots merged together: carats per source added up."""
    merged: Composition = {}
    for composition in compositions:
        for source, carats in composition.items():
            merged[source] = merged.get(source, Fraction(0)) + carats
    return merged

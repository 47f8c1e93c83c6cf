"""Lots whose value per carat stands out from their source's recent production.

The facts of alert `production_value_outlier`: a `lot.produced` whose USD per carat is
more than `ratio` times, or less than 1/`ratio` times, the median USD per carat of the
`window` lots produced at the same source just before it (so the first lot judged is
the `window + 1`-th). Judged once, when the lot is produced, from a per-source window
kept as the lots come (a ring in production order and the same values sorted), so the
read side pays O(window) a production and nothing at reading time.

Values per carat are compared in double precision; the rule is fixed when the state is
made (`Custody(value_outliers=...)`): a snapshot taken under another rule is not used.

>>> outliers = ValueOutliers(ValueOutlierRule(ratio=3, window=2))
>>> for position, (lot_id, value) in enumerate([("A", 3000), ("B", 3200), ("C", 9700)], 1):
...     outliers.produced(lot_id, "S1", "GH", 10000, value * 100, position)
>>> [(found.lot_id, found.usd_per_carat, found.median_usd_per_carat) for found in outliers.found]
[('C', 97.0, 31.0)]
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass

__all__ = ["DEFAULT_RULE", "ValueOutlier", "ValueOutlierRule", "ValueOutliers"]


@dataclass(frozen=True, slots=True)
class ValueOutlierRule:
    """How far from its source's median a lot's value per carat stands out (`ratio`,
    above 1), over how many of the source's previous lots (`window`)."""

    ratio: float = 3.0
    window: int = 20

    def __post_init__(self) -> None:
        if not self.ratio > 1 or self.window < 1:
            raise ValueError("a value-outlier ratio above 1 and a window of at least 1 lot")


DEFAULT_RULE = ValueOutlierRule()


class ValueOutlier:
    """A lot produced at a value per carat far from its source's recent median."""

    __slots__ = (
        "lot_id",
        "median_usd_per_carat",
        "participant",
        "position",
        "source_id",
        "usd_per_carat",
    )

    def __init__(
        self,
        lot_id: str,
        source_id: str,
        participant: str,
        position: int,
        usd_per_carat: float,
        median_usd_per_carat: float,
    ) -> None:
        self.lot_id = lot_id
        self.source_id = source_id
        self.participant = participant
        self.position = position
        self.usd_per_carat = usd_per_carat
        self.median_usd_per_carat = median_usd_per_carat

    def __reduce__(self) -> tuple[type[ValueOutlier], tuple[str, str, str, int, float, float]]:
        return ValueOutlier, (
            self.lot_id,
            self.source_id,
            self.participant,
            self.position,
            self.usd_per_carat,
            self.median_usd_per_carat,
        )


class _Window:
    """A source's last `size` values per carat: in production order (a ring) and sorted."""

    __slots__ = ("next", "ring", "sorted")

    def __init__(self) -> None:
        self.ring: list[float] = []
        self.sorted: list[float] = []
        self.next = 0  # the ring's oldest value, once full

    def __reduce__(self) -> tuple[object, ...]:
        return _Window, (), (self.next, self.ring, self.sorted)

    def __setstate__(self, state: tuple[int, list[float], list[float]]) -> None:
        self.next, self.ring, self.sorted = state


class ValueOutliers:
    """Every source's window and the outliers found so far, in order of position."""

    __slots__ = ("found", "rule", "windows")

    def __init__(self, rule: ValueOutlierRule = DEFAULT_RULE) -> None:
        self.rule = rule
        self.windows: dict[str, _Window] = {}
        self.found: list[ValueOutlier] = []

    def produced(
        self,
        lot_id: str,
        source_id: str,
        participant: str,
        carats: int,
        value_usd: int,
        position: int,
    ) -> None:
        """Judges a lot produced at `position` (carats and value in hundredths), then adds
        its value per carat to its source's window."""
        if carats <= 0:
            return
        value = value_usd / carats
        window = self.windows.get(source_id)
        if window is None:
            window = self.windows[source_id] = _Window()
        ring, ordered = window.ring, window.sorted
        rule = self.rule
        size = rule.window
        if len(ring) < size:
            ring.append(value)
            insort(ordered, value)
            return
        middle = size // 2  # the median, inlined: this runs once a lot produced
        median = ordered[middle] if size % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        ratio = rule.ratio
        if value > ratio * median or value * ratio < median:
            self.found.append(ValueOutlier(lot_id, source_id, participant, position, value, median))
        oldest = window.next
        del ordered[bisect_left(ordered, ring[oldest])]
        ring[oldest] = value
        window.next = oldest + 1 if oldest + 1 < size else 0
        insort(ordered, value)

    def __reduce__(self) -> tuple[object, ...]:
        return ValueOutliers, (self.rule,), (self.windows, self.found)

    def __setstate__(self, state: tuple[dict[str, _Window], list[ValueOutlier]]) -> None:
        self.windows, self.found = state

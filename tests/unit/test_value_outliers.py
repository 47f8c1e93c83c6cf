"""Alert production_value_outlier: a lot produced far from its source's recent median value
per carat, judged from the window of lots produced there just before it."""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from api.settings import Settings, settings_problem
from projections.alerts import alerts
from projections.custody import Custody
from projections.examples import numbered
from projections.value_outliers import ValueOutlierRule
from tests.support import admitted, mine, produced, site

TODAY = date(2026, 2, 10)
SETUP = [
    {**admitted("GH"), "occurred_at": "2026-01-01T00:00:00Z"},
    {**admitted("CI"), "occurred_at": "2026-01-01T00:00:00Z"},
    mine("M1", "GH", "Eastern"),
    site("S1", "CI", "Seguela"),
]


def normal_lots(count: int, source_id: str = "M1", usd_per_carat: int = 30) -> list[dict]:
    """`count` lots of 100 ct at `usd_per_carat`."""
    return [
        produced(f"{source_id}-{n}", source_id, "100", str(100 * usd_per_carat))
        for n in range(1, count + 1)
    ]


def outliers(*documents: dict[str, Any], **rule: Any) -> list[dict]:
    state = Custody.replay(numbered([*SETUP, *documents]), ValueOutlierRule(**rule))
    return [a for a in alerts(state, today=TODAY) if a["type"] == "production_value_outlier"]


@pytest.mark.parametrize(
    ("usd", "raised"),
    [("9000.01", True), ("9000", False), ("1000", False), ("999.99", True), ("3000", False)],
)
def test_the_21st_lot_beyond_three_times_the_median_either_way(usd: str, raised: bool) -> None:
    found = outliers(*normal_lots(20), produced("X", "M1", "100", usd))
    assert [a["subject"] for a in found] == (["X"] if raised else [])


def test_the_alert_names_the_lot_its_participant_and_both_figures() -> None:
    (alert,) = outliers(*normal_lots(20), produced("X", "M1", "200", "30000"))
    assert (alert["severity"], alert["participant"], alert["position"]) == ("medium", "GH", 25)
    assert alert["detail"] == {
        "lot_id": "X",
        "source_id": "M1",
        "usd_per_carat": "150.00",
        "median_usd_per_carat": "30.00",
        "ratio": 3.0,
        "window": 20,
    }


def test_the_first_twenty_lots_of_a_source_are_never_judged() -> None:
    wild = [produced(f"W{n}", "M1", "100", str(3**n)) for n in range(1, 21)]
    assert outliers(*wild) == []


def test_the_median_is_of_the_same_source_only() -> None:
    documents = [*normal_lots(20, "M1", 30), *normal_lots(20, "S1", 150)]
    assert outliers(*documents, produced("X", "M1", "100", "15000")) != []
    assert outliers(*documents, produced("X", "S1", "100", "15000")) == []
    other_sources = [*normal_lots(19, "M1"), *normal_lots(1, "S1")]
    assert outliers(*other_sources, produced("X", "M1", "1", "1000")) == []


def test_the_window_slides_over_the_last_lots() -> None:
    cheap, dear = normal_lots(20, usd_per_carat=30), normal_lots(20, usd_per_carat=150)
    dear = [{**document, "lot_id": f"D{n}"} for n, document in enumerate(dear)]
    # the first dear lots are outliers, until they make half the window and more
    found = outliers(*cheap, *dear)
    assert [a["subject"] for a in found] == [f"D{n}" for n in range(10)]


def test_the_even_median_is_the_mean_of_the_two_middle_values() -> None:
    lots = [produced(f"L{n}", "M1", "100", str(100 * (10 + n))) for n in range(20)]  # 10..29
    (alert,) = outliers(*lots, produced("X", "M1", "100", "5851"))  # above 3 * 19.50
    assert alert["detail"]["median_usd_per_carat"] == "19.50"
    assert outliers(*lots, produced("X", "M1", "100", "5850")) == []


def test_ratio_and_window_come_from_the_rule() -> None:
    documents = [*normal_lots(5), produced("X", "M1", "100", "7000")]
    assert outliers(*documents) == []  # the 6th lot is not judged with a window of 20
    (alert,) = outliers(*documents, ratio=2, window=5)
    assert (alert["detail"]["ratio"], alert["detail"]["window"]) == (2, 5)
    assert outliers(*documents, ratio=2.5, window=5) == []


def test_a_state_with_its_windows_survives_pickling() -> None:
    state = Custody.replay(numbered([*SETUP, *normal_lots(20)]), ValueOutlierRule(3, 20))
    copy = pickle.loads(pickle.dumps(state.value_outliers))
    assert copy.rule == ValueOutlierRule(3, 20)
    copy.produced("X", "M1", "GH", 10000, 1_000_000, 99)
    assert [(o.lot_id, o.median_usd_per_carat) for o in copy.found] == [("X", 30.0)]


def test_settings_read_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().value_outliers == ValueOutlierRule(3.0, 20)
    monkeypatch.setenv("KPLEDGER_VALUE_OUTLIER", "2.5")
    monkeypatch.setenv("KPLEDGER_VALUE_OUTLIER_WINDOW", "8")
    assert Settings().value_outliers == ValueOutlierRule(2.5, 8)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KPLEDGER_VALUE_OUTLIER", "1"), ("KPLEDGER_VALUE_OUTLIER_WINDOW", "0")],
)
def test_a_bad_rule_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert settings_problem(caught.value).startswith(f"{variable}: ")

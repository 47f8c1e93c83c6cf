"""Risk marks: the hooks the sanctions screening and certificate cancellation plug into,
and embargoes of one region."""

from __future__ import annotations

from datetime import date

from projections.custody import Custody
from projections.examples import example_entries, numbered, operator_entries
from projections.operators import Operator
from projections.risk import MARKS, RiskMarks, mark_results
from tests.support import admitted, embargo, lifted, merged, mine, produced

ON = date(2026, 3, 1)


def test_without_screening_nor_retraction_no_operator_matches_and_no_certificate_is_cancelled() -> (
    None
):
    state = Custody.replay(operator_entries())
    marks = RiskMarks(state, ON)
    assert marks.of("operator:GH-OP-1") == []
    assert marks.of("certificate:GH-2") == []


def test_the_screening_and_cancellation_hooks_mark_what_they_name() -> None:
    state = Custody.replay(operator_entries())

    def screening(_: Custody, operator: Operator) -> bool:
        return operator.operator_id == "GH-OP-1"

    def cancellation(_: Custody, certificate_id: str) -> bool:
        return certificate_id == "GH-2"

    marks = RiskMarks(state, ON, screening=screening, cancellation=cancellation)
    assert marks.of("operator:GH-OP-1") == ["possible_sanctions_match"]
    assert marks.of("operator:GH-OP-2") == ["sanctioned"]  # listed, not matched
    assert marks.of("certificate:GH-2") == ["cancelled"]


def test_a_regional_embargo_marks_that_regions_sources_and_the_lots_with_a_share() -> None:
    state = Custody.replay(
        numbered(
            [
                admitted("CI"),
                mine("M-NORTH", "CI", region="North"),
                mine("M-SOUTH", "CI", region="South"),
                produced("N1", "M-NORTH", "10"),
                produced("S1", "M-SOUTH", "10"),
                produced("S2", "M-SOUTH", "10"),
                merged(["N1", "S1"], "MIX"),
                embargo("E-NORTH", "CI", effective_from="2026-01-01", region="North"),
                lifted("E-NORTH", "2026-06-01"),
            ]
        )
    )
    marks = RiskMarks(state, ON)
    assert [marks.of(n) for n in ("source:M-NORTH", "source:M-SOUTH")] == [["embargoed_source"], []]
    assert [marks.of(f"lot:{lot}") for lot in ("N1", "S2", "MIX")] == [
        ["embargoed_origin"],
        [],
        ["embargoed_origin"],
    ]
    lifted_by_then = RiskMarks(state, date(2026, 6, 1))
    assert lifted_by_then.of("source:M-NORTH") == [] and lifted_by_then.of("lot:MIX") == []


def test_marks_come_in_the_protocols_order_and_unknown_nodes_have_none() -> None:
    state = Custody.replay(example_entries())
    marks = RiskMarks(state, ON)
    assert marks.of("lot:NOPE") == [] and marks.of("operator:NOPE") == []
    assert set(MARKS) == {
        "embargoed_source",
        "embargoed_origin",
        "sanctioned",
        "possible_sanctions_match",
        "flagged",
        "seized",
        "cancelled",
    }
    results = mark_results([{"id": "S-CI", "kind": "alluvial_site", "label": "x"}], marks)
    assert results == [
        {"id": "S-CI", "kind": "alluvial_site", "label": "x", "risk": ["embargoed_source"]}
    ]

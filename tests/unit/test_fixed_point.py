"""Compositions in fixed point answer exactly as exact shares do (`tests.exact`, the
`Fraction` computation the read side made before), on generated deep worlds: lots split
and merged again and again at one hub, in awkward proportions, so that merges round."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.log import LogEntry
from projections.alerts import alerts
from projections.custody import Custody
from projections.examples import numbered
from projections.provenance import downstream, provenance
from projections.shares import approximate_text
from tests.exact import exact_compositions, exact_downstream, exact_provenance
from tests.support import (
    admitted,
    confirmed,
    embargo,
    export,
    merged,
    mine,
    produced,
    site,
    split,
)

PARTICIPANTS = ("GH", "CI", "IN")
SOURCES = {
    "M1": mine("M1", "GH", "Eastern"),
    "M2": mine("M2", "GH", "Ashanti"),
    "S1": site("S1", "CI", "Seguela"),
    "S2": mine("S2", "IN", "Panna"),
}
READ_ON = datetime(2026, 6, 1, tzinfo=UTC)


def _text(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@st.composite
def deep_worlds(draw: st.DrawFn) -> list[LogEntry]:
    """Lots produced at four sources of three participants, brought to GH, then split
    (2 or 3 parts, at any cut) and merged (2 to 4 lots) by GH up to 80 times."""
    documents: list[dict[str, Any]] = [admitted(code) for code in PARTICIPANTS]
    documents += SOURCES.values()
    region = draw(st.sampled_from([None, "Seguela", "Eastern"]))
    documents.append(embargo("E1", "GH" if region == "Eastern" else "CI", "2026-01-01", region))
    held: dict[str, int] = {}  # GH's lots: hundredths
    counter = 0

    def new_id(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}{counter}"

    for _ in range(draw(st.integers(2, 8))):
        source_id = draw(st.sampled_from(sorted(SOURCES)))
        hundredths = draw(st.integers(1, 10**7))
        lot_id = new_id("P")
        documents.append(produced(lot_id, source_id, _text(hundredths)))
        participant = SOURCES[source_id]["participant"]
        if participant != "GH":
            certificate_id = new_id(f"{participant}-")
            documents.append(export(certificate_id, participant, "GH", [lot_id], _text(hundredths)))
            documents.append(confirmed(certificate_id, _text(hundredths)))
        held[lot_id] = hundredths
    for _ in range(draw(st.integers(5, 80))):
        splittable = sorted(lot_id for lot_id, hundredths in held.items() if hundredths >= 3)
        if draw(st.booleans()) and splittable:
            lot_id = draw(st.sampled_from(splittable))
            hundredths = held.pop(lot_id)
            cuts = draw(
                st.lists(st.integers(1, hundredths - 1), min_size=1, max_size=2, unique=True)
            )
            bounds = [0, *sorted(cuts), hundredths]
            parts = [(new_id("D"), bounds[i + 1] - bounds[i]) for i in range(len(bounds) - 1)]
            documents.append(split(lot_id, *((child, _text(c)) for child, c in parts)))
            held.update(parts)
        elif len(held) >= 2:
            lot_ids = draw(
                st.lists(st.sampled_from(sorted(held)), min_size=2, max_size=4, unique=True)
            )
            into = new_id("M")
            documents.append(merged(lot_ids, into))
            held[into] = sum(held.pop(lot_id) for lot_id in lot_ids)
    return numbered(documents)


DEEP = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@DEEP
@given(deep_worlds())
def test_provenance_equals_the_exact_computation(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    exact = exact_compositions(state)
    for lot_id in state.lots:
        expected = exact_provenance(state, exact, lot_id, READ_ON.date())
        assert provenance(state, lot_id, READ_ON.date()) == expected


@DEEP
@given(deep_worlds())
def test_downstream_equals_the_exact_computation(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    exact = exact_compositions(state)
    origins = [({"source_id": source_id}, {source_id}) for source_id in SOURCES]
    origins += [
        ({"participant": code}, {s for s, d in SOURCES.items() if d["participant"] == code})
        for code in PARTICIPANTS
    ]
    for selector, selected in origins:
        assert downstream(state, **selector) == exact_downstream(state, exact, selected)


@DEEP
@given(deep_worlds())
def test_embargoed_origin_alerts_carry_the_exact_shares(entries: list[LogEntry]) -> None:
    state = Custody.replay(entries)
    exact = exact_compositions(state)
    found = [a for a in alerts(state, today=READ_ON.date()) if a["type"] == "embargoed_origin"]
    expected_lots = sorted(
        lot.lot_id
        for lot in state.lots.values()
        if lot.status != "consumed"
        and exact_provenance(state, exact, lot.lot_id, READ_ON.date())["embargoed"]
    )
    assert sorted(alert["subject"] for alert in found) == expected_lots
    for alert in found:
        embargoed = exact_provenance(state, exact, alert["subject"], READ_ON.date())["embargoed"]
        assert alert["detail"]["embargoes"] == embargoed


def test_an_amount_a_merge_rounded_whose_exact_value_is_a_round_number_is_worked_out_exactly() -> (
    None
):
    """M1 gives a third of A1's carats: A1's part of X is a third of a hundredth in units,
    so X's amounts are rounded. Y, half of X, then meets Q1, whose 5/6 of a carat of M1
    makes W's M1 exactly one carat, which the rounded amount cannot tell from a little less:
    the exact share is worked out along the lineage."""
    documents = [
        admitted("GH"),
        SOURCES["M1"],
        SOURCES["M2"],
        produced("P1", "M1", "1.00"),
        produced("P2", "M2", "2.00"),
        merged(["P1", "P2"], "A"),
        split("A", ("A1", "1.00"), ("A2", "2.00")),
        produced("P3", "M2", "1.00"),
        merged(["A1", "P3"], "X"),
        split("X", ("Y", "1.00"), ("Z", "1.00")),
        produced("P4", "M1", "5.00"),
        produced("P5", "M2", "1.00"),
        merged(["P4", "P5"], "Q"),
        split("Q", ("Q1", "1.00"), ("Q2", "5.00")),
        merged(["Y", "Q1"], "W"),
    ]
    state = Custody.replay(numbered(documents))
    composition = state.lots["W"].composition
    assert composition.exact() == [False, False]
    m1 = composition.amounts()[0]  # within the bound of 1 carat: the bound cannot tell
    assert approximate_text(200 * m1, 200 * composition.bound, composition.total) is None
    answer = provenance(state, "W", READ_ON.date())
    assert answer == exact_provenance(state, exact_compositions(state), "W", READ_ON.date())
    assert [(s["source_id"], s["carats"], s["fraction"]) for s in answer["sources"]] == [
        ("M1", "1.00", 0.5),
        ("M2", "1.00", 0.5),
    ]

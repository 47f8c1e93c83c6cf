"""A 409's embargoed share is the share the provenance answer shows, digit for digit."""

from __future__ import annotations

from ledger.application import Ledger
from projections.reads import Reads
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    embargo,
    export,
    merged,
    mine,
    produced,
    refuse,
    site,
    split,
)


def test_embargoed_origin_detail_equals_the_provenance_answer(ledger: Ledger) -> None:
    ci = authority("CI")
    for code in ("CI", "AE"):
        ledger.post(admitted(code), SECRETARIAT)
    ledger.post(site("CI-S1", "CI", region="North"), ci)
    ledger.post(mine("CI-M1", "CI", region="South"), ci)
    ledger.post(produced("CI-L1", "CI-S1", "0.01"), ci)
    ledger.post(produced("CI-L2", "CI-M1", "1.99"), ci)
    ledger.post(merged(["CI-L1", "CI-L2"], "CI-MIX"), ci)
    ledger.post(split("CI-MIX", ("CI-SMALL", "0.01"), ("CI-REST", "1.99")), ci)
    ledger.post(embargo("E1", "CI", effective_from="2005-01-01", region="North"), SECRETARIAT)
    head = ledger.head_position()

    refusal = refuse(
        ledger, export("CI-1", "CI", "AE", ["CI-SMALL"], "0.01", "CI"), ci, "embargoed_origin"
    )

    assert ledger.head_position() == head
    [shown] = Reads(ledger).provenance("CI-SMALL")["embargoed"]
    assert refusal.detail == {"lot_id": "CI-SMALL", **shown}
    assert shown["carats"] == "0.0001"

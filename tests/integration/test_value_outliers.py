"""Alert production_value_outlier on each store: posted through the ledger, read with the
server's settings, and a snapshot taken under another rule never used."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ledger.application import Ledger
from projections import snapshot
from projections.reads import Reads
from projections.snapshot import Snapshots
from projections.value_outliers import ValueOutlierRule
from tests.support import SECRETARIAT, accept, admitted, authority, batch, produced, site


@pytest.fixture
def bonsa(ledger: Ledger) -> Ledger:
    """A Ghanaian site with 20 lots at $30/ct and a 21st at $150/ct."""
    accept(ledger, admitted("GH"), SECRETARIAT)
    accept(ledger, site("GH-BON", "GH", "Western"), authority("GH"))
    lots = [produced(f"B{n}", "GH-BON", "100", "3000") for n in range(1, 21)]
    accept(ledger, batch(*lots), authority("GH"))
    accept(ledger, produced("B21", "GH-BON", "100", "15000"), authority("GH"))
    return ledger


def subjects(reads: Reads) -> list[str]:
    return [alert["subject"] for alert in reads.alerts(alert_type="production_value_outlier")]


def test_the_outlier_is_raised_as_the_settings_say(bonsa: Ledger) -> None:
    assert subjects(Reads(bonsa)) == ["B21"]
    assert subjects(Reads(bonsa, value_outliers=ValueOutlierRule(ratio=6))) == []
    judged = bonsa.head_position()
    accept(bonsa, produced("B22", "GH-BON", "100", "3000"), authority("GH"))
    for ratio, raised in ((4, ["B21"]), (6, [])):  # replayed as of positions, by the same rule
        reads = Reads(bonsa, value_outliers=ValueOutlierRule(ratio=ratio))
        for as_of, expected in ((judged - 1, []), (judged, raised)):
            found = reads.alerts(alert_type="production_value_outlier", as_of=as_of)
            assert [alert["subject"] for alert in found] == expected


def test_a_snapshot_taken_under_another_rule_is_not_used(
    bonsa: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "read.snapshot"
    first = Reads(bonsa)
    first.catch_up()
    assert snapshot.save(first, path, bonsa.store.description) is not None
    caplog.set_level(logging.INFO, logger=snapshot.__name__)
    reads = Reads(bonsa, value_outliers=ValueOutlierRule(ratio=6))
    Snapshots(reads, bonsa.store, path).start()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "other value-outlier settings" in warnings[0]
    assert subjects(reads) == []
    same = Reads(bonsa)
    Snapshots(same, bonsa.store, path).start()
    assert subjects(same) == ["B21"]
    assert any("loaded from" in record.getMessage() for record in caplog.records)

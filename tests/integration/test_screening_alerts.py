"""Sanctions screening on each store: the demo's exporter matched, an operator screened when
licensed, and a dismissal that stays with its operator and entry across list reloads and a
new read model (a restart)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ledger.application import Ledger
from projections.alerts import alert_id
from projections.reads import Reads
from projections.screening import Screening, subjects
from tests.support import INVESTIGATOR, authority, licensed, refuse
from worlds.demo import EXPORTER, load_demo
from worlds.sanctions_lists import DEMO_LISTS

MATCH = f"{EXPORTER}/un_sc_sanctions/CIe.901"


def screened(ledger: Ledger, folder: Path) -> Reads:
    """A read model screening against `folder`, attached as the ledger's alert check, the
    lists loaded after the catch-up (as `kpledger serve` does)."""
    reads = Reads(ledger)
    reads.screening = Screening(folder, operators=lambda: reads.read(lambda v: subjects(v.custody)))
    ledger.attach_alert_check(reads.alert_exists)
    reads.catch_up()
    reads.screening.load()
    return reads


def possible(reads: Reads) -> dict[str, dict]:
    return {a["subject"]: a for a in reads.alerts(alert_type="possible_sanctions_match")}


def test_the_demo_exporter_is_a_possible_match_with_what_matched(ledger: Ledger, tmp_path: Path):
    load_demo(ledger)
    reads = screened(ledger, DEMO_LISTS)
    found = possible(reads)
    assert list(found) == [MATCH]
    alert = found[MATCH]
    assert alert["alert_id"] == alert_id("possible_sanctions_match", MATCH)
    assert (alert["severity"], alert["participant"]) == ("high", "GH")
    detail = alert["detail"]
    assert detail["operator_name"] == "Accra Rough Diamond Exporters Ltd"
    assert detail["listed_name"] == "ACCRA ROUGH DIAMOND EXPORTS LIMITED"
    assert detail["aliases"] == ["ARDE Limited", "Accra Gem Exporting Company"]
    assert (detail["list"], detail["entry_id"], detail["listed_on"]) == (
        "un_sc_sanctions",
        "CIe.901",
        "2006-05-02",
    )
    assert 0.7 <= detail["score"] < 1
    assert "exporters" in detail["matched"]["explanation"]
    assert reads.alerts(alert_type="possible_sanctions_match", participant="AE") == []
    assert [s["list"] for s in reads.screening.lists()] == ["opensanctions_demo", "un_sc_sanctions"]
    assert "possible_sanctions_match" in _risk(reads, EXPORTER)


def _risk(reads: Reads, operator_id: str) -> list[str]:
    """The operator's risk marks in its own graph and in search."""
    marks = reads.graph(operator_id).nodes[f"operator:{operator_id}"]["risk"]
    (found,) = [r for r in reads.search(operator_id, kind="operator", limit=5, reader=None)]
    assert found["risk"] == marks
    return list(marks)


def test_an_operator_is_screened_when_licensed_without_reloading(ledger: Ledger, tmp_path: Path):
    load_demo(ledger)
    reads = screened(ledger, DEMO_LISTS)
    assert reads.screening is not None
    generation = reads.screening.generation
    ledger.post(
        {"events": [licensed("RU-ANABARA", "exporter", name="Almazy Anabara Trade LLC")]},
        authority("RU"),
    )
    found = possible(reads)
    assert "RU-ANABARA/opensanctions_demo/kpdemo-co-almazy-anabara" in found
    assert reads.screening.generation == generation  # no reload: screened on its licence
    assert reads.screening.possible_matches("RU-ANABARA")[0]["listed_name"] == (
        "Алмазы Анабара Трейд"
    )


def test_a_dismissal_stays_across_reloads_and_restarts(ledger: Ledger, tmp_path: Path):
    folder = tmp_path / "lists"
    shutil.copytree(DEMO_LISTS, folder)
    load_demo(ledger)
    reads = screened(ledger, folder)
    refuse(
        ledger,
        {"events": [_reviewed(alert_id("possible_sanctions_match", f"{EXPORTER}/x/y"))]},
        INVESTIGATOR,
        "unknown_alert",
    )
    matched = alert_id("possible_sanctions_match", MATCH)
    ledger.post({"events": [_reviewed(matched)]}, INVESTIGATOR)
    assert possible(reads)[MATCH]["review"]["status"] == "dismissed"
    assert reads.alerts(status="open", alert_type="possible_sanctions_match") == []
    assert "possible_sanctions_match" not in _risk(reads, EXPORTER)  # dismissed: no mark

    # the list file replaced by a new download: same entry, another date generated
    un = folder / "un_sc_sanctions.xml"
    un.write_text(un.read_text().replace("2006-05-02T23:00:04.811Z", "2006-06-01T23:00:00Z"))
    assert reads.screening is not None
    reads.screening.load()
    assert reads.screening.lists()[1]["published"] == "2006-06-01T23:00:00Z"
    assert possible(reads)[MATCH]["review"]["status"] == "dismissed"

    # a restart: a new read model over the same log and lists
    again = screened(ledger, folder)
    assert possible(again)[MATCH]["review"]["status"] == "dismissed"

    # the entry gone from the list: no alert; back again: still dismissed
    un.write_text(un.read_text().replace("CIe.901", "CIe.902"))
    again.screening.load()  # type: ignore[union-attr]
    assert MATCH not in possible(again)
    assert possible(again)[f"{EXPORTER}/un_sc_sanctions/CIe.902"]["review"] is None


def _reviewed(alert: str) -> dict:
    from tests.support import doc

    return doc("alert.reviewed", alert_id=alert, status="dismissed", note="another company")

"""The demonstration world on each store: every alert type, the suspect parcel, idempotence."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ledger.application import Ledger
from projections.alerts import ALERT_TYPES
from projections.reads import Reads
from projections.screening import Screening, subjects
from worlds.demo import (
    MAIN_PARTICIPANTS,
    SUSPECT_LOT_ID,
    VALUE_OUTLIER_LOT_ID,
    DemoResult,
    demo_documents,
    load_demo,
    welcome_text,
)
from worlds.sanctions_lists import DEMO_LISTS


@pytest.fixture
def loaded(ledger: Ledger) -> tuple[Ledger, DemoResult]:
    return ledger, load_demo(ledger)


def test_every_document_is_accepted(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, result = loaded
    assert result.appended == len(demo_documents())
    assert ledger.head_position() == result.head_position == len(demo_documents())


def test_loading_again_appends_nothing(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, first = loaded
    last = ledger.read_log(first.head_position - 1, 1)[0]
    again = load_demo(ledger)
    assert again.appended == 0
    assert ledger.head_position() == first.head_position
    assert ledger.read_log(first.head_position - 1, 5) == [last]
    assert set(again.tokens) == set(first.tokens)
    assert again.tokens != first.tokens  # fresh tokens each run


def test_tokens_name_their_roles(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, result = loaded
    actors = {name: ledger.actor_for_token(token) for name, token in result.tokens.items()}
    assert actors["demo-secretariat"].role == "secretariat"  # type: ignore[union-attr]
    assert actors["demo-investigator"].role == "investigator"  # type: ignore[union-attr]
    assert actors["demo-auditor"].role == "auditor"  # type: ignore[union-attr]
    for code in MAIN_PARTICIPANTS:
        actor = actors[f"demo-authority-{code}"]
        assert actor is not None and (actor.role, actor.participant) == ("authority", code)
    assert {"CI", "GH", "EU", "AE", "IN", "RU"} <= set(MAIN_PARTICIPANTS)


def test_every_alert_type_is_raised(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, _ = loaded
    reads = Reads(ledger)  # screening against the demo's lists, as `kpledger demo` does
    reads.screening = Screening(
        DEMO_LISTS, operators=lambda: reads.read(lambda view: subjects(view.custody))
    )
    reads.catch_up()
    reads.screening.load()
    found = reads.alerts()
    assert set(Counter(alert["type"] for alert in found)) == set(ALERT_TYPES)
    by_type = {(alert["type"], alert["subject"]): alert["participant"] for alert in found}
    assert by_type[("rapid_reexport", "GH-2005-0412")] == "GH"
    assert by_type[("value_discrepancy", "GH-2005-0412")] == "AE"
    assert by_type[("capacity_exceeded", "GH-AKWATIA/2005")] == "GH"
    assert by_type[("round_trip", "AE-2005-0290")] == "IN"
    assert by_type[("carat_discrepancy", "BW-2005-0044")] == "EU"
    assert by_type[("unconfirmed_certificate", "ZA-2006-0019")] == "ZA"
    assert by_type[("embargoed_origin", "AE-DXB-2006-0031")] == "AE"
    assert by_type[("parcel_discrepancy", "RU-2006-0027")] == "EU"
    assert by_type[("production_value_outlier", VALUE_OUTLIER_LOT_ID)] == "GH"
    match = "GH-ACCRA-EXPORTERS/un_sc_sanctions/CIe.901"
    assert by_type[("possible_sanctions_match", match)] == "GH"


def test_the_suspect_parcel_holds_an_embargoed_share(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, result = loaded
    reads = Reads(ledger)
    provenance: dict[str, Any] = reads.provenance(result.suspect_lot_id)
    assert provenance["by_participant"]["CI"]["carats"] == "1050.00"
    assert provenance["by_participant"]["GH"]["carats"] == "1260.00"
    assert provenance["embargoed"][0]["embargo_id"] == result.embargo_id
    assert provenance["embargoed"][0]["fraction"] == pytest.approx(1050 / 2310)
    reached = {lot["lot_id"] for lot in reads.downstream(lot_id=result.suspect_lot_id)["lots"]}
    assert set(result.suspect_descendants) <= reached


def test_statistics_follow_the_certificates(loaded: tuple[Ledger, DemoResult]) -> None:
    ledger, _ = loaded
    reads = Reads(ledger)
    reads.catch_up()
    report = {row["participant"]: row for row in reads.statistics.report(2005)["participants"]}
    assert report["GH"]["production"] == {"carats": "5510.00", "value_usd": "165300.00"}
    assert report["GH"]["imports"]["by_partner"]["CI"]["carats"] == "1050.00"
    assert report["AE"]["imports"]["by_partner"]["GH"]["value_usd"] == "196350.00"
    assert report["EU"]["imports"]["by_partner"]["BW"]["carats"] == "24980.00"


def test_welcome_text_prints_tokens_and_three_traces(loaded: tuple[Ledger, DemoResult]) -> None:
    _, result = loaded
    text = welcome_text(result, "http://127.0.0.1:8000")
    assert all(token in text for token in result.tokens.values())
    exports = [line for line in text.splitlines() if line.startswith("export ")]
    assert f"export INVESTIGATOR={result.tokens['demo-investigator']}" in exports
    assert f"export AUTHORITY_GH={result.tokens['demo-authority-GH']}" in exports
    assert {"SECRETARIAT", "AUDITOR"} <= {line[7:].split("=")[0] for line in exports}
    commands = [line for line in text.splitlines() if line.startswith("curl ")]
    assert len(commands) == 3
    assert all('-H "Authorization: Bearer $INVESTIGATOR"' in command for command in commands)
    assert all(SUSPECT_LOT_ID in command for command in commands[:2])
    assert "/v1/alerts" in commands[2]

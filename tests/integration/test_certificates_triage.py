"""Certificates as the KPCS defines them, and investigators' triage, on each store.

Every rule of the two sections is broken once (the code checked, nothing appended);
the reads go through the HTTP routes in-process, over a real ledger of each kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.log import document_digest
from projections.alerts import alert_id
from projections.reads import Reads
from tests.support import (
    AUDITOR,
    INVESTIGATOR,
    SECRETARIAT,
    authority,
    basic_world,
    batch,
    confirmed,
    doc,
    export,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    produced,
    refuse,
    seized,
)
from tests.unit.test_certificate_documents import V1_DIGESTS, V1_EXPORT, V1_IMPORT

GH, CI, AE = authority("GH"), authority("CI"), authority("AE")
ANNEX = {"parcels": 3, "issuing_authority": {"name": "Minerals Commission, Accra"}}


def reviewed(alert: str, status: str = "confirmed", note: str = "checked") -> dict[str, Any]:
    return doc("alert.reviewed", alert_id=alert, status=status, note=note)


def checked(ledger: Ledger) -> Reads:
    """A read model over the ledger, attached as its alert check (as `kpledger serve` does)."""
    reads = Reads(ledger)
    ledger.attach_alert_check(reads.alert_exists)
    return reads


def discrepant_world(ledger: Ledger) -> str:
    """basic_world; GH-C1 (GH-L1, 100 ct, 3 parcels) to AE, received as 2 parcels: one
    `parcel_discrepancy` alert, whose id is returned."""
    basic_world(ledger)
    ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", **ANNEX), GH)
    ledger.post(confirmed("GH-C1", "100", parcels=2), AE)
    return alert_id("parcel_discrepancy", "GH-C1")


# ----------------------------------------------------------------------- the rules


@pytest.mark.parametrize("parcels", [0, "3"], ids=["zero", "string"])
def test_parcels_must_be_a_json_integer_of_1_or_more(ledger: Ledger, parcels: Any) -> None:
    basic_world(ledger)
    faulty = export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", parcels=parcels)
    error = refuse(ledger, faulty, GH, "invalid")
    assert error.detail == {"field": "parcels"}
    ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"), GH)
    refuse(ledger, confirmed("GH-C1", "100", parcels=parcels), AE, "invalid")


def test_a_review_of_an_alert_that_is_not_raised_is_unknown_alert(ledger: Ledger) -> None:
    checked(ledger)
    raised = discrepant_world(ledger)
    error = refuse(ledger, reviewed("0" * 24), INVESTIGATOR, "unknown_alert")
    assert error.detail == {"alert_id": "0" * 24}
    # the alert of another certificate, not raised
    refuse(ledger, reviewed(alert_id("parcel_discrepancy", "GH-C9")), SECRETARIAT, "unknown_alert")
    # a batch is refused whole, at the index of the faulty review
    refuse(
        ledger,
        batch(reviewed(raised), reviewed("f" * 24)),
        INVESTIGATOR,
        "unknown_alert",
        index=1,
    )
    assert ledger.post(reviewed(raised), INVESTIGATOR).appended
    assert ledger.post(reviewed(raised, "dismissed"), SECRETARIAT).appended


@pytest.mark.parametrize("actor", [GH, AE, AUDITOR], ids=["exporter", "importer", "auditor"])
def test_only_investigators_and_the_secretariat_review_alerts(ledger: Ledger, actor: Any) -> None:
    checked(ledger)
    raised = discrepant_world(ledger)
    refuse(ledger, reviewed(raised), actor, "forbidden")


def test_a_review_comes_after_the_document_that_raises_its_alert(ledger: Ledger) -> None:
    """Documents of the same batch before a review are not seen by its check."""
    checked(ledger)
    basic_world(ledger)
    ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", **ANNEX), GH)
    raised = alert_id("parcel_discrepancy", "GH-C1")
    refuse(ledger, reviewed(raised), INVESTIGATOR, "unknown_alert")
    ledger.post(confirmed("GH-C1", "100", parcels=4), AE)
    assert ledger.post(reviewed(raised), INVESTIGATOR).appended


def test_without_a_read_model_a_review_is_refused_never_appended_unchecked(
    ledger: Ledger,
) -> None:
    raised = discrepant_world(ledger)
    before = ledger.head_position()
    with pytest.raises(LedgerError) as caught:
        ledger.post(reviewed(raised), INVESTIGATOR)
    assert (caught.value.code, caught.value.status) == ("store_unavailable", 503)
    assert ledger.head_position() == before


def test_a_version_1_document_is_stored_as_before(ledger: Ledger) -> None:
    basic_world(ledger)
    ledger.post(V1_EXPORT, GH)
    ledger.post(V1_IMPORT, AE)
    stored = ledger.read_log(ledger.head_position() - 2, 2)
    assert [document_digest(entry.document) for entry in stored] == [
        V1_DIGESTS["export.certified"],
        V1_DIGESTS["import.confirmed"],
    ]
    assert all("parcels" not in entry.document for entry in stored)


# ---------------------------------------------------------------------- the reads


TOKENS = ("secretariat", "investigator", "auditor", "GH", "AE", "CI")


@pytest.fixture
def api(ledger: Ledger) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API in-process over the ledger, with a token per role and per authority."""
    tokens = {
        name: ledger.create_token("authority", f"authority-{name}", name)
        if len(name) == 2
        else ledger.create_token(name, f"{name}-test")  # type: ignore[arg-type]
        for name in TOKENS
    }
    app = create_app(Settings(database_url="sqlite:///unused.db"), ledger=ledger)
    with TestClient(app) as client:
        yield client, tokens


def get(
    client: TestClient,
    tokens: dict[str, str],
    path: str,
    who: str | None = "investigator",
    **q: Any,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    response = client.get(path, params=q, headers=headers)
    return response.status_code, response.json()


def shipments(ledger: Ledger) -> dict[str, int]:
    """basic_world and four certificates, by the position that certified them:
    GH-C1 confirmed, GH-C2 in transit, CI-C1 seized in transit, GH-C3 expiring 2005-08-01."""
    basic_world(ledger)
    positions: dict[str, int] = {}
    for lot_id, carats in (("GH-L2", "10"), ("GH-L3", "20"), ("GH-L4", "30")):
        ledger.post(produced(lot_id, "GH-M1", carats), GH)
    positions["GH-C1"] = ledger.post(
        export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", **ANNEX), GH
    ).position
    positions["GH-C1 confirmed"] = ledger.post(
        confirmed("GH-C1", "99.50", "900", received_on="2005-07-04", parcels=3), AE
    ).position
    positions["GH-C2"] = ledger.post(
        export("GH-C2", "GH", "AE", ["GH-L2"], "10", declared_origin="GH", expires_on="2099-01-01"),
        GH,
    ).position
    positions["CI-C1"] = ledger.post(
        export("CI-C1", "CI", "AE", ["CI-L1"], "60", declared_origin="CI", expires_on="2099-01-01"),
        CI,
    ).position
    positions["CI-L1 seized"] = ledger.post(seized("CI-L1"), AE).position
    positions["GH-C3"] = ledger.post(
        export("GH-C3", "GH", "CI", ["GH-L3"], "20", declared_origin="GH"), GH
    ).position
    return positions


def test_a_certificate_reads_as_the_kpcs_defines_it(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = api
    positions = shipments(ledger)
    status, answer = get(client, tokens, "/v1/certificates/GH-C1")
    assert status == 200, answer
    assert answer == {
        "certificate_id": "GH-C1",
        "exporting_participant": "GH",
        "importing_participant": "AE",
        "exporter": {"name": "GH Exporters Ltd"},
        "importer": {"name": "AE Importers Ltd"},
        "issuing_authority": {"name": "Minerals Commission, Accra"},
        "hs_code": "7102.10",
        "carats": "100.00",
        "value_usd": "1000.00",
        "parcels": 3,
        "declared_origin": "GH",
        "issued_on": "2005-07-01",
        "expires_on": "2005-08-01",
        "lot_ids": ["GH-L1"],
        "status": "confirmed",
        "confirmation": {
            "carats": "99.50",
            "value_usd": "900.00",
            "parcels": 3,
            "received_on": "2005-07-04",
        },
        "positions": {"certified": positions["GH-C1"], "confirmed": positions["GH-C1 confirmed"]},
    }
    # as of its certification it was unconfirmed, and read on the date it was recorded
    # (today), already past its expires_on
    status, before = get(client, tokens, "/v1/certificates/GH-C1", as_of=str(positions["GH-C1"]))
    assert (status, before["status"], before["confirmation"]) == (200, "expired", None)
    assert before["positions"] == {"certified": positions["GH-C1"], "confirmed": None}
    # as of a position before it existed: unknown
    assert get(client, tokens, "/v1/certificates/GH-C1", as_of="1")[0] == 404


def test_statuses_in_transit_seized_and_expired(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = api
    positions = shipments(ledger)

    def status_of(certificate_id: str, **q: Any) -> str:
        code, answer = get(client, tokens, f"/v1/certificates/{certificate_id}", **q)
        assert code == 200, answer
        return str(answer["status"])

    assert status_of("GH-C2") == "in_transit"
    # GH-C2 expires on 2099-01-01: read on a later date, it has expired
    assert status_of("GH-C2", as_of="2099-01-01T23:59:59+00:00") == "in_transit"
    assert status_of("GH-C2", as_of="2099-01-02T00:00:00+00:00") == "expired"
    assert status_of("CI-C1") == "seized"
    assert status_of("CI-C1", as_of=str(positions["CI-C1"])) == "in_transit"
    # GH-C3 expired on 2005-08-01, unconfirmed; as of its certification (read on the
    # date it was recorded) too
    assert status_of("GH-C3") == "expired"
    assert status_of("GH-C3", as_of=str(positions["GH-C3"])) == "expired"
    # the legacy certificate without Annex I fields reads null for them
    _, plain = get(client, tokens, "/v1/certificates/GH-C2")
    assert (plain["parcels"], plain["issuing_authority"]) == (None, None)


def test_authorities_read_the_certificates_they_issued_or_received(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = api
    shipments(ledger)
    assert get(client, tokens, "/v1/certificates/GH-C1", who="GH")[0] == 200
    assert get(client, tokens, "/v1/certificates/GH-C1", who="AE")[0] == 200
    status, refused = get(client, tokens, "/v1/certificates/GH-C1", who="CI")
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    # an authority cannot tell an unknown certificate from another participant's
    assert get(client, tokens, "/v1/certificates/XX-C9", who="CI")[0] == 403
    for reader in ("secretariat", "auditor", "investigator"):
        assert get(client, tokens, "/v1/certificates/CI-C1", who=reader)[0] == 200
        status, missing = get(client, tokens, "/v1/certificates/XX-C9", who=reader)
        assert (status, missing["error"]["code"]) == (404, "not_found")
    assert get(client, tokens, "/v1/certificates/GH-C1", who=None)[0] == 401


def test_verify_tells_genuine_figures_and_nothing_else(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, _ = api
    shipments(ledger)

    def verify(certificate_id: str, **q: str) -> tuple[int, bytes]:
        response = client.get(f"/v1/certificates/{certificate_id}/verify", params=q)
        return response.status_code, response.content

    assert verify("GH-C1", carats="100", value_usd="1000") == (
        200,
        b'{"certificate_id":"GH-C1","genuine":true,"status":"confirmed"}',
    )
    assert (
        verify("GH-C1", carats="100.00", value_usd="1000.0")[1]
        == verify("GH-C1", carats="100", value_usd="1000")[1]
    )
    assert b'"status":"seized"' in verify("CI-C1", carats="60", value_usd="1000")[1]
    refused = b'{"certificate_id":"GH-C1","genuine":false,"status":null}'
    assert verify("GH-C1", carats="99.50", value_usd="1000") == (200, refused)  # wrong carats
    assert verify("GH-C1", carats="100", value_usd="900") == (200, refused)  # wrong value
    # the importer's figures are not the certificate's
    assert verify("GH-C1", carats="99.50", value_usd="900") == (200, refused)
    # an unknown id answers the same bytes but for the id
    unknown = verify("GH-C404", carats="100", value_usd="1000")
    assert unknown == (200, refused.replace(b"GH-C1", b"GH-C404"))
    # a token is not needed, and a wrong one changes nothing
    wrong = client.get(
        "/v1/certificates/GH-C1/verify",
        params={"carats": "100", "value_usd": "1000"},
        headers={"Authorization": "Bearer nonsense"},
    )
    assert (wrong.status_code, wrong.json()["genuine"]) == (200, True)
    for query in (
        {"carats": "100"},
        {"value_usd": "1000"},
        {},
        {"carats": "abc", "value_usd": "1000"},
        {"carats": "0", "value_usd": "1000"},
        {"carats": "100", "value_usd": "-1"},
        {"carats": "100.001", "value_usd": "1000"},
        {"carats": "NaN", "value_usd": "1000"},
    ):
        status, body = verify("GH-C1", **query)
        assert status == 422, (query, body)
        assert b'"invalid"' in body


def test_a_parcel_discrepancy_is_an_alert_of_the_importer(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = api
    raised = discrepant_world(ledger)
    _, answer = get(client, tokens, "/v1/alerts", type="parcel_discrepancy")
    (alert,) = answer["alerts"]
    assert alert["alert_id"] == raised
    assert (alert["severity"], alert["subject"], alert["participant"]) == ("medium", "GH-C1", "AE")
    assert alert["detail"] == {
        "certificate_id": "GH-C1",
        "certificate_parcels": 3,
        "confirmed_parcels": 2,
    }
    assert alert["review"] is None
    # the importer sees it, the exporter does not
    assert len(get(client, tokens, "/v1/alerts", who="AE", type="parcel_discrepancy")[1]["alerts"])
    assert get(client, tokens, "/v1/alerts", who="GH", type="parcel_discrepancy")[1] == {
        "alerts": []
    }


def test_no_parcel_discrepancy_unless_both_count_and_differ(ledger: Ledger) -> None:
    basic_world(ledger)
    ledger.post(produced("GH-L2", "GH-M1", "10"), GH)
    ledger.post(produced("GH-L3", "GH-M1", "10"), GH)
    ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH", parcels=2), GH)
    ledger.post(confirmed("GH-C1", "100", parcels=2), AE)
    ledger.post(export("GH-C2", "GH", "AE", ["GH-L2"], "10", declared_origin="GH", parcels=2), GH)
    ledger.post(confirmed("GH-C2", "10"), AE)
    ledger.post(export("GH-C3", "GH", "AE", ["GH-L3"], "10", declared_origin="GH"), GH)
    ledger.post(confirmed("GH-C3", "10", parcels=5), AE)
    assert Reads(ledger).alerts(alert_type="parcel_discrepancy") == []


def test_a_review_round_trip_with_status_filter_and_as_of(
    ledger: Ledger, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = api
    raised = discrepant_world(ledger)
    assert all(alert["review"] is None for alert in get(client, tokens, "/v1/alerts")[1]["alerts"])
    before = ledger.head_position()

    def post(document: dict[str, Any], who: str = "investigator") -> Any:
        response = client.post(
            "/v1/events", json=document, headers={"Authorization": f"Bearer {tokens[who]}"}
        )
        return response

    first = post(reviewed(raised, "confirmed", "three parcels certified, two received"))
    assert first.status_code == 201, first.text
    second = post(reviewed(raised, "dismissed", "the third parcel turned up"), "secretariat")
    assert second.status_code == 201, second.text
    unknown = post(reviewed("0" * 24))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (409, "unknown_alert")
    forbidden = post(reviewed(raised), "AE")
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    assert ledger.head_position() == before + 2

    def alerts(**q: Any) -> list[dict[str, Any]]:
        status, answer = get(client, tokens, "/v1/alerts", **q)
        assert status == 200, answer
        return list(answer["alerts"])

    (latest,) = [a for a in alerts() if a["alert_id"] == raised]
    assert latest["review"] == {
        "status": "dismissed",
        "note": "the third parcel turned up",
        "by": "secretariat-test",
        "position": second.json()["position"],
    }
    assert [a["alert_id"] for a in alerts(status="dismissed")] == [raised]
    assert alerts(status="confirmed") == []
    assert raised not in {a["alert_id"] for a in alerts(status="open")}
    assert len(alerts(status="open")) == len(alerts()) - 1
    # as of the first review: confirmed; as of before it: open, never reviewed
    (then,) = alerts(status="confirmed", as_of=str(first.json()["position"]))
    assert (then["alert_id"], then["review"]["by"]) == (raised, "investigator-test")
    assert then["review"]["status"] == "confirmed"
    (earlier,) = [a for a in alerts(as_of=str(before)) if a["alert_id"] == raised]
    assert earlier["review"] is None
    assert raised in {a["alert_id"] for a in alerts(status="open", as_of=str(before))}
    # a review back to open is open again
    assert post(reviewed(raised, "open", "reopened")).status_code == 201
    assert raised in {a["alert_id"] for a in alerts(status="open")}
    status, bad = get(client, tokens, "/v1/alerts", status="closed")
    assert (status, bad["error"]["code"]) == (422, "invalid")


def test_an_append_between_the_check_and_the_insert_makes_the_review_checked_again(
    ledger: Ledger,
) -> None:
    """Another writer confirms an expired certificate (ending its `unconfirmed_certificate`
    alert) right after the review's check said yes: the review's insert collides, the check
    runs again on the new state and refuses it."""
    other = Ledger(ledger.store)  # a second writer on the same store, as another process
    try:
        basic_world(ledger)
        ledger.post(export("GH-C1", "GH", "AE", ["GH-L1"], "100", declared_origin="GH"), GH)
        reads = Reads(ledger)
        unconfirmed = alert_id("unconfirmed_certificate", "GH-C1")
        asked: list[bool] = []

        def check_then_race(alert: str, on: Any) -> bool:
            raised = reads.alert_exists(alert, on)
            if not asked:
                other.post(confirmed("GH-C1", "100"), AE)  # lands before our insert
            asked.append(raised)
            return raised

        ledger.attach_alert_check(check_then_race)
        before = ledger.head_position()
        with pytest.raises(LedgerError) as caught:
            ledger.post(reviewed(unconfirmed), INVESTIGATOR)
        assert (caught.value.code, caught.value.detail) == (
            "unknown_alert",
            {"alert_id": unconfirmed},
        )
        assert asked == [True, False]
        assert ledger.head_position() == before + 1  # the other writer's confirmation only
        assert ledger.read_log(before, 5)[0].type == "import.confirmed"
    finally:
        other.close()

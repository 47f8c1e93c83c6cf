"""`document.retracted` through `POST /v1/events`, on both stores: every status, code and
`detail` of PROTOCOL.md's "Corrections without rewriting" as a client receives them, the
order of the checks (422, then 403, then `already_retracted` before any other 409), and
nothing appended after any refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.integration.test_retractions import base, post_all, retraction
from tests.support import batch, confirmed, export, flagged, produced, split

Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[Client]:
    """The retractions' base world (GH, CI, AE; a mine, a site, lots, CI-C1 in transit to
    GH), and a token for each party."""
    post_all(ledger, base())
    tokens = {
        "GH": ledger.create_token("authority", "api-GH", "GH"),
        "CI": ledger.create_token("authority", "api-CI", "CI"),
        "AE": ledger.create_token("authority", "api-AE", "AE"),
        "secretariat": ledger.create_token("secretariat", "api-secretariat"),
        "investigator": ledger.create_token("investigator", "api-investigator"),
    }
    with TestClient(create_app(Settings(database_url=store_url), ledger=ledger)) as client:
        yield client, tokens


def _post(api: Client, who: str, body: Any) -> tuple[int, dict[str, Any]]:
    client, tokens = api
    response = client.post(
        "/v1/events", json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
    )
    return response.status_code, response.json()


def _head(api: Client) -> int:
    client, tokens = api
    headers = {"Authorization": f"Bearer {tokens['secretariat']}"}
    events = client.get("/v1/events", params={"after": 0, "limit": 10_000}, headers=headers)
    return int(events.json()["events"][-1]["position"])


def _refused(api: Client, who: str, body: Any, status: int, code: str, index: int = 0) -> Any:
    """Asserts the refusal's status, code and index, and that nothing was appended;
    returns the error's `detail` (None when it has none)."""
    before = _head(api)
    answer_status, answer = _post(api, who, body)
    assert (answer_status, answer["error"]["code"], answer["error"]["index"]) == (
        status,
        code,
        index,
    ), answer
    assert _head(api) == before
    return answer["error"].get("detail")


def _log_document(api: Client, position: int) -> dict[str, Any]:
    client, tokens = api
    headers = {"Authorization": f"Bearer {tokens['secretariat']}"}
    page = client.get("/v1/events", params={"after": position - 1, "limit": 1}, headers=headers)
    document: dict[str, Any] = page.json()["events"][0]["document"]
    return document


def test_each_refusal_with_its_status_code_and_detail(api: Client) -> None:
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    status, answer = _post(api, "GH", wrong)
    assert status == 201
    unknown = {**retraction(wrong), "retracted_event_id": flagged("X")["event_id"]}
    _refused(
        api, "GH", {k: v for k, v in retraction(wrong).items() if k != "reason"}, 422, "invalid"
    )
    _refused(api, "GH", {**retraction(wrong), "note": "x"}, 422, "invalid")
    _refused(api, "GH", unknown, 409, "unknown_document")
    _refused(api, "CI", retraction(wrong), 403, "forbidden")  # not the source's authority
    _refused(api, "investigator", retraction(wrong), 403, "forbidden")
    admission = _log_document(api, 1)
    assert admission["type"] == "participant.admitted"
    _refused(api, "secretariat", retraction(admission), 409, "not_retractable")
    used = split("GH-L9", ("GH-L9a", "1000.00"), ("GH-L9b", "600.00"))
    status, answer = _post(api, "GH", used)
    assert status == 201
    detail = _refused(api, "GH", retraction(wrong), 409, "retraction_blocked")
    assert detail == {"blocking_position": answer["position"]}
    # in a batch: the index of the document at fault, nothing of the batch appended
    body = batch(flagged("GH-L1"), retraction(wrong))
    detail = _refused(api, "GH", body, 409, "retraction_blocked", index=1)
    assert detail == {"blocking_position": answer["position"]}
    # a chain undone from its end in one batch
    status, answer = _post(api, "GH", batch(retraction(used), retraction(wrong)))
    assert (status, answer["accepted"]) == (201, 2)
    first = answer["position"] - 1
    _refused(api, "GH", retraction(_log_document(api, first)), 409, "not_retractable")


def test_already_retracted_comes_before_any_other_409_and_403_before_it(api: Client) -> None:
    """The retracted production's lot id was reused by the corrected one, which was split
    since: retracting the first again is `already_retracted`, not `retraction_blocked`."""
    wrong = produced("GH-L9", "GH-M1", "1600.00")
    assert _post(api, "GH", wrong)[0] == 201
    corrected = produced("GH-L9", "GH-M1", "160.00")
    assert _post(api, "GH", batch(retraction(wrong), corrected))[0] == 201
    assert _post(api, "GH", split("GH-L9", ("GH-L9a", "100"), ("GH-L9b", "60")))[0] == 201
    _refused(api, "GH", retraction(wrong), 409, "already_retracted")
    _refused(api, "CI", retraction(wrong), 403, "forbidden")
    _refused(api, "GH", retraction(corrected), 409, "retraction_blocked")


def test_a_cancelled_certificate_keeps_its_id_and_cannot_be_confirmed(api: Client) -> None:
    client, tokens = api
    certified = export("GH-C9", "GH", "AE", ["GH-L2"], "40", declared_origin="GH")
    assert _post(api, "GH", certified)[0] == 201
    status, answer = _post(api, "GH", retraction(certified))
    assert status == 201
    headers = {"Authorization": f"Bearer {tokens['investigator']}"}
    view = client.get("/v1/certificates/GH-C9", headers=headers).json()
    assert (view["status"], view["lot_ids"]) == ("cancelled", ["GH-L2"])
    lot = client.get("/v1/lots/GH-L2", headers=headers).json()
    assert (lot["holder"], lot["status"], lot["certificate_id"]) == ("GH", "held", None)
    again = {**certified, "event_id": export("X", "GH", "AE", [], "1")["event_id"]}
    _refused(api, "GH", again, 409, "duplicate_id")
    _refused(api, "AE", confirmed("GH-C9", "40"), 409, "unknown_certificate")
    before = client.get(
        "/v1/certificates/GH-C9", params={"as_of": answer["position"] - 1}, headers=headers
    )
    assert before.json()["status"] == "expired"  # as it stood then, read today
    renewed = export("GH-C10", "GH", "AE", ["GH-L2"], "40", declared_origin="GH")
    assert _post(api, "GH", renewed)[0] == 201

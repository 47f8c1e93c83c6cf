"""`POST /v1/events` judged before its body is read, on each store: a role that posts
nothing is 403 first, a body neither JSON nor CSV or in another charset is 415, and the
rules of JSON bodies hold inside CSV cells and for digits; nothing is ever appended."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import SECRETARIAT, admitted, authority, mine, produced


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ledger.post(admitted("GH"), SECRETARIAT)
    world = {"events": [mine("GH-M1", "GH"), produced("GH-L1", "GH-M1", "100")]}
    ledger.post(world, authority("GH"))
    tokens = {
        "aud": ledger.create_token("auditor", "aud"),
        "gh": ledger.create_token("authority", "gh", "GH"),
    }
    settings = Settings(database_url=store_url, max_body_bytes=1_000_000)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield client, tokens


def _post(api: Any, body: bytes, content_type: str | None, who: str = "gh") -> Any:
    client, tokens = api
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post("/v1/events", content=body, headers=headers)


def _refused(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code, error
    return error


CSV_HEADER = "type,event_id,occurred_at,lot_id,source_id,carats,value_usd,into\n"


def _produced_row(lot_id: str, carats: str, event_id: str) -> str:
    return f"lot.produced,{event_id},2005-06-02T10:00:00Z,{lot_id},GH-M1,{carats},10,\n"


def test_a_role_that_posts_nothing_is_403_before_the_body_is_read(api: Any, ledger: Ledger) -> None:
    before = ledger.head_position()
    # over the body limit and declared so: a body that were read would be 413
    client, tokens = api
    headers = {
        "Authorization": f"Bearer {tokens['aud']}",
        "Content-Type": "application/json",
        "Content-Length": "5000000",
    }
    error = _refused(client.post("/v1/events", headers=headers), 403, "forbidden")
    assert "auditor" in error["message"]
    worst = b"[" + b"1.1," * 200_000 + b"1.1]"
    _refused(_post(api, worst, "application/json", who="aud"), 403, "forbidden")
    _refused(_post(api, worst, "text/csv; charset=punycode", who="aud"), 403, "forbidden")
    assert ledger.head_position() == before


@pytest.mark.parametrize("charset", ["punycode", "undefined", "utf-16", "rot13", "no-such", "idna"])
def test_a_csv_charset_other_than_utf8_latin1_or_windows1252_is_415(
    api: Any, ledger: Ledger, charset: str
) -> None:
    before = ledger.head_position()
    body = CSV_HEADER + _produced_row("GH-L2", "1.00", "7d1e0000-0000-4000-8000-000000000001")
    error = _refused(
        _post(api, body.encode() * 2000, f"text/csv; charset={charset}"),
        415,
        "unsupported_charset",
    )
    assert error["detail"] == {"charset": charset}
    assert ledger.head_position() == before


def test_json_in_another_charset_is_415(api: Any, ledger: Ledger) -> None:
    before = ledger.head_position()
    body = b'{"type": "lot.flagged", "lot_id": "GH-L1"}'
    _refused(_post(api, body, "application/json; charset=latin-1"), 415, "unsupported_charset")
    assert ledger.head_position() == before


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/csvx"]
)
def test_a_body_neither_json_nor_csv_is_415(
    api: Any, ledger: Ledger, content_type: str | None
) -> None:
    before = ledger.head_position()
    body = (
        b'{"event_id": "7d1e0000-0000-4000-8000-000000000002", "type": "lot.flagged",'
        b' "occurred_at": "2005-06-03T10:00:00Z", "lot_id": "GH-L1", "reason": "why"}'
    )
    _refused(_post(api, body, content_type), 415, "unsupported_media_type")
    assert ledger.head_position() == before
    accepted = _post(api, body, "application/json; charset=utf-8")
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize(
    ("charset", "encoded"),
    [("ISO-8859-1", "latin-1"), ("latin1", "latin-1"), ("windows-1252", "cp1252")],
)
def test_csv_in_latin1_and_windows1252_is_decoded(
    api: Any, ledger: Ledger, charset: str, encoded: str
) -> None:
    name = "Société Minière d\u2019Akwatia" if encoded == "cp1252" else "Société Minière"
    body = (
        "type,event_id,occurred_at,mine_id,participant,name,region,location.lat,location.lon\n"
        f"mine.registered,7d1e0000-0000-4000-8000-0000000000{len(charset):02d},"
        f"2005-06-01T10:00:00Z,GH-M9,GH,{name},Eastern,6.0,-0.8\n"
    )
    answer = _post(api, body.encode(encoded), f"text/csv; charset={charset}")
    assert answer.status_code == 201, answer.text
    last = ledger.read_log(ledger.head_position() - 1, 1)[0]
    assert last.document["name"] == name


def test_a_body_not_in_its_windows1252_charset_is_422_naming_the_line(
    api: Any, ledger: Ledger
) -> None:
    before = ledger.head_position()
    body = CSV_HEADER.encode() + b"lot.produced,x,2005,GH-\x81,GH-M1,1,1,\n"
    error = _refused(_post(api, body, "text/csv; charset=windows-1252"), 422, "invalid")
    assert error["detail"]["line"] == 2
    assert ledger.head_position() == before


SPLIT = (
    "lot.split,7d1e0000-0000-4000-8000-000000000010,2005-06-03T10:00:00Z,GH-L1,,,,"
    '"[{""lot_id"": ""GH-L1a"", ""carats"": {a}, ""value_usd"": ""5""},'
    ' {""lot_id"": ""GH-L1b"", ""carats"": ""50.00"", ""value_usd"": ""5""{b}}]"\n'
)


@pytest.mark.parametrize(
    ("a", "b", "said"),
    [
        ('""50.00""', ', ""carats"": ""1.00""', "appears twice"),
        ("5.0e1", "", "exponent"),
        ("NaN", "", "not a JSON number"),
    ],
)
def test_json_in_a_csv_cell_follows_the_rules_of_json_bodies(
    api: Any, ledger: Ledger, a: str, b: str, said: str
) -> None:
    before = ledger.head_position()
    body = CSV_HEADER + SPLIT.replace("{a}", a).replace("{b}", b)
    error = _refused(_post(api, body.encode(), "text/csv"), 422, "invalid")
    assert said in error["message"], error
    assert ledger.head_position() == before
    good = CSV_HEADER + SPLIT.replace("{a}", '""50.00""').replace("{b}", "")
    assert _post(api, good.encode(), "text/csv").status_code == 201


OTHER_DIGITS = ["\u0661.00", "\u0661\u0660", "\uff11\uff10.00", "10.\u0660\u0660"]


@pytest.mark.parametrize("carats", OTHER_DIGITS)
def test_amounts_are_ascii_digits_only(api: Any, ledger: Ledger, carats: str) -> None:
    """Arabic-Indic and full-width digits are digits to Python's regular expressions."""
    before = ledger.head_position()
    document = (
        '{"event_id": "7d1e0000-0000-4000-8000-000000000020", "type": "lot.produced",'
        ' "occurred_at": "2005-06-02T10:00:00Z", "lot_id": "GH-L3", "source_id": "GH-M1",'
        f' "carats": "{carats}", "value_usd": "10"}}'
    )
    error = _refused(_post(api, document.encode(), "application/json"), 422, "invalid")
    assert "carats" in error["message"]
    row = CSV_HEADER + _produced_row("GH-L3", carats, "7d1e0000-0000-4000-8000-000000000021")
    _refused(_post(api, row.encode(), "text/csv"), 422, "invalid")
    assert ledger.head_position() == before

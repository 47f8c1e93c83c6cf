"""GET /v1/paths on each store: a world whose every path and its carats are known by
construction (a merge joining two paths, splits dividing them), limits, `as_of`, and the
refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    batch,
    confirmed,
    export,
    licensed,
    merged,
    mine,
    produced,
    site,
    split,
    transferred,
)

API = tuple[TestClient, dict[str, str]]


def _world(ledger: Ledger) -> dict[str, int]:
    """GH-M (mine, GH) produces L1 (100 ct) and L2 (50 ct); L1 is split into L1A (60) and
    L1B (40); L1A and L2 are merged into M (110): two paths from GH-M join there. CI-S
    (site, CI) produces C1 (30), shipped to GH under CI-1; M and C1 are merged into X (140),
    split into X1 and X2 (70 each): every path into X divides in two. X1 goes to AE under
    GH-1; X2 is sold to the trader GH-TRADER and goes to AE under GH-2; both are taken in
    by the importer AE-IMP.

    From GH-M, X holds 110 ct (60 through L1A, 50 through L2), so X1 and X2 each 55: 30
    through L1 and L1A, 25 through L2. Returns the positions of the two confirmations."""
    for code in ("GH", "CI", "AE", "IN"):
        ledger.post(admitted(code), SECRETARIAT)
    ghana, ivory_coast, emirates = authority("GH"), authority("CI"), authority("AE")
    ledger.post(
        batch(
            mine("GH-M", "GH"),
            licensed("GH-TRADER", "buyer", "exporter"),
            produced("L1", "GH-M", "100"),
            produced("L2", "GH-M", "50"),
            split("L1", ("L1A", "60"), ("L1B", "40")),
            merged(["L1A", "L2"], "M"),
        ),
        ghana,
    )
    ledger.post(licensed("AE-IMP", "importer"), emirates)
    ledger.post(
        batch(
            site("CI-S", "CI"),
            produced("C1", "CI-S", "30"),
            export("CI-1", "CI", "GH", ["C1"], "30"),
        ),
        ivory_coast,
    )
    ledger.post(confirmed("CI-1", "30"), ghana)
    ledger.post(
        batch(
            merged(["M", "C1"], "X"),
            split("X", ("X1", "70"), ("X2", "70")),
            export("GH-1", "GH", "AE", ["X1"], "70"),
            transferred("X2", "GH-TRADER"),
            {
                **export("GH-2", "GH", "AE", ["X2"], "70"),
                "exporter": {"name": "GH Trader", "operator_id": "GH-TRADER"},
            },
        ),
        ghana,
    )
    first = ledger.post(confirmed("GH-1", "70", operator_id="AE-IMP"), emirates).position
    second = ledger.post(confirmed("GH-2", "70", operator_id="AE-IMP"), emirates).position
    return {"GH-1": first, "GH-2": second}


@pytest.fixture
def world(ledger: Ledger, store_url: str) -> Iterator[tuple[API, dict[str, int]]]:
    positions = _world(ledger)
    tokens = {
        "inv": ledger.create_token("investigator", "inv"),
        "aud": ledger.create_token("auditor", "aud"),
        "gh": ledger.create_token("authority", "gh", "GH"),
    }
    app = create_app(Settings(database_url=store_url), ledger=ledger)
    with TestClient(app) as client:
        yield (client, tokens), positions


def _paths(api: API, who: str = "inv", **params: Any) -> tuple[int, Any]:
    client, tokens = api
    response = client.get(
        "/v1/paths", params=params, headers={"Authorization": f"Bearer {tokens[who]}"}
    )
    return response.status_code, response.json()


def _found(api: API, **params: Any) -> dict[str, Any]:
    status, body = _paths(api, **params)
    assert status == 200, body
    return body


def _summary(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(path["carats"], path["nodes"]) for path in body["paths"]]


VIA_L1 = ["source:GH-M", "lot:L1", "lot:L1A", "lot:M", "lot:X"]
VIA_L2 = ["source:GH-M", "lot:L2", "lot:M", "lot:X"]


def test_a_merge_joins_two_paths_and_their_carats_add_up(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "GH-M", "to": "X1"})
    assert body["from"] == "GH-M" and body["to"] == "X1" and body["carats"] == "55.00"
    assert _summary(body) == [("30.00", [*VIA_L1, "lot:X1"]), ("25.00", [*VIA_L2, "lot:X1"])]
    assert body["truncated"] is False
    edges = body["paths"][1]["edges"]
    assert [(e["source"], e["target"], e["kind"]) for e in edges] == [
        ("source:GH-M", "lot:L2", "produced-at"),
        ("lot:L2", "lot:M", "merged-into"),
        ("lot:M", "lot:X", "merged-into"),
        ("lot:X", "lot:X1", "split-into"),
    ]
    assert [e["carats"] for e in edges] == ["50.00", "50.00", "110.00", "70.00"]
    assert all(isinstance(e["position"], int) for e in edges)


def test_splits_divide_the_paths_to_a_participant_most_carats_first(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "GH-M", "to": "AE"})
    assert body["carats"] == "110.00"
    via_gh1 = ["lot:X1", "certificate:GH-1", "participant:AE"]
    via_gh2 = ["lot:X2", "certificate:GH-2", "participant:AE"]
    assert _summary(body) == [  # ties in order of their nodes
        ("30.00", [*VIA_L1, *via_gh1]),
        ("30.00", [*VIA_L1, *via_gh2]),
        ("25.00", [*VIA_L2, *via_gh1]),
        ("25.00", [*VIA_L2, *via_gh2]),
    ]
    assert body["paths"][0]["edges"][-1] == {
        "source": "certificate:GH-1",
        "target": "participant:AE",
        "kind": "received-by",
        "position": world[1]["GH-1"],
        "carats": "70.00",
    }


def test_at_most_limit_paths_and_truncated_when_there_were_more(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "GH-M", "to": "AE", "limit": "3"})
    assert [path["carats"] for path in body["paths"]] == ["30.00", "30.00", "25.00"]
    assert body["truncated"] is True and body["carats"] == "110.00"
    body = _found(api, **{"from": "GH-M", "to": "AE", "limit": "4"})
    assert len(body["paths"]) == 4 and body["truncated"] is False


def test_ten_paths_unless_told_and_at_most_a_hundred(world: Any, ledger: Ledger) -> None:
    """A mine whose 105 lots (1 to 105 ct) are merged into one: 105 paths to it, the
    heaviest first; 10 by default, 100 at most, `truncated` both times; 101 is 422."""
    parcels = [produced(f"W{carats:03d}", "GH-W", str(carats)) for carats in range(1, 106)]
    lot_ids = [parcel["lot_id"] for parcel in parcels]
    ledger.post(batch(mine("GH-W", "GH"), *parcels, merged(lot_ids, "W")), authority("GH"))
    api, _ = world
    default = _found(api, **{"from": "GH-W", "to": "W"})
    assert [path["carats"] for path in default["paths"]] == [f"{c}.00" for c in range(105, 95, -1)]
    assert default["truncated"] is True and default["carats"] == "5565.00"
    assert default["paths"][0]["nodes"] == ["source:GH-W", "lot:W105", "lot:W"]
    widest = _found(api, **{"from": "GH-W", "to": "W", "limit": "100"})
    assert len(widest["paths"]) == 100 and widest["truncated"] is True
    assert widest["paths"][-1]["carats"] == "6.00"
    status, body = _paths(api, **{"from": "GH-W", "to": "W", "limit": "101"})
    assert (status, body["error"]["code"]) == (422, "invalid")


def test_participants_and_operators_at_either_end(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "CI", "to": "AE-IMP"})
    start = ["participant:CI", "source:CI-S", "lot:C1", "lot:X"]
    assert body["carats"] == "30.00"
    assert _summary(body) == [
        ("15.00", [*start, "lot:X1", "operator:AE-IMP"]),
        ("15.00", [*start, "lot:X2", "operator:AE-IMP"]),
    ]
    last = body["paths"][0]["edges"][-1]
    assert (last["source"], last["target"], last["kind"]) == ("lot:X1", "operator:AE-IMP", "held")
    body = _found(api, **{"from": "GH-TRADER", "to": "AE"})
    assert body["carats"] == "70.00"
    assert _summary(body) == [
        ("70.00", ["operator:GH-TRADER", "lot:X2", "certificate:GH-2", "participant:AE"])
    ]


def test_from_a_lot_to_a_certificate(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "L1", "to": "GH-2"})
    assert _summary(body) == [
        ("30.00", ["lot:L1", "lot:L1A", "lot:M", "lot:X", "lot:X2", "certificate:GH-2"])
    ]
    assert body["carats"] == "30.00"


def test_no_path_is_an_empty_list(world: Any) -> None:
    api, _ = world
    body = _found(api, **{"from": "L1B", "to": "AE"})
    assert body == {"from": "L1B", "to": "AE", "carats": "0.00", "paths": [], "truncated": False}
    assert _found(api, **{"from": "X1", "to": "L1"})["paths"] == []  # against the material


def test_as_of_answers_as_the_ledger_stood(world: Any) -> None:
    api, positions = world
    before = positions["GH-2"] - 1
    body = _found(api, **{"from": "GH-M", "to": "AE", "as_of": str(before)})
    assert body["carats"] == "55.00"
    assert {path["nodes"][-2] for path in body["paths"]} == {"certificate:GH-1"}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": "NOPE", "to": "AE"}, 404, "not_found"),
        ({"from": "GH-M", "to": "NOPE"}, 404, "not_found"),
        ({"from": "GH-1", "to": "AE"}, 404, "not_found"),  # a certificate is no start
        ({"from": "GH-M", "to": "GH-M"}, 404, "not_found"),  # nor a source an end
        ({"from": "GH-M", "to": "AE", "limit": "0"}, 422, "invalid"),
        ({"from": "GH-M", "to": "AE", "limit": "101"}, 422, "invalid"),
        ({"from": "GH-M", "to": "AE", "limit": "ten"}, 422, "invalid"),
        ({"from": "GH-M"}, 422, "invalid"),
        ({"from": "GH-M", "to": "AE", "as_of": "yesterday"}, 422, "invalid"),
    ],
)
def test_refusals(world: Any, params: dict[str, str], status: int, code: str) -> None:
    api, _ = world
    answer, body = _paths(api, **params)
    assert answer == status and body["error"]["code"] == code, body


def test_authorities_may_not_read_paths_nor_anyone_without_a_token(world: Any) -> None:
    api, _ = world
    status, body = _paths(api, "gh", **{"from": "GH-M", "to": "AE"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    client, _ = api
    answer = client.get("/v1/paths", params={"from": "GH-M", "to": "AE"})
    assert answer.status_code == 401
    assert _paths(api, "aud", **{"from": "GH-M", "to": "AE"})[0] == 200


def _downstream(api: API, **params: str) -> dict[str, str]:
    client, tokens = api
    response = client.get(
        "/v1/trace/downstream", params=params, headers={"Authorization": f"Bearer {tokens['inv']}"}
    )
    assert response.status_code == 200, response.text
    operators = response.json()["operators"]
    assert all(
        set(entry) == {"operator_id", "participant", "carats_from_origin"} for entry in operators
    )
    return {entry["operator_id"]: entry["carats_from_origin"] for entry in operators}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ({"source_id": "GH-M"}, {"AE-IMP": "110.00", "GH-TRADER": "55.00"}),
        ({"participant": "CI"}, {"AE-IMP": "30.00", "GH-TRADER": "15.00"}),
        ({"lot_id": "X2"}, {"AE-IMP": "70.00", "GH-TRADER": "70.00"}),
        ({"lot_id": "L1B"}, {}),
        ({"operator": "GH-TRADER"}, {"AE-IMP": "70.00", "GH-TRADER": "70.00"}),
    ],
)
def test_downstream_names_every_company_that_held_a_lot_reached(
    world: Any, origin: dict[str, str], expected: dict[str, str]
) -> None:
    api, _ = world
    assert _downstream(api, **origin) == expected


def test_downstream_operators_carry_what_the_paths_to_them_add_up_to(world: Any) -> None:
    api, _ = world
    for origin, start in (("source_id", "GH-M"), ("participant", "CI"), ("lot_id", "X")):
        for operator_id, carats in _downstream(api, **{origin: start}).items():
            assert _found(api, **{"from": start, "to": operator_id})["carats"] == carats


def test_downstream_operators_as_of(world: Any) -> None:
    api, positions = world
    before = str(positions["GH-1"] - 1)
    assert _downstream(api, source_id="GH-M", as_of=before) == {"GH-TRADER": "55.00"}

"""The exports on each store, over the demo world: the log as EPCIS 2.0 (every page valid
against GS1's schema) and the custody graph as FollowTheMoney entities."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from followthemoney import model

from api.app import create_app
from api.routes.exports import position_of
from api.settings import Settings
from ledger.application import Ledger
from tests.epcis import epcis_errors
from worlds.demo import KADE_PARCEL, SUSPECT_CERTIFICATE_ID, SUSPECT_LOT_ID, load_demo

CUSTODY_TYPES = {"lot.produced", "lot.split", "lots.merged", "export.certified", "import.confirmed"}


class Api:
    """A client of the app over the demo world, with an investigator's token."""

    def __init__(self, client: TestClient, ledger: Ledger) -> None:
        self.client, self.ledger = client, ledger
        self.investigator = ledger.create_token("investigator", "inv")
        self.authority = ledger.create_token("authority", "gh", "GH")

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.investigator}"}
        return self.client.get(path, params=params, headers=headers)


@pytest.fixture
def api(ledger: Ledger, store_url: str) -> Iterator[Api]:
    load_demo(ledger)
    with TestClient(create_app(Settings(database_url=store_url), ledger=ledger)) as client:
        yield Api(client, ledger)


def all_epcis_pages(api: Api, limit: int) -> list[httpx.Response]:
    pages, after = [], 0
    while True:
        answer = api.get("/v1/epcis/events", after=after, limit=limit)
        assert answer.status_code == 200, answer.text
        pages.append(answer)
        if "link" not in answer.headers:
            return pages
        after = int(answer.headers["link"].split("after=")[1].split("&")[0])


def test_every_page_of_the_log_is_a_valid_epcis_document(api: Api) -> None:
    head = api.ledger.head_position()
    pages = all_epcis_pages(api, limit=100)
    assert len(pages) == head // 100 + 1
    assert all(page.headers["content-type"].startswith("application/ld+json") for page in pages)
    events = []
    for page in pages:
        document = page.json()
        assert epcis_errors(document) == []
        events.extend(document["epcisBody"]["eventList"])
    custody = [e for e in api.ledger.read_log(0, head) if e.type in CUSTODY_TYPES]
    assert [event["eventID"] for event in events] == [f"urn:uuid:{e.event_id}" for e in custody]


def test_the_suspect_parcel_is_made_and_shipped_in_carats(api: Api) -> None:
    events = [
        e for page in all_epcis_pages(api, 10_000) for e in page.json()["epcisBody"]["eventList"]
    ]
    suspect = f"urn:kpledger:lot:{SUSPECT_LOT_ID}"
    (made,) = [
        e for e in events if suspect in [q["epcClass"] for q in e.get("outputQuantityList", [])]
    ]
    assert sorted((q["epcClass"], q["quantity"]) for q in made["inputQuantityList"]) == [
        ("urn:kpledger:lot:CI-SEG-2005-P01", 1050.0),
        ("urn:kpledger:lot:GH-AKW-2005-0003", 1260.0),
    ]
    assert made["outputQuantityList"] == [{"epcClass": suspect, "quantity": 2310.0, "uom": "CTM"}]
    certificate = f"urn:kpledger:certificate:{SUSPECT_CERTIFICATE_ID}"
    steps = [
        (e["bizStep"], e["bizLocation"]["id"])
        for e in events
        if {"type": "cert", "bizTransaction": certificate} in e.get("bizTransactionList", [])
    ]
    assert steps == [
        ("shipping", "urn:kpledger:participant:GH"),
        ("receiving", "urn:kpledger:participant:AE"),
    ]


def test_a_page_past_the_head_is_an_empty_document_without_a_next_link(api: Api) -> None:
    answer = api.get("/v1/epcis/events", after=api.ledger.head_position())
    assert answer.status_code == 200 and "link" not in answer.headers
    assert answer.json()["epcisBody"] == {"eventList": []}
    assert epcis_errors(answer.json()) == []


def test_only_readers_of_everything_export(api: Api) -> None:
    answer = api.get("/v1/epcis/events", token=api.authority)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert api.client.get("/v1/epcis/events").status_code == 401
    for bad in ({"limit": 0}, {"limit": 10_001}, {"after": -1}):
        answer = api.get("/v1/epcis/events", **bad)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid"


def ftm_lines_of(api: Api, **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/graph", format="ftm", **params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    found = [json.loads(line) for line in answer.text.splitlines()]
    for data in found:  # each one read back by the library, unchanged
        assert model.get_proxy(data).to_dict() == data
    return found


def test_the_kade_parcel_as_followthemoney_entities(api: Api) -> None:
    found = {entity["id"]: entity for entity in ftm_lines_of(api, root=KADE_PARCEL)}
    companies = {i for i, e in found.items() if e["schema"] == "Company"}
    assert companies == {
        "kpl-operator-GH-AKW-DIGGERS",
        "kpl-operator-GH-KADE-BUYERS",
        "kpl-operator-GH-ACCRA-EXPORTERS",
        "kpl-operator-AE-DXB-ROUGH",
    }
    sanction = found["kpl-listing-UNSC-1572-2006-01"]
    assert sanction["properties"]["entity"] == ["kpl-operator-GH-ACCRA-EXPORTERS"]
    assert {"kpl-authority-GH", "kpl-authority-AE"} <= {
        i for i, e in found.items() if e["schema"] == "PublicBody"
    }
    held = sorted(
        (e["properties"]["startDate"][0], e["properties"]["owner"][0])
        for e in found.values()
        if e["schema"] == "Ownership" and e["properties"]["asset"] == [f"kpl-lot-{KADE_PARCEL}"]
    )
    assert held == [
        ("2006-03-20", "kpl-operator-GH-KADE-BUYERS"),
        ("2006-03-27", "kpl-operator-GH-ACCRA-EXPORTERS"),
        ("2006-04-07", "kpl-operator-AE-DXB-ROUGH"),
    ]


def test_the_ftm_command_reads_the_file(api: Api, tmp_path: Path) -> None:
    answer = api.get("/v1/graph", root=SUSPECT_LOT_ID, format="ftm")
    (tmp_path / "suspect.ftm.json").write_text(answer.text, encoding="utf-8")
    ftm = Path(sys.executable).with_name("ftm")
    for command in (["validate"], ["export-gexf"]):
        done = subprocess.run(
            [ftm, *command, "-i", "suspect.ftm.json", "-o", "out"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "kpl-lot-AE-DXB-2006-0031" in (tmp_path / "out").read_text(encoding="utf-8")


def test_followthemoney_as_of_before_the_listing(api: Api) -> None:
    history = api.get(f"/v1/lots/{KADE_PARCEL}/history").json()["events"]
    shipped = next(event["position"] for event in history if event["type"] == "import.confirmed")
    found = {e["id"]: e for e in ftm_lines_of(api, root=KADE_PARCEL, as_of=shipped)}
    assert "kpl-listing-UNSC-1572-2006-01" not in found
    assert f"kpl-lot-{KADE_PARCEL}" in found


def test_followthemoney_of_an_unknown_root_is_404(api: Api) -> None:
    answer = api.get("/v1/graph", root="NO-SUCH-LOT", format="ftm")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    answer = api.get("/v1/graph", root=KADE_PARCEL, format="ftm", token=api.authority)
    assert answer.status_code == 403


def test_the_position_of_a_retracted_documents_event_id_is_found_in_the_store(api: Api) -> None:
    entry = api.ledger.read_log(50, 1)[0]
    assert position_of(api.ledger, entry.event_id) == 51
    assert position_of(api.ledger, "3f1c3a52-0000-4000-8000-000000000000") is None

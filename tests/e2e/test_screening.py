"""Sanctions screening through a real `kpledger serve`, on each store: lists loaded at
start, an operator screened on its licence, a SIGHUP reload while reads go on, a malformed
file that leaves the other lists working, and a dismissal that survives a restart."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import admitted, batch, doc, licensed

UN_LIST = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:noNamespaceSchemaLocation="https://www.un.org/sc/resources/sc-sanctions.xsd"
  dateGenerated="{generated}">
  <INDIVIDUALS/>
  <ENTITIES>{entities}</ENTITIES>
</CONSOLIDATED_LIST>
"""
ENTITY = """
    <ENTITY>
      <DATAID>{dataid}</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME>{name}</FIRST_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>{reference}</REFERENCE_NUMBER>
      <LISTED_ON>2014-06-30</LISTED_ON>
      <ENTITY_ADDRESS><COUNTRY>Democratic Republic of the Congo</COUNTRY></ENTITY_ADDRESS>
    </ENTITY>"""
KIVU = ENTITY.format(dataid=1, name="KIVU GOLD AND GEMS SPRL", reference="CDe.900")
BUNIA = ENTITY.format(dataid=2, name="BUNIA DIAMOND TRADING SPRL", reference="CDe.901")


def _write(folder: Path, generated: str, *entities: str) -> None:
    text = UN_LIST.format(generated=generated, entities="".join(entities))
    (folder / "un_sc.xml").write_text(text, encoding="utf-8")


def _possible(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/v1/alerts", params={"type": "possible_sanctions_match"})
    assert answer.status_code == 200, answer.text
    return {alert["subject"]: alert for alert in answer.json()["alerts"]}


def _until(check: Any, what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_lists_reload_on_sighup_and_a_dismissal_survives_a_restart(
    store_url: str, server_factory: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    _write(folder, "2026-09-01T23:00:00Z", KIVU)
    server = server_factory(store_url, env={"KPLEDGER_SANCTIONS_LISTS": str(folder)})
    secretariat = server.client(server.token("secretariat"))
    investigator = server.client(server.token("investigator"))
    cd = server.client(server.token("authority", "CD"))
    assert secretariat.post("/v1/events", json=batch(admitted("CD"))).status_code == 201
    licences = batch(
        licensed("CD-KIVU", "exporter", name="Kivu Gold & Gems SPRL"),
        licensed("CD-BUNIA", "exporter", name="Bunia Diamond Trading"),
    )
    assert cd.post("/v1/events", json=licences).status_code == 201

    [listed] = investigator.get("/v1/sanctions/lists").json()["lists"]
    assert (listed["list"], listed["entries"], listed["published"]) == (
        "un_sc",
        1,
        "2026-09-01T23:00:00Z",
    )
    found = _possible(investigator)
    assert list(found) == ["CD-KIVU/un_sc/CDe.900"]  # screened on its licence
    kivu = found["CD-KIVU/un_sc/CDe.900"]
    assert kivu["detail"]["listed_name"] == "KIVU GOLD AND GEMS SPRL"
    assert kivu["detail"]["matched"]["operator_name"] == "Kivu Gold & Gems SPRL"
    dismissal = doc("alert.reviewed", alert_id=kivu["alert_id"], status="dismissed", note="no")
    assert investigator.post("/v1/events", json=batch(dismissal)).status_code == 201

    # a new download of the list, with one more company, and a SIGHUP while reads go on
    _write(folder, "2026-10-01T23:00:00Z", KIVU, BUNIA)
    failures: list[str] = []
    reads = 0
    stop = threading.Event()

    reader_token = server.token("investigator")

    def read_on() -> None:
        nonlocal reads
        with server.client(reader_token) as client:
            while not stop.is_set():
                answer = client.get("/v1/alerts")
                reads += 1
                if answer.status_code != 200:
                    failures.append(answer.text)

    reader = threading.Thread(target=read_on)
    reader.start()
    try:
        _until(lambda: reads > 0, "a first read")
        server.process.send_signal(signal.SIGHUP)
        _until(
            lambda: (
                investigator.get("/v1/sanctions/lists").json()["lists"][0]["published"]
                == "2026-10-01T23:00:00Z"
            ),
            "the reloaded list",
        )
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert server.process.poll() is None  # SIGHUP did not stop the server
    found = _possible(investigator)
    assert sorted(found) == ["CD-BUNIA/un_sc/CDe.901", "CD-KIVU/un_sc/CDe.900"]
    assert found["CD-KIVU/un_sc/CDe.900"]["review"]["status"] == "dismissed"
    assert found["CD-BUNIA/un_sc/CDe.901"]["review"] is None

    # a malformed file: one log line, and the list loaded stays in service
    (folder / "eu.json").write_text('{"id": "x", "schema": "Company", "prop', encoding="utf-8")
    server.process.send_signal(signal.SIGHUP)
    _until(lambda: "eu.json not loaded" in server.stderr_text(), "the malformed file's line")
    assert server.stderr_text().count("eu.json not loaded") == 1
    assert [s["list"] for s in investigator.get("/v1/sanctions/lists").json()["lists"]] == ["un_sc"]

    # a restart: the dismissal stays with the operator and the entry
    server.stop()
    server.start()
    again = server.client(server.token("investigator"))
    found = _possible(again)
    assert found["CD-KIVU/un_sc/CDe.900"]["review"]["status"] == "dismissed"
    assert found["CD-BUNIA/un_sc/CDe.901"]["review"] is None
    assert server.stderr_text().count("eu.json not loaded") == 2  # once more at the start


def test_the_demo_screens_against_its_own_lists_by_default(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import free_port

    env = {k: v for k, v in os.environ.items() if k != "KPLEDGER_SANCTIONS_LISTS"}
    env["KPLEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    port = free_port()
    out = tmp_path / "demo.out"
    with out.open("wb") as stdout, (tmp_path / "demo.err").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "demo", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / "demo.err").read_text()
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _until(healthy, "the demo serving")
        line = next(x for x in out.read_text().splitlines() if x.startswith("export INVESTIGATOR="))
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {line.split('=', 1)[1]}"}, timeout=60
        )
        assert [s["list"] for s in client.get("/v1/sanctions/lists").json()["lists"]] == [
            "opensanctions_demo",
            "un_sc_sanctions",
        ]
        assert list(_possible(client)) == ["GH-ACCRA-EXPORTERS/un_sc_sanctions/CIe.901"]
    finally:
        process.terminate()
        process.wait(timeout=30)

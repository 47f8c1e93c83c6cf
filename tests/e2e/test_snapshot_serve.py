"""A real `kpledger serve` saves its read model on stop, and starts again from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.application import Ledger
from projections import snapshot
from tests.support import SECRETARIAT, admitted, authority, mine, produced, split


def _stopped(server: Any) -> str:
    """Stops the server; the warnings and errors it logged."""
    server.stop()
    lines = server.stderr_text().splitlines()
    return "\n".join(line for line in lines if " WARNING " in line or " ERROR " in line)


def test_a_server_restarts_from_its_snapshot_and_catches_up(
    store_url: str, server_factory: Any, tmp_path: Path
) -> None:
    first = server_factory(store_url)
    secretariat, ghana = first.token("secretariat"), first.token("authority", "GH")
    investigator = first.token("investigator")
    with first.client(secretariat) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    with first.client(ghana) as client:
        assert client.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
        assert client.post("/v1/events", json=produced("GH-L1", "GH-M1", "90")).status_code == 201
    assert "snapshot" not in _stopped(first)
    path = Path(first.env["KPLEDGER_SNAPSHOT"])  # see tests/conftest.py
    assert path.parent == tmp_path
    header, _ = snapshot.read_file(path)
    assert header.position == 3

    ledger = Ledger.open(store_url)  # another process appends while no server runs
    try:
        ledger.post(admitted("CI"), SECRETARIAT)
        ledger.post(split("GH-L1", ("GH-L1-a", "30"), ("GH-L1-b", "60")), authority("GH"))
    finally:
        ledger.close()

    second = server_factory(store_url)
    with second.client(investigator) as client:
        assert client.get("/v1/lots/GH-L1").json()["status"] == "consumed"
        provenance = client.get("/v1/lots/GH-L1-b/provenance").json()
        assert provenance["sources"][0]["carats"] == "60.00"
        listed = client.get("/v1/participants").json()["participants"]
        codes = [row["participant"] for row in listed]
        assert sorted(codes) == ["CI", "GH"]
        assert client.get("/v1/audit/checkpoint").json()["tree_size"] == 5
    assert "snapshot" not in _stopped(second)  # used: no warning
    assert snapshot.read_file(path)[0].position == 5  # and saved again on stop

    path.write_bytes(path.read_bytes()[:-100])
    third = server_factory(store_url)
    with third.client(investigator) as client:
        assert client.get("/v1/lots/GH-L1-a").json()["carats"] == "30.00"
    lines = [line for line in _stopped(third).splitlines() if "snapshot" in line]
    assert len(lines) == 1, lines
    assert "not used (truncated:" in lines[0] and lines[0].endswith("replaying the log in full")

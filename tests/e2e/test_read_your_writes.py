"""A read made after a 201 sees that write, whichever server process on the store answers."""

from __future__ import annotations

from typing import Any

from tests.support import admitted, mine, produced, split


def test_a_write_to_one_server_is_read_at_once_from_another(
    store_url: str, server_factory: Any
) -> None:
    writer, reader = server_factory(store_url), server_factory(store_url)
    _each_write_is_read_at_once(writer, reader)


def test_a_sole_writer_reads_its_writes_at_once(store_url: str, server_factory: Any) -> None:
    server = server_factory(store_url, env={"KPLEDGER_SOLE_WRITER": "true"})
    _each_write_is_read_at_once(server, server)


def _each_write_is_read_at_once(writer: Any, reader: Any) -> None:
    """Ghana's authority writes to `writer`; an investigator reads each write from `reader`
    as soon as its 201 arrives: the lot produced, then its split parts' provenance."""
    with writer.client(writer.token("secretariat")) as client:
        assert client.post("/v1/events", json=admitted("GH")).status_code == 201
    ghana, investigator = writer.token("authority", "GH"), writer.token("investigator")
    with writer.client(ghana) as to_writer, reader.client(investigator) as from_reader:
        assert to_writer.post("/v1/events", json=mine("GH-M1", "GH")).status_code == 201
        for round_ in range(5):
            lot_id = f"GH-L{round_}"
            posted = to_writer.post("/v1/events", json=produced(lot_id, "GH-M1", "90"))
            assert posted.status_code == 201, posted.text
            lot = from_reader.get(f"/v1/lots/{lot_id}")
            assert lot.status_code == 200, lot.text
            assert lot.json()["carats"] == "90.00"
            parts = split(lot_id, (f"{lot_id}-a", "30"), (f"{lot_id}-b", "60"))
            assert to_writer.post("/v1/events", json=parts).status_code == 201
            provenance = from_reader.get(f"/v1/lots/{lot_id}-b/provenance").json()
            assert provenance["sources"][0]["source_id"] == "GH-M1"
            assert provenance["sources"][0]["carats"] == "60.00"
            assert from_reader.get(f"/v1/lots/{lot_id}").json()["status"] == "consumed"

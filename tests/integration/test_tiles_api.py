"""GET /tile/... and /tile/entries/... on each store: tiles of every size from 1 to 600
rebuild the tree's root, bundles hash to level 0, caching headers, who may read, and
`document_too_large`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import rfc8785
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.errors import LedgerError
from tests.support import (
    authority,
    basic_world,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
    produced,
    split,
)
from tests.unit.tile_client import bundle_leaves, root_from_tiles, tile_url

ENTRIES = 600


@pytest.fixture
def api(ledger: Ledger, tmp_path: object) -> Iterator[tuple[TestClient, dict[str, str]]]:
    basic_world(ledger)  # 7 entries
    lots = [produced(f"GH-T{i}", "GH-M1", "1") for i in range(ENTRIES - 7)]
    for start in range(0, len(lots), 250):
        ledger.post({"events": lots[start : start + 250]}, authority("GH"))
    tokens = {
        "aud": ledger.create_token("auditor", "aud"),
        "gh": ledger.create_token("authority", "gh", "GH"),
    }
    app = create_app(Settings(database_url=None, signing_key=f"{tmp_path}/k.pem"), ledger=ledger)
    with TestClient(app) as client:
        yield client, tokens


def test_tiles_of_every_size_rebuild_the_root(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    auditor = {"Authorization": f"Bearer {tokens['aud']}"}
    fetched: dict[str, bytes] = {}

    def fetch(url: str) -> bytes:
        if url not in fetched:
            answer = client.get(url)  # no token
            assert answer.status_code == 200, (url, answer.text)
            assert answer.headers["content-type"] == "application/octet-stream"
            fetched[url] = answer.content
        return fetched[url]

    for size in range(1, ENTRIES + 1):
        proof = client.get(
            "/v1/audit/proof/consistency", params={"from_size": size}, headers=auditor
        )
        assert proof.status_code == 200, proof.text
        assert root_from_tiles(size, fetch).hex() == proof.json()["from_root"], size


def test_bundles_hold_the_entries_as_served_and_hash_to_level_0(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    auditor = {"Authorization": f"Bearer {tokens['aud']}"}
    events = client.get("/v1/events", params={"after": 0, "limit": 1000}, headers=auditor).json()
    served = [rfc8785.dumps(event) for event in events["events"]]
    assert len(served) == ENTRIES
    leaves: list[bytes] = []
    for url in (tile_url("entries", 0), tile_url("entries", 1)):
        answer = client.get(url, headers=auditor)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        leaves += bundle_leaves(answer.content)
    partial = client.get(tile_url("entries", 2, ENTRIES - 512), headers=auditor)
    assert partial.headers["cache-control"] == "public, max-age=10"
    leaves += bundle_leaves(partial.content)
    assert leaves == served
    level0 = b"".join(
        client.get(url).content
        for url in (tile_url(0, 0), tile_url(0, 1), tile_url(0, 2, ENTRIES - 512))
    )
    assert level0 == b"".join(hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves)
    gzipped = client.get(tile_url("entries", 0), headers={**auditor, "Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert bundle_leaves(gzipped.content) == served[:256]  # the client decodes it


def test_caching_headers_and_what_is_not_held(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    full = client.get(tile_url(0, 0))
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(full.content) == 8192
    partial = client.get(tile_url(1, 0, 2))
    assert partial.headers["cache-control"] == "public, max-age=10"
    assert len(partial.content) == 64
    for url in (
        tile_url(0, 2),  # not full yet
        tile_url(0, 2, ENTRIES - 511),
        tile_url(1, 0, 3),
        tile_url(2, 0, 1),
        "/tile/0/x000/002",
        "/tile/64/000",
        "/tile/0/000.p/0",
    ):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer.json()["error"]["code"] == "not_found"
    bundle = tile_url("entries", 0)
    assert client.get(bundle).status_code == 401
    gh = client.get(bundle, headers={"Authorization": f"Bearer {tokens['gh']}"})
    assert gh.status_code == 403
    auditor = {"Authorization": f"Bearer {tokens['aud']}"}
    absent = client.get(tile_url("entries", 3), headers=auditor)
    assert absent.status_code == 404


def test_a_document_whose_leaf_exceeds_65535_bytes_is_refused(ledger: Ledger) -> None:
    basic_world(ledger)
    head = ledger.head_position()
    parts = [(f"GH-L1-{i:04d}-" + "p" * 50, "0.01") for i in range(700)]
    parts[-1] = (parts[-1][0], f"{100 - 0.01 * 699:.2f}")
    with pytest.raises(LedgerError) as refused:
        ledger.post(split("GH-L1", *parts), authority("GH"))
    assert (refused.value.code, refused.value.status) == ("document_too_large", 422)
    assert refused.value.detail is not None and refused.value.detail["leaf_bytes"] > 65535
    assert ledger.head_position() == head  # nothing appended
    fits = parts[:500]
    fits[-1] = (fits[-1][0], f"{100 - 0.01 * 499:.2f}")
    ledger.post(split("GH-L1", *fits), authority("GH"))
    assert ledger.head_position() == head + 1

"""GET /checkpoint, the vkey, and a certificate's tlog-proof on each store, with no
witness configured: the checkpoint is the tree signed when asked."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.note import parse_checkpoint, parse_note, parse_vkey, verify_note
from ledger.tlogproof import ProofError, check_proof, parse_proof
from tests.support import (
    SECRETARIAT,
    admitted,
    authority,
    basic_world,
    export,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture)
)
from tests.unit.tile_client import root_from_tiles


@pytest.fixture
def api(ledger: Ledger, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    basic_world(ledger)
    ledger.post(export("GH-2005-1", "GH", "AE", ["GH-L1"], "100"), authority("GH"))
    ledger.post(admitted("IN"), SECRETARIAT)
    tokens = {
        "aud": ledger.create_token("auditor", "aud"),
        "gh": ledger.create_token("authority", "gh", "GH"),
        "ci": ledger.create_token("authority", "ci", "CI"),
    }
    settings = Settings(log_origin="kpledger.example/log", signing_key=tmp_path / "k.pem")
    with TestClient(create_app(settings, ledger=ledger)) as client:
        yield client, tokens


def test_the_checkpoint_is_signed_by_the_vkey_and_matches_the_tiles(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = api
    key = client.get("/v1/audit/key").json()
    vkey = parse_vkey(key["vkey"])
    assert key["vkey"].startswith("kpledger.example/log+")
    assert vkey.public_key == base64.b64decode(key["public_key"])
    answer = client.get("/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=10"
    note = parse_note(answer.text)
    assert verify_note(note, [vkey]) == [vkey]
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == "kpledger.example/log" and checkpoint.size == 9
    assert root_from_tiles(9, lambda url: client.get(url).content) == checkpoint.root
    health = client.get("/health").json()
    assert health["checkpoint"]["tree_size"] == 9 and health["checkpoint"]["cosigned_by"] == []


def test_a_certificates_proof_verifies_offline_and_not_once_altered(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    vkey = parse_vkey(client.get("/v1/audit/key").json()["vkey"])
    url = "/v1/certificates/GH-2005-1/proof"
    answer = client.get(url, headers={"Authorization": f"Bearer {tokens['gh']}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    verified = check_proof(answer.text, vkey)
    assert verified.entry["document"]["certificate_id"] == "GH-2005-1"
    assert verified.entry["type"] == "export.certified"
    proof = parse_proof(answer.text)
    assert proof.index == 7 and proof.checkpoint.size == 9
    assert answer.text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert answer.text.endswith(client.get("/checkpoint").text)
    extra_line = answer.text.split("\n")[1]
    for at in range(len("extra "), len(extra_line) - 2):
        changed = extra_line[:at] + ("A" if extra_line[at] != "A" else "B") + extra_line[at + 1 :]
        with pytest.raises(ProofError):
            check_proof(answer.text.replace(extra_line, changed), vkey)
    assert client.get(url).status_code == 401
    ci = client.get(url, headers={"Authorization": f"Bearer {tokens['ci']}"})
    assert ci.status_code == 403
    unknown = client.get(
        "/v1/certificates/GH-0/proof", headers={"Authorization": f"Bearer {tokens['aud']}"}
    )
    assert unknown.status_code == 404

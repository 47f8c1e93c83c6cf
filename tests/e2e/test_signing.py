"""An authority's first signed upload, end to end: `kpledger key create`, `key public`,
the secretariat's registration, `kpledger sign` and `kpledger post --sign-key` against a
real `kpledger serve`, `GET /v1/events`, `GET /v1/keys` and `kpledger verify`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Server
from tests.e2e.test_post import admit, post, read_log
from tests.support import doc, mine, produced, site
from tests.unit.test_files import to_csv


def kpledger_lines(done: Any) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


def test_an_authoritys_first_signed_upload(server: Server, tmp_path: Path) -> None:
    secretariat = admit(server, "GH")
    ghana = server.token("authority", "GH")
    key_file = tmp_path / "gh-authority.pem"
    assert server.kpledger("key", "create", "--out", str(key_file)).returncode == 0
    shown = kpledger_lines(server.kpledger("key", "public", str(key_file)))
    public_key, key_id = shown["public_key"], shown["key_id"]

    registration = doc("authority_key.registered", participant="GH", public_key=public_key,
                       name="Minerals Commission of Ghana 2026")  # fmt: skip
    with server.client(secretariat) as client:
        answer = client.post("/v1/events", json=registration)
        assert answer.status_code == 201, answer.text
        registered_at = answer.json()["position"]

    documents = [
        mine("GH-M1", "GH", annual_capacity_carats="5000"),
        site("GH-S1", "GH"),  # no capacity: left out of the normal form
        produced("GH-L1", "GH-M1", "100", "15000.5"),
        produced("GH-L2", "GH-M1", "12.3", "99"),
    ]
    source = tmp_path / "ghana.csv"
    source.write_text(to_csv(documents[:2]), encoding="utf-8")
    unsigned = post(server, source, ghana)
    assert unsigned.returncode == 1
    assert "signature_required" in unsigned.stdout + unsigned.stderr

    signed_file = tmp_path / "ghana.signed.jsonl"
    done = server.kpledger("sign", str(source), "--key", str(key_file), "--out", str(signed_file))
    assert done.returncode == 0, done.stderr
    signed = [json.loads(line) for line in signed_file.read_text(encoding="utf-8").splitlines()]
    assert all(d["signature"]["key_id"] == key_id for d in signed)
    assert post(server, signed_file, ghana).returncode == 0

    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps(d) + "\n" for d in documents[2:]), encoding="utf-8")
    done = post(server, more, ghana, "--sign-key", str(key_file))
    assert done.returncode == 0, done.stdout + done.stderr
    served = [entry["document"] for entry in read_log(server, secretariat)][-4:]
    assert served[:2] == signed  # what kpledger sign wrote is what GET /v1/events serves
    assert "annual_capacity_carats" not in served[1]
    assert [d["carats"] for d in served[2:]] == ["100.00", "12.30"]
    assert all(d["signature"]["key_id"] == key_id for d in served)

    with server.client(ghana) as client:
        keys = client.get("/v1/keys", params={"participant": "GH"}).json()
        assert client.get("/v1/keys", params={"participant": "XX"}).status_code == 422
    assert keys == {
        "keys": [
            {
                "key_id": key_id,
                "participant": "GH",
                "name": "Minerals Commission of Ghana 2026",
                "public_key": public_key,
                "registered_position": registered_at,
                "revoked_position": None,
            }
        ]
    }
    verified = server.kpledger("verify", "--quiet")
    assert verified.returncode == 0, verified.stdout
    assert kpledger_lines(verified)["signatures.verified"] == "4"

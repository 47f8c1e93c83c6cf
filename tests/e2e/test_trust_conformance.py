"""What the protocol's "A witnessed log" states over HTTP, on real processes: a witness's
add-checkpoint answers (status, body and media type of each, in tlog-witness's order),
the tiles' and entry bundles' media types and caching headers, and `kpledger audit
verify-log` given either form of saved checkpoint; and, from "Authorities sign what they
post", the three 403s of signatures with nothing appended."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.keys import key_id_of, public_key_text, sign_normal_form
from ledger.merkle import leaf_hash
from ledger.note import EM_DASH, Checkpoint, NoteSigner, Signature, parse_note, parse_vkey
from ledger.signing import SigningKey, load_key_file
from ledger.tiles import parse_entry_bundle
from ledger.tlogproof import verify_consistency
from tests.conftest import Server
from tests.e2e.witnesses import WitnessProcess
from tests.support import admitted, doc, mine, produced

ORIGIN = "kpledger.example/conformance"
FULL = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=10"
OCTETS = "application/octet-stream"


def _kpledger(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=120
    )


def _tree_root(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    left, right = _tree_root(hashes[:split]), _tree_root(hashes[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_a_witness_answers_add_checkpoint_as_tlog_witness_writes(tmp_path: Path) -> None:
    log = NoteSigner(ORIGIN, SigningKey(Ed25519PrivateKey.generate()))
    witness = WitnessProcess(tmp_path / "w", "witness.example/conformance", log.verifier.vkey)
    witness.start()
    roots = [hashlib.sha256(bytes([n])).digest() for n in range(4)]
    four = _tree_root([leaf_hash(bytes([n])) for n in range(4)])
    two = _tree_root([leaf_hash(bytes([n])) for n in range(2)])
    proof = [_tree_root([leaf_hash(bytes([n])) for n in range(2, 4)])]
    assert verify_consistency(2, 4, two, four, proof)

    def body(old: int, checkpoint: Checkpoint, *hashes: bytes, signer: NoteSigner = log) -> str:
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in hashes)]
        text = checkpoint.text()
        return "\n".join(lines) + "\n\n" + text + "\n" + signer.sign(text).line()

    def add(content: str) -> httpx.Response:
        return httpx.post(f"{witness.url}/add-checkpoint", content=content.encode(), timeout=30)

    try:
        at_two, at_four = Checkpoint(ORIGIN, 2, two), Checkpoint(ORIGIN, 4, four)
        first = add(body(0, at_two))
        assert first.status_code == 200, first.text
        line = first.text
        assert line.startswith(f"{EM_DASH} witness.example/conformance ") and line.endswith("\n")
        cosignature = parse_note(at_two.text() + "\n" + line).signatures[0]
        cosigner = parse_vkey(witness.vkey)
        assert cosigner.verify(at_two.text(), cosignature) and cosignature.timestamp

        stranger = NoteSigner("other.example/log", SigningKey(Ed25519PrivateKey.generate()))
        unknown = add(body(0, Checkpoint("other.example/log", 2, two), signer=stranger))
        assert unknown.status_code == 404
        impostor = NoteSigner(ORIGIN, SigningKey(Ed25519PrivateKey.generate()))
        assert add(body(2, at_four, *proof, signer=impostor)).status_code == 403
        text = at_four.text()
        forged = Signature(ORIGIN, log.verifier.key_id, bytes(64)).line()
        assert add(f"old 2\n\n{text}\n{forged}").status_code == 403
        assert add(body(5, at_four, *proof)).status_code == 400
        for stale in (add(body(1, at_four, *proof)), add(body(2, Checkpoint(ORIGIN, 2, roots[0])))):
            assert stale.status_code == 409  # not its size; its size with another root
            assert stale.headers["content-type"] == "text/x.tlog.size"
            assert stale.text == "2\n"
        assert add(body(2, at_four, roots[1])).status_code == 422  # a proof that fails
        grown = add(body(2, at_four, *proof))
        assert grown.status_code == 200, grown.text
        monitored = httpx.get(
            f"{witness.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint"
        )
        assert monitored.status_code == 200 and monitored.text.startswith(text)
    finally:
        witness.stop()


def test_tiles_bundles_and_saved_checkpoints_as_the_protocol_writes_them(
    store_url: str, server_factory: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "log.pem"
    assert _kpledger("key", "create", "--out", str(key_file)).returncode == 0
    log_vkey = NoteSigner("kpledger", load_key_file(key_file)).verifier.vkey
    server: Server = server_factory(
        store_url,  # a blank KPLEDGER_WITNESSES is no witness, as a compose file writes it
        env={"KPLEDGER_SIGNING_KEY": str(key_file), "KPLEDGER_WITNESSES": ""},
    )
    secretariat = server.client(server.token("secretariat"))
    ghana = server.client(server.token("authority", "GH"))
    auditor = server.client(server.token("auditor"))
    assert secretariat.post("/v1/events", json=admitted("GH")).status_code == 201
    lots = [produced(f"GH-L{n}", "GH-M1", "1.50") for n in range(300)]
    assert (
        ghana.post("/v1/events", json={"events": [mine("GH-M1", "GH"), *lots]}).status_code == 201
    )

    checkpoint = httpx.get(f"{server.base_url}/checkpoint")
    assert checkpoint.status_code == 200
    assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
    assert checkpoint.headers["cache-control"] == PARTIAL
    assert checkpoint.text.split("\n")[:2] == ["kpledger", "302"]

    full = httpx.get(f"{server.base_url}/tile/0/000")
    assert (full.status_code, full.headers["content-type"]) == (200, OCTETS)
    assert full.headers["cache-control"] == FULL and len(full.content) == 8192
    partial = httpx.get(f"{server.base_url}/tile/0/001.p/46")
    assert partial.headers["cache-control"] == PARTIAL and len(partial.content) == 46 * 32
    assert httpx.get(f"{server.base_url}/tile/0/001.p/47").status_code == 404

    path = "/tile/entries/000"
    assert httpx.get(f"{server.base_url}{path}").status_code == 401
    assert ghana.get(path).status_code == 403
    zipped = auditor.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.headers["content-type"] == OCTETS
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["cache-control"] == FULL
    assert "authorization" in zipped.headers["vary"].lower()  # a shared cache keys by token
    plain = auditor.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == zipped.content
    leaves = parse_entry_bundle(plain.content)
    assert b"".join(leaf_hash(leaf) for leaf in leaves) == full.content
    rest = auditor.get("/tile/entries/001.p/46", headers={"Accept-Encoding": "gzip"})
    assert rest.headers["cache-control"] == PARTIAL
    assert len(parse_entry_bundle(rest.content)) == 46  # httpx decodes the gzip

    exported = tmp_path / "log.jsonl"
    assert server.kpledger("export", "--out", str(exported), "--quiet").returncode == 0
    note_file, json_file = tmp_path / "checkpoint.txt", tmp_path / "checkpoint.json"
    note_file.write_text(checkpoint.text)
    saved = server.kpledger("checkpoint")  # version 2's JSON, signed by the same key
    assert saved.returncode == 0, saved.stderr
    json_file.write_text(saved.stdout)
    other_vkey = NoteSigner("kpledger", SigningKey(Ed25519PrivateKey.generate())).verifier.vkey
    for saved_file in (note_file, json_file):
        args = ["audit", "verify-log", str(exported), "--checkpoint", str(saved_file)]
        verified = _kpledger(*args, "--log-key", log_vkey)
        assert verified.returncode == 0, verified.stderr
        assert "the checkpoint at size 302 has the log's root (signature checked)" in (
            verified.stdout
        )
        refused = _kpledger(*args, "--log-key", other_vkey)
        assert refused.returncode == 1 and "signature" in refused.stderr


def test_signatures_over_http_refused_with_nothing_appended(
    store_url: str, server_factory: Any
) -> None:
    server: Server = server_factory(store_url)
    secretariat = server.client(server.token("secretariat"))
    ghana = server.client(server.token("authority", "GH"))
    auditor = server.client(server.token("auditor"))
    assert secretariat.post("/v1/events", json=admitted("GH")).status_code == 201
    assert secretariat.post("/v1/events", json=admitted("BE")).status_code == 201
    gh_key, be_key, stranger = (Ed25519PrivateKey.generate() for _ in range(3))
    registrations = []
    for participant, key in (("GH", gh_key), ("BE", be_key)):
        registration = doc(
            "authority_key.registered",
            participant=participant,
            public_key=public_key_text(key),
            name=f"{participant} 2026",
        )
        registrations.append(registration)
    # a key signs what follows its registration in the same batch
    first_signed = sign_normal_form(admitted("AE"), gh_key)
    answer = secretariat.post("/v1/events", json={"events": [*registrations, first_signed]})
    assert answer.status_code == 201, answer.text
    head = answer.json()["position"]

    def refused(document: dict[str, Any], code: str) -> None:
        answer = ghana.post("/v1/events", json=document)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == code
        assert auditor.get("/v1/audit/verify").json()["events"] == head  # nothing appended

    fresh = mine("GH-M1", "GH", annual_capacity_carats=1200)
    refused(fresh, "signature_required")
    refused(sign_normal_form(fresh, stranger), "unknown_key")
    refused(sign_normal_form(fresh, be_key), "unknown_key")  # another participant's key
    tampered = sign_normal_form(fresh, gh_key)
    tampered["name"] = "another name"
    refused(tampered, "bad_signature")
    # signed in the normal form (amounts as strings), sent with numbers and an upper-case id
    normal = {**fresh, "annual_capacity_carats": "1200.00"}
    sent = {**sign_normal_form(normal, gh_key), "annual_capacity_carats": 1200}
    sent["event_id"] = sent["event_id"].upper()
    answer = ghana.post("/v1/events", json=sent)
    assert answer.status_code == 201, answer.text
    head = answer.json()["position"]
    revocation = doc("authority_key.revoked", key_id=key_id_of(public_key_text(gh_key)), reason="r")
    assert secretariat.post("/v1/events", json=revocation).status_code == 201
    head += 1
    refused(sign_normal_form(mine("GH-M2", "GH"), gh_key), "unknown_key")

    keys = ghana.get("/v1/keys", params={"participant": "GH"}).json()["keys"]
    assert [(k["registered_position"], k["revoked_position"]) for k in keys] == [(3, head)]
    verified = auditor.get("/v1/audit/verify").json()
    assert verified["ok"] is True
    assert verified["signatures"] == {
        "verified": 2,
        "unsigned": head - 2,
        "invalid": 0,
        "first_invalid_position": None,
    }

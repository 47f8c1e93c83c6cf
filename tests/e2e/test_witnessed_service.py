"""The service with two witnesses, real processes on each store: with one of them a black
hole it keeps answering at once and publishes no checkpoint below quorum; once both
answer, the cosigned checkpoint is served, and a certificate's proof and the exported log
verify offline with `kpledger audit verify-proof` and `verify-log`."""

from __future__ import annotations

import base64
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ledger.note import NoteSigner, parse_checkpoint, parse_note, parse_vkey, verify_note
from ledger.signing import load_key_file
from tests.conftest import Server
from tests.e2e.witnesses import WitnessProcess
from tests.support import admitted, export, mine, produced

ORIGIN = "kpledger.example/e2e"
QUICK = 3.0
"""Seconds an append or a read may take while a witness hangs (its timeout is 5 s)."""


def _post(client: httpx.Client, *documents: dict[str, Any]) -> float:
    started = time.monotonic()
    answer = client.post("/v1/events", json={"events": list(documents)})
    assert answer.status_code == 201, answer.text
    return time.monotonic() - started


def _poll(what: str, check: Any, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s")


def _kpledger(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_a_quorum_of_two_witnesses(store_url: str, server_factory: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "log.pem"
    assert _kpledger("key", "create", "--out", str(key_file)).returncode == 0
    log_vkey = NoteSigner(ORIGIN, load_key_file(key_file)).verifier.vkey
    first = WitnessProcess(tmp_path / "w1", "witness.example/w1", log_vkey).start()
    second = WitnessProcess(tmp_path / "w2", "witness.example/w2", log_vkey)
    hole = socket.socket()  # the second witness's port: connections hang, nothing answers
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hole.bind(("127.0.0.1", second.port))
    hole.listen(64)
    witnesses = tmp_path / "witnesses"
    witnesses.write_text(
        f"# the KP's observers\n\n{first.vkey} {first.url}\n{second.vkey} {second.url}/\n"
    )
    try:
        server: Server = server_factory(
            store_url,
            env={
                "KPLEDGER_SIGNING_KEY": str(key_file),
                "KPLEDGER_LOG_ORIGIN": ORIGIN,
                "KPLEDGER_WITNESSES": str(witnesses),
                "KPLEDGER_CHECKPOINT_INTERVAL": "0.5",
                "KPLEDGER_METRICS": "open",
            },
        )
        secretariat = server.client(server.token("secretariat"))
        ghana = server.client(server.token("authority", "GH"))
        assert _post(secretariat, admitted("GH"), admitted("AE")) < QUICK
        assert _post(ghana, mine("GH-M1", "GH"), produced("GH-L1", "GH-M1", "100")) < QUICK
        assert _post(ghana, export("GH-0001", "GH", "AE", ["GH-L1"], "100")) < QUICK

        def first_cosigned() -> bool:
            metrics = secretariat.get("/metrics").text
            return 'kpledger_witness_cosigned_tree_size{witness="witness.example/w1"} 5.0' in (
                metrics
            )

        _poll("the first witness cosigns size 5", first_cosigned)
        for _ in range(3):  # the hung witness delays neither reads nor appends
            started = time.monotonic()
            assert ghana.get("/v1/lots/GH-L1").status_code == 200
            assert time.monotonic() - started < QUICK
            withheld = httpx.get(f"{server.base_url}/checkpoint", timeout=30)
            assert withheld.status_code == 503 and int(withheld.headers["retry-after"]) >= 1
            assert httpx.get(f"{server.base_url}/health").json()["checkpoint"] is None
        proof_url = "/v1/certificates/GH-0001/proof"
        assert ghana.get(proof_url).status_code == 503
        assert _post(secretariat, admitted("IN")) < QUICK

        hole.close()
        second.start()

        def served() -> httpx.Response | None:
            answer = httpx.get(f"{server.base_url}/checkpoint", timeout=30)
            if answer.status_code == 200 and parse_checkpoint(parse_note(answer.text).text).size:
                return answer
            return None

        answer = _poll("a checkpoint cosigned by both", served)
        note = parse_note(answer.text)
        checkpoint = parse_checkpoint(note.text)
        assert checkpoint.origin == ORIGIN and checkpoint.size == 6
        log_key, keys = parse_vkey(log_vkey), [parse_vkey(first.vkey), parse_vkey(second.vkey)]
        assert verify_note(note, [log_key]) == [log_key]
        assert verify_note(note, keys) == keys
        health = httpx.get(f"{server.base_url}/health").json()["checkpoint"]
        assert health["tree_size"] == 6
        assert health["cosigned_by"] == ["witness.example/w1", "witness.example/w2"]
        assert httpx.get(f"{server.base_url}/v1/audit/key").json()["vkey"] == log_vkey

        proof = ghana.get(proof_url)
        assert proof.status_code == 200, proof.text
        proof_file = tmp_path / "GH-0001.tlog-proof"
        proof_file.write_text(proof.text)
        witness_args = ["--witness", first.vkey, "--witness", second.vkey]
        verified = _kpledger(
            "audit", "verify-proof", str(proof_file), "--log-key", log_vkey, *witness_args
        )
        assert verified.returncode == 0, verified.stderr
        assert '"certificate_id": "GH-0001"' in verified.stdout
        extra = re.search(r"^extra (\S+)$", proof.text, re.MULTILINE)
        assert extra is not None
        leaf = bytearray(base64.b64decode(extra.group(1)))
        leaf[10] ^= 1  # one changed byte
        proof_file.write_text(
            proof.text.replace(extra.group(1), base64.b64encode(bytes(leaf)).decode())
        )
        refused = _kpledger(
            "audit", "verify-proof", str(proof_file), "--log-key", log_vkey, *witness_args
        )
        assert refused.returncode == 1 and "not leaf" in refused.stderr
        assert refused.stdout == ""

        exported = tmp_path / "log.jsonl"
        done = server.kpledger("export", "--out", str(exported), "--quiet")
        assert done.returncode == 0, done.stderr
        saved = tmp_path / "checkpoint"
        saved.write_text(answer.text)
        offline = _kpledger(
            "audit", "verify-log", str(exported), "--checkpoint", str(saved), "--log-key", log_vkey
        )
        assert offline.returncode == 0, offline.stderr
        exported.write_text(exported.read_text().replace('"GH-M1"', '"GH-M2"', 1))
        broken = _kpledger("audit", "verify-log", str(exported), "--checkpoint", str(saved))
        assert broken.returncode == 1 and "chain is broken" in broken.stderr

        server.stop()  # a restarted service knows no witness's size: each answers 409 first
        server.start()
        assert _post(server.client(server.token("secretariat")), admitted("RU")) < QUICK

        def grown() -> bool:
            answer = httpx.get(f"{server.base_url}/checkpoint", timeout=30)
            if answer.status_code != 200:
                return False
            note = parse_note(answer.text)
            return parse_checkpoint(note.text).size == 7 and verify_note(note, keys) == keys

        _poll("the restarted service's checkpoint cosigned from the witnesses' sizes", grown)
    finally:
        hole.close()
        first.stop()
        second.stop()

"""A witness process killed with SIGKILL while add-checkpoint requests arrive, restarted
again and again, never cosigns a fork: every cosignature it ever gave is of one log, and
a second log with the same key and one entry rewritten is refused."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.merkle import MerkleTree
from ledger.note import (
    Checkpoint,
    NoteSigner,
    SignedNote,
    parse_checkpoint,
    parse_note,
    parse_signature_lines,
    parse_vkey,
    verify_note,
)
from ledger.signing import SigningKey
from ledger.witnessing import add_checkpoint_body
from tests.e2e.witnesses import WitnessProcess

ORIGIN = "kpledger.example/crash"


class Log:
    def __init__(self, signer: NoteSigner, rewritten: int | None = None) -> None:
        self.signer, self.tree, self.rewritten = signer, MerkleTree(), rewritten

    def grow(self, count: int) -> None:
        for _ in range(count):
            index = self.tree.size
            leaf = f"rewritten {index}" if index == self.rewritten else f"entry {index}"
            self.tree.append_leaf(leaf.encode())

    def body(self, old: int, size: int) -> tuple[bytes, str]:
        text = Checkpoint(ORIGIN, size, self.tree.root(size)).text()
        note = SignedNote(text, (self.signer.sign(text),))
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return add_checkpoint_body(old, proof, note), text


def _submit(client: httpx.Client, url: str, log: Log, old: int, size: int) -> httpx.Response:
    body, _ = log.body(old, size)
    return client.post(f"{url}/add-checkpoint", content=body)


def test_a_witness_killed_during_add_checkpoint_never_cosigns_a_fork(tmp_path: Path) -> None:
    signer = NoteSigner(ORIGIN, SigningKey(Ed25519PrivateKey.generate()))
    log = Log(signer)
    log.grow(2000)
    witness = WitnessProcess(tmp_path / "w", "witness.example/crash", signer.verifier.vkey).start()
    verifier = parse_vkey(witness.vkey)
    cosigned: list[tuple[int, bytes]] = []  # every (size, root) the witness cosigned
    rng = random.Random(7)
    try:
        size = 0
        for _round in range(4):
            stop = threading.Event()

            def submit_until_stopped(start: int, stop: threading.Event) -> None:
                nonlocal size
                known = start
                with httpx.Client(timeout=5) as client:
                    while not stop.is_set() and known < log.tree.size:
                        target = min(known + rng.randint(1, 9), log.tree.size)
                        try:
                            answer = _submit(client, witness.url, log, known, target)
                        except httpx.HTTPError:
                            return  # killed under us
                        if answer.status_code == 409:
                            known = int(answer.text)
                            continue
                        assert answer.status_code == 200, answer.text
                        _, text = log.body(known, target)
                        (line,) = parse_signature_lines(answer.text)
                        assert verifier.verify(text, line)
                        cosigned.append((target, log.tree.root(target)))
                        known = size = target

            sender = threading.Thread(target=submit_until_stopped, args=(size, stop))
            sender.start()
            deadline = time.monotonic() + 60
            before = len(cosigned)
            while len(cosigned) < before + 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.random() * 0.05)
            witness.kill9()  # during add-checkpoint, most likely mid-request
            stop.set()
            sender.join(timeout=30)
            assert len(cosigned) > before, "the witness cosigned nothing this round"
            witness.start()
            with httpx.Client(timeout=5) as client:
                kept = _submit(client, witness.url, log, 0, log.tree.size)
            assert kept.status_code == 409 and kept.headers["content-type"] == "text/x.tlog.size"
            assert int(kept.text) >= size  # nothing it answered was lost
            size = int(kept.text)
        for cosigned_size, root in cosigned:  # every cosignature is of the one log
            assert log.tree.root(cosigned_size) == root
        fork = Log(signer, rewritten=size // 2)
        fork.grow(log.tree.size)
        with httpx.Client(timeout=5) as client:
            same_size = _submit(client, witness.url, fork, size, size)
            longer = _submit(client, witness.url, fork, size, size + 10)
            from_zero = _submit(client, witness.url, fork, 0, size + 10)
        assert (same_size.status_code, same_size.text) == (409, f"{size}\n")
        assert longer.status_code == 422
        assert (from_zero.status_code, from_zero.text) == (409, f"{size}\n")
        with httpx.Client(timeout=5) as client:
            honest = _submit(client, witness.url, log, size, log.tree.size)
            assert honest.status_code == 200, honest.text
            origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
            monitored = client.get(f"{witness.url}/{origin_hash}/checkpoint")
            assert client.get(f"{witness.url}/{'0' * 64}/checkpoint").status_code == 404
        note = parse_note(monitored.text)  # the log's signature and the witness's
        assert parse_checkpoint(note.text).size == log.tree.size
        assert verify_note(note, [signer.verifier]) and verify_note(note, [verifier])
        assert not list((tmp_path / "w" / "state").glob(".*.tmp"))
    finally:
        witness.stop()

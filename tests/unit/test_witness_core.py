"""The witness's add-checkpoint: every answer of tlog-witness in its order, the state kept
in files across restarts, and never a cosignature of two inconsistent checkpoints."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.merkle import MerkleTree
from ledger.note import COSIGNATURE_V1, Checkpoint, NoteSigner, SignedNote, parse_signature_lines
from ledger.signing import SigningKey
from ledger.witnessing import add_checkpoint_body
from witness.core import Answer, WitnessCore
from witness.state import StateError, StateFolder

ORIGIN = "kpledger.example/log"


def _key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


class Log:
    def __init__(self, signer: NoteSigner, prefix: str = "entry") -> None:
        self.signer, self.tree, self.prefix = signer, MerkleTree(), prefix

    def grow(self, count: int) -> None:
        for _ in range(count):
            self.tree.append_leaf(f"{self.prefix} {self.tree.size}".encode())

    def note(self, size: int | None = None) -> SignedNote:
        size = self.tree.size if size is None else size
        text = Checkpoint(self.signer.name, size, self.tree.root(size)).text()
        return SignedNote(text, (self.signer.sign(text),))

    def body(self, old: int, size: int | None = None) -> bytes:
        size = self.tree.size if size is None else size
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return add_checkpoint_body(old, proof, self.note(size))


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[WitnessCore, Log, NoteSigner]]:
    log = Log(NoteSigner(ORIGIN, _key()))
    witness = NoteSigner("witness.example/w1", _key(), COSIGNATURE_V1)
    state = StateFolder(tmp_path / "state")
    yield (
        WitnessCore(witness, [log.signer.verifier], state, clock=lambda: 1_700_000_000),
        log,
        witness,
    )
    state.close()


def _cosigned(answer: Answer, witness: NoteSigner, note: SignedNote) -> None:
    assert answer.status == 200, answer
    (line,) = parse_signature_lines(answer.body)
    assert witness.verifier.verify(note.text, line)
    assert line.timestamp == 1_700_000_000


def test_answers_in_the_specs_order(parts: tuple[WitnessCore, Log, NoteSigner]) -> None:
    core, log, witness = parts
    log.grow(3)
    _cosigned(core.add_checkpoint(log.body(0)), witness, log.note())
    assert core.add_checkpoint(b"nonsense").status == 400
    stranger = Log(NoteSigner("other.example/log", log.signer._key))
    stranger.grow(3)
    assert core.add_checkpoint(stranger.body(0)).status == 404
    impostor = Log(NoteSigner(ORIGIN, _key()))  # same name, other key: ignored, so none verifies
    impostor.grow(5)
    assert core.add_checkpoint(impostor.body(10)).status == 403  # 403 before 400
    forged = log.note(3)
    bad = SignedNote(forged.text, (log.signer.sign("another text\n"),))
    bad_signature = core.add_checkpoint(add_checkpoint_body(0, [], bad))
    assert bad_signature.status == 403  # a trusted key's signature that fails
    log.grow(4)
    assert core.add_checkpoint(log.body(8)).status == 400  # old above the checkpoint's size
    conflict = core.add_checkpoint(log.body(0))
    assert (conflict.status, conflict.body, conflict.content_type) == (
        409,
        "3\n",
        "text/x.tlog.size",
    )
    assert core.add_checkpoint(log.body(2)).status == 409
    wrong = add_checkpoint_body(3, log.tree.consistency_proof(2, 7), log.note())
    assert core.add_checkpoint(wrong).status == 422
    _cosigned(core.add_checkpoint(log.body(3)), witness, log.note())
    again = core.add_checkpoint(log.body(7))  # the same checkpoint again: cosigned again
    _cosigned(again, witness, log.note())
    proof_at_equal_size = add_checkpoint_body(7, [bytes(32)], log.note())
    assert core.add_checkpoint(proof_at_equal_size).status == 422


def test_a_fork_is_never_cosigned(parts: tuple[WitnessCore, Log, NoteSigner]) -> None:
    core, log, _ = parts
    log.grow(10)
    assert core.add_checkpoint(log.body(0)).status == 200
    fork = Log(log.signer, prefix="rewritten")  # the same key, other entries
    fork.grow(10)
    same_size = core.add_checkpoint(fork.body(10))
    assert (same_size.status, same_size.body) == (409, "10\n")
    fork.grow(5)
    assert core.add_checkpoint(fork.body(10)).status == 422  # its proof cannot verify
    assert core.add_checkpoint(fork.body(0)).status == 409
    log.grow(5)
    assert core.add_checkpoint(log.body(10)).status == 200


def test_size_zero(tmp_path: Path) -> None:
    log = Log(NoteSigner(ORIGIN, _key()))
    witness = NoteSigner("w", _key(), COSIGNATURE_V1)
    state = StateFolder(tmp_path)
    core = WitnessCore(witness, [log.signer.verifier], state)
    assert core.add_checkpoint(log.body(0)).status == 200  # the empty tree
    text = Checkpoint(ORIGIN, 0, bytes(32)).text()
    wrong_root = add_checkpoint_body(0, [], SignedNote(text, (log.signer.sign(text),)))
    assert core.add_checkpoint(wrong_root).status == 422
    log.grow(2)
    with_proof = add_checkpoint_body(0, [bytes(32)], log.note())
    assert core.add_checkpoint(with_proof).status == 422
    state.close()


def test_the_state_survives_a_restart_and_locks_its_folder(tmp_path: Path) -> None:
    log = Log(NoteSigner(ORIGIN, _key()))
    witness = NoteSigner("w", _key(), COSIGNATURE_V1)
    state = StateFolder(tmp_path / "s")
    with pytest.raises(StateError, match="another witness"):
        StateFolder(tmp_path / "s")
    log.grow(6)
    assert (
        WitnessCore(witness, [log.signer.verifier], state).add_checkpoint(log.body(0)).status == 200
    )
    state.close()
    files = list((tmp_path / "s").glob("*.checkpoint"))
    assert len(files) == 1 and not list((tmp_path / "s").glob("*.tmp"))
    state = StateFolder(tmp_path / "s")
    restarted = WitnessCore(witness, [log.signer.verifier], state)
    assert restarted.add_checkpoint(log.body(0)).body == "6\n"
    saved = restarted.latest(ORIGIN)
    assert saved is not None and saved.startswith(log.note().text)
    state.close()
    files[0].write_text("garbage")
    state = StateFolder(tmp_path / "s")
    with pytest.raises(StateError):
        WitnessCore(witness, [log.signer.verifier], state)
    state.close()


def test_the_specs_request_example_is_read(parts: tuple[WitnessCore, Log, NoteSigner]) -> None:
    core, _, _ = parts
    body = (
        "old 20852014\n"
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
        "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
        "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
        "\n"
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRD"
        "e4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcV"
        "GlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
    ).encode()
    assert core.add_checkpoint(body).status == 404  # well formed; not a log it knows
    assert base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")


def test_a_write_cut_short_leaves_nothing_behind(tmp_path: Path) -> None:
    state = StateFolder(tmp_path)
    state.save("o", "a note\n")
    state.close()
    left = tmp_path / f".{state.path('o').name}.12345.tmp"
    left.write_text("half a no")  # what a kill -9 between write and rename leaves
    reopened = StateFolder(tmp_path)
    assert not left.exists() and reopened.load("o") == "a note\n"
    reopened.close()

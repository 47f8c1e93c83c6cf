"""KPLEDGER_WITNESSES files, add-checkpoint bodies, and the quorum setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.note import COSIGNATURE_V1, Checkpoint, NoteSigner, SignedNote
from ledger.signing import SigningKey
from ledger.witnessing import Witnessing, WitnessingError, add_checkpoint_body, read_witnesses


def _signer(name: str, kind: int = COSIGNATURE_V1) -> NoteSigner:
    return NoteSigner(name, SigningKey(Ed25519PrivateKey.generate()), kind)


def test_a_witnesses_file_with_comments_and_blank_lines(tmp_path: Path) -> None:
    first, second = _signer("w1.example/a"), _signer("w2.example/b")
    path = tmp_path / "witnesses"
    path.write_text(
        f"# observers\n\n{first.verifier.vkey} http://127.0.0.1:9001  # civil society\n"
        f"   {second.verifier.vkey}   https://w2.example/kp/\n"
    )
    found = read_witnesses(path)
    assert [w.name for w in found] == ["w1.example/a", "w2.example/b"]
    assert found[1].endpoint == "https://w2.example/kp/add-checkpoint"


@pytest.mark.parametrize(
    "line",
    [
        "{vkey}",
        "{vkey} ftp://x",
        "{vkey} http://a http://b",
        "{log} http://a",  # a log's key (type 0x01), not a cosigner's
        "nokey http://a",
        "{vkey} http://a\n{vkey} http://b",
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: str) -> None:
    path = tmp_path / "witnesses"
    text = line.format(vkey=_signer("w").verifier.vkey, log=_signer("l", 0x01).verifier.vkey)
    path.write_text("# first\n" + text + "\n")
    with pytest.raises(WitnessingError, match=r"witnesses:\d"):
        read_witnesses(path)
    with pytest.raises(WitnessingError):
        read_witnesses(tmp_path / "absent")


def test_an_add_checkpoint_body_as_the_spec_writes_it() -> None:
    log = _signer("example.com/log", 0x01)
    text = Checkpoint("example.com/log", 5, bytes(32)).text()
    note = SignedNote(text, (log.sign(text),))
    body = add_checkpoint_body(3, [bytes(32), b"\xff" * 32], note).decode()
    assert body.startswith(
        "old 3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "//////////////////////////////////////////8=\n\nexample.com/log\n5\n"
    )
    assert body.endswith(str(note))


def test_the_quorum_is_between_one_and_the_witnesses() -> None:
    log = _signer("example.com/log", 0x01)
    with pytest.raises(WitnessingError):
        Witnessing(log, [], lambda: (0, bytes(32)), lambda m, n: [], quorum=2)
    alone = Witnessing(log, [], lambda: (3, bytes(32)), lambda m, n: [])
    published = alone.published()
    assert published is not None and published.checkpoint.size == 3
    assert alone.health() == {"tree_size": 3, "cosigned_by": [], "age_s": 0.0}

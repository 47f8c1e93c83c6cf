"""C2SP signed notes, checkpoints and cosignatures: the specs' own examples as test vectors."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    EM_DASH,
    Checkpoint,
    NoteError,
    NoteSigner,
    SignedNote,
    Verifier,
    cosignature_message,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_signature_lines,
    parse_vkey,
    verify_note,
)
from ledger.signing import SigningKey

# c2sp.org/signed-note, "Verifier keys", Example
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    f"{EM_DASH} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZX"
    "sYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint and tlog-cosignature: the checkpoint and its witness line
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_NOTE = (
    SOFA + "\n"
    f"{EM_DASH} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URY"
    "N7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    f"{EM_DASH} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZC"
    "B9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# golang.org/x/mod/sumdb/note, the reference implementation's documented example
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    f"{EM_DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
    "qdngotpRZb6KE6RyyBwJnAM=\n"
)


def _key(seed: bytes | None = None) -> SigningKey:
    if seed is None:
        return SigningKey(Ed25519PrivateKey.generate())
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


def test_the_spec_vkey_verifies_the_spec_note() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    assert (verifier.name, verifier.key_id.hex(), verifier.type) == (
        "example.com/foo",
        "530d903a",
        ED25519,
    )
    assert verifier.vkey == SPEC_VKEY
    note = parse_note(SPEC_NOTE)
    assert note.text == "This is an example message.\n"
    assert verify_note(note, [verifier]) == [verifier]
    assert str(note) == SPEC_NOTE


def test_one_changed_byte_of_the_spec_note_is_refused() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    altered = parse_note(SPEC_NOTE.replace("example message", "example massage"))
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(altered, [verifier])


def test_the_reference_implementation_signs_exactly_its_documented_note() -> None:
    signer = NoteSigner("PeterNeumann", _key(GO_SEED))
    assert signer.verifier.vkey == GO_VKEY
    assert signer.sign(GO_TEXT).line() == GO_SIGNATURE  # Ed25519 is deterministic
    note = parse_note(GO_TEXT + "\n" + GO_SIGNATURE)
    assert verify_note(note, [parse_vkey(GO_VKEY)]) == [signer.verifier]


def test_the_spec_checkpoint_parses_and_prints_the_same() -> None:
    note = parse_note(SOFA_NOTE)
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.text() == SOFA
    assert str(note) == SOFA_NOTE


def test_the_spec_cosignature_carries_its_timestamp_first() -> None:
    log_line, witness_line = parse_note(SOFA_NOTE).signatures
    assert witness_line.name == "witness.example.com/w1"
    assert witness_line.key_id.hex() == "8d66cf3f"
    assert len(witness_line.signature) == 8 + 64
    assert witness_line.timestamp == 1679315147  # the message example's `time 1679315147`
    assert cosignature_message(1679315147, SOFA) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert len(log_line.signature) == 64


def test_a_cosignature_verifies_under_type_4_only() -> None:
    key = _key()
    witness = NoteSigner("witness.example/w1", key, COSIGNATURE_V1)
    as_log = Verifier.of("witness.example/w1", ED25519, key.public_bytes)
    assert witness.verifier.key_id == key_id("witness.example/w1", 0x04, key.public_bytes)
    assert witness.verifier.key_id != as_log.key_id
    assert base64.b64decode(witness.verifier.vkey.split("+", 2)[2]) == b"\x04" + key.public_bytes
    cosignature = witness.sign(SOFA, timestamp=1700000000)
    assert cosignature.timestamp == 1700000000
    assert witness.verifier.verify(SOFA, cosignature)
    assert not as_log.verify(SOFA, cosignature)  # another key ID: not its signature
    assert not witness.verifier.verify(SOFA.replace("20852163", "20852164"), cosignature)
    # the timestamp is signed: moving it breaks the signature
    moved = type(cosignature)(
        cosignature.name,
        cosignature.key_id,
        (1700000001).to_bytes(8, "big") + cosignature.signature[8:],
    )
    assert not witness.verifier.verify(SOFA, moved)
    assert parse_vkey(witness.verifier.vkey) == witness.verifier


def test_unknown_signatures_are_ignored_and_a_bad_known_one_rejects() -> None:
    log = NoteSigner("example.com/log", _key())
    stranger = NoteSigner("example.com/stranger", _key())
    body = Checkpoint("example.com/log", 3, bytes(32)).text()
    note = SignedNote(body, (stranger.sign(body), log.sign(body)))
    assert verify_note(note, [log.verifier]) == [log.verifier]
    with pytest.raises(NoteError, match="no signature of a known key"):
        verify_note(SignedNote(body, (stranger.sign(body),)), [log.verifier])
    forged = log.sign(Checkpoint("example.com/log", 4, bytes(32)).text())
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(SignedNote(body, (forged, stranger.sign(body))), [log.verifier])
    # same name, another key: its key ID differs, so it is ignored, not failed
    impostor = NoteSigner("example.com/log", _key())
    assert verify_note(note.with_signatures([impostor.sign(body)]), [log.verifier])


@pytest.mark.parametrize(
    "text",
    [
        "no blank line\n" + GO_SIGNATURE,
        GO_TEXT + "\n",  # no signature
        GO_TEXT + "\n" + GO_SIGNATURE.replace(EM_DASH, "-"),
        GO_TEXT + "\n" + GO_SIGNATURE.rstrip("\n"),
        GO_TEXT + "\n" + GO_SIGNATURE.replace("x08go", "x08g!"),
        GO_TEXT.replace("answer", "ans\twer") + "\n" + GO_SIGNATURE,
        GO_TEXT + "\n" + f"{EM_DASH} Peter+Neumann x08go/ZJ\n",
    ],
)
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_note(text)


def test_a_note_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        parse_note(b"\xff\n\n" + GO_SIGNATURE.encode())


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong ID
        "PeterNeumann+c74f20a3",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x65
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n1\n",
        "origin\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n1\nAAAA\n",
        "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_extension_lines_are_kept_and_cosigned() -> None:
    text = "origin\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nextension\n"
    checkpoint = parse_checkpoint(text)
    assert checkpoint.extensions == ("extension",)
    assert checkpoint.text() == text
    witness = NoteSigner("w", _key(), COSIGNATURE_V1)
    line = witness.sign(text, timestamp=5)
    assert not witness.verifier.verify(text.replace("extension", "other"), line)


def test_signature_lines_round_trip() -> None:
    lines = GO_SIGNATURE * 3
    assert "".join(s.line() for s in parse_signature_lines(lines)) == lines
    with pytest.raises(NoteError, match="at most"):
        parse_signature_lines(GO_SIGNATURE * 101)

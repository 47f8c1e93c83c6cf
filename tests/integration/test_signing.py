"""The checkpoint key's file: created 0600 once, reused, refused when it is no key."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.signing import SigningError, create_key_file, load_key_file, load_or_create


def test_a_key_is_created_0600_once_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "kpledger-signing.pem"
    key = load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_or_create(path)
    assert again.key_id == key.key_id
    assert path.read_bytes() == pem
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "a temporary file was left"


def test_the_public_key_and_its_id(tmp_path: Path) -> None:
    key = create_key_file(tmp_path / "key.pem")
    raw = base64.b64decode(key.public_key, validate=True)
    assert len(raw) == 32
    assert key.key_id == hashlib.sha256(raw).hexdigest()
    assert key.describe() == {
        "algorithm": "ed25519",
        "public_key": key.public_key,
        "key_id": key.key_id,
    }
    assert key.key_id in repr(key) and "PRIVATE" not in repr(key)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("mine")
    with pytest.raises(SigningError, match="exists already"):
        create_key_file(path)
    assert path.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]


def test_processes_racing_to_create_the_key_share_one(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    found: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        found.append(load_or_create(path).key_id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert load_key_file(path).key_id == found[0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not an unencrypted PEM private key"),
        (b"not a key at all\n", "not an unencrypted PEM private key"),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            "not an unencrypted PEM private key",
        ),
        (
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "not an Ed25519 key",
        ),
    ],
    ids=["empty", "garbage", "encrypted", "another algorithm"],
)
def test_a_file_that_is_no_ed25519_key_is_one_line(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    for load in (load_key_file, load_or_create):
        with pytest.raises(SigningError) as caught:
            load(path)
        message = str(caught.value)
        assert reason in message and str(path) in message
        assert "\n" not in message
        assert "BEGIN" not in message and "not a key at all" not in message
    assert path.read_bytes() == content


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "key.pem"
    folder.mkdir()
    with pytest.raises(SigningError, match="cannot be read") as caught:
        load_or_create(folder)
    assert "\n" not in str(caught.value)
    with pytest.raises(SigningError, match="cannot be created"):
        create_key_file(tmp_path / "missing" / "key.pem")

"""The Ed25519 key that signs checkpoints, kept in a PEM file (PKCS #8, unencrypted).

The file is created with mode 0600, atomically: it is written under a temporary
name opened with `O_CREAT | O_EXCL` and mode 0600, then hard-linked to its name,
which fails if that name exists. So no process ever reads a half-written key, and
two processes creating it at once end with one key. The key's text is never put
in a message, a log line or an answer: only its public half and `key_id` are.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> key = load_or_create(folder / "key.pem")
>>> oct((folder / "key.pem").stat().st_mode & 0o777)
'0o600'
>>> load_or_create(folder / "key.pem").key_id == key.key_id
True
>>> key.verify(key.sign(b"note"), b"note"), key.verify(key.sign(b"note"), b"other")
(True, False)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALGORITHM",
    "SigningError",
    "SigningKey",
    "create_key_file",
    "key_id_of",
    "load_key_file",
    "load_or_create",
]

ALGORITHM = "ed25519"


class SigningError(Exception):
    """A signing key file that cannot be created or used; the message is one line."""


def key_id_of(public_key: bytes) -> str:
    """The hex SHA-256 of a public key's 32 raw bytes."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key and its public identity."""

    private: Ed25519PrivateKey

    def __repr__(self) -> str:  # never the private key
        return f"SigningKey(key_id={self.key_id!r})"

    @property
    def public_bytes(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key(self) -> str:
        """The public key's 32 raw bytes in base64."""
        return base64.b64encode(self.public_bytes).decode("ascii")

    @property
    def key_id(self) -> str:
        """The hex SHA-256 of the public key's 32 raw bytes."""
        return key_id_of(self.public_bytes)

    def describe(self) -> dict[str, str]:
        """The answer of `GET /v1/audit/key`."""
        return {"algorithm": ALGORITHM, "public_key": self.public_key, "key_id": self.key_id}

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature of `data` (64 bytes)."""
        return self.private.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether `signature` is this key's signature of `data`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_bytes).verify(signature, data)
        except InvalidSignature:
            return False
        return True


def load_key_file(path: str | os.PathLike[str]) -> SigningKey:
    """The key in a PEM file; `SigningError` if it cannot be read or is no Ed25519 key."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SigningError(
            f"the signing key {os.fspath(path)} cannot be read: {error.strerror or error}"
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningError(
            f"the signing key {os.fspath(path)} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"the signing key {os.fspath(path)} is not an Ed25519 key")
    return SigningKey(key)


def create_key_file(
    path: str | os.PathLike[str], key: Ed25519PrivateKey | None = None
) -> SigningKey:
    """A new key (or `key`) written to `path` with mode 0600; `SigningError` if `path` exists."""
    target = Path(path)
    key = key if key is not None else Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # whatever the umask
            os.write(descriptor, pem)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise SigningError(f"{os.fspath(path)} exists already: it is not overwritten") from None
    except OSError as error:
        raise SigningError(
            f"the signing key {os.fspath(path)} cannot be created: {error.strerror or error}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return SigningKey(key)


def load_or_create(path: str | os.PathLike[str]) -> SigningKey:
    """The key in `path`, created first (mode 0600) when no file has that name."""
    if not os.path.lexists(path):
        try:
            return create_key_file(path)
        except SigningError:
            if not os.path.lexists(path):
                raise
            # another process created it meanwhile: use that one
    return load_key_file(path)

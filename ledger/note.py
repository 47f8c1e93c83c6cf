"""C2SP signed notes, checkpoints and Ed25519 cosignatures, exactly as the specs write them.

- c2sp.org/signed-note: a text ending in a newline, a blank line, then signature lines
  `— <key name> base64(key ID || signature)`; the key ID is the first four bytes of
  SHA-256(key name || 0x0A || signature type || public key); a verifier key (vkey) is
  `<key name>+<hex key ID>+base64(signature type || public key)`. Type 0x01 is Ed25519
  over the note text.
- c2sp.org/tlog-checkpoint: the note text is the origin, the tree size and the base64
  root, one a line, then optional non-empty extension lines.
- c2sp.org/tlog-cosignature: type 0x04, an Ed25519 signature of
  `cosignature/v1\\ntime <t>\\n` followed by the checkpoint's text; the signature carries
  the 8-byte big-endian timestamp t first.

>>> from ledger.signing import SigningKey
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> log = NoteSigner("example.com/log", SigningKey(Ed25519PrivateKey.generate()))
>>> body = Checkpoint("example.com/log", 1, bytes(32)).text()
>>> note = parse_note(body + "\\n" + log.sign(body).line())
>>> verify_note(note, [log.verifier]) == [log.verifier]
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.signing import SigningKey

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "EM_DASH",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "Signature",
    "SignedNote",
    "Verifier",
    "cosignature_message",
    "key_id",
    "parse_checkpoint",
    "parse_note",
    "parse_signature_lines",
    "parse_vkey",
    "verify_note",
]

ED25519 = 0x01
"""The signature type of an Ed25519 signature over the note text (c2sp.org/signed-note)."""
COSIGNATURE_V1 = 0x04
"""The signature type of a timestamped Ed25519 checkpoint cosignature (tlog-cosignature)."""
EM_DASH = "\u2014"
MAX_SIGNATURES = 100
"""The most signature lines a note may carry here (the spec asks for at least 16)."""
_MAX_TIMESTAMP = 2**63 - 1


class NoteError(ValueError):
    """A note, checkpoint, vkey or signature that is malformed or does not verify; one line."""


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4]: a key's 4-byte ID.

    >>> key_id("example.com/foo", ED25519, bytes(32)).hex()
    'ae0599c0'
    """
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()[:4]


def _check_key_name(name: str) -> None:
    if not name or any(character.isspace() or character == "+" for character in name):
        raise NoteError(f"a key name is non-empty, without spaces or '+': {name!r}")


def cosignature_message(timestamp: int, text: str) -> bytes:
    """What a cosignature/v1 signs: `cosignature/v1\\ntime <t>\\n` then the checkpoint text.

    >>> cosignature_message(1679315147, "o\\n1\\nAA==\\n")
    b'cosignature/v1\\ntime 1679315147\\no\\n1\\nAA==\\n'
    """
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Verifier:
    """A note verifier key: name, 4-byte key ID, signature type and Ed25519 public key."""

    name: str
    key_id: bytes
    type: int
    public_key: bytes

    @classmethod
    def of(cls, name: str, signature_type: int, public_key: bytes) -> Verifier:
        """The verifier of `public_key` under `name` for `signature_type` (0x01 or 0x04)."""
        _check_key_name(name)
        if signature_type not in (ED25519, COSIGNATURE_V1):
            raise NoteError(f"signature type {signature_type:#04x} is not supported")
        if len(public_key) != 32:
            raise NoteError("an Ed25519 public key has 32 bytes")
        return cls(name, key_id(name, signature_type, public_key), signature_type, public_key)

    @property
    def vkey(self) -> str:
        """`<name>+<hex key ID>+base64(type || public key)`."""
        material = base64.b64encode(bytes([self.type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def matches(self, signature: Signature) -> bool:
        """Whether a signature line names this key (same name and key ID)."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, text: str, signature: Signature) -> bool:
        """Whether `signature` (naming this key) is this key's signature of the note `text`."""
        if not self.matches(signature):
            return False
        message = text.encode("utf-8")
        raw = signature.signature
        if self.type == COSIGNATURE_V1:
            if len(raw) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", raw[:8])
            if timestamp > _MAX_TIMESTAMP:
                return False
            message, raw = cosignature_message(timestamp, text), raw[8:]
        elif len(raw) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw, message)
        except InvalidSignature:
            return False
        return True


def parse_vkey(vkey: str) -> Verifier:
    """A verifier key `<name>+<hex key ID>+<base64(type || key)>`; `NoteError` when the
    text is malformed, the type is neither 0x01 nor 0x04, or the key ID does not match.

    >>> parse_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").type
    1
    """
    name, plus, rest = vkey.strip().partition("+")
    hex_id, plus_again, material = rest.partition("+")
    if not plus or not plus_again:
        raise NoteError(f"a vkey is <name>+<key id>+<key>, not {vkey!r}")
    if len(hex_id) != 8 or hex_id != hex_id.lower():
        raise NoteError(f"a vkey's key ID is 8 lowercase hex digits, not {hex_id!r}")
    try:
        identifier = bytes.fromhex(hex_id)
        decoded = base64.b64decode(material, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError(f"a vkey's key ID is hex and its key base64: {vkey!r}") from None
    if not decoded:
        raise NoteError(f"the vkey {vkey!r} holds no key")
    verifier = Verifier.of(name, decoded[0], decoded[1:])
    if verifier.key_id != identifier:
        raise NoteError(f"the vkey {vkey!r} names key ID {hex_id}, not {verifier.key_id.hex()}")
    return verifier


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: key name, 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """`— <name> base64(key ID || signature)` and a newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{EM_DASH} {self.name} {encoded}\n"

    @property
    def timestamp(self) -> int | None:
        """A cosignature's timestamp (the first 8 bytes, big-endian); None if too short."""
        return struct.unpack(">Q", self.signature[:8])[0] if len(self.signature) >= 8 else None


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note's text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...] = field(default=())

    def __str__(self) -> str:
        return self.text + "\n" + "".join(signature.line() for signature in self.signatures)

    def with_signatures(self, signatures: Iterable[Signature]) -> SignedNote:
        """The same text with these signatures added after its own (none twice)."""
        kept = list(self.signatures)
        for signature in signatures:
            if signature not in kept:
                kept.append(signature)
        return SignedNote(self.text, tuple(kept))


def _check_characters(text: str) -> None:
    if any(ord(character) < 0x20 and character != "\n" for character in text):
        raise NoteError("a note holds no control character but newlines")


def parse_signature_lines(text: str) -> tuple[Signature, ...]:
    """Signature lines, each `— <name> <base64>` ending in a newline; `NoteError` otherwise."""
    if not text.endswith("\n"):
        raise NoteError("signature lines end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note here carries at most {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        dash, space, rest = line.partition(" ")
        name, space_again, encoded = rest.partition(" ")
        if dash != EM_DASH or not space or not space_again:
            raise NoteError(f"a signature line is '{EM_DASH} <name> <signature>': {line!r}")
        _check_key_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"a signature is base64: {line!r}") from None
        if len(raw) < 5:
            raise NoteError(f"a signature holds a key ID and more: {line!r}")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return tuple(signatures)


def parse_note(data: bytes | str) -> SignedNote:
    """A signed note: text, blank line, one or more signature lines; `NoteError` when
    malformed (not UTF-8, a control character, no signature, a bad line).

    The text is separated from the signatures by the last blank line.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a note is UTF-8") from None
    _check_characters(data)
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note is a text, a blank line and signature lines")
    text, signatures = data[: cut + 1], data[cut + 2 :]
    if not signatures:
        raise NoteError("a note carries at least one signature")
    return SignedNote(text, parse_signature_lines(signatures))


def verify_note(note: SignedNote, verifiers: Sequence[Verifier]) -> list[Verifier]:
    """The verifiers whose signatures on `note` verify, in the order given.

    Signatures of unknown keys are ignored; one of a known key (same name and key ID)
    that fails to verify rejects the whole note (`NoteError`), as does a note on which
    no known key's signature verifies.
    """
    verified: list[Verifier] = []
    for signature in note.signatures:
        for verifier in verifiers:
            if verifier.matches(signature):
                if not verifier.verify(note.text, signature):
                    raise NoteError(
                        f"the signature of {verifier.name} ({verifier.key_id.hex()}) "
                        "does not verify"
                    )
                if verifier not in verified:
                    verified.append(verifier)
    if not verified:
        raise NoteError("no signature of a known key is on the note")
    return [verifier for verifier in verifiers if verifier in verified]


class NoteSigner:
    """Signs notes with an Ed25519 key under a key name: as the log (type 0x01) or as a
    witness's cosignature/v1 (type 0x04)."""

    def __init__(self, name: str, key: SigningKey, signature_type: int = ED25519) -> None:
        self.verifier = Verifier.of(name, signature_type, key.public_bytes)
        self._key = key

    def __repr__(self) -> str:  # never the private key
        return f"NoteSigner({self.verifier.vkey!r})"

    @property
    def name(self) -> str:
        """The key name."""
        return self.verifier.name

    def sign(self, text: str, timestamp: int | None = None) -> Signature:
        """The signature line of `text`; a cosigner signs at `timestamp` (POSIX seconds)."""
        _check_characters(text)
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        if self.verifier.type == COSIGNATURE_V1:
            if timestamp is None or not 0 < timestamp <= _MAX_TIMESTAMP:
                raise NoteError("a cosignature needs a timestamp above zero")
            raw = struct.pack(">Q", timestamp) + self._key.sign(
                cosignature_message(timestamp, text)
            )
        else:
            raw = self._key.sign(text.encode("utf-8"))
        return Signature(self.name, self.verifier.key_id, raw)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tlog-checkpoint's text: origin, tree size, root hash and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text: one line each, each ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "".join(line + "\n" for line in (*lines, *self.extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint's note text; `NoteError` unless it is an origin, a size without
    leading zeroes, a base64 32-byte root, and non-empty extension lines.

    >>> parse_checkpoint("example.com/behind-the-sofa\\n20852163\\n"
    ...                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\\n").size
    20852163
    """
    if not text.endswith("\n"):
        raise NoteError("a checkpoint's text ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise NoteError("a checkpoint is at least three non-empty lines")
    origin, size, root, *extensions = lines
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"a checkpoint's size is a decimal without leading zeroes: {size!r}")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("a checkpoint's root hash is base64") from None
    if len(root_hash) != 32:
        raise NoteError("a checkpoint's root hash has 32 bytes")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))

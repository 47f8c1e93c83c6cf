"""Authority keys: the secretariat registers and revokes the Ed25519 keys with which a
participant's authorities sign what they post, and capture checks every signature.

- `authority_key.registered` (secretariat): `participant`, `public_key` (the 32 raw bytes,
  base64), `name`. The key id is the lowercase hex SHA-256 of the bytes; a key is
  registered once for ever (`duplicate_id`); the participant must have been admitted at
  some time (`unknown_participant`).
- `authority_key.revoked` (secretariat): `key_id`, `reason`; an unknown key is 409
  `unknown_key`.

A key is in force from the entry after its registration up to its revocation: capture
checks a document's signature before it handles the document (`check_signature`), so a
key registered earlier in the same batch signs the documents after it, and the entry
that revokes a key is the last it may sign. From a participant's first key on, its
authorities sign everything they post; a document may carry a signature whoever posts
it, and it is then checked the same way (403, nothing appended):

- an authority's signature is by a key of its own participant, in force;
- any other role's (secretariat, investigator) by any registered key in force;
- no signature where one is required: `signature_required`; a key not of that
  participant, unknown or not in force: `unknown_key`; a signature that does not verify
  over the document's normal form (`ledger.normal.signing_input`): `bad_signature`.

A replay (`kpledger import`) takes signatures as checked when first appended, as it does
roles; `SignatureAudit` checks every stored one again for `kpledger verify`, against the
keys as they stood at its position. Public keys are parsed once and kept
(`ledger.verifier.verify_chunk`): a key id names its bytes for ever. The signatures of a
large request are checked ahead in another process (`ledger.verifier`); capture still
decides, in order, whether each key may sign.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.domain import event
from pydantic import BeforeValidator, StringConstraints

from ledger.base import LedgerAggregate, aggregate_id
from ledger.errors import LedgerError
from ledger.fields import DocumentModel, ParticipantCode, Text
from ledger.handling import SECRETARIAT, UnitOfWork, handles
from ledger.normal import SIGNATURE, signing_input
from ledger.participants import Participant, find_participant
from ledger.verifier import KNOWN_PUBLIC_KEYS, verify_chunk

__all__ = [
    "AuthorityKey",
    "AuthorityKeyRegistered",
    "AuthorityKeyRevoked",
    "SignatureAudit",
    "SignatureCounts",
    "check_signature",
    "key_id_of",
    "public_key_text",
    "sign_normal_form",
    "signature_verifies",
]

KEY_ID_PATTERN = r"^[0-9a-f]{64}$"


def _public_key_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be the 32 raw bytes of an Ed25519 public key in base64")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be standard base64") from None
    if len(raw) != 32:
        raise ValueError("must be the 32 raw bytes of an Ed25519 public key in base64")
    return value


PublicKeyText = Annotated[str, BeforeValidator(_public_key_text)]


class AuthorityKeyRegistered(DocumentModel):
    type: Literal["authority_key.registered"]
    participant: ParticipantCode
    public_key: PublicKeyText
    name: Text


class AuthorityKeyRevoked(DocumentModel):
    type: Literal["authority_key.revoked"]
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN, strict=True)]
    reason: Text


def key_id_of(public_key_base64: str) -> str:
    """The key id of a base64 public key: the lowercase hex SHA-256 of its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key_base64)).hexdigest()


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    """The base64 of a private key's 32 raw public bytes, as `authority_key.registered` has it."""
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign_normal_form(normal: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The normal form with its `signature` by `private_key` (any signature replaced)."""
    value = base64.b64encode(private_key.sign(signing_input(normal))).decode("ascii")
    key_id = key_id_of(public_key_text(private_key))
    return {**normal, SIGNATURE: {"key_id": key_id, "value": value}}


def signature_verifies(public_key_base64: str, value: str, normal: dict[str, Any]) -> bool:
    """Whether `value` (base64) is the key's Ed25519 signature of the normal form."""
    return verify_chunk([(public_key_base64, value, signing_input(normal))])[0]


# -- aggregates --------------------------------------------------------------------------


class AuthorityKey(LedgerAggregate):
    """One registered key of a participant's authorities."""

    STORED_MODULE = "ledger.keys"  # its stored topics, wherever the class moves

    @staticmethod
    def create_id(key_id: str) -> UUID:
        return aggregate_id("authority_key", key_id)

    class Registered(LedgerAggregate.Created):
        key_id: str
        participant: str
        public_key: str

    @event(Registered)
    def __init__(self, key_id: str, participant: str, public_key: str) -> None:
        self.key_id = key_id
        self.participant = participant
        self.public_key = public_key
        self.revoked = False

    class Revoked(LedgerAggregate.Event):
        reason: str

    @event(Revoked)
    def revoke(self, reason: str) -> None:
        """Takes the key out of force from the next entry on."""
        self.revoked = True


# -- handlers ----------------------------------------------------------------------------


@handles(AuthorityKeyRegistered, roles=SECRETARIAT)
def authority_key_registered(doc: AuthorityKeyRegistered, work: UnitOfWork) -> None:
    participant = find_participant(work, doc.participant)
    key_id = key_id_of(doc.public_key)
    if work.get(AuthorityKey, AuthorityKey.create_id(key_id)) is not None:
        raise LedgerError(
            "duplicate_id", f"key {key_id} is registered already", detail={"key_id": key_id}
        )
    work.add(AuthorityKey(key_id=key_id, participant=doc.participant, public_key=doc.public_key))
    KNOWN_PUBLIC_KEYS.setdefault(key_id, doc.public_key)
    participant.register_authority_key(key_id)


@handles(AuthorityKeyRevoked, roles=SECRETARIAT)
def authority_key_revoked(doc: AuthorityKeyRevoked, work: UnitOfWork) -> None:
    key = work.get(AuthorityKey, AuthorityKey.create_id(doc.key_id))
    if key is None:
        raise LedgerError(
            "unknown_key",
            f"no key {doc.key_id} was registered",
            detail={"key_id": doc.key_id},
            status=409,
        )
    if not key.revoked:
        key.revoke(doc.reason)


# -- signatures at capture ---------------------------------------------------------------


def check_signature(document: DocumentModel, normal: dict[str, Any], work: UnitOfWork) -> None:
    """403 unless the document is signed as the posting actor must sign (module docstring)."""
    actor = work.actor
    if actor is None:  # a replay: checked when first appended
        return
    signature = document.signature
    participant = actor.participant if actor.role == "authority" else None
    if signature is None:
        if participant is not None:
            acting = work.get(Participant, Participant.create_id(participant))
            if acting is not None and acting.key_ids:
                raise LedgerError(
                    "signature_required",
                    f"the authorities of {participant} sign what they post: "
                    "this document carries no signature",
                    detail={"participant": participant},
                )
        return
    key = work.get(AuthorityKey, AuthorityKey.create_id(signature.key_id))
    if key is None or key.revoked or (participant is not None and key.participant != participant):
        why = (
            "is not registered"
            if key is None
            else "is revoked"
            if key.revoked
            else f"is a key of {key.participant}, not of {participant}"
        )
        raise LedgerError(
            "unknown_key",
            f"the signature's key {signature.key_id} {why}",
            detail={"key_id": signature.key_id},
        )
    KNOWN_PUBLIC_KEYS.setdefault(key.key_id, key.public_key)
    prefetched = work.verdicts
    verdict = None if prefetched is None else prefetched.verdict(document, key.public_key)
    if verdict is None:
        verdict = signature_verifies(key.public_key, signature.value, normal)
    if not verdict:
        raise LedgerError(
            "bad_signature",
            f"the signature by key {signature.key_id} does not verify over the document's "
            "normal form",
            detail={"key_id": signature.key_id},
        )


# -- signatures in the stored log --------------------------------------------------------


@dataclass
class SignatureCounts:
    """What `verify` found of the stored signatures."""

    verified: int = 0
    unsigned: int = 0
    invalid: int = 0
    first_invalid_position: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "unsigned": self.unsigned,
            "invalid": self.invalid,
            "first_invalid_position": self.first_invalid_position,
        }


@dataclass
class _LoggedKey:
    public_key: str
    revoked: bool = False


@dataclass
class SignatureAudit:
    """Checks the stored documents' signatures in order of position, against the keys as
    the log registered and revoked them up to each one (`add` them in order)."""

    counts: SignatureCounts = field(default_factory=SignatureCounts)
    _keys: dict[str, _LoggedKey] = field(default_factory=dict)

    def add(self, position: int, document: dict[str, Any]) -> None:
        """Checks one stored document's signature, then learns the keys it changes."""
        counts = self.counts
        signature = document.get(SIGNATURE)
        if signature is None:
            counts.unsigned += 1
        else:
            problem = self._problem(signature, document)
            if problem is None:
                counts.verified += 1
            else:
                counts.invalid += 1
                if counts.first_invalid_position is None:
                    counts.first_invalid_position = position
                    counts.reason = f"entry {position}: {problem}"
        self.learn_keys(document)

    def learn_keys(self, document: dict[str, Any]) -> None:
        """Learns the keys a stored document registers or revokes, checking nothing: for
        documents whose signatures were checked already (a replica's own store, whose
        entries it verified before it appended them and whose tree a signed checkpoint
        covers)."""
        kind = document.get("type")
        if kind == "authority_key.registered":
            # a document the ledger would not accept is the chain's finding, not this one's
            with contextlib.suppress(KeyError, TypeError, ValueError, binascii.Error):
                self._keys.setdefault(
                    key_id_of(document["public_key"]), _LoggedKey(document["public_key"])
                )
        elif kind == "authority_key.revoked":
            revoked = self._keys.get(str(document.get("key_id")))
            if revoked is not None:
                revoked.revoked = True

    def _problem(self, signature: Any, document: dict[str, Any]) -> str | None:
        if not isinstance(signature, dict):
            return "its signature is not an object"
        key = self._keys.get(str(signature.get("key_id")))
        if key is None:
            return f"its signature's key {signature.get('key_id')} is not registered before it"
        if key.revoked:
            return f"its signature's key {signature.get('key_id')} was revoked before it"
        value = signature.get("value")
        if not isinstance(value, str) or not signature_verifies(key.public_key, value, document):
            return "its signature does not verify"
        return None

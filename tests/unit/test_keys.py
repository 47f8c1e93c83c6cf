"""Authority keys without a store: key ids, stored topics, and the log's signature audit."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.utils import get_topic

from ledger.documents import parse_document
from ledger.keys import (
    AuthorityKey,
    SignatureAudit,
    key_id_of,
    public_key_text,
    sign_normal_form,
    signature_verifies,
)
from ledger.normal import normal_form
from ledger.participants import Participant
from ledger.verifier import verify_chunk
from tests.support import doc, flagged

KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))


def test_a_key_id_is_the_lowercase_hex_sha256_of_the_raw_bytes() -> None:
    raw = base64.b64decode(public_key_text(KEY))
    assert len(raw) == 32
    assert key_id_of(public_key_text(KEY)) == hashlib.sha256(raw).hexdigest()


def test_stored_topics_are_permanent() -> None:
    assert get_topic(AuthorityKey.Registered) == "ledger.keys:AuthorityKey.Registered"
    assert get_topic(AuthorityKey.Revoked) == "ledger.keys:AuthorityKey.Revoked"
    assert get_topic(Participant.AuthorityKeyRegistered) == (
        "ledger.participant:Participant.AuthorityKeyRegistered"
    )


def test_a_signature_verifies_over_the_normal_form_only() -> None:
    document = sign_normal_form(normal_form(parse_document(flagged("GH-L1"))), KEY)
    value = document["signature"]["value"]
    assert signature_verifies(public_key_text(KEY), value, document)
    assert not signature_verifies(public_key_text(KEY), value, {**document, "reason": "other"})
    assert verify_chunk([(public_key_text(KEY), "not base64!", b"")]) == [False]


def test_the_audit_judges_each_signature_by_the_keys_before_it() -> None:
    public_key = public_key_text(KEY)
    registered = normal_form(
        parse_document(
            doc("authority_key.registered", participant="GH", public_key=public_key, name="k")
        )
    )
    revoked = normal_form(
        parse_document(doc("authority_key.revoked", key_id=key_id_of(public_key), reason="x"))
    )
    signed = [sign_normal_form(normal_form(parse_document(flagged("L"))), KEY) for _ in range(3)]
    audit = SignatureAudit()
    for position, document in enumerate(
        [signed[0], registered, signed[1], revoked, signed[2]], start=1
    ):
        audit.add(position, document)
    counts = audit.counts
    assert (counts.verified, counts.unsigned, counts.invalid) == (1, 2, 2)
    assert counts.first_invalid_position == 1
    assert counts.reason is not None and "not registered before it" in counts.reason

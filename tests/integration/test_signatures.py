"""Authorities sign what they post (PROTOCOL.md version 3): every rule broken once, on
both stores, with nothing appended; keys in force from the entry after registration."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.actors import Actor
from ledger.application import Ledger
from ledger.audit import export_log, import_log, verify
from ledger.capture import Stamp
from ledger.documents import parse_document
from ledger.errors import LedgerError
from ledger.keys import key_id_of, public_key_text, sign_normal_form
from ledger.normal import normal_form
from projections import snapshot
from projections.reads import Reads
from tests.support import (
    INVESTIGATOR,
    SECRETARIAT,
    accept,
    admitted,
    authority,
    batch,
    doc,
    flagged,
    ledger_on_a_fresh_schema,  # noqa: F401  (the `ledger` fixture, a fresh schema)
    mine,
    produced,
)

GH, CI = authority("GH"), authority("CI")
GH_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
GH_NEXT = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
CI_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
UNREGISTERED = Ed25519PrivateKey.from_private_bytes(bytes(range(3, 35)))


def registered(participant: str, key: Ed25519PrivateKey, name: str = "key") -> dict[str, Any]:
    return doc(
        "authority_key.registered",
        participant=participant,
        public_key=public_key_text(key),
        name=name,
    )


def key_revoked(key: Ed25519PrivateKey, reason: str = "rotated") -> dict[str, Any]:
    return doc("authority_key.revoked", key_id=key_id_of(public_key_text(key)), reason=reason)


def signed(raw: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document in normal form, signed by `key` (what `kpledger sign` writes)."""
    return sign_normal_form(normal_form(parse_document(raw)), key)


def refused(ledger: Ledger, payload: Any, actor: Actor, code: str, status: int = 403) -> None:
    before = ledger.head_position()
    with pytest.raises(LedgerError) as caught:
        ledger.post(payload, actor)
    assert (caught.value.code, caught.value.status) == (code, status), caught.value
    assert ledger.head_position() == before, "a refused request appended something"


@pytest.fixture
def world(ledger: Ledger) -> Ledger:
    """GH and CI admitted, a mine each; GH has a key, CI has none yet."""
    for code in ("GH", "CI"):
        accept(ledger, admitted(code), SECRETARIAT)
    accept(ledger, mine("GH-M1", "GH"), GH)
    accept(ledger, mine("CI-M1", "CI"), CI)
    accept(ledger, registered("GH", GH_KEY), SECRETARIAT)
    return ledger


def test_a_signed_document_is_accepted_and_served_as_signed(world: Ledger) -> None:
    document = signed(produced("GH-L1", "GH-M1", "10"), GH_KEY)
    position = accept(world, document, GH)
    (entry,) = world.read_log(position - 1, 1)
    assert entry.document == document
    assert entry.document["signature"]["key_id"] == key_id_of(public_key_text(GH_KEY))


def test_no_signature_is_signature_required(world: Ledger) -> None:
    refused(world, produced("GH-L1", "GH-M1", "10"), GH, "signature_required")


def test_a_key_that_was_never_registered_is_unknown(world: Ledger) -> None:
    refused(world, signed(produced("GH-L1", "GH-M1", "10"), UNREGISTERED), GH, "unknown_key")


def test_another_participants_key_is_unknown(world: Ledger) -> None:
    accept(world, registered("CI", CI_KEY), SECRETARIAT)
    refused(world, signed(produced("GH-L1", "GH-M1", "10"), CI_KEY), GH, "unknown_key")


def test_a_revoked_key_is_unknown(world: Ledger) -> None:
    accept(world, key_revoked(GH_KEY), SECRETARIAT)
    refused(world, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH, "unknown_key")


def test_a_tampered_field_is_a_bad_signature(world: Ledger) -> None:
    document = signed(produced("GH-L1", "GH-M1", "10"), GH_KEY)
    refused(world, {**document, "carats": "11.00"}, GH, "bad_signature")


def test_a_signature_over_a_form_that_is_not_normal_is_bad(world: Ledger) -> None:
    raw = produced("GH-L1", "GH-M1", "10")  # carats "10", value_usd "1000": not normal
    document = {**raw, "event_id": raw["event_id"].upper()}
    signature = sign_normal_form(document, GH_KEY)["signature"]  # over the raw form
    refused(world, {**document, "signature": signature}, GH, "bad_signature")


def test_amounts_sent_as_numbers_but_signed_in_the_normal_form_are_accepted(
    world: Ledger,
) -> None:
    document = signed(produced("GH-L1", "GH-M1", "10.5", value_usd="1000"), GH_KEY)
    assert document["carats"] == "10.50"
    sent = {**document, "carats": Decimal("10.5"), "value_usd": 1000}
    position = accept(world, sent, GH)
    assert world.read_log(position - 1, 1)[0].document == document


def test_a_key_is_in_force_from_the_entry_after_its_registration(ledger: Ledger) -> None:
    accept(ledger, admitted("GH"), SECRETARIAT)
    accept(ledger, mine("GH-M1", "GH"), GH)
    accept(ledger, produced("GH-L0", "GH-M1", "10"), GH)  # no key yet: unsigned is fine
    # the secretariat may sign too, by a key in force: not by the one it registers
    refused(ledger, signed(registered("GH", GH_KEY), GH_KEY), SECRETARIAT, "unknown_key")
    accept(ledger, registered("GH", GH_KEY), SECRETARIAT)
    accept(ledger, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH)


def test_a_key_registered_earlier_in_the_same_batch_signs_what_follows(ledger: Ledger) -> None:
    accept(ledger, admitted("GH"), SECRETARIAT)
    accept(ledger, mine("GH-M1", "GH"), GH)
    accept(ledger, produced("GH-L1", "GH-M1", "10"), GH)
    flag = signed(flagged("GH-L1"), GH_KEY)
    accept(ledger, batch(registered("GH", GH_KEY), flag), SECRETARIAT)
    # and in the other order, the key is not yet in force
    refused(
        ledger,
        batch(signed(flagged("GH-L1"), GH_NEXT), registered("GH", GH_NEXT)),
        SECRETARIAT,
        "unknown_key",
    )


def test_revoking_a_key_leaves_what_it_signed_valid(world: Ledger) -> None:
    accept(world, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH)
    accept(world, batch(registered("GH", GH_NEXT), key_revoked(GH_KEY)), SECRETARIAT)
    accept(world, signed(produced("GH-L2", "GH-M1", "10"), GH_NEXT), GH)
    verification = verify(world)
    assert verification.ok, verification
    assert verification.signatures.verified == 2
    assert verification.signatures.invalid == 0
    assert verification.signatures.unsigned == world.head_position() - 2


def test_a_participant_without_a_key_posts_unsigned_and_may_not_sign_with_others(
    world: Ledger,
) -> None:
    accept(world, produced("CI-L1", "CI-M1", "10"), CI)
    refused(world, signed(produced("CI-L2", "CI-M1", "10"), GH_KEY), CI, "unknown_key")


def test_other_roles_may_sign_with_any_key_in_force(world: Ledger) -> None:
    accept(world, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH)
    accept(world, signed(flagged("GH-L1"), GH_KEY), INVESTIGATOR)
    accept(world, flagged("GH-L1"), INVESTIGATOR)  # unsigned: not an authority
    tampered = signed(flagged("GH-L1"), GH_KEY)
    refused(world, {**tampered, "reason": "other"}, INVESTIGATOR, "bad_signature")


def test_revoking_an_unknown_key_is_409(world: Ledger) -> None:
    refused(world, key_revoked(UNREGISTERED), SECRETARIAT, "unknown_key", 409)


def test_a_key_is_registered_once_for_an_admitted_participant(world: Ledger) -> None:
    refused(world, registered("GH", GH_KEY), SECRETARIAT, "duplicate_id", 409)
    refused(world, registered("CI", GH_KEY), SECRETARIAT, "duplicate_id", 409)
    refused(world, registered("AE", CI_KEY), SECRETARIAT, "unknown_participant", 409)
    refused(world, registered("GH", CI_KEY), GH, "forbidden")


def test_a_signature_error_later_in_a_batch_comes_before_a_409(world: Ledger) -> None:
    refused(
        world,
        batch(
            signed(produced("GH-L1", "GH-M404", "10"), GH_KEY),  # unknown_source
            produced("GH-L2", "GH-M1", "10"),  # unsigned
        ),
        GH,
        "signature_required",
    )


def test_an_exported_log_whose_signature_was_altered_fails_verify(
    world: Ledger, tmp_path: Any
) -> None:
    accept(world, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH)
    accept(world, signed(produced("GH-L2", "GH-M1", "20"), GH_KEY), GH)
    exported = tmp_path / "log.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_log(world, out)
    entries = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    # forge: the first signed entry's signature swapped for the second's, and the chain
    # rewritten by a forger running the ledger's own code (events digests and hashes
    # recomputed), so that only the signatures can tell
    first = next(i for i, entry in enumerate(entries) if "signature" in entry["document"])
    entries[first]["document"]["signature"] = entries[first + 1]["document"]["signature"]
    rewritten = tmp_path / "rewritten.jsonl"
    forger = Ledger.open(f"sqlite:///{tmp_path / 'forger.db'}")
    try:
        for entry in entries:
            stamp = Stamp(
                parse_document(entry["document"]),
                datetime.fromisoformat(entry["recorded_at"]),
                entry["recorded_by"],
                None,
                entry["document"],
            )
            forger._append(lambda stamp=stamp: [stamp], None, monotonic=False)
        with rewritten.open("w", encoding="utf-8") as out:
            export_log(forger, out)
    finally:
        forger.close()
    imported = Ledger.open(f"sqlite:///{tmp_path / 'imported.db'}")
    try:
        import_log(imported, rewritten.read_text(encoding="utf-8").splitlines())
        verification = verify(imported)
    finally:
        imported.close()
    assert not verification.ok
    assert verification.first_bad_position is None  # the rewritten chain holds
    assert verification.signatures.invalid == 1
    assert verification.signatures.first_invalid_position == entries[first]["position"]
    assert verification.to_json()["signatures"]["first_invalid_position"] == first + 1
    assert verification.to_json()["ok"] is False


# ------------------------------------------------ signatures checked ahead, in a process


def test_a_large_batch_is_checked_ahead_with_the_same_verdicts(world: Ledger) -> None:
    world.verifier.workers, world.verifier.threshold = 1, 8
    lots = [signed(produced(f"GH-B{i}", "GH-M1", "1"), GH_KEY) for i in range(40)]
    tampered = [*lots[:25], {**lots[25], "value_usd": "1.00"}, *lots[26:]]
    before = world.head_position()
    with pytest.raises(LedgerError) as caught:
        world.post(batch(*tampered), GH)
    assert (caught.value.code, caught.value.index) == ("bad_signature", 25)
    assert world.head_position() == before
    assert world.verifier._worker is not None  # the batch was checked ahead
    capture = world.post(batch(*lots), GH)
    assert capture.accepted == 40
    # a batch signed with a revoked key, checked ahead: the ledger's state decides
    accept(world, key_revoked(GH_KEY), SECRETARIAT)
    refused(world, batch(*[signed(flagged(f"GH-B{i}"), GH_KEY) for i in range(10)]), GH,
            "unknown_key")  # fmt: skip


def test_a_lost_checking_process_leaves_the_checks_in_line(world: Ledger) -> None:
    world.verifier.workers, world.verifier.threshold = 1, 8
    accept(world, batch(*[signed(produced(f"GH-B{i}", "GH-M1", "1"), GH_KEY) for i in range(9)]),
           GH)  # fmt: skip
    worker = world.verifier._worker
    assert worker is not None
    worker._process.kill()
    worker._process.wait()
    lots = [signed(produced(f"GH-C{i}", "GH-M1", "1"), GH_KEY) for i in range(20)]
    refused(world, batch(*lots[:5], {**lots[5], "carats": "2.00"}, *lots[6:]), GH,
            "bad_signature")  # fmt: skip
    assert world.post(batch(*lots), GH).accepted == 20


def test_the_keys_are_read_from_the_log_and_kept_in_a_snapshot(
    world: Ledger, tmp_path: Any
) -> None:
    accept(world, batch(registered("GH", GH_NEXT, "2027"), key_revoked(GH_KEY)), SECRETARIAT)
    reads = Reads(world)
    listed = reads.keys()["keys"]
    assert [(k["key_id"], k["participant"], k["name"]) for k in listed] == [
        (key_id_of(public_key_text(GH_KEY)), "GH", "key"),
        (key_id_of(public_key_text(GH_NEXT)), "GH", "2027"),
    ]
    assert listed[0]["revoked_position"] == listed[1]["registered_position"] + 1
    assert listed[1]["revoked_position"] is None
    assert reads.keys("CI") == {"keys": []}
    path = tmp_path / "read-model.snapshot"
    assert snapshot.save(reads, path, world.store.description) is not None
    restored = Reads(world)
    restored.restore(snapshot.load(path, world, world.store.description))
    assert restored.keys() == reads.keys()


def test_revoking_a_revoked_key_changes_nothing(world: Ledger) -> None:
    first = accept(world, key_revoked(GH_KEY), SECRETARIAT)
    accept(world, key_revoked(GH_KEY, "again"), SECRETARIAT)
    (listed,) = Reads(world).keys("GH")["keys"]
    assert listed["revoked_position"] == first
    refused(world, signed(produced("GH-L1", "GH-M1", "10"), GH_KEY), GH, "unknown_key")

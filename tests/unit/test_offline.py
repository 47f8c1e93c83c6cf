"""`check_exported_log`: an exported log checked with nothing but the file."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit import _entry_to_json
from ledger.log import GENESIS_HASH, LogEntry, entry_hash
from ledger.merkle import MerkleTree, entry_leaf
from ledger.note import Checkpoint, NoteSigner, SignedNote
from ledger.offline import OfflineError, check_exported_log
from ledger.signing import SigningKey
from projections.examples import example_entries


def _chained() -> list[LogEntry]:
    """The example entries with a hash chain of their own."""
    entries, previous = [], GENESIS_HASH
    for entry in example_entries():
        fields = {
            "position": entry.position,
            "recorded_at": entry.recorded_at,
            "recorded_by": entry.recorded_by,
            "document": entry.document,
            "events_digest": "e" * 64,
        }
        chained = entry_hash(prev_hash=previous, **fields)
        entries.append(LogEntry(**fields, prev_hash=previous, hash=chained))
        previous = chained
    return entries


def _lines() -> list[str]:
    return [json.dumps(_entry_to_json(entry)) + "\n" for entry in _chained()]


def _checkpoint(signer: NoteSigner, size: int, root: bytes | None = None) -> str:
    tree = MerkleTree()
    for entry in _chained()[:size]:
        tree.append_leaf(entry_leaf(entry))
    text = Checkpoint(signer.name, size, root or tree.root()).text()
    return str(SignedNote(text, (signer.sign(text),)))


def test_a_log_its_checkpoint_and_their_refusals() -> None:
    signer = NoteSigner("kpledger", SigningKey(Ed25519PrivateKey.generate()))
    lines = _lines()
    checked = check_exported_log(lines, _checkpoint(signer, 9), signer.verifier)
    assert (checked.entries, checked.checkpoint_size) == (len(lines), 9)
    assert checked.head == _chained()[-1].hash
    with pytest.raises(OfflineError, match="do not have the checkpoint's root"):
        check_exported_log(lines, _checkpoint(signer, 9, root=bytes(32)))
    with pytest.raises(OfflineError, match="the file holds"):
        check_exported_log(lines[:5], _checkpoint(signer, 9))
    stranger = NoteSigner("kpledger", SigningKey(Ed25519PrivateKey.generate()))
    with pytest.raises(OfflineError, match="signature"):
        check_exported_log(lines, _checkpoint(stranger, 9), signer.verifier)
    other_origin = NoteSigner("elsewhere", signer._key)
    with pytest.raises(OfflineError, match="origin"):
        check_exported_log(lines, _checkpoint(other_origin, 9), signer.verifier)
    altered = [*lines[:3], lines[3].replace("S-CI", "S-XX"), *lines[4:]]
    with pytest.raises(OfflineError, match="chain is broken at entry 4"):
        check_exported_log(altered)
    with pytest.raises(OfflineError, match="not a log entry"):
        check_exported_log(["{}\n"])

"""Verifying Merkle proofs and c2sp.org/tlog-proof@v1 offline: what an auditor, a witness
and a replica check, with nothing but the proof and the keys they trust.

`verify_inclusion` and `verify_consistency` are RFC 9162's algorithms (sections 2.1.3.2
and 2.1.4.2). A tlog-proof is `c2sp.org/tlog-proof@v1`, an optional `extra <base64>`
line, `index <i>`, the inclusion proof's hashes in base64 one a line, a blank line and
the checkpoint verbatim; kpledger's `extra` is the entry's leaf itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.note import (
    ED25519,
    Checkpoint,
    NoteError,
    SignedNote,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)

__all__ = [
    "PROOF_HEADER",
    "ProofError",
    "TlogProof",
    "VerifiedProof",
    "check_proof",
    "parse_proof",
    "verify_consistency",
    "verify_inclusion",
]

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 63


class ProofError(ValueError):
    """A proof that is malformed or does not verify; the message says why, in one line."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether `path` proves leaf `index` (with that leaf hash) in the tree of `size`
    leaves with `root` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree of `old_size` leaves with `old_root` is a prefix of
    the tree of `size` leaves with `root` (RFC 9162, 2.1.4.2); 0 < old_size <= size."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == root
    nodes = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the path
        nodes.insert(0, old_root)
    if not nodes:
        return False
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == root


@dataclass(frozen=True, slots=True)
class TlogProof:
    """A parsed tlog-proof, checked for form only."""

    extra: bytes | None
    index: int
    path: tuple[bytes, ...]
    note: SignedNote
    checkpoint: Checkpoint


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError(f"{what} is not base64") from None


def parse_proof(data: bytes | str) -> TlogProof:
    """A tlog-proof's parts; `ProofError` when it is not written as c2sp.org/tlog-proof."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofError("the proof is not UTF-8") from None
    head, blank, note_text = data.partition("\n\n")
    if not blank:
        raise ProofError("the proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise ProofError(f"the proof does not start with {PROOF_HEADER}")
    lines = lines[1:]
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = _b64(lines.pop(0).removeprefix("extra "), "the extra line")
    if not lines or not lines[0].startswith("index "):
        raise ProofError("the proof has no index line")
    index_text = lines.pop(0).removeprefix("index ")
    if not index_text.isdigit() or (index_text != "0" and index_text.startswith("0")):
        raise ProofError(f"the index is a decimal without leading zeroes, not {index_text!r}")
    if len(lines) > MAX_PROOF_HASHES:
        raise ProofError("the inclusion proof has too many hashes")
    path = tuple(_b64(line, "an inclusion proof line") for line in lines)
    if any(len(node) != 32 for node in path):
        raise ProofError("an inclusion proof line is not a 32-byte hash")
    try:
        note = parse_note(note_text)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as error:
        raise ProofError(f"the checkpoint: {error}") from None
    return TlogProof(extra, int(index_text), path, note, checkpoint)


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that verified: the entry (its leaf parsed) and who signed its checkpoint."""

    proof: TlogProof
    entry: dict[str, Any]
    cosigned_by: tuple[str, ...]


def check_proof(
    data: bytes | str,
    log_key: Verifier,
    witnesses: Sequence[Verifier] = (),
    quorum: int | None = None,
) -> VerifiedProof:
    """Checks a kpledger tlog-proof as c2sp.org/tlog-proof says: the checkpoint's origin is
    the log key's name and its signature verifies, at least `quorum` (default: all) of
    `witnesses` cosigned it, and `extra`, taken as the entry's leaf, is included at
    `index` under its root. `ProofError` with the reason otherwise."""
    quorum = len(witnesses) if quorum is None else quorum
    if not 0 <= quorum <= len(witnesses):
        raise ProofError(f"a quorum of {quorum} from {len(witnesses)} witnesses cannot be met")
    if log_key.type != ED25519:
        raise ProofError("the log key is an Ed25519 vkey (type 0x01)")
    proof = parse_proof(data)
    if proof.checkpoint.origin != log_key.name:
        raise ProofError(
            f"the checkpoint's origin is {proof.checkpoint.origin!r}, not the log key's "
            f"name {log_key.name!r}"
        )
    try:
        verify_note(proof.note, [log_key])
    except NoteError as error:
        raise ProofError(f"the log's signature: {error}") from None
    cosigned: list[str] = []
    if witnesses:
        try:
            cosigned = [verifier.name for verifier in verify_note(proof.note, list(witnesses))]
        except NoteError as error:
            if quorum:
                raise ProofError(f"the cosignatures: {error}") from None
    if len(cosigned) < quorum:
        raise ProofError(
            f"{len(cosigned)} of the witnesses cosigned the checkpoint, fewer than {quorum}"
        )
    if proof.extra is None:
        raise ProofError("the proof carries no extra line: no entry to check")
    leaf_hash = hashlib.sha256(b"\x00" + proof.extra).digest()
    checkpoint = proof.checkpoint
    if not verify_inclusion(proof.index, checkpoint.size, leaf_hash, proof.path, checkpoint.root):
        raise ProofError(
            f"the entry in extra is not leaf {proof.index} of the tree of {checkpoint.size} "
            "entries the checkpoint signs"
        )
    try:
        entry = json.loads(proof.extra)
    except ValueError:
        raise ProofError("the entry in extra is not JSON") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("document"), dict):
        raise ProofError("the entry in extra is not a log entry with a document")
    return VerifiedProof(proof, entry, tuple(cosigned))

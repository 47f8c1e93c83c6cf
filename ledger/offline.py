"""Checking an exported log with nothing but the file: `kpledger audit verify-log`.

The hash chain, entry by entry, as `kpledger verify` and `kpledger import` check it
(`ledger.audit`'s chain: where it checks the documents' signatures against the keys
registered in the log, so does this), the Merkle tree of the entries as `GET /v1/events`
serves them, and, given a checkpoint, that the tree at its size has its root, its
signature checked when the log's vkey is given. The checkpoint is a c2sp signed note
(`GET /checkpoint`) or version 2's JSON (`kpledger checkpoint`, `GET /v1/audit/checkpoint`:
its `note` signed by the same key, so read as that note with the log's signature). No store
and no service are opened.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger.audit import AuditError, _Chain, _file_entries
from ledger.merkle import MerkleTree, entry_leaf
from ledger.note import (
    NoteError,
    Signature,
    SignedNote,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)

__all__ = ["LogCheck", "OfflineError", "check_exported_log", "saved_checkpoint_note"]


class OfflineError(Exception):
    """What does not hold in an exported log; one line."""


@dataclass(frozen=True, slots=True)
class LogCheck:
    """An exported log that verified: its entries, chain head and tree root."""

    entries: int
    head: str
    root: bytes
    checkpoint_size: int | None
    signatures: dict[str, Any] | None = None
    """The signatures' counts, where the chain's check counts them."""


def check_exported_log(
    lines: Iterable[str], checkpoint: str | None = None, log_key: Verifier | None = None
) -> LogCheck:
    """Checks the lines of `kpledger export --out`; `OfflineError` with the first reason."""
    chain = _Chain()
    tree = MerkleTree()
    try:
        for entry in _file_entries(lines):
            chain.add_entry(entry)
            if chain.first_bad_position is not None:
                raise OfflineError(f"the hash chain is broken at {chain.reason}")
            tree.append_leaf(entry_leaf(entry))
    except AuditError as error:
        raise OfflineError(str(error)) from None
    verification = chain.result()
    if not verification.ok:
        raise OfflineError(f"the log does not verify at {verification.reason}")
    counts = getattr(verification, "signatures", None)
    signatures = counts.to_json() if counts is not None else None
    size = None
    if checkpoint is not None:
        try:
            note = saved_checkpoint_note(checkpoint, log_key)
            claimed = parse_checkpoint(note.text)
        except NoteError as error:
            raise OfflineError(f"the checkpoint: {error}") from None
        if log_key is not None:
            if claimed.origin != log_key.name:
                raise OfflineError(
                    f"the checkpoint's origin {claimed.origin!r} is not the log key's name"
                )
            try:
                verify_note(note, [log_key])
            except NoteError as error:
                raise OfflineError(f"the checkpoint's signature: {error}") from None
        if claimed.size > tree.size:
            raise OfflineError(
                f"the checkpoint is of {claimed.size} entries; the file holds {tree.size}"
            )
        if tree.root(claimed.size) != claimed.root:
            raise OfflineError(
                f"the file's first {claimed.size} entries do not have the checkpoint's root"
            )
        size = claimed.size
    return LogCheck(chain.events, chain.head, tree.root(), size, signatures)


def saved_checkpoint_note(text: str, log_key: Verifier | None) -> SignedNote:
    """A saved checkpoint as a signed note: a c2sp note as it is; version 2's JSON
    `{note, signature, ...}` as its note with the signature under the log key's name and
    ID (no signature line when no key is given: then nothing is verified)."""
    if not text.lstrip().startswith("{"):
        return parse_note(text)
    try:
        saved = json.loads(text)
        note, raw = saved["note"], base64.b64decode(saved["signature"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise NoteError("a JSON checkpoint has a note and a base64 signature") from None
    if not isinstance(note, str):
        raise NoteError("a JSON checkpoint's note is a text")
    signatures = () if log_key is None else (Signature(log_key.name, log_key.key_id, raw),)
    return SignedNote(note, signatures)

"""Proofs for auditors: the log's Merkle tree, signed checkpoints, inclusion and consistency.

`LogTree` follows the log entry by entry (the server's `Reads` feeds it from its own
`_apply`; `kpledger checkpoint` and `kpledger audit check` feed it by reading the log
with `follow`), keeping the leaf hashes, the perfect subtrees' roots and the
position of every leaf. The answers of `GET /v1/audit/...` are built here, once,
for the server and the command line alike.

A checkpoint's note is `kpledger\\n<tree_size>\\n<root in base64>\\n`, and its
signature the Ed25519 signature of the note's UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import logging
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError
from ledger.log import LogEntry, LogReader
from ledger.merkle import MerkleTree, shaped_leaf, unshaped_leaf
from ledger.signing import SigningKey

__all__ = [
    "NOTE_ORIGIN",
    "CheckpointError",
    "LogTree",
    "check_checkpoint",
    "checkpoint_note",
    "parse_checkpoint",
]

log = logging.getLogger(__name__)

_PAGE = 1000
NOTE_ORIGIN = "kpledger"
"""The origin line of version 2's checkpoint note, whatever the log's `KPLEDGER_LOG_ORIGIN`."""


class LogTree:
    """The log as an RFC 9162 Merkle tree, with the position of each leaf.

    Not thread-safe: `Reads` calls it under its lock.
    """

    def __init__(self) -> None:
        self.tree = MerkleTree()
        self.positions = array("q")

    @property
    def size(self) -> int:
        """How many entries the tree holds."""
        return self.tree.size

    def apply(self, entry: LogEntry, hashed: bytes | None = None) -> None:
        """Appends the next entry of the log as the next leaf; `hashed`, if given, is its
        leaf hash as `shaped_leaf` or `unshaped_leaf` gave it elsewhere
        (`ledger.reader`).

        An entry stored altered so that it has no shape of `GET /v1/events` (no
        event_id, say) gets the empty leaf, which no entry has: the root still
        changes, and the audit reports the entry.
        """
        if hashed is None:
            hashed = shaped_leaf(entry) or unshaped_leaf(entry.position)
        self.tree.append(hashed)
        self.positions.append(entry.position)

    def follow(self, log: LogReader) -> int:
        """Appends every entry of `log` not applied yet; returns the tree's size."""
        after = self.positions[-1] if self.positions else 0
        while page := log.read_log(after, _PAGE):
            for entry in page:
                self.apply(entry)
            after = page[-1].position
        return self.size

    # -- the answers of GET /v1/audit/... --------------------------------------------------

    def checkpoint(self, key: SigningKey, tree_size: int | None = None) -> dict[str, Any]:
        """`{tree_size, root, note, signature, key_id}` of the tree (at `tree_size`)."""
        size = self.size if tree_size is None else tree_size
        root = self.tree.root(size)
        note = checkpoint_note(size, root)
        return {
            "tree_size": size,
            "root": root.hex(),
            "note": note,
            "signature": base64.b64encode(key.sign(note.encode("utf-8"))).decode("ascii"),
            "key_id": key.key_id,
        }

    def inclusion(self, position: int, tree_size: int | None = None) -> dict[str, Any]:
        """The audit path of the entry at `position` in the tree of `tree_size` entries.

        `LedgerError`: `invalid` for a size not in 1..size, `not_found` for a
        position that is not among the first `tree_size` entries.
        """
        size = self._size(tree_size, "tree_size")
        index = bisect_left(self.positions, position, 0, size)
        if index == size or self.positions[index] != position:
            raise LedgerError(
                "not_found", f"no entry at position {position} among the first {size} entries"
            )
        return {
            "position": position,
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": self.tree.leaf_hash(index).hex(),
            "root": self.tree.root(size).hex(),
            "path": [node.hex() for node in self.tree.inclusion_proof(index, size)],
        }

    def consistency(self, from_size: int, to_size: int | None = None) -> dict[str, Any]:
        """The consistency proof from the tree of `from_size` entries to that of `to_size`.

        `LedgerError("invalid")` unless 0 < from_size <= to_size <= size.
        """
        size = self._size(to_size, "to_size")
        if not 0 < from_size <= size:
            raise LedgerError(
                "invalid", f"from_size must be between 1 and to_size ({size}), not {from_size}"
            )
        return {
            "from_size": from_size,
            "to_size": size,
            "from_root": self.tree.root(from_size).hex(),
            "to_root": self.tree.root(size).hex(),
            "path": [node.hex() for node in self.tree.consistency_proof(from_size, size)],
        }

    def _size(self, requested: int | None, name: str) -> int:
        if requested is None:
            return self.size
        if not 1 <= requested <= self.size:
            raise LedgerError(
                "invalid", f"{name} must be between 1 and the log's size ({self.size})"
            )
        return requested


def checkpoint_note(tree_size: int, root: bytes) -> str:
    """The signed text of a checkpoint: `kpledger\\n<tree_size>\\n<root in base64>\\n`."""
    return f"{NOTE_ORIGIN}\n{tree_size}\n{base64.b64encode(root).decode('ascii')}\n"


# -- checking a saved checkpoint against a log ------------------------------------------------


class CheckpointError(Exception):
    """A checkpoint that is malformed, or that the log does not extend; one line."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a saved checkpoint claims, its signature checked against nothing yet."""

    tree_size: int
    root: bytes
    note: str
    signature: bytes
    key_id: str


def parse_checkpoint(data: Any) -> Checkpoint:
    """A checkpoint answer, as saved from `GET /v1/audit/checkpoint`; `CheckpointError`
    when a field is missing or malformed, or when the note does not say its size and root."""
    if not isinstance(data, dict):
        raise CheckpointError("the checkpoint is not a JSON object")
    try:
        tree_size, root, note = data["tree_size"], data["root"], data["note"]
        signature, key_id = data["signature"], data["key_id"]
    except KeyError as missing:
        raise CheckpointError(f"the checkpoint has no {missing.args[0]}") from None
    if not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0:
        raise CheckpointError("the checkpoint's tree_size is not an integer >= 0")
    if not all(isinstance(value, str) for value in (root, note, signature, key_id)):
        raise CheckpointError("the checkpoint's root, note, signature and key_id must be strings")
    try:
        root_bytes = bytes.fromhex(root)
        signature_bytes = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise CheckpointError("the checkpoint's root or signature is not hex or base64") from None
    if len(root_bytes) != 32 or root != root_bytes.hex():
        raise CheckpointError("the checkpoint's root is not 64 lowercase hex digits")
    if note != checkpoint_note(tree_size, root_bytes):
        raise CheckpointError("the checkpoint's note does not state its tree_size and root")
    return Checkpoint(tree_size, root_bytes, note, signature_bytes, key_id)


def check_checkpoint(tree: LogTree, checkpoint: Checkpoint, key: SigningKey) -> str:
    """Whether the log in `tree` extends `checkpoint`, signed by `key`: a line saying so,
    or `CheckpointError` with the reason (bad signature, shorter log, different root)."""
    if checkpoint.key_id != key.key_id:
        raise CheckpointError(
            f"bad signature: the checkpoint names key {checkpoint.key_id}, "
            f"not the configured key {key.key_id}"
        )
    if not key.verify(checkpoint.signature, checkpoint.note.encode("utf-8")):
        raise CheckpointError("bad signature: the checkpoint's signature does not verify")
    size = checkpoint.tree_size
    if size > tree.size:
        raise CheckpointError(
            f"shorter log: the store holds {tree.size} entries, the checkpoint {size}"
        )
    root = tree.tree.root(size)
    if root != checkpoint.root:
        raise CheckpointError(
            f"different root at size {size}: the store's is {root.hex()}, "
            f"the checkpoint's {checkpoint.root.hex()}"
        )
    return f"ok: the store's log ({tree.size} entries) extends the checkpoint at size {size}"

"""The log as a Merkle tree (RFC 9162, section 2.1), kept up to date entry by entry.

Leaf hash `SHA-256(0x00 || leaf)`, node hash `SHA-256(0x01 || left || right)`, and
`MTH({}) = SHA-256()` for the empty tree. Leaf *i* is entry *i* of the log (from 0,
in order of position) as `GET /v1/events` serves it, in RFC 8785 canonical JSON
(`entry_leaf`): a change to that shape changes every root.

`MerkleTree` keeps, as leaf hashes arrive, the root of every perfect subtree (2^k
leaves starting at a multiple of 2^k) in one `bytearray` per level (64 bytes per
leaf in all). Any root, inclusion proof or consistency proof, for the current size
or an earlier one, then reads O(log n) of them and hashes O(log n) times: nothing is
recomputed over all leaves.

>>> tree = MerkleTree()
>>> for leaf in (b"a", b"b", b"c"):
...     _ = tree.append_leaf(leaf)
>>> tree.size
3
>>> tree.root(3) == node_hash(node_hash(leaf_hash(b"a"), leaf_hash(b"b")), leaf_hash(b"c"))
True
>>> tree.inclusion_proof(2, 3) == [node_hash(leaf_hash(b"a"), leaf_hash(b"b"))]
True
>>> tree.consistency_proof(2, 3) == [leaf_hash(b"c")]
True
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from ledger.log import canonical_json, is_plain, plain_canonical_json

if TYPE_CHECKING:
    from ledger.log import LogEntry

__all__ = [
    "EMPTY_LEAF",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "entry_leaf",
    "leaf_hash",
    "node_hash",
    "shaped_leaf",
    "unshaped_leaf",
]

log = logging.getLogger(__name__)

HASH_SIZE = 32

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}): the root of the empty tree."""


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf).

    >>> leaf_hash(b"").hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def entry_leaf(entry: LogEntry) -> bytes:
    """The leaf of a log entry: RFC 8785 canonical JSON, UTF-8, of `entry.to_json()`.

    Every entry is hashed when the read side catches up, so the common case is written
    by orjson (`ledger.log.plain_canonical_json`); only the document and the two fields
    not made strings here can hold a number, so only they are looked at.

    >>> from ledger.log import GENESIS_HASH, LogEntry
    >>> from datetime import datetime, timezone
    >>> document = {"event_id": "e1", "type": "lot.flagged", "occurred_at": "2005-06-01T10:00:00Z"}
    >>> entry = LogEntry(1, datetime(2005, 6, 1, tzinfo=timezone.utc), "Ghana", document,
    ...                  GENESIS_HASH, GENESIS_HASH, GENESIS_HASH)
    >>> entry_leaf(entry) == canonical_json(entry.to_json())
    True
    """
    value = entry.to_json()
    if is_plain(entry.document) and is_plain(entry.position) and is_plain(entry.recorded_by):
        written = plain_canonical_json(value)
        if written is not None:
            return written
    return canonical_json(value)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 Merkle tree over leaf hashes; see the module's docstring.

    Not thread-safe: its owner serialises appends and reads.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        # _levels[k] holds, in order, the roots of the perfect subtrees of 2^k leaves
        # that are complete: subtree j covers leaves j * 2^k to (j + 1) * 2^k - 1.
        self._levels: list[bytearray] = [bytearray()]

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, hash_of_leaf: bytes) -> None:
        """Appends one leaf by its leaf hash; completes the perfect subtrees it closes."""
        if len(hash_of_leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(hash_of_leaf)}")
        levels = self._levels
        levels[0] += hash_of_leaf
        level = 0
        while len(levels[level]) % (2 * HASH_SIZE) == 0:  # an even count: a pair closed
            below = levels[level]
            parent = hashlib.sha256(b"\x01" + below[-2 * HASH_SIZE :]).digest()
            if level + 1 == len(levels):
                levels.append(bytearray())
            levels[level + 1] += parent
            level += 1

    def append_leaf(self, leaf: bytes) -> bytes:
        """Appends one leaf by its input; returns its leaf hash."""
        hashed = leaf_hash(leaf)
        self.append(hashed)
        return hashed

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash of leaf `index` (from 0)."""
        self._check_size(index + 1)
        if index < 0:
            raise ValueError(f"no leaf {index}")
        return self._perfect(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all by default); `EMPTY_ROOT` for none."""
        size = self.size if size is None else size
        self._check_size(size)
        if size < 0:
            raise ValueError(f"no tree of {size} leaves")
        return self._range(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1: the audit path of a leaf.

        >>> tree = MerkleTree()
        >>> for leaf in (b"a", b"b"):
        ...     _ = tree.append_leaf(leaf)
        >>> tree.inclusion_proof(0) == [leaf_hash(b"b")]
        True
        """
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        path: list[bytes] = []
        start, end, m = 0, size, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self._range(start + k, end))
                end = start + k
            else:
                path.append(self._range(start, start + k))
                start, m = start + k, m - k
        path.reverse()  # PATH lists the deepest sibling first
        return path

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:size]) of RFC 9162 section 2.1.4.1; 0 < old_size <= size.

        >>> tree = MerkleTree()
        >>> for leaf in (b"a", b"b", b"c", b"d"):
        ...     _ = tree.append_leaf(leaf)
        >>> tree.consistency_proof(4) == []
        True
        >>> tree.consistency_proof(2) == [node_hash(leaf_hash(b"c"), leaf_hash(b"d"))]
        True
        """
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 < old_size <= size:
            raise ValueError(f"no consistency proof from {old_size} to {size} leaves")
        proof: list[bytes] = []
        start, end, m, whole = 0, size, old_size, True
        while m != end - start:  # SUBPROOF(m, D[start:end], whole)
            k = _split(end - start)
            if m <= k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            proof.append(self._range(start, end))
        proof.reverse()  # SUBPROOF appends on the way back up
        return proof

    def perfect_count(self, level: int) -> int:
        """How many perfect subtrees of 2^level leaves are complete."""
        return len(self._levels[level]) // HASH_SIZE if 0 <= level < len(self._levels) else 0

    def perfect_roots(self, level: int, first: int, count: int) -> bytes:
        """The roots of perfect subtrees `first` to `first + count - 1` of 2^level leaves,
        concatenated (what a tlog-tiles hash tile is made of); `ValueError` unless all are
        complete."""
        if first < 0 or count < 0 or first + count > self.perfect_count(level):
            raise ValueError(f"level {level} lacks some of subtrees {first}..{first + count - 1}")
        return bytes(self._levels[level][first * HASH_SIZE : (first + count) * HASH_SIZE])

    def _check_size(self, size: int) -> None:
        if size > self.size:
            raise ValueError(f"the tree holds {self.size} leaves, not {size}")

    def _perfect(self, level: int, index: int) -> bytes:
        """The root of perfect subtree `index` of 2^level leaves."""
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for `start` a multiple of the smallest power of two >= end - start,
        as every subtree of RFC 9162's recursion is: the fold, from the right, of the perfect
        subtrees that the binary digits of end - start name, largest first."""
        n = end - start
        roots: list[bytes] = []
        while n:
            level = n.bit_length() - 1
            roots.append(self._perfect(level, start >> level))
            start += 1 << level
            n -= 1 << level
        folded = roots.pop()
        while roots:
            folded = node_hash(roots.pop(), folded)
        return folded


EMPTY_LEAF = leaf_hash(b"")
"""The leaf hash of an entry that has no shape of `GET /v1/events`."""


def shaped_leaf(entry: LogEntry) -> bytes | None:
    """The leaf hash of an entry; None when it has no shape of `GET /v1/events`."""
    try:
        return leaf_hash(entry_leaf(entry))
    except (KeyError, TypeError, ValueError):
        return None


def unshaped_leaf(position: int) -> bytes:
    """The leaf hash of the entry at `position`, which has no shape of `GET /v1/events`:
    the empty leaf's, with a warning."""
    log.warning("entry %s has no shape of GET /v1/events: its leaf is empty", position)
    return EMPTY_LEAF

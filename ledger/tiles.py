"""c2sp.org/tlog-tiles: tile paths, hash tiles and entry bundles.

Tile *n* of level *l* holds, for *i* from 0 to 255, MTH(D[(n*256+i) * 256^l :
(n*256+i+1) * 256^l]): the roots of perfect subtrees of 256^l = 2^(8l) leaves, which
`MerkleTree` keeps already (`perfect_roots`), so a tile is one slice of memory and no
tree is rebuilt. A full tile holds 256 hashes; a partial one, `.p/<W>`, W from 1 to 255.
Index paths are zero-padded 3-digit elements, all but the last prefixed by `x`
(1234067 is `x001/x234/067`). An entry bundle is the tile's leaves, each prefixed by
its length as a big-endian uint16, so no leaf may exceed 65,535 bytes.

>>> str(TilePath(0, 1234067))
'tile/0/x001/x234/067'
>>> parse_tile_path("entries/x001/234.p/5")
TilePath(level=None, index=1234, width=5)
>>> parse_entry_bundle(entry_bundle([b"a", b""]))
[b'a', b'']
"""

from __future__ import annotations

import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.errors import LedgerError
from ledger.log import LogEntry
from ledger.merkle import MerkleTree, entry_leaf

__all__ = [
    "MAX_LEAF",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "BundleCache",
    "TilePath",
    "check_leaf_size",
    "encode_index",
    "entry_bundle",
    "hash_tile",
    "parse_entry_bundle",
    "parse_tile_path",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEAF = 0xFFFF
"""The longest leaf an entry bundle can carry (its length is a uint16)."""
MAX_LEVEL = 63

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ELEMENT = re.compile(r"[0-9]{3}")


@dataclass(frozen=True, slots=True)
class TilePath:
    """A hash tile (`level` 0 to 63) or an entry bundle (`level` None), full (`width`
    None) or partial (`width` 1 to 255)."""

    level: int | None
    index: int
    width: int | None = None

    @property
    def hashes(self) -> int:
        """How many hashes (or entries) the tile holds."""
        return TILE_WIDTH if self.width is None else self.width

    def __str__(self) -> str:
        level = "entries" if self.level is None else str(self.level)
        suffix = "" if self.width is None else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{suffix}"


def encode_index(index: int) -> str:
    """A tile index as 3-digit path elements, all but the last prefixed by `x`.

    >>> encode_index(0), encode_index(1000)
    ('000', 'x001/000')
    """
    if index < 0:
        raise ValueError(f"no tile {index}")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def parse_tile_path(path: str) -> TilePath:
    """`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (what follows `tile/`); `ValueError`
    unless written exactly as tlog-tiles writes it (no extra leading zeroes)."""
    parts = path.split("/")
    if len(parts) < 2:
        raise ValueError(f"not a tile path: {path!r}")
    level_text, elements = parts[0], parts[1:]
    width: int | None = None
    if len(elements) >= 2 and elements[-2].endswith(".p"):
        width_text = elements[-1]
        if not _DECIMAL.fullmatch(width_text) or not 1 <= int(width_text) < TILE_WIDTH:
            raise ValueError(f"a partial tile's width is 1 to 255: {path!r}")
        width = int(width_text)
        elements = [*elements[:-2], elements[-2][:-2]]
    if level_text == "entries":
        level = None
    elif _DECIMAL.fullmatch(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise ValueError(f"a tile's level is 0 to 63 or entries: {path!r}")
    *leading, last = elements
    if not _ELEMENT.fullmatch(last) or not all(
        element.startswith("x") and _ELEMENT.fullmatch(element[1:]) for element in leading
    ):
        raise ValueError(f"a tile index is x-prefixed 3-digit elements: {path!r}")
    if leading and leading[0] == "x000":
        raise ValueError(f"a tile index has no leading zero element: {path!r}")
    index = 0
    for element in elements:
        index = index * 1000 + int(element.removeprefix("x"))
    return TilePath(level, index, width)


def hash_tile(tree: MerkleTree, level: int, index: int, width: int | None = None) -> bytes | None:
    """Hash tile `index` of `level` (full, or `width` hashes), from the perfect subtrees'
    roots `tree` keeps; None when the tree does not hold it (yet)."""
    count = TILE_WIDTH if width is None else width
    first = index * TILE_WIDTH
    subtree_level = level * TILE_HEIGHT
    if first + count > tree.perfect_count(subtree_level):
        return None
    return tree.perfect_roots(subtree_level, first, count)


def tiles_for_size(size: int) -> list[TilePath]:
    """Every hash tile of a tree of `size` leaves: the full ones and, at each level, the
    partial one of floor(size / 256^l) mod 256 hashes when that is not zero.

    >>> [str(tile) for tile in tiles_for_size(70_000)][-4:]
    ['tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1']
    """
    tiles: list[TilePath] = []
    level, hashes = 0, size
    while hashes:
        full, rest = divmod(hashes, TILE_WIDTH)
        tiles.extend(TilePath(level, index) for index in range(full))
        if rest:
            tiles.append(TilePath(level, full, rest))
        level, hashes = level + 1, full
    return tiles


def entry_bundle(leaves: Iterable[bytes]) -> bytes:
    """Leaves, each prefixed by its length as a big-endian uint16; `ValueError` for a leaf
    longer than 65,535 bytes."""
    parts: list[bytes] = []
    for leaf in leaves:
        if len(leaf) > MAX_LEAF:
            raise ValueError(f"a leaf of {len(leaf)} bytes does not fit an entry bundle")
        parts.append(struct.pack(">H", len(leaf)))
        parts.append(leaf)
    return b"".join(parts)


class BundleCache:
    """Full entry bundles, gzip-compressed, the least recently read dropped first beyond
    `budget` bytes. A full bundle never changes, so it is read from the store once.

    >>> cache = BundleCache(budget=10)
    >>> cache.put(0, b"12345678"); cache.put(1, b"abcd")
    >>> cache.get(0), cache.get(1)
    (None, b'abcd')
    """

    def __init__(self, budget: int = 128 * 2**20) -> None:
        self.budget = budget
        self._bundles: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, index: int) -> bytes | None:
        """The compressed bundle `index`, if kept."""
        with self._lock:
            found = self._bundles.get(index)
            if found is not None:
                self._bundles.move_to_end(index)
            return found

    def put(self, index: int, compressed: bytes) -> None:
        """Keeps bundle `index`, dropping the least recently read beyond the budget."""
        with self._lock:
            if index in self._bundles or len(compressed) > self.budget:
                return
            self._bundles[index] = compressed
            self._size += len(compressed)
            while self._size > self.budget:
                _, dropped = self._bundles.popitem(last=False)
                self._size -= len(dropped)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """The leaves of an entry bundle; `ValueError` if it is cut short."""
    leaves, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length")
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + length > len(data):
            raise ValueError("an entry bundle ends inside a leaf")
        leaves.append(data[offset : offset + length])
        offset += length
    return leaves


def check_leaf_size(
    position: int,
    recorded_at: datetime,
    recorded_by: str,
    document: dict[str, Any],
    index: int = 0,
    canonical: bytes | None = None,
) -> None:
    """`LedgerError("document_too_large")` (422) when the entry's Merkle leaf, as
    `GET /v1/events` would serve it at that position, exceeds 65,535 bytes: no entry
    bundle could carry it.

    Given the document's `canonical` JSON, a leaf shown to fit by a bound is not written:
    the leaf holds the document, three of its fields again (disjoint parts of it, so
    together no longer), `recorded_by` (at most 6 bytes a character, escaped), a position,
    an ISO date-time and the keys, under 256 bytes."""
    if canonical is not None and 2 * len(canonical) + 6 * len(recorded_by) + 256 <= MAX_LEAF:
        return
    leaf = entry_leaf(LogEntry(position, recorded_at, recorded_by, document, "", "", ""))
    if len(leaf) > MAX_LEAF:
        raise LedgerError(
            "document_too_large",
            f"the entry would be {len(leaf):,} bytes as GET /v1/events serves it; "
            f"at most {MAX_LEAF:,} fit a tlog-tiles entry bundle",
            index=index,
            detail={"leaf_bytes": len(leaf), "max_leaf_bytes": MAX_LEAF},
        )

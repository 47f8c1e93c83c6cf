"""A small tile client written from c2sp.org/tlog-tiles alone, to check the server's tiles:
it computes a tree's root from hash tiles, and checks entry bundles against level 0."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["bundle_leaves", "root_from_tiles", "tile_url"]


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _index(n: int) -> str:
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def tile_url(level: int | str, index: int, width: int | None = None) -> str:
    """`/tile/<L>/<N>[.p/<W>]`."""
    suffix = "" if width is None else f".p/{width}"
    return f"/tile/{level}/{_index(index)}{suffix}"


def root_from_tiles(size: int, fetch: Callable[[str], bytes]) -> bytes:
    """The RFC 6962 root of the tree of `size` leaves, from the tiles that size needs:
    each perfect subtree of its binary decomposition, 2^(8l + r) leaves, is the MTH of
    2^r consecutive hashes of level l."""
    if size == 0:
        return hashlib.sha256(b"").digest()
    tiles: dict[str, bytes] = {}

    def hashes_at(level: int, first: int, count: int) -> list[bytes]:
        found = []
        for j in range(first, first + count):
            tile, at = divmod(j, 256)
            full_tiles = size // 256 ** (level + 1)
            width = None if tile < full_tiles else (size // 256**level) % 256
            url = tile_url(level, tile, width)
            if url not in tiles:
                tiles[url] = fetch(url)
                assert len(tiles[url]) == 32 * (256 if width is None else width), url
            found.append(tiles[url][32 * at : 32 * at + 32])
        return found

    subtrees: list[bytes] = []
    offset = 0
    for k in reversed(range(size.bit_length())):
        if not size >> k & 1:
            continue
        level, r = divmod(k, 8)
        layer = hashes_at(level, offset // 256**level, 1 << r)
        while len(layer) > 1:
            layer = [_node(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
        subtrees.append(layer[0])
        offset += 1 << k
    root = subtrees.pop()
    while subtrees:
        root = _node(subtrees.pop(), root)
    return root


def bundle_leaves(bundle: bytes) -> list[bytes]:
    """The leaves of an entry bundle: big-endian uint16 length, then the leaf."""
    leaves, at = [], 0
    while at < len(bundle):
        length = int.from_bytes(bundle[at : at + 2], "big")
        leaves.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    assert at == len(bundle)
    return leaves

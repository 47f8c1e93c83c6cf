"""tlog-tiles paths, hash tiles from the kept subtree roots, entry bundles."""

from __future__ import annotations

import hashlib

import pytest

from ledger.merkle import MerkleTree
from ledger.tiles import (
    TilePath,
    encode_index,
    entry_bundle,
    hash_tile,
    parse_entry_bundle,
    parse_tile_path,
    tiles_for_size,
)
from tests.unit.test_merkle import mth
from tests.unit.tile_client import bundle_leaves, root_from_tiles, tile_url


def test_the_specs_index_example() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert parse_tile_path("0/x001/x234/067") == TilePath(0, 1234067)
    assert str(TilePath(3, 1234067, 5)) == "tile/3/x001/x234/067.p/5"
    assert parse_tile_path("entries/x001/x234/067.p/255") == TilePath(None, 1234067, 255)


def test_the_specs_tree_of_70000() -> None:
    tiles = tiles_for_size(70_000)
    assert sum(1 for t in tiles if t.level == 0 and t.width is None) == 273
    assert TilePath(0, 273, 112) in tiles
    assert [t for t in tiles if t.level == 1] == [TilePath(1, 0), TilePath(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [TilePath(2, 0, 1)]
    assert tiles_for_size(256) == [TilePath(0, 0), TilePath(1, 0, 1)]


@pytest.mark.parametrize(
    "path",
    [
        "0",
        "00/000",
        "64/000",
        "0/1",
        "0/0001",
        "0/x000/001",
        "0/001/002",
        "0/x1/002",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/01",
        "0/000.p",
        "entry/000",
        "-1/000",
        "0/000/",
    ],
)
def test_paths_not_written_as_the_spec_writes_them_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(path)


def test_tiles_rebuild_the_root_of_every_size_from_1_to_600() -> None:
    tree = MerkleTree()
    leaves = [f"leaf {i}".encode() for i in range(600)]
    for size, leaf in enumerate(leaves, start=1):
        tree.append_leaf(leaf)

        def fetch(url: str) -> bytes:
            tile = parse_tile_path(url.removeprefix("/tile/"))
            assert tile.level is not None
            found = hash_tile(tree, tile.level, tile.index, tile.width)
            assert found is not None, url
            return found

        assert root_from_tiles(size, fetch) == tree.root(size) == mth(leaves[:size])
    assert hash_tile(tree, 0, 2) is None  # 512..767 not all held
    assert hash_tile(tree, 0, 2, 88) is not None
    assert hash_tile(tree, 0, 2, 89) is None
    assert hash_tile(tree, 1, 0, 2) is not None
    assert hash_tile(tree, 1, 0, 3) is None
    assert hash_tile(tree, 2, 0, 1) is None
    full = hash_tile(tree, 0, 1)
    assert full is not None and len(full) == 8192
    assert full[:32] == hashlib.sha256(b"\x00leaf 256").digest()
    assert tile_url(0, 1) == "/tile/0/001"


def test_entry_bundles_length_prefix_each_leaf() -> None:
    leaves = [b"", b"a", b"x" * 65535]
    bundle = entry_bundle(leaves)
    assert bundle[:5] == b"\x00\x00\x00\x01a"
    assert parse_entry_bundle(bundle) == leaves == bundle_leaves(bundle)
    with pytest.raises(ValueError):
        entry_bundle([b"x" * 65536])
    with pytest.raises(ValueError):
        parse_entry_bundle(b"\x00\x05abc")

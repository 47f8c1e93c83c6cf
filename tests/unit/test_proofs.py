"""The read side's tree of the log: positions to leaves, sizes refused, Reads feeding it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.errors import LedgerError
from ledger.merkle import entry_leaf
from projections.examples import example_entries
from projections.proofs import LogTree
from projections.reads import Reads
from tests.unit.test_merkle import mth, sha256, verify_inclusion
from tests.unit.worlds import MemoryLog


def test_reads_keep_the_tree_of_every_entry_applied() -> None:
    entries = example_entries()
    log = MemoryLog(entries[:5])
    reads = Reads(log)
    reads.catch_up()
    assert reads.with_proofs(lambda tree: tree.size) == 5
    log.append(*entries[5:])
    leaves = [entry_leaf(entry) for entry in entries]
    checkpoint = reads.with_proofs(lambda tree: tree.inclusion(entries[-1].position))
    assert checkpoint["tree_size"] == len(entries)
    assert bytes.fromhex(checkpoint["root"]) == mth(leaves)
    assert reads.proofs.size == len(entries)


def test_a_log_tree_maps_positions_with_gaps_to_leaves() -> None:
    entries = example_entries()[:6]
    gapped = [
        replace(entry, position=position)
        for position, entry in zip((1, 2, 5, 6, 9, 20), entries, strict=True)
    ]
    tree = LogTree()
    assert tree.follow(MemoryLog(gapped)) == 6
    leaves = [entry_leaf(entry) for entry in gapped]
    proof = tree.inclusion(9)
    assert (proof["leaf_index"], proof["tree_size"]) == (4, 6)
    assert verify_inclusion(
        4,
        6,
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["path"]],
        mth(leaves),
    )
    assert tree.inclusion(9, tree_size=5)["root"] == mth(leaves[:5]).hex()
    for position, tree_size in ((3, None), (20, 5), (0, None), (21, None)):
        with pytest.raises(LedgerError) as caught:
            tree.inclusion(position, tree_size)
        assert caught.value.code == "not_found"
    for call in (
        lambda: tree.inclusion(1, 7),
        lambda: tree.inclusion(1, 0),
        lambda: tree.consistency(0, 3),
        lambda: tree.consistency(4, 3),
        lambda: tree.consistency(1, 7),
    ):
        with pytest.raises(LedgerError) as caught:
            call()
        assert caught.value.code == "invalid"
    assert tree.consistency(6)["path"] == []
    assert tree.follow(MemoryLog(gapped)) == 6  # nothing new


def test_an_empty_log_has_the_empty_root() -> None:
    tree = LogTree()
    assert tree.follow(MemoryLog()) == 0
    assert tree.tree.root() == sha256(b"")
    with pytest.raises(LedgerError) as caught:
        tree.inclusion(1)
    assert caught.value.code == "not_found"
    with pytest.raises(LedgerError) as caught:
        tree.consistency(1)
    assert caught.value.code == "invalid"

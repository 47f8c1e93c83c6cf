"""RFC 9162 proof verification against the tree's own proofs, and tlog-proof parsing."""

from __future__ import annotations

import pytest

from ledger.merkle import MerkleTree, leaf_hash
from ledger.tlogproof import ProofError, parse_proof, verify_consistency, verify_inclusion


def _tree(size: int) -> MerkleTree:
    tree = MerkleTree()
    for i in range(size):
        tree.append_leaf(f"{i}".encode())
    return tree


def test_every_inclusion_and_consistency_proof_up_to_40_verifies() -> None:
    tree = _tree(40)
    for size in range(1, 41):
        root = tree.root(size)
        for index in range(size):
            path = tree.inclusion_proof(index, size)
            hashed = leaf_hash(f"{index}".encode())
            assert verify_inclusion(index, size, hashed, path, root)
            assert not verify_inclusion(index, size, leaf_hash(b"other"), path, root)
            if path:
                assert not verify_inclusion(index, size, hashed, path[:-1], root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert verify_consistency(old, size, tree.root(old), root, proof)
            assert not verify_consistency(old, size, leaf_hash(b"x"), root, proof)
            if proof:
                assert not verify_consistency(old, size, tree.root(old), root, proof[1:])
                assert not verify_consistency(old, size, tree.root(old), root, [*proof, root])
    assert not verify_consistency(0, 3, tree.root(0), tree.root(3), [])
    assert not verify_inclusion(3, 3, leaf_hash(b"3"), [], tree.root(3))


def test_the_specs_proof_example_parses_up_to_its_elided_signatures() -> None:
    text = (
        "c2sp.org/tlog-proof@v1\n"
        "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n"
        "index 73894\n"
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
        "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
        "\n"
        "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
        "\u2014 example.com/fancylog hI2DJwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    )
    proof = parse_proof(text)
    assert proof.extra == b"age-v1.2.1-darwin-arm64.tar.gz"
    assert (proof.index, len(proof.path), proof.checkpoint.size) == (73894, 2, 109482)
    for broken in (
        text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        text.replace("index 73894", "index 073894"),
        text.replace("index 73894\n", ""),
        text.replace("extra YWdl", "extra !Wdl"),
        text.replace("\n\nexample.com", "\nexample.com"),
    ):
        with pytest.raises(ProofError):
            parse_proof(broken)

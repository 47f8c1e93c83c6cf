"""The Merkle tree of the log against a verifier written here from RFC 9162's text.

The verifier (`mth`, `verify_inclusion`, `verify_consistency`) follows sections
2.1.1, 2.1.3.2 and 2.1.4.2 of RFC 9162 step by step and shares no code with
`ledger.merkle`. Published vectors: the RFC 6962 test data of the certificate
transparency project (transparency-dev/merkle, testonly/constants.go and
proof/verify_test.go).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log import GENESIS_HASH, LogEntry
from ledger.merkle import EMPTY_ROOT, MerkleTree, entry_leaf

SIZES = range(1, 71)

# ------------------------------------------------------------------ the verifier, from the RFC


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_leaf(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf)


def hash_children(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1, recursively."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return hash_leaf(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return hash_children(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if leaf_index >= tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, for 0 < first <= second (equal sizes: an empty path and
    equal roots)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_hash == second_hash
    if not path:
        return False
    if first & (first - 1) == 0:  # an exact power of 2
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def altered(path: list[bytes], index: int) -> list[bytes]:
    """The path with one bit of element `index` flipped."""
    element = bytearray(path[index])
    element[0] ^= 0x08
    return [*path[:index], bytes(element), *path[index + 1 :]]


# ------------------------------------------------------------------ every size up to 70

LEAVES = [f"leaf {i}".encode() for i in range(max(SIZES))]


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    built = MerkleTree()
    for leaf in LEAVES:
        built.append_leaf(leaf)
    return built


@pytest.fixture(scope="module")
def roots() -> dict[int, bytes]:
    return {n: mth(LEAVES[:n]) for n in range(max(SIZES) + 1)}


def test_the_root_of_every_size_is_the_recursive_mth(
    tree: MerkleTree, roots: dict[int, bytes]
) -> None:
    growing = MerkleTree()
    assert growing.root() == roots[0] == EMPTY_ROOT
    for n in SIZES:
        growing.append_leaf(LEAVES[n - 1])
        assert growing.size == n
        assert growing.root() == roots[n], n
        assert tree.root(n) == roots[n], n


@pytest.mark.parametrize("n", SIZES)
def test_every_inclusion_proof_verifies_and_fails_once_altered(
    tree: MerkleTree, roots: dict[int, bytes], n: int
) -> None:
    for index in range(n):
        path = tree.inclusion_proof(index, n)
        leaf = tree.leaf_hash(index)
        assert leaf == hash_leaf(LEAVES[index])
        assert verify_inclusion(index, n, leaf, path, roots[n]), (index, n)
        for position in range(len(path)):
            assert not verify_inclusion(index, n, leaf, altered(path, position), roots[n])
        assert not verify_inclusion(index, n, hash_leaf(b"other"), path, roots[n])
        if path:
            assert not verify_inclusion(index, n, leaf, path[:-1], roots[n])
        if n > 1:
            assert not verify_inclusion((index + 1) % n, n, leaf, path, roots[n])


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof_verifies_and_fails_once_altered(
    tree: MerkleTree, roots: dict[int, bytes], n: int
) -> None:
    for m in range(1, n + 1):
        path = tree.consistency_proof(m, n)
        assert verify_consistency(m, n, roots[m], roots[n], path), (m, n)
        if m == n:
            assert path == []
            continue
        for position in range(len(path)):
            assert not verify_consistency(m, n, roots[m], roots[n], altered(path, position))
        assert not verify_consistency(m, n, roots[m], roots[n], path[:-1])
        assert not verify_consistency(m, n, mth([b"x", *LEAVES[1:m]]), roots[n], path)


def test_the_current_size_is_the_default(tree: MerkleTree) -> None:
    size = tree.size
    assert tree.inclusion_proof(3) == tree.inclusion_proof(3, size)
    assert tree.consistency_proof(5) == tree.consistency_proof(5, size)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.root(71),
        lambda t: t.root(-1),
        lambda t: t.leaf_hash(70),
        lambda t: t.leaf_hash(-1),
        lambda t: t.inclusion_proof(5, 5),
        lambda t: t.inclusion_proof(-1, 5),
        lambda t: t.inclusion_proof(0, 71),
        lambda t: t.consistency_proof(0, 5),
        lambda t: t.consistency_proof(6, 5),
        lambda t: t.consistency_proof(1, 71),
        lambda t: t.append(b"short"),
    ],
)
def test_what_the_tree_does_not_hold_is_refused(tree: MerkleTree, call: object) -> None:
    with pytest.raises(ValueError):
        call(tree)  # type: ignore[operator]


class CountingTree(MerkleTree):
    """Counts the perfect subtrees read."""

    __slots__ = ("reads",)

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def _perfect(self, level: int, index: int) -> bytes:
        self.reads += 1
        return super()._perfect(level, index)


def test_a_proof_reads_a_logarithmic_number_of_subtrees() -> None:
    counted = CountingTree()
    for index in range(5000):
        counted.append(hash_leaf(index.to_bytes(4, "big")))
    for call in (
        lambda: counted.root(4999),
        lambda: counted.inclusion_proof(1234, 4999),
        lambda: counted.consistency_proof(3333, 4999),
    ):
        counted.reads = 0
        call()
        assert 0 < counted.reads <= 2 * 13, counted.reads  # log2(5000) < 13


# ------------------------------------------------------------------ published vectors

VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
VECTOR_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
VECTOR_INCLUSION = [  # (leaf index, tree size, path)
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
VECTOR_CONSISTENCY = [  # (first size, second size, path)
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
    (6, 7, ["0ebc5d34", "b08693ec", "d37ee418"]),
]


@pytest.fixture(scope="module")
def vector_tree() -> MerkleTree:
    built = MerkleTree()
    for leaf in VECTOR_LEAVES:
        built.append_leaf(leaf)
    return built


def test_the_published_roots(vector_tree: MerkleTree) -> None:
    assert [vector_tree.root(n) for n in range(9)] == VECTOR_ROOTS
    assert [mth(VECTOR_LEAVES[:n]) for n in range(9)] == VECTOR_ROOTS


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_the_published_inclusion_proofs(
    vector_tree: MerkleTree, index: int, size: int, path: list[str]
) -> None:
    assert [node.hex()[:8] for node in vector_tree.inclusion_proof(index, size)] == path


@pytest.mark.parametrize(("first", "second", "path"), VECTOR_CONSISTENCY)
def test_the_published_consistency_proofs(
    vector_tree: MerkleTree, first: int, second: int, path: list[str]
) -> None:
    proof = vector_tree.consistency_proof(first, second)
    assert [node.hex()[:8] for node in proof] == path
    assert verify_consistency(first, second, VECTOR_ROOTS[first], VECTOR_ROOTS[second], proof)


# ------------------------------------------------------------------ the leaf of an entry

FROZEN_ENTRY = LogEntry(
    position=7,
    recorded_at=datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC),
    recorded_by="Commission minière de Côte d'Ivoire",
    document={
        "event_id": "5b2e7a1c-0d3f-4c9a-9e1b-2f6d8a4c3b10",
        "type": "mine.registered",
        "occurred_at": "2005-06-01T10:00:00+01:00",
        "mine_id": "CI-M1",
        "participant": "CI",
        "name": "Séguéla",
        "region": "Worodougou",
        "location": {"lat": 7.96, "lon": -6.5},
        "annual_capacity_carats": "1000.00",
    },
    events_digest=GENESIS_HASH,
    prev_hash=GENESIS_HASH,
    hash=GENESIS_HASH,
)
FROZEN_LEAF = (
    '{"document":{"annual_capacity_carats":"1000.00",'
    '"event_id":"5b2e7a1c-0d3f-4c9a-9e1b-2f6d8a4c3b10",'
    '"location":{"lat":7.96,"lon":-6.5},"mine_id":"CI-M1","name":"Séguéla",'
    '"occurred_at":"2005-06-01T10:00:00+01:00","participant":"CI","region":"Worodougou",'
    '"type":"mine.registered"},'
    '"event_id":"5b2e7a1c-0d3f-4c9a-9e1b-2f6d8a4c3b10",'
    '"occurred_at":"2005-06-01T10:00:00+01:00",'
    '"position":7,'
    '"recorded_at":"2026-03-01T12:30:15.250000+00:00",'
    '"recorded_by":"Commission minière de Côte d\'Ivoire",'
    '"type":"mine.registered"}'
).encode()


def test_the_leaf_of_an_entry_is_frozen() -> None:
    """Changing what GET /v1/events serves changes every root: this test says so."""
    assert entry_leaf(FROZEN_ENTRY) == FROZEN_LEAF
    assert hash_leaf(FROZEN_LEAF).hex() == (
        "e2cebecdbe34bf6195a5380e582c5dd961d3e203448a54043013e25530feb559"
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(
    fields=st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    texts=st.lists(st.text(), min_size=4, max_size=4),
    position=st.integers(min_value=1, max_value=2**53 - 1),
)
def test_the_leaf_is_rfc8785_whatever_the_document_holds(
    fields: dict[str, object], texts: list[str], position: int
) -> None:
    event_id, type_, occurred_at, recorded_by = texts
    document = {**fields, "event_id": event_id, "type": type_, "occurred_at": occurred_at}
    entry = LogEntry(
        position=position,
        recorded_at=datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC),
        recorded_by=recorded_by,
        document=document,
        events_digest=GENESIS_HASH,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )
    try:
        expected = rfc8785.dumps(entry.to_json())
    except rfc8785.CanonicalizationError:
        return  # e.g. an integer beyond 2^53: RFC 8785 has no bytes for it
    assert entry_leaf(entry) == expected


@pytest.mark.parametrize(
    "text", ["\x00\x08\t\n\x0c\r\x1f\x7f", '"\\/', "\u2028\u00e9\U0001f48e", "\ud800"]
)
def test_the_leaf_escapes_strings_as_rfc8785(text: str) -> None:
    entry = LogEntry(
        position=1,
        recorded_at=datetime(2026, 3, 1, tzinfo=UTC),
        recorded_by=text,
        document={"event_id": "e", "type": "t", "occurred_at": "o", text: text, "\uffff": 1},
        events_digest=GENESIS_HASH,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )
    try:
        expected = rfc8785.dumps(entry.to_json())
    except ValueError:  # a lone surrogate has no UTF-8
        with pytest.raises(ValueError):
            entry_leaf(entry)
        return
    assert entry_leaf(entry) == expected


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_a_number_rfc8785_cannot_write_has_no_leaf(number: float) -> None:
    """orjson writes NaN and infinities as null; the leaf must not be that null."""
    entry = LogEntry(
        position=1,
        recorded_at=datetime(2026, 3, 1, tzinfo=UTC),
        recorded_by="a",
        document={"event_id": "e", "type": "t", "occurred_at": "o", "n": [None, number]},
        events_digest=GENESIS_HASH,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )
    with pytest.raises(ValueError):
        entry_leaf(entry)

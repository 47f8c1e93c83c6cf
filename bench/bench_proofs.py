"""Merkle proofs on a large tree, against recomputing the root from every leaf.

    .venv/bin/python bench/bench_proofs.py [--leaves 1000000] [--samples 1000] [--seed 0]
    .venv/bin/python -m bench proofs          # the same, in the benchmarks' table

Builds a `ledger.merkle.MerkleTree` of N synthetic leaves in memory (leaf hashes of
N distinct 8-byte inputs), then, in the same run, times:

- inclusion: `inclusion_proof(index, size)` for random indices and sizes <= N;
- consistency: `consistency_proof(m, n)` for random 0 < m <= n <= N;
- baseline: the root of all N leaves recomputed from their leaf hashes (what a
  server that keeps only the leaves must do for any proof): a few runs.

Every sampled proof is checked against its root with an RFC 9162 verifier before
timing counts. Prints p50 and p95 of each, and the baseline's median over our p95.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Result, median, percentile  # noqa: E402
from ledger.merkle import MerkleTree, leaf_hash, node_hash  # noqa: E402

TARGET_P95_MS = 1.0
TARGET_SPEEDUP = 1000.0


def build(leaves: int) -> tuple[MerkleTree, list[bytes], float]:
    """The tree of `leaves` synthetic leaves, their leaf hashes, and seconds to append them."""
    hashes = [leaf_hash(index.to_bytes(8, "big")) for index in range(leaves)]
    tree = MerkleTree()
    started = time.perf_counter()
    for hashed in hashes:
        tree.append(hashed)
    return tree, hashes, time.perf_counter() - started


def recomputed_root(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes, level by level (RFC 9162: an odd last node moves up as is)."""
    level = hashes
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0] if level else hashlib.sha256(b"").digest()


def _root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root an inclusion path leads to, None if it cannot."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def _consistent(old: int, size: int, old_root: bytes, root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2, for 0 < old <= size."""
    if old == size:
        return not path and old_root == root
    if old & (old - 1) == 0:
        path = [old_root, *path]
    if not path:
        return False
    fn, sn = old - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == root and sn == 0


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(leaves: int = 1_000_000, samples: int = 1000, seed: int = 0) -> list[Result]:
    """Both proofs' p95 against the recomputed root, as benchmark results."""
    tree, hashes, build_seconds = build(leaves)
    chosen = random.Random(seed)
    baseline_runs = 3
    baseline = [_timed(lambda: recomputed_root(hashes)) for _ in range(baseline_runs)]
    assert recomputed_root(hashes) == tree.root(), "the tree's root is not the recomputed one"
    baseline_ms = median(baseline) * 1000

    inclusion: list[float] = []
    for _ in range(samples):
        size = chosen.randint(1, leaves)
        index = chosen.randrange(size)
        started = time.perf_counter()
        path = tree.inclusion_proof(index, size)
        root = tree.root(size)
        inclusion.append(time.perf_counter() - started)
        assert _root_from_path(index, size, hashes[index], path) == root, (index, size)

    consistency: list[float] = []
    for _ in range(samples):
        size = chosen.randint(1, leaves)
        old = chosen.randint(1, size)
        started = time.perf_counter()
        path = tree.consistency_proof(old, size)
        old_root, root = tree.root(old), tree.root(size)
        consistency.append(time.perf_counter() - started)
        assert _consistent(old, size, old_root, root, path), (old, size)

    results = []
    for name, seconds in (("inclusion", inclusion), ("consistency", consistency)):
        p95 = percentile(seconds, 0.95) * 1000
        speedup = baseline_ms / p95
        results.append(
            Result(
                name=f"{name} proof and its roots, {leaves:,}-leaf tree (p95)",
                unit="ms (p95)",
                ours=p95,
                baseline=baseline_ms,
                target=f"p95 <= {TARGET_P95_MS:g} ms and >= {TARGET_SPEEDUP:,.0f}x faster",
                met=p95 <= TARGET_P95_MS and speedup >= TARGET_SPEEDUP,
                notes={
                    "leaves": leaves,
                    "samples": samples,
                    "p50_ms": percentile(seconds, 0.5) * 1000,
                    "p95_ms": p95,
                    "max_ms": max(seconds) * 1000,
                    "baseline": "root recomputed from every leaf hash (median of "
                    f"{baseline_runs} runs)",
                    "baseline_runs_ms": [b * 1000 for b in baseline],
                    "speedup_p95": speedup,
                    "appends_per_second": leaves / build_seconds,
                },
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000, help="leaves of the tree")
    parser.add_argument("--samples", type=int, default=1000, help="proofs timed of each kind")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same proofs")
    args = parser.parse_args(argv)
    results = run(args.leaves, args.samples, args.seed)
    for result in results:
        notes = result.notes
        print(
            f"{result.name}: p50 {notes['p50_ms']:.3f} ms, p95 {notes['p95_ms']:.3f} ms; "
            f"root recomputed from all leaves {result.baseline:,.0f} ms: "
            f"{notes['speedup_p95']:,.0f}x faster"
        )
    print(f"appending the leaves: {results[0].notes['appends_per_second']:,.0f} leaves/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

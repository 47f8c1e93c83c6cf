"""Following a source's witnessed log: verify everything, then append as `import` does.

Each step reads the source's `GET /checkpoint`, checks the log's signature (its key
name is the checkpoint's origin) and, when witnesses are named, that at least `quorum`
of their cosignatures verify. A checkpoint no larger than what the replica holds must
have the root of the replica's own first entries. A larger one is caught up in chunks
of entry bundles (`GET /tile/entries/...`, read in parallel): every leaf must be an
entry as `GET /v1/events` serves it, at the next position, its document signature must
verify against the keys registered in the log (`ledger.keys.SignatureAudit`, as
`kpledger verify` checks them), the bundle's leaves already held must be the replica's
own, and the tree of the held entries and the chunk must be a prefix of the signed
tree: its root is the checkpoint's at the checkpoint's size, or else the source's
consistency proof to the checkpoint verifies. Only then is the chunk appended through
`Ledger.replay`, the path of `kpledger import`, in atomic batches (same positions; the
hash chain rebuilt by capture, hash for hash as the source built it).

A checkpoint inconsistent with one accepted, or entries that do not match a signed
checkpoint, stop the following for good (`diverged`, with both signed notes as
evidence); what was verified stays served. A source away or slow is retried with
back-off; it never fails the replica's reads. The newest checkpoint accepted whole is
kept beside the store (written, fsynced, renamed), so that a replica killed at any
instant goes on from what it holds after a restart.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ledger.application import Ledger
from ledger.audit import IMPORT_BATCH, AuditError, _replay
from ledger.keys import SignatureAudit
from ledger.log import LogEntry, read_entries
from ledger.merkle import MerkleTree, entry_leaf, leaf_hash
from ledger.note import (
    Checkpoint,
    NoteError,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)
from ledger.offline import saved_checkpoint_note
from ledger.tiles import TILE_WIDTH, TilePath, parse_entry_bundle
from ledger.tlogproof import verify_consistency
from projections.proofs import NOTE_ORIGIN

__all__ = ["CHUNK_BUNDLES", "Diverged", "Refused", "ReplicaFollower"]

log = logging.getLogger("kpledger.replica")

CHUNK_BUNDLES = 64
"""Entry bundles verified and appended together while catching up (16,384 entries)."""
MAX_BACKOFF = 30.0
"""The longest wait between two attempts when the source is away."""


class Refused(Exception):
    """A checkpoint or entries this replica will not accept (nothing appended); one line."""


class Diverged(Exception):
    """The source served something inconsistent with a checkpoint it signed before."""

    def __init__(self, reason: str, served: str) -> None:
        super().__init__(reason)
        self.served = served


@dataclass(frozen=True, slots=True)
class _Accepted:
    note: str
    checkpoint: Checkpoint


class ReplicaFollower:
    """Keeps `ledger` a verified copy of the log served at `source`."""

    def __init__(
        self,
        ledger: Ledger,
        source: str,
        token: str,
        log_key: Verifier,
        state_path: Path,
        *,
        witnesses: Sequence[Verifier] = (),
        quorum: int | None = None,
        interval: float = 1.0,
        parallel: int = 4,
        timeout: float = 30.0,
        batch: int = IMPORT_BATCH,
    ) -> None:
        self.ledger = ledger
        self.source = source.rstrip("/")
        self.log_key = log_key
        self.witnesses = list(witnesses)
        self.quorum = len(self.witnesses) if quorum is None else quorum
        if self.witnesses and not 1 <= self.quorum <= len(self.witnesses):
            raise ValueError(
                f"the quorum must be between 1 and the {len(self.witnesses)} witnesses"
            )
        if not self.witnesses and quorum:
            raise ValueError("a quorum needs --witness keys")
        self.state_path = state_path
        self.interval = interval
        self.parallel = parallel
        self.batch = batch
        self._headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        self._timeout = timeout
        self._tree = MerkleTree()
        self._signatures = SignatureAudit()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.accepted: _Accepted | None = None
        self.source_size: int | None = None
        self.last_recorded_at: datetime | None = None
        self.problem: str | None = None
        """Why nothing is appended (a checkpoint or entries refused), until a step succeeds."""
        self.source_error: str | None = None
        """The last failure to reach the source (away, slow): retried with back-off."""
        self.evidence: dict[str, Any] | None = None
        self.loaded = threading.Event()
        self.v2_checkpoint: dict[str, Any] | None = None
        """The source's version-2 checkpoint (`GET /v1/audit/checkpoint`) of the newest size
        held that it was asked at, its signature verified with the log key: served as the
        replica's own while the log's origin is not `kpledger` (else the accepted note is
        that note, and carries that signature)."""
        self._v2_pending: tuple[dict[str, Any], Checkpoint] | None = None
        self._held = 0
        self._dirty = False

    # ------------------------------------------------------------------ state

    @property
    def size(self) -> int:
        """The entries the replica holds (and verified)."""
        return self._held

    @property
    def diverged(self) -> bool:
        return self.evidence is not None

    def health(self) -> dict[str, Any]:
        """`replica` of `GET /health`: source, size, source_size, lag_s (and the problem)."""
        lag = None
        if self.last_recorded_at is not None:
            lag = max(0.0, (datetime.now(UTC) - self.last_recorded_at).total_seconds())
        answer: dict[str, Any] = {
            "source": self.source,
            "size": self.size,
            "source_size": self.source_size,
            "lag_s": None if lag is None else round(lag, 3),
            "state": "diverged" if self.diverged else ("refusing" if self.problem else "following"),
        }
        if self.problem is not None:
            answer["problem"] = self.problem
        if self.source_error is not None:
            answer["source_error"] = self.source_error
        return answer

    def served_checkpoint(self) -> str | None:
        """The source's cosigned checkpoint at the size this replica holds, as accepted."""
        accepted = self.accepted
        return None if accepted is None else accepted.note

    def load(self) -> None:
        """Rebuilds the tree and the keys the log registered from the store, and reads the
        accepted checkpoint kept beside it (checked against the entries held). Entries held
        without a kept checkpoint (a replica killed before it accepted its first) are
        checked against the source's next checkpoint like any others: a store of another
        log diverges there. Their document signatures are not checked again: each was
        checked before it was appended, and the tree's root against a signed checkpoint
        says the entries are those (so a start costs a read of the log, not an Ed25519
        verification per signed document)."""
        tree, audit, last = MerkleTree(), SignatureAudit(), None
        for entry in read_entries(self.ledger):
            if entry.position != tree.size + 1:
                raise Refused(f"the replica's store misses entry {tree.size + 1}")
            tree.append_leaf(entry_leaf(entry))
            audit.learn_keys(entry.document)
            last = entry.recorded_at
        accepted = None
        if self.state_path.exists():
            note = self.state_path.read_text(encoding="utf-8")
            checkpoint = self._check_note(note)
            if checkpoint.size > tree.size or tree.root(checkpoint.size) != checkpoint.root:
                raise Refused(
                    f"the checkpoint kept in {self.state_path} does not match the store's entries"
                )
            accepted = _Accepted(note, checkpoint)
        with self._lock:
            self._tree, self._signatures, self.last_recorded_at = tree, audit, last
            self._held, self.accepted, self._dirty = tree.size, accepted, False
        self.loaded.set()

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        """Loads, then follows in a daemon thread until `stop`."""
        self._thread = threading.Thread(target=self._run, name="kpledger-replica", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 5)

    def _run(self) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per bundle
        try:
            self.load()
        except (Refused, NoteError) as error:
            self._refuse(str(error))
            self.loaded.set()
            return
        failures = 0
        with httpx.Client(timeout=self._timeout, headers=self._headers) as client:
            while not self._stopping.is_set():
                wait = self.interval
                try:
                    self.step(client)
                    failures = 0
                    self.problem = self.source_error = None
                except Diverged as diverged:
                    self._diverge(str(diverged), diverged.served)
                    return
                except Refused as refused:
                    self._refuse(str(refused))
                    failures += 1
                    wait = min(self.interval * 2**failures, MAX_BACKOFF)
                except (httpx.HTTPError, AuditError, ValueError) as error:
                    failures += 1
                    wait = min(self.interval * 2**failures, MAX_BACKOFF)
                    self.source_error = f"{type(error).__name__}: {error}"
                    log.warning(
                        "replica: the source: %s; trying again in %.1f s", self.source_error, wait
                    )
                self._stopping.wait(wait)

    def _refuse(self, reason: str) -> None:
        if reason != self.problem:
            log.error("replica: nothing appended: %s", reason)
        self.problem = reason

    def _diverge(self, reason: str, served: str) -> None:
        accepted = self.accepted
        self.evidence = {
            "reason": reason,
            "accepted": None if accepted is None else accepted.note,
            "served": served,
        }
        self.problem = f"diverged: {reason}"
        log.error("replica: the source diverged, following stopped: %s", reason)

    # ------------------------------------------------------------------ one step

    def step(self, client: httpx.Client) -> int:
        """One round: the source's checkpoint checked and caught up; returns entries added."""
        if self._dirty:  # a chunk failed half-way: start again from what the store holds
            self.load()
        answer = client.get(f"{self.source}/checkpoint")
        answer.raise_for_status()
        note = answer.text
        checkpoint = self._check_note(note)
        self.source_size = checkpoint.size
        held = self.size
        if checkpoint.size <= held:
            if self._tree.root(checkpoint.size) != checkpoint.root:
                raise Diverged(
                    f"the source's checkpoint of {checkpoint.size} entries does not have the "
                    "root of the entries accepted before",
                    note,
                )
            if checkpoint.size == held:
                self._accept(note, checkpoint)
            self._follow_v2(client)
            return 0
        added = 0
        while self.size < checkpoint.size and not self._stopping.is_set():
            added += self._catch_up_chunk(client, note, checkpoint)
        if self.size == checkpoint.size:
            self._accept(note, checkpoint)
        self._follow_v2(client)
        return added

    def _follow_v2(self, client: httpx.Client) -> None:
        """Asks the source for its version-2 checkpoint when none is waiting, and takes the
        one waiting once the replica holds its size and has its root (a source's key
        signing another root for entries the replica verified: `Diverged`). One asked
        while the source was ahead waits until then, so that a source that never stops
        appending still has one taken at each checkpoint the replica catches up to."""
        if self.log_key.name == NOTE_ORIGIN:
            return
        if self._v2_pending is None:
            answer = client.get(f"{self.source}/v1/audit/checkpoint")
            answer.raise_for_status()
            text = answer.text
            try:
                note = saved_checkpoint_note(text, self.log_key)
                verify_note(note, [self.log_key])
                checkpoint = parse_checkpoint(note.text)
            except NoteError as error:
                raise Refused(
                    f"the source's version-2 checkpoint does not verify: {error}"
                ) from None
            self._v2_pending = json.loads(text), checkpoint
        served, checkpoint = self._v2_pending
        if checkpoint.size > self.size:
            return
        if self._tree.root(checkpoint.size) != checkpoint.root:
            raise Diverged(
                f"the source's version-2 checkpoint of {checkpoint.size} entries does not have "
                "the root of the entries accepted",
                json.dumps(served),  # its note and signature, as the source answered
            )
        self.v2_checkpoint, self._v2_pending = served, None

    def _check_note(self, text: str) -> Checkpoint:
        """The checkpoint of a signed note whose log signature and quorum verify."""
        try:
            note = parse_note(text)
            checkpoint = parse_checkpoint(note.text)
        except NoteError as error:
            raise Refused(f"the source's checkpoint is malformed: {error}") from None
        if checkpoint.origin != self.log_key.name:
            raise Refused(
                f"the source's checkpoint is of origin {checkpoint.origin!r}, "
                f"not the log key's {self.log_key.name!r}"
            )
        try:
            verified = verify_note(note, [self.log_key, *self.witnesses])
        except NoteError as error:
            raise Refused(f"the source's checkpoint does not verify: {error}") from None
        if self.log_key not in verified:
            raise Refused("the source's checkpoint does not carry the log key's signature")
        cosigned = len([verifier for verifier in verified if verifier in self.witnesses])
        if cosigned < self.quorum:
            raise Refused(
                f"the source's checkpoint carries {cosigned} verified cosignatures of the "
                f"{len(self.witnesses)} witnesses named; the quorum is {self.quorum}"
            )
        return checkpoint

    def _accept(self, note: str, checkpoint: Checkpoint) -> None:
        if self.accepted is not None and self.accepted.note == note:
            return
        _write_atomically(self.state_path, note)
        self.accepted = _Accepted(note, checkpoint)

    def _catch_up_chunk(self, client: httpx.Client, note: str, checkpoint: Checkpoint) -> int:
        held = self.size
        first_bundle = held // TILE_WIDTH
        last_bundle = min((checkpoint.size - 1) // TILE_WIDTH, first_bundle + CHUNK_BUNDLES - 1)
        tiles = []
        for index in range(first_bundle, last_bundle + 1):
            width = min(TILE_WIDTH, checkpoint.size - index * TILE_WIDTH)
            tiles.append(TilePath(None, index, None if width == TILE_WIDTH else width))
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            bundles = list(pool.map(lambda tile: self._bundle(client, tile), tiles))
        leaves: list[bytes] = []
        for tile, bundle in zip(tiles, bundles, strict=True):
            if len(bundle) != tile.hashes:
                raise Refused(f"{tile} holds {len(bundle)} entries, not {tile.hashes}")
            leaves.extend(bundle)
        offset = first_bundle * TILE_WIDTH
        for index in range(offset, held):  # leaves held already must be the replica's own
            if leaf_hash(leaves[index - offset]) != self._tree.leaf_hash(index):
                raise Diverged(
                    f"the source's entry {index + 1} differs from the one accepted before", note
                )
        new_leaves = leaves[held - offset :]
        entries = [_entry_of(leaf, held + 1 + number) for number, leaf in enumerate(new_leaves)]
        end = held + len(entries)
        self._dirty = True  # the tree and the audit change before the store: reload on failure
        tree = self._tree
        for leaf in new_leaves:
            tree.append_leaf(leaf)
        if end == checkpoint.size:
            if tree.root() != checkpoint.root:
                raise Diverged(
                    f"the source's entries up to {end} do not have its checkpoint's root", note
                )
        else:
            proof = self._consistency(client, end, checkpoint.size)
            if not verify_consistency(end, checkpoint.size, tree.root(), checkpoint.root, proof):
                raise Diverged(
                    f"the source's entries up to {end} are not a prefix of its checkpoint's tree",
                    note,
                )
        signatures = self._signatures
        for entry in entries:
            before = signatures.counts.invalid
            signatures.add(entry.position, entry.document)
            if signatures.counts.invalid != before:
                raise Refused(f"{signatures.counts.reason}: nothing from it on appended")
        for start in range(0, len(entries), self.batch):
            batch = entries[start : start + self.batch]
            _replay(self.ledger, batch, check_hashes=False)
            self._held = batch[-1].position
            self.last_recorded_at = batch[-1].recorded_at
        self._dirty = False
        return len(entries)

    def _bundle(self, client: httpx.Client, tile: TilePath) -> list[bytes]:
        answer = client.get(f"{self.source}/{tile}")
        answer.raise_for_status()
        try:
            return parse_entry_bundle(answer.content)
        except ValueError as error:
            raise Refused(f"{tile}: {error}") from None

    def _consistency(self, client: httpx.Client, old: int, new: int) -> list[bytes]:
        answer = client.get(
            f"{self.source}/v1/audit/proof/consistency",
            params={"from_size": old, "to_size": new},
        )
        answer.raise_for_status()
        try:
            return [bytes.fromhex(node) for node in answer.json()["path"]]
        except (KeyError, TypeError, ValueError) as error:
            raise Refused(f"the source's consistency proof is malformed: {error!r}") from None


def _entry_of(leaf: bytes, position: int) -> LogEntry:
    """The entry a leaf serves, which must be at `position` and be written exactly as
    `GET /v1/events` writes it; `Refused` otherwise."""
    try:
        data = json.loads(leaf)
        document = data["document"]
        entry = LogEntry(
            position=data["position"],
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            recorded_by=data["recorded_by"],
            document=document,
            events_digest="",
            prev_hash="",
            hash="",
        )
        same = isinstance(document, dict) and entry_leaf(entry) == leaf
    except (ValueError, TypeError, KeyError):
        same = False
    if not same:
        raise Refused(
            f"the source's leaf {position - 1} is not a log entry as GET /v1/events serves it"
        )
    if entry.position != position:
        raise Refused(f"the source's leaf {position - 1} is entry {entry.position}, not {position}")
    return entry


def _write_atomically(path: Path, text: str) -> None:
    """Writes `text` to `path` so that a crash leaves the old file or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

"""The service as a client of c2sp.org/tlog-witness: signed checkpoints, cosigned.

After appends, at most every `interval` seconds, the log signs a checkpoint of its tree
(c2sp.org/tlog-checkpoint, key name = origin) and each witness's own thread sends it to
that witness's `add-checkpoint` with a consistency proof from the size that witness
last cosigned (first assumed 0; a 409 names the witness's size and the checkpoint is
sent again from it). Requests time out; failures are retried a bounded number of times
with back-off, and a witness that keeps failing is tried again later, each time later
(up to a minute). Nothing here runs on a request's thread: an unreachable or slow
witness delays nothing but the next cosigned checkpoint.

The checkpoint published (`GET /checkpoint`) is the newest that carries at least
`quorum` cosignatures (all the witnesses by default); with no witness configured, the
tree as it stands, signed when asked.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ledger.note import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    NoteSigner,
    Signature,
    SignedNote,
    parse_signature_lines,
    parse_vkey,
)

__all__ = [
    "CosignedCheckpoint",
    "Witness",
    "WitnessState",
    "Witnessing",
    "WitnessingError",
    "add_checkpoint_body",
    "read_witnesses",
]

log = logging.getLogger(__name__)

KEPT_CHECKPOINTS = 32
"""Signed checkpoints kept while they gather cosignatures."""
MAX_BACKOFF = 60.0
SIZE_MEDIA_TYPE = "text/x.tlog.size"


class WitnessingError(ValueError):
    """A witnesses file or setting that cannot be used; one line."""


@dataclass(frozen=True, slots=True)
class Witness:
    """A configured witness: its cosignature/v1 verifier key and add-checkpoint URL prefix."""

    vkey: str
    url: str

    @property
    def name(self) -> str:
        """The witness's key name."""
        return parse_vkey(self.vkey).name

    @property
    def endpoint(self) -> str:
        """`<prefix>/add-checkpoint`."""
        return self.url.rstrip("/") + "/add-checkpoint"


def read_witnesses(path: str | Path) -> list[Witness]:
    """The witnesses of a `KPLEDGER_WITNESSES` file: one per line, a cosignature/v1 vkey,
    a space and the URL prefix of its add-checkpoint; blank lines and `#` comments
    ignored. `WitnessingError` naming the line at fault."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise WitnessingError(f"the witnesses file {path} cannot be read: {error}") from None
    witnesses: list[Witness] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2:
            raise WitnessingError(f"{path}:{number}: write '<vkey> <url prefix>'")
        vkey, url = parts
        try:
            verifier = parse_vkey(vkey)
        except NoteError as error:
            raise WitnessingError(f"{path}:{number}: {error}") from None
        if verifier.type != COSIGNATURE_V1:
            raise WitnessingError(
                f"{path}:{number}: a witness's vkey is of type 0x04 (cosignature/v1)"
            )
        if not url.startswith(("http://", "https://")):
            raise WitnessingError(f"{path}:{number}: the URL prefix is http:// or https://")
        if any(known.name == verifier.name for known in witnesses):
            raise WitnessingError(f"{path}:{number}: witness {verifier.name} is named twice")
        witnesses.append(Witness(vkey, url))
    return witnesses


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: SignedNote) -> bytes:
    """An add-checkpoint request: `old <size>`, the proof's hashes in base64, a blank
    line, the signed checkpoint."""
    lines = [f"old {old_size}\n"]
    lines += [base64.b64encode(node).decode("ascii") + "\n" for node in proof]
    return ("".join(lines) + "\n" + str(note)).encode("utf-8")


@dataclass(slots=True)
class CosignedCheckpoint:
    """A checkpoint the log signed, with the cosignatures it has gathered (by witness)."""

    checkpoint: Checkpoint
    note: SignedNote
    signed_at: float
    cosignatures: dict[str, Signature] = field(default_factory=dict)

    def served(self, order: Sequence[str]) -> str:
        """The note with the log's signature, then the cosignatures in `order`."""
        lines = [self.cosignatures[name] for name in order if name in self.cosignatures]
        return str(self.note.with_signatures(lines))


@dataclass(slots=True)
class WitnessState:
    """What the log knows of one witness."""

    witness: Witness
    size: int | None = None
    """The size the witness last cosigned, when known."""
    cosigned_at: float | None = None
    failures: int = 0
    retry_at: float = 0.0


class Witnessing:
    """Signs checkpoints and gathers cosignatures in threads of its own.

    `tree` gives the log's size and root as they stand; `proof(m, n)` the consistency
    proof from size m to size n.
    """

    def __init__(
        self,
        signer: NoteSigner,
        witnesses: Sequence[Witness],
        tree: Callable[[], tuple[int, bytes]],
        proof: Callable[[int, int], list[bytes]],
        *,
        quorum: int | None = None,
        interval: float = 5.0,
        timeout: float = 5.0,
        attempts: int = 3,
        clock: Callable[[], float] = time.time,
        held: Callable[[], int] | None = None,
    ) -> None:
        if quorum is not None and not 1 <= quorum <= max(len(witnesses), 1):
            raise WitnessingError(
                f"the witness quorum must be between 1 and the {len(witnesses)} witnesses"
            )
        self.signer = signer
        self.witnesses = list(witnesses)
        self.quorum = len(self.witnesses) if quorum is None else quorum
        self.interval = interval
        self.timeout = timeout
        self.attempts = attempts
        self._tree = tree
        self._proof = proof
        self._clock = clock
        self._held = held
        self._verifiers = {w.name: parse_vkey(w.vkey) for w in self.witnesses}
        self.states = {w.name: WitnessState(w) for w in self.witnesses}
        self._lock = threading.Condition()
        self._signed: list[CosignedCheckpoint] = []
        self._published: CosignedCheckpoint | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def origin(self) -> str:
        """The log's origin: its key name."""
        return self.signer.name

    def sign(self, size: int, root: bytes) -> CosignedCheckpoint:
        """A checkpoint of that tree, signed by the log."""
        checkpoint = Checkpoint(self.origin, size, root)
        text = checkpoint.text()
        note = SignedNote(text, (self.signer.sign(text),))
        return CosignedCheckpoint(checkpoint, note, self._clock())

    # -- what is published ---------------------------------------------------------------

    def published(self) -> CosignedCheckpoint | None:
        """The newest checkpoint with its quorum; with no witness, the tree signed now."""
        if not self.witnesses:
            return self.sign(*self._tree())
        with self._lock:
            return self._published

    def served_note(self, checkpoint: CosignedCheckpoint) -> str:
        """The checkpoint as `GET /checkpoint` serves it."""
        return checkpoint.served([w.name for w in self.witnesses])

    def health(self) -> dict[str, object] | None:
        """`{tree_size, cosigned_by, age_s}` of the published checkpoint, or None; never
        asks the store (`held` gives the tree's size as held, with no witness)."""
        if not self.witnesses:
            size = self._held() if self._held is not None else self._tree()[0]
            return {"tree_size": size, "cosigned_by": [], "age_s": 0.0}
        with self._lock:
            published = self._published
        if published is None:
            return None
        with self._lock:
            names = [w.name for w in self.witnesses if w.name in published.cosignatures]
        return {
            "tree_size": published.checkpoint.size,
            "cosigned_by": names,
            "age_s": round(max(self._clock() - published.signed_at, 0.0), 3),
        }

    def witness_states(self) -> list[tuple[str, int | None, float | None, int]]:
        """(name, size it last cosigned, seconds since, consecutive failures) per witness."""
        now = self._clock()
        with self._lock:
            return [
                (
                    name,
                    state.size if state.cosigned_at is not None else None,
                    None if state.cosigned_at is None else max(now - state.cosigned_at, 0.0),
                    state.failures,
                )
                for name, state in self.states.items()
            ]

    # -- the threads ---------------------------------------------------------------------

    def start(self) -> None:
        """Starts signing and asking the witnesses, if any are configured."""
        if not self.witnesses or self._threads:
            return
        self._threads.append(
            threading.Thread(target=self._sign_loop, name="checkpoint-signer", daemon=True)
        )
        for witness in self.witnesses:
            self._threads.append(
                threading.Thread(
                    target=self._witness_loop,
                    args=(witness,),
                    name=f"witness-{witness.name}",
                    daemon=True,
                )
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stops the threads (a request under way ends within its timeout)."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)
        self._threads = []

    def _sign_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sign_if_grown()
            except Exception as error:  # the store away, say: the next turn tries again
                log.warning("no checkpoint signed this turn: %s", error)
            self._stop.wait(self.interval)

    def sign_if_grown(self) -> CosignedCheckpoint | None:
        """Signs the tree when it grew since the last checkpoint signed (or none was)."""
        size, root = self._tree()
        with self._lock:
            latest = self._signed[-1] if self._signed else None
            if latest is not None and latest.checkpoint.size >= size:
                return None
        signed = self.sign(size, root)
        with self._lock:
            self._signed.append(signed)
            del self._signed[:-KEPT_CHECKPOINTS]
            self._lock.notify_all()
        return signed

    def _next_for(self, state: WitnessState) -> CosignedCheckpoint | None:
        """The newest signed checkpoint this witness has not cosigned, once its back-off
        has passed; None when there is none (waits a little first)."""
        with self._lock:
            latest = self._signed[-1] if self._signed else None
            wait = state.retry_at - self._clock()
            if latest is None or state.witness.name in latest.cosignatures:
                self._lock.wait(timeout=self.interval)  # a new checkpoint wakes it
                return None
            if wait > 0:
                self._lock.wait(timeout=min(wait, self.interval))
                return None
            return latest

    def _witness_loop(self, witness: Witness) -> None:
        state = self.states[witness.name]
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                checkpoint = self._next_for(state)
                if checkpoint is None:
                    continue
                try:
                    self._submit(client, state, checkpoint)
                except Exception as error:
                    with self._lock:
                        state.failures += 1
                        backoff = min(MAX_BACKOFF, self.interval * 2 ** (state.failures - 1))
                        state.retry_at = self._clock() + backoff
                    log.warning(
                        "witness %s did not cosign checkpoint %s (%s); trying again in %.0f s",
                        witness.name,
                        checkpoint.checkpoint.size,
                        error,
                        backoff,
                    )

    def _submit(
        self, client: httpx.Client, state: WitnessState, signed: CosignedCheckpoint
    ) -> None:
        """Sends `signed` to the witness until it cosigns, within `attempts` failures and
        as many 409s; raises what stopped it."""
        witness, size = state.witness, signed.checkpoint.size
        failures = conflicts = 0
        while True:
            old = state.size or 0
            if old > size:
                raise WitnessingError(f"it cosigned size {old} already, above {size}")
            proof = self._proof(old, size) if 0 < old < size else []
            try:
                answer = client.post(
                    witness.endpoint,
                    content=add_checkpoint_body(old, proof, signed.note),
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                )
            except httpx.HTTPError as error:
                failures += 1
                if failures >= self.attempts or self._stop.is_set():
                    raise WitnessingError(f"unreachable: {error}") from None
                self._stop.wait(0.2 * 2**failures)
                continue
            if answer.status_code == 409:
                conflicts += 1
                named = _size_of(answer)
                if named is None or named == old or conflicts > self.attempts:
                    raise WitnessingError(f"409 Conflict: {answer.text.strip()!r}")
                with self._lock:
                    state.size = named
                continue
            if answer.status_code != 200:
                raise WitnessingError(f"{answer.status_code}: {answer.text.strip()[:200]!r}")
            cosignature = self._cosignature(witness, signed, answer.text)
            with self._lock:
                signed.cosignatures[witness.name] = cosignature
                state.size, state.cosigned_at = size, self._clock()
                state.failures, state.retry_at = 0, 0.0
                if len(signed.cosignatures) >= self.quorum and (
                    self._published is None or self._published.checkpoint.size <= size
                ):
                    self._published = signed
            return

    def _cosignature(self, witness: Witness, signed: CosignedCheckpoint, text: str) -> Signature:
        verifier = self._verifiers[witness.name]
        try:
            lines = parse_signature_lines(text)
        except NoteError as error:
            raise WitnessingError(f"its answer is no signature lines: {error}") from None
        for line in lines:
            if verifier.matches(line) and verifier.verify(signed.note.text, line):
                return line
        raise WitnessingError("its answer carries no cosignature of its key that verifies")


def _size_of(answer: httpx.Response) -> int | None:
    """The size a 409's `text/x.tlog.size` body names, or None."""
    if answer.headers.get("content-type", "").partition(";")[0].strip() != SIZE_MEDIA_TYPE:
        return None
    text = answer.text
    if not text.endswith("\n") or not text[:-1].isdigit():
        return None
    return int(text[:-1])

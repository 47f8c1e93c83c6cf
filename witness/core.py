"""add-checkpoint of c2sp.org/tlog-witness: its checks, in its order, and the cosignature.

1. a body that is not `old <size>`, at most 63 base64 hashes, a blank line and a signed
   checkpoint: 400;
2. an origin no trusted log key names: 404;
3. no signature of a trusted key for the origin verifies, or one of them fails: 403;
4. an old size above the checkpoint's: 400;
5. an old size that is not the size the witness last cosigned for the origin (0 if
   none): 409, its size as `text/x.tlog.size`;
6. a checkpoint of size 0 whose root is not the empty tree's, a proof with an old size
   of 0, a proof that does not verify: 422;
7. at an equal size, a root that differs from the one cosigned: 409 as in 5 (kpledger's
   protocol; tlog-witness since July 2026 answers 422 here, see `SAME_SIZE_FORK_STATUS`).

Only then is the new state saved (durably) and the cosignature returned. The check and
the save hold the origin's lock, so two requests can never roll the state back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    NoteError,
    NoteSigner,
    SignedNote,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)
from ledger.tlogproof import verify_consistency
from witness.state import StateError, StateFolder

__all__ = ["SAME_SIZE_FORK_STATUS", "SIZE_MEDIA_TYPE", "Answer", "WitnessCore"]

SIZE_MEDIA_TYPE = "text/x.tlog.size"
SIGNATURES_MEDIA_TYPE = "text/plain; charset=utf-8"
SAME_SIZE_FORK_STATUS = 409
"""The answer to a checkpoint of the size last cosigned with another root: 409 as
kpledger's PROTOCOL.md states (tlog-witness before its change of 2026-07-06 said 409; it
now says 422)."""
MAX_PROOF_LINES = 63
EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, body and content type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class _Refused(Exception):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer


def _refuse(status: int, message: str) -> _Refused:
    return _Refused(Answer(status, message.rstrip("\n") + "\n"))


@dataclass(frozen=True, slots=True)
class _Request:
    old: int
    proof: tuple[bytes, ...]
    note: SignedNote
    checkpoint: Checkpoint


def _parse(body: bytes) -> _Request:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(400, "the body is not UTF-8") from None
    head, blank, note_text = text.partition("\n\n")
    if not blank:
        raise _refuse(400, "the body has no blank line before the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    size_text = old_line.removeprefix("old ")
    if (
        not old_line.startswith("old ")
        or not size_text.isascii()
        or not size_text.isdigit()
        or (size_text != "0" and size_text.startswith("0"))
    ):
        raise _refuse(400, "the first line is 'old <size>'")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _refuse(400, f"at most {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = tuple(base64.b64decode(line, validate=True) for line in proof_lines)
    except (ValueError, binascii.Error):
        raise _refuse(400, "a consistency proof line is not base64") from None
    if any(len(node) != 32 for node in proof):
        raise _refuse(400, "a consistency proof line is not a 32-byte hash")
    try:
        note = parse_note(note_text)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as error:
        raise _refuse(400, f"the checkpoint: {error}") from None
    return _Request(int(size_text), proof, note, checkpoint)


class WitnessCore:
    """A witness: its cosigning key, the log keys it trusts, its state folder."""

    def __init__(
        self,
        signer: NoteSigner,
        logs: Sequence[Verifier],
        state: StateFolder,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer.verifier.type != COSIGNATURE_V1:
            raise ValueError("a witness cosigns with a cosignature/v1 key (type 0x04)")
        if any(log.type != ED25519 for log in logs):
            raise ValueError("a log's vkey is an Ed25519 key (type 0x01)")
        self.signer = signer
        self.logs = list(logs)
        self.state = state
        self._clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._latest: dict[str, tuple[Checkpoint, str]] = {}
        for origin in {log.name for log in self.logs}:  # a bad state stops the witness here
            self._load(origin)

    def _lock(self, origin: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(origin, threading.Lock())

    def _load(self, origin: str) -> tuple[Checkpoint, str] | None:
        if origin in self._latest:
            return self._latest[origin]
        text = self.state.load(origin)
        if text is None:
            return None
        try:
            checkpoint = parse_checkpoint(parse_note(text).text)
        except NoteError as error:
            raise StateError(
                f"the state of {origin!r} is no cosigned checkpoint: {error}"
            ) from None
        if checkpoint.origin != origin:
            raise StateError(f"the state of {origin!r} holds a checkpoint of {checkpoint.origin!r}")
        self._latest[origin] = (checkpoint, text)
        return self._latest[origin]

    def latest(self, origin: str) -> str | None:
        """The cosigned note last saved for `origin` (the monitoring checkpoint), or None."""
        with self._lock(origin):
            found = self._load(origin)
        return None if found is None else found[1]

    def origins(self) -> list[str]:
        """The origins of the trusted logs."""
        return sorted({log.name for log in self.logs})

    def add_checkpoint(self, body: bytes) -> Answer:
        """Answers one add-checkpoint request; a 200 only once the state is saved."""
        try:
            return self._add(body)
        except _Refused as refused:
            return refused.answer

    def _add(self, body: bytes) -> Answer:
        request = _parse(body)
        checkpoint = request.checkpoint
        trusted = [log for log in self.logs if log.name == checkpoint.origin]
        if not trusted:
            raise _refuse(404, f"unknown origin {checkpoint.origin!r}")
        try:
            verified = verify_note(request.note, trusted)
        except NoteError as error:
            raise _refuse(403, f"the log's signature: {error}") from None
        if request.old > checkpoint.size:
            raise _refuse(
                400, f"old size {request.old} is above the checkpoint's {checkpoint.size}"
            )
        with self._lock(checkpoint.origin):
            latest = self._load(checkpoint.origin)
            size, root = (0, EMPTY_ROOT) if latest is None else (latest[0].size, latest[0].root)
            if request.old != size:
                raise _Refused(Answer(409, f"{size}\n", SIZE_MEDIA_TYPE))
            if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
                raise _refuse(422, "a checkpoint of size 0 has the empty tree's root")
            if request.old == 0 and request.proof:
                raise _refuse(422, "from size 0 the consistency proof is empty")
            if request.old == checkpoint.size:
                if request.old and checkpoint.root != root:
                    raise _Refused(Answer(SAME_SIZE_FORK_STATUS, f"{size}\n", SIZE_MEDIA_TYPE))
                if request.proof:
                    raise _refuse(422, "between equal sizes the consistency proof is empty")
            elif request.old and not verify_consistency(
                request.old, checkpoint.size, root, checkpoint.root, request.proof
            ):
                raise _refuse(422, "the consistency proof does not verify")
            timestamp = max(int(self._clock()), 1)
            cosignature = self.signer.sign(request.note.text, timestamp=timestamp)
            kept = [s for s in request.note.signatures if any(v.matches(s) for v in verified)]
            saved = str(SignedNote(request.note.text, (*kept, cosignature)))
            self.state.save(checkpoint.origin, saved)  # durably, before answering
            self._latest[checkpoint.origin] = (checkpoint, saved)
        return Answer(200, cosignature.line(), SIGNATURES_MEDIA_TYPE)

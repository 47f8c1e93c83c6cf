"""Signatures of a large batch checked in another process while capture runs.

Checking an Ed25519 signature costs about a third of what capturing the document does,
and `cryptography` holds the interpreter while it checks. So, for a request with many
signed documents whose keys this process has met before (`KNOWN_PUBLIC_KEYS`: a key id
names its public key for ever, being its SHA-256), `Verifier.prefetch` sends their
signatures, in small chunks, to a process of its own before the append takes its lock;
capture then asks `Prefetched.verdict` instead of checking in line, and waits only for
the chunk it needs. Whether the key may sign (registered, in force, of the right
participant) is still decided by capture against the ledger's state; a document without
a prefetched verdict is checked in line, as every document of a small request is, and so
is every document when the checking process is lost.

The checking process is `python -m ledger.verifier`, fed chunks on its stdin and answering
on its stdout in order (a 4-byte length, then a pickle, each way): a plain child process,
so that nothing of the parent's `__main__` runs again in it.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import functools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["KNOWN_PUBLIC_KEYS", "Prefetched", "Verifier", "verify_chunk"]

log = logging.getLogger(__name__)

KNOWN_PUBLIC_KEYS: dict[str, str] = {}
"""Base64 public keys by key id, as capture met them: a key id names one key for ever."""

CHUNK = 64
"""Signatures per task: capture waits at most for one chunk before its first verdict."""

Item = tuple[str, str, bytes]
"""A base64 public key, a base64 signature, and the bytes it signs."""


@functools.lru_cache(maxsize=4096)
def _public_key(public_key_base64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_base64))


def verify_chunk(items: Sequence[Item]) -> list[bool]:
    """Whether each (base64 public key, base64 signature, signed bytes) verifies."""
    verdicts = []
    for public_key, value, message in items:
        try:
            _public_key(public_key).verify(base64.b64decode(value), message)
        except (InvalidSignature, ValueError, binascii.Error):
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


class Prefetched:
    """The verdicts of one request's prefetched signatures, by document."""

    def __init__(self) -> None:
        self._where: dict[int, tuple[str, Future[list[bool]], int]] = {}
        self._documents: list[Any] = []  # kept alive, so that their ids stay theirs

    def add(self, document: Any, public_key: str, chunk: Future[list[bool]], at: int) -> None:
        self._where[id(document)] = (public_key, chunk, at)
        self._documents.append(document)

    def __len__(self) -> int:
        return len(self._where)

    def verdict(self, document: Any, public_key: str) -> bool | None:
        """The document's verdict under `public_key`, if prefetched (waiting for its chunk);
        None when it was not, or its chunk was lost: then check it in line."""
        found = self._where.get(id(document))
        if found is None or found[0] != public_key:
            return None
        try:
            return found[1].result()[found[2]]
        except Exception as error:  # a lost process: in line instead, never a wrong verdict
            log.warning("prefetched signatures are lost (%r); checked in line", error)
            return None


def _write_frame(out: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(4, "big") + data)
    out.flush()


def _read_frame(source: IO[bytes]) -> Any:
    size = source.read(4)
    if len(size) < 4:
        raise EOFError
    data = source.read(int.from_bytes(size, "big"))
    if len(data) < int.from_bytes(size, "big"):
        raise EOFError
    return pickle.loads(data)


class _Worker:
    """One `python -m ledger.verifier` process: chunks in, verdicts out, in order."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ledger.verifier"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        self._pending: collections.deque[Future[list[bool]]] = collections.deque()
        self._lock = threading.Lock()
        self._outbox: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self.broken = False
        self._writer = threading.Thread(target=self._write, name="verifier-in", daemon=True)
        self._reader = threading.Thread(target=self._read, name="verifier-out", daemon=True)
        self._writer.start()
        self._reader.start()

    def submit(self, items: list[Item]) -> Future[list[bool]]:
        future: Future[list[bool]] = Future()
        with self._lock:
            if self.broken:
                raise RuntimeError("the signature checking process is gone")
            self._pending.append(future)
            self._outbox.put(items)
        return future

    def _write(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            while (items := self._outbox.get()) is not None:
                _write_frame(stdin, items)
        except (OSError, ValueError):
            self._fail()
        finally:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                verdicts = _read_frame(stdout)
                with self._lock:
                    future = self._pending.popleft()
                future.set_result(verdicts)
        except Exception:  # EOF, a broken pipe: whatever waits is checked in line
            self._fail()

    def _fail(self) -> None:
        with self._lock:
            self.broken = True
            pending, self._pending = list(self._pending), collections.deque()
        for future in pending:
            if not future.done():
                future.set_exception(RuntimeError("the signature checking process is gone"))

    def close(self) -> None:
        self._outbox.put(None)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._fail()


class Verifier:
    """A process that checks the signatures of large requests (see the module's docstring).

    On when `workers` (`KPLEDGER_SIGNATURE_WORKERS`; default 1 when the machine has more
    than one core, else 0: always in line) is 1 or more; the process starts on first use.
    A request is prefetched when at least `threshold` of its documents are signed by keys
    met before.
    """

    def __init__(self, workers: int | None = None, threshold: int = 128) -> None:
        if workers is None:
            configured = os.environ.get("KPLEDGER_SIGNATURE_WORKERS", "").strip()
            workers = int(configured) if configured else (1 if (os.cpu_count() or 1) > 1 else 0)
        self.workers = workers
        self.threshold = threshold
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def worth(self, signed: int) -> bool:
        """Whether a request with `signed` signed documents is worth checking ahead."""
        return self.workers > 0 and signed >= self.threshold

    def prefetch(self, items: Sequence[tuple[Any, str, str, bytes]]) -> Prefetched | None:
        """Starts checking (document, public key, signature, signed bytes) items; None when
        there are too few to be worth it or no process to check them in."""
        if not self.worth(len(items)):
            return None
        prefetched = Prefetched()
        try:
            worker = self._started()
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                future = worker.submit([item[1:] for item in chunk])
                for at, (document, public_key, _, _) in enumerate(chunk):
                    prefetched.add(document, public_key, future, at)
        except Exception as error:  # no process: check in line
            log.warning("signatures cannot be checked ahead (%r); checked in line", error)
            self.close()
            return None
        return prefetched

    def _started(self) -> _Worker:
        with self._lock:
            if self._worker is None or self._worker.broken:
                self._worker = _Worker()
            return self._worker

    def close(self) -> None:
        """Stops the checking process, if started."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()


def _serve(source: IO[bytes], out: IO[bytes]) -> None:
    """The checking process: verdicts for each chunk read, until its input ends."""
    while True:
        try:
            items = _read_frame(source)
        except EOFError:
            return
        _write_frame(out, verify_chunk(items))


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)

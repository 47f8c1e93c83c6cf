"""A witness's state: per origin, the latest checkpoint it cosigned, kept durably.

One file per origin, named by the SHA-256 of the origin, holding the cosigned note (the
checkpoint, the log's signatures that verified, the witness's cosignature). A new state
is written to a temporary file, flushed and fsync'ed, renamed over the old one, and the
folder fsync'ed, all before the witness answers: killed at any instant, the witness
finds on restart either the old state or the new one, never a part of one. A lock on
the folder keeps a second witness process off it.

>>> import tempfile
>>> state = StateFolder(tempfile.mkdtemp())
>>> state.load("example.com/log") is None
True
>>> state.save("example.com/log", "text\\n\\n— w AAAA\\n")
>>> state.load("example.com/log")
'text\\n\\n— w AAAA\\n'
>>> state.close()
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

__all__ = ["StateError", "StateFolder"]


class StateError(Exception):
    """A state folder that cannot be used; one line."""


class StateFolder:
    """The folder of a witness's state, locked for this process while open."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateError(f"the state folder {self.folder} cannot be used: {error}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            raise StateError(
                f"another witness process uses the state folder {self.folder}"
            ) from None
        for left in self.folder.glob(".*.tmp"):  # a write cut short by a crash: never renamed
            with contextlib.suppress(OSError):
                left.unlink()

    def close(self) -> None:
        """Releases the folder."""
        with contextlib.suppress(OSError):
            os.close(self._lock)

    def path(self, origin: str) -> Path:
        """The file of an origin's state."""
        return self.folder / f"{hashlib.sha256(origin.encode('utf-8')).hexdigest()}.checkpoint"

    def load(self, origin: str) -> str | None:
        """The cosigned note last saved for `origin`, or None if it never was."""
        try:
            return self.path(origin).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise StateError(f"the state of {origin!r} cannot be read: {error}") from None

    def save(self, origin: str, note: str) -> None:
        """Replaces `origin`'s state by `note`, durably, before returning."""
        target = self.path(origin)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            data = memoryview(note.encode("utf-8"))
            while data:
                data = data[os.write(descriptor, data) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
        folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

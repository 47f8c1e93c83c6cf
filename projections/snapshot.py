"""Snapshots of a server's read model, so that a cold start need not replay the whole log.

A snapshot is everything `Reads` holds for the live state (`ReadModel`), pickled
(protocol 5) behind a header that names the format, the code that wrote it, the
store (its description and the hash of log entry 1), the position it was taken at
and that entry's hash, and the payload's length and SHA-256. The file is

    b"kpledger read-model snapshot\\n" | header length (8 bytes, big-endian) | header
    (JSON) | payload (two pickles: all but the large tables, then their columns)

It is never trusted over the log: on start `Snapshots.start` loads it only when the
format and code match, the store is the same, the log holds its position with the
same entry there and the payload is whole and unaltered; then it catches up from
there. Otherwise it logs ONE warning line naming why and replays the log in full.
The payload is unpickled by an unpickler that only finds the read model's own
classes and a few standard ones (no other callable can be named in the file).

A server saves a snapshot in a background thread once its read model has grown by
`every` entries since the last one (checked at once after the start-up catch-up,
then every `interval` seconds) and on stop. Saving copies the large tables' values
by columns and pickles the rest of the live state under the read lock (the only time
reads wait), then pickles the columns and writes the file outside the lock (see
`Pickling`): a temporary file in the same folder, fsynced and renamed over the old
one (mode 0600). The read model holds no secret: no token, no key.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import mmap
import os
import pickle
import platform
import struct
import threading
import time
from array import array
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.log import LogReader
from ledger.store import StoreConfig
from projections.custody import Custody
from projections.heap import collector_paused, long_lived_objects
from projections.proofs import LogTree
from projections.reads import ReadModel, ReadModelFailed, Reads
from projections.search import Directory
from projections.statistics import Statistics
from projections.tables import copied as copied_table
from projections.tables import decode as decode_table
from projections.tables import indexed

__all__ = [
    "FORMAT_VERSION",
    "Header",
    "Pickling",
    "SnapshotRefused",
    "Snapshots",
    "load",
    "read_file",
    "save",
    "snapshot_path",
    "write_file",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
"""3 since compositions are held in fixed point (`projections.records.Composition`): a
snapshot of version 2 holds exact ones, and is refused (the log is replayed)."""
MAGIC = b"kpledger read-model snapshot\n"
OFF = "off"
_LENGTH = struct.Struct(">Q")
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # Linux: read the pages in with the mapping
_COLUMNAR = ("lots", "certificates", "rapid_reexports", "round_trips")
"""Custody's tables and lists saved by columns (`projections.tables`): the largest."""

_READ_MODEL_MODULES = frozenset(
    {
        "ledger.merkle",
        "projections.compliance",
        "projections.custody",
        "projections.facts",
        "projections.keys",
        "projections.operators",
        "projections.records",
        "projections.proofs",
        "projections.retracted",
        "projections.search",
        "projections.statistics",
        "projections.value_outliers",
    }
)
_STANDARD = frozenset(
    {
        ("projections.tables", "PackedTuples"),  # of the snapshot's own encoding, alone
        ("array", "_array_reconstructor"),
        ("array", "array"),
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("fractions", "Fraction"),
    }
)


class SnapshotRefused(Exception):
    """Why a snapshot cannot be used, in one line."""


@dataclass(frozen=True, slots=True)
class Header:
    """What a snapshot file says of itself, checked before its payload is read."""

    format: int
    code: str
    store: str
    genesis: str
    position: int
    entry_hash: str
    payload_bytes: int
    payload_sha256: str
    written_at: str


def snapshot_path(setting: str, store: StoreConfig) -> Path | None:
    """The snapshot file a setting names: `off` none, empty the default (next to a SQLite
    file, `<file stem>.readmodel.snapshot`; for PostgreSQL `./kpledger-readmodel.snapshot`)."""
    if setting.strip().lower() == OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    if store.kind != "sqlite":
        return Path("kpledger-readmodel.snapshot")
    database_file = store.env.get("SQLITE_DBNAME")  # none: a store in memory, no snapshot
    return Path(database_file).with_suffix(".readmodel.snapshot") if database_file else None


def code_version() -> str:
    """A digest of the code that builds the read model (every module of `ledger` and
    `projections`) and of the Python version: a snapshot from other code is not used."""
    digest = hashlib.sha256(platform.python_version().encode())
    for package in ("ledger", "projections"):
        folder = Path(__file__).parent.parent / package
        for module in sorted(folder.glob("*.py")):
            digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def _entry_hash(reader: LogReader, position: int) -> str | None:
    """The hash of the log's entry at `position`, None when the log has none there."""
    page = reader.read_log(after=position - 1, limit=1)
    return page[0].hash if page and page[0].position == position else None


# -- the file ------------------------------------------------------------------------------


def write_file(path: Path, header: Header, payload: bytes) -> None:
    """Writes a snapshot file atomically: a temporary file beside it (0600), fsynced,
    renamed over `path`, the folder fsynced."""
    head = json.dumps(asdict(header), sort_keys=True).encode()
    folder = path.parent if str(path.parent) else Path(".")
    temporary = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(MAGIC + _LENGTH.pack(len(head)) + head)
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[tuple[Header, mmap.mmap, int]]:
    """The header of a snapshot file, the file mapped in memory read-only (its pages read
    in at once: faster than reading it into a buffer of its own, and nothing copied),
    and where its payload starts; `SnapshotRefused` when it has no readable header.
    Snapshots are only ever replaced (renamed over), never rewritten in place, so the
    mapping stays whole while it is read."""
    try:
        with path.open("rb") as file:
            mapped = mmap.mmap(
                file.fileno(), 0, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ
            )
    except ValueError:  # an empty file
        raise SnapshotRefused("corrupt: not a kpledger read-model snapshot") from None
    except OSError as error:
        raise SnapshotRefused(f"unreadable: {error.strerror or error}") from None
    try:
        start = len(MAGIC) + _LENGTH.size
        if len(mapped) < start or mapped[: len(MAGIC)] != MAGIC:
            raise SnapshotRefused("corrupt: not a kpledger read-model snapshot")
        (length,) = _LENGTH.unpack_from(mapped, len(MAGIC))
        if len(mapped) < start + length:
            raise SnapshotRefused("truncated: the file ends inside its header")
        try:
            header = Header(**json.loads(mapped[start : start + length]))
        except (ValueError, TypeError):
            raise SnapshotRefused("corrupt: its header is not readable") from None
        yield header, mapped, start + length
    finally:
        mapped.close()


def read_file(path: Path) -> tuple[Header, bytes]:
    """The header and payload of a snapshot file; `SnapshotRefused` when it has no
    readable header (the payload is not checked here)."""
    with _mapped(path) as (header, mapped, offset):
        return header, mapped[offset:]


def _sha256(mapped: mmap.mmap, offset: int) -> str:
    with memoryview(mapped)[offset:] as payload:
        return hashlib.sha256(payload).hexdigest()


class _Unpickler(pickle.Unpickler):
    """Finds only the read model's classes (and functions) and a few standard types."""

    def find_class(self, module_name: str, name: str) -> Any:
        if module_name in _READ_MODEL_MODULES or (module_name, name) in _STANDARD:
            return super().find_class(module_name, name)
        raise pickle.UnpicklingError(f"{module_name}.{name} is not part of a read model")


def _checked(header: Header, reader: LogReader, store: str) -> None:
    """`SnapshotRefused` unless the header fits this code, this store and its log."""
    if header.format != FORMAT_VERSION:
        raise SnapshotRefused(
            f"format version {header.format}, this kpledger reads version {FORMAT_VERSION}"
        )
    if header.code != code_version():
        raise SnapshotRefused("written by another version of kpledger or Python")
    if header.store != store:
        raise SnapshotRefused(f"from another store ({header.store})")
    if _entry_hash(reader, 1) != header.genesis:
        raise SnapshotRefused("from another store (its entry 1 is not this log's)")
    head = reader.head_position()
    if header.position > head:
        raise SnapshotRefused(
            f"ahead of the log: taken at position {header.position}, the log's head is {head}"
        )
    if _entry_hash(reader, header.position) != header.entry_hash:
        raise SnapshotRefused(f"stale: the log's entry {header.position} is not the one it saw")


def load(path: Path, reader: LogReader, store: str) -> ReadModel:
    """The read model saved in `path`, checked against the log `reader` of the store
    described by `store`; `SnapshotRefused` (one line) when it cannot be used."""
    with _mapped(path) as (header, mapped, offset):
        _checked(header, reader, store)
        size = len(mapped) - offset
        if size < header.payload_bytes:
            raise SnapshotRefused(f"truncated: {size} of {header.payload_bytes} bytes")
        if size > header.payload_bytes:
            raise SnapshotRefused("corrupt: longer than its header says")
        # The SHA-256 is computed in a thread while the payload is unpickled (hashlib lets
        # go of the interpreter lock); nothing unpickled is used before it is found equal.
        with ThreadPoolExecutor(1, thread_name_prefix="snapshot-sha256") as hashing:
            digest = hashing.submit(_sha256, mapped, offset)
            mapped.seek(offset)
            try:
                with long_lived_objects():
                    model: ReadModel | Exception = _unpickled(mapped)
            except Exception as error:
                model = error
            if digest.result() != header.payload_sha256:
                raise SnapshotRefused("corrupt: its payload's SHA-256 does not match its header")
    if isinstance(model, Exception):
        raise SnapshotRefused(f"corrupt: its payload does not unpickle ({model})")
    kinds = (Custody, Statistics, Directory, LogTree, array)
    parts = (model.custody, model.statistics, model.directory, model.proofs, model.recorded)
    if not all(isinstance(part, kind) for part, kind in zip(parts, kinds, strict=True)):
        raise SnapshotRefused("corrupt: its payload is not a read model")
    if model.custody.position != header.position:
        raise SnapshotRefused("corrupt: its payload is not at the header's position")
    return model


class Pickling:
    """A read model's payload pickled in two steps, so that reads wait for the first only.

    Made under the read lock, it copies the values of custody's large tables by columns
    (strings, numbers, tuples, compositions: values that are never changed, only
    replaced) and pickles everything else; `finish`, after the lock is let go, pickles
    those columns with the same pickler (objects met in the first part are referred to,
    not written again), so the payload is the model as it stood under the lock. The
    payload is the two pickles one after the other.
    """

    def __init__(self, model: ReadModel) -> None:
        custody = dict(vars(model.custody))
        self._later: dict[str, Any] = {}
        for name in _COLUMNAR:
            encoded = copied_table(custody.pop(name))
            if encoded[0] == "table":  # objects that may change: pickled now
                custody[name] = encoded[1]
            else:
                self._later[name] = encoded
        self._out = io.BytesIO()
        self._pickler = pickle.Pickler(self._out, protocol=5)
        with collector_paused():
            self._pickler.dump(
                (
                    custody,
                    model.statistics,
                    model.directory,
                    model.proofs,
                    model.recorded,
                )
            )

    def finish(self) -> bytes:
        """The whole payload: the tables' columns pickled after the rest."""
        with collector_paused():
            self._pickler.dump({name: indexed(encoded) for name, encoded in self._later.items()})
        return self._out.getbuffer().tobytes()


def _unpickled(file: mmap.mmap) -> ReadModel:
    unpickler = _Unpickler(file)
    custody_fields, statistics, directory, proofs, recorded = unpickler.load()
    tables = unpickler.load()
    custody = Custody.__new__(Custody)
    vars(custody).update(custody_fields)
    for name, encoded in tables.items():
        if name not in _COLUMNAR:
            raise ValueError(f"{name} is not one of custody's tables")
        setattr(custody, name, decode_table(encoded))
    return ReadModel(custody, statistics, directory, proofs, recorded)


def save(reads: Reads, path: Path, store: str) -> Header | None:
    """Saves the live read model of `reads` to `path`; None when it is empty. The read
    lock is held while the model is copied and partly pickled (`Pickling`), not while
    the rest is pickled or the file written."""
    position, pickling = reads.saved(lambda model: (model.custody.position, Pickling(model)))
    payload = pickling.finish()
    if position == 0:
        return None
    genesis, entry_hash = _entry_hash(reads.log, 1), _entry_hash(reads.log, position)
    if genesis is None or entry_hash is None:  # the log shrank behind the ledger's back
        raise SnapshotRefused(f"the log no longer holds entry {position}")
    header = Header(
        format=FORMAT_VERSION,
        code=code_version(),
        store=store,
        genesis=genesis,
        position=position,
        entry_hash=entry_hash,
        payload_bytes=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        written_at=datetime.now(UTC).isoformat(),
    )
    write_file(path, header, payload)
    return header


# -- a server's snapshots --------------------------------------------------------------------


class Snapshots:
    """A server's snapshots: loaded on start, saved as the log grows and on stop.

    With `path` None (setting `off`) it only catches up on start.
    """

    def __init__(
        self,
        reads: Reads,
        store: StoreConfig,
        path: Path | None,
        *,
        every: int = 100_000,
        interval: float = 30.0,
    ) -> None:
        self.reads = reads
        self.store = store.description
        self.path = path
        self.every = every
        self.interval = interval
        self.saved_at = 0
        """The position of the last snapshot loaded or saved (0: none)."""
        self._save_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        reads.checkpoint = self.checkpoint

    def start(self) -> int:
        """Loads the snapshot (or replays in full), catches up, then starts saving in a
        daemon thread; returns the position reached."""
        if self.path is not None:
            self._load(self.path)
        try:
            position = self.reads.catch_up()
        except ReadModelFailed:  # logged; reads answer 503 and /health says so: serve them
            position = self.reads.position
        if self.path is not None:
            self._thread = threading.Thread(
                target=self._keep, name="kpledger-snapshots", daemon=True
            )
            self._thread.start()
        return position

    def stop(self) -> None:
        """Stops the thread, catches up (if the store answers) and saves a last snapshot
        if the read model moved on since the last one."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self.path is None:
            return
        try:
            self.reads.catch_up()
        except Exception as error:  # the store is down: save what is there
            log.warning("could not catch up before the last snapshot: %s", error)
        if self.reads.position != self.saved_at:
            self.save()

    def save(self) -> Header | None:
        """Saves a snapshot now; a failure is logged, not raised."""
        if self.path is None:
            return None
        with self._save_lock:
            started = time.perf_counter()
            try:
                header = save(self.reads, self.path, self.store)
            except Exception as error:  # a full disk, a store down: the server goes on
                log.warning("read-model snapshot %s not written: %s", self.path, error)
                return None
            if header is not None:
                self.saved_at = header.position
                log.info(
                    "read-model snapshot %s written at position %d in %.2f s",
                    self.path,
                    header.position,
                    time.perf_counter() - started,
                )
            return header

    def checkpoint(self) -> ReadModel | None:
        """The read model of the snapshot file, if there is one that fits the log (for a
        rebuild after a retraction to start from; see `Reads.checkpoint`)."""
        if self.path is None or not self.path.exists():
            return None
        try:
            return load(self.path, self.reads.log, self.store)
        except (SnapshotRefused, OSError) as why:
            log.info("read-model snapshot %s not used for a rebuild (%s)", self.path, why)
            return None

    def _load(self, path: Path) -> None:
        if not path.exists():
            log.info("no read-model snapshot at %s: replaying the log in full", path)
            return
        started = time.perf_counter()
        try:
            model = load(path, self.reads.log, self.store)
        except SnapshotRefused as why:
            log.warning(
                "read-model snapshot %s not used (%s): replaying the log in full", path, why
            )
            return
        if model.custody.value_outliers.rule != self.reads.value_outlier_rule:
            log.warning(
                "read-model snapshot %s not used (taken with other value-outlier settings): "
                "replaying the log in full",
                path,
            )
            return
        self.reads.restore(model)
        self.saved_at = model.custody.position
        log.info(
            "read model loaded from %s at position %d in %.2f s",
            path,
            self.saved_at,
            time.perf_counter() - started,
        )

    def _keep(self) -> None:
        while True:
            if self.reads.position - self.saved_at >= self.every:
                self.save()
            if self._stopping.wait(self.interval):
                return

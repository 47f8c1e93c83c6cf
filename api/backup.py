"""`kpledger backup --out FILE`: a consistent copy of a live SQLite store.

Copying `kpledger.db` alone while a server runs loses what is still in `kpledger.db-wal`;
SQLite's online backup API copies the database as one transaction sees it, WAL included,
while writers go on. The copy is written beside FILE, fsynced and renamed into place, so
FILE is either absent or whole. A PostgreSQL store is backed up with PostgreSQL's own
tools (the README's "Backing up and restoring").
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ledger.store import StoreConfig, StoreError

__all__ = ["backup_sqlite"]


def backup_sqlite(store: StoreConfig, out: Path) -> int:
    """Copies the SQLite store to `out` (which must not exist); its size in bytes."""
    if store.kind != "sqlite":
        raise StoreError(
            "kpledger backup copies SQLite files; back up PostgreSQL with "
            "pg_dump --format=custom --file=kpledger.dump DBNAME (see the README)"
        )
    source_path = Path(store.env["SQLITE_DBNAME"])
    if not source_path.is_file():
        raise StoreError(f"no database at {source_path}")
    if out.exists():
        raise StoreError(f"{out} exists; give a new file to --out")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # in one step, one read transaction: in WAL mode writers go on meanwhile, and a
            # copy made in several steps would start again each time another process wrote
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot back up {source_path}: {error}") from None
    finally:
        source.close()
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.rename(out)
    folder = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return out.stat().st_size

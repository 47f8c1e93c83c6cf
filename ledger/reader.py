"""Reading the log in a process of its own while a long catch-up applies it.

A server that replays a large log (its first start, a snapshot refused) is bound by one
interpreter: reading and decoding the rows, the Merkle tree's leaf of every entry (its
canonical JSON and two SHA-256), and the projections all take turns holding it. So,
far enough behind, `Reads.catch_up` starts a process (`python -m ledger.reader`)
that reads the journal's rows from the store itself, decodes each, works out its leaf
hash, and writes them page by page to its standard output: the rows' stored bytes as
they are, each with its position and leaf hash. This process decodes the rows again (a
copy of a decoded entry would cost as much) and applies them; the tree appends the
hashes it is given. The entries applied and their leaves are the same as `read_log` and
`LogTree.apply` give, findings included: a row that cannot be decoded is skipped, and
an entry of no `GET /v1/events` shape gets the empty leaf, each with the same warning,
logged here.

`pages` ends early, without an error, if the process cannot start or stops; the caller
goes on from the last entry applied, reading the log itself.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from typing import BinaryIO

from ledger.journal import ENTRY_TOPIC, decode_row
from ledger.log import LogEntry
from ledger.merkle import EMPTY_LEAF, shaped_leaf, unshaped_leaf
from ledger.store import StoreConfig

__all__ = ["pages"]

log = logging.getLogger(__name__)

_PAGE = 1000
_LENGTH = struct.Struct("<Q")  # of a page
_ROW = struct.Struct("<qB32sI")  # position, kind, leaf hash, length of the bytes after it
_ENTRY, _NO_SHAPE, _UNDECODABLE = 0, 1, 2  # kinds of row


Applied = tuple[LogEntry, bytes]
"""An entry and its leaf hash."""


def pages(store: StoreConfig, after: int, head: int) -> Iterator[list[Applied]]:
    """The entries after position `after` up to `head` and their leaf hashes, page by
    page, read and hashed in another process; fewer if that process fails."""
    try:
        reader = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
    except OSError:  # no process to be had: the caller reads the log itself
        log.exception("the log's reader process did not start; reading in this one")
        return
    assert reader.stdin is not None and reader.stdout is not None
    try:
        with reader.stdin:
            reader.stdin.write(json.dumps([asdict(store), after, head]).encode())
        while True:
            length = reader.stdout.read(_LENGTH.size)
            whole = len(length) == _LENGTH.size  # else the process ended mid-message
            page = reader.stdout.read(_LENGTH.unpack(length)[0]) if whole else b""
            if not page:
                if not whole or reader.wait() != 0:
                    log.warning("the log's reader process stopped; reading in this one")
                return
            yield _entries(page)
    finally:
        reader.stdout.close()
        if reader.poll() is None:
            reader.kill()
        reader.wait()


def _entries(page: bytes) -> list[Applied]:
    """The entries of a page the reader sent, decoded again here, with their leaves."""
    entries = []
    unpack, size, at = _ROW.unpack_from, _ROW.size, 0
    while at < len(page):
        position, kind, leaf, length = unpack(page, at)
        at += size
        stored = page[at : at + length]
        at += length
        if kind == _UNDECODABLE:  # as `Ledger.read_log` says it
            log.warning("log entry %s cannot be decoded: %s", position, stored.decode())
            continue
        if kind == _NO_SHAPE:
            leaf = unshaped_leaf(position)
        entries.append((decode_row(position, ENTRY_TOPIC, stored), leaf))
    return entries


def _read(store: StoreConfig, after: int, head: int, sending: BinaryIO) -> None:
    """The reader process: writes the rows after `after` up to `head` to `sending`, a
    page at a time, each after its length; then a length of 0."""
    import gc

    from ledger.application import Ledger
    from ledger.journal import JOURNAL_ID
    from ledger.store import select_sequence

    gc.disable()  # what it makes lives for one page
    ledger = Ledger(store)
    pack = _ROW.pack
    try:
        while after < head:
            rows = select_sequence(ledger.recorder, JOURNAL_ID, after, min(_PAGE, head - after))
            if not rows:
                break
            parts: list[bytes] = []
            for position, topic, state in rows:
                try:
                    entry = decode_row(position, topic, state)
                except Exception as error:  # told to the caller, who logs it
                    text = str(error).encode()
                    parts += (pack(position, _UNDECODABLE, EMPTY_LEAF, len(text)), text)
                    continue
                leaf = shaped_leaf(entry)
                kind = _ENTRY if leaf is not None else _NO_SHAPE
                parts += (pack(position, kind, leaf or EMPTY_LEAF, len(state)), state)
            page = b"".join(parts)
            sending.write(_LENGTH.pack(len(page)) + page)
            after = rows[-1][0]
        sending.write(_LENGTH.pack(0))
        sending.flush()
    finally:
        ledger.close()


if __name__ == "__main__":  # the reader process: its orders on stdin, its pages on stdout
    _store, _after, _head = json.loads(sys.stdin.buffer.read())
    with os.fdopen(os.dup(1), "wb") as _pages:
        os.dup2(2, 1)  # whatever else writes to stdout goes to stderr, not among the pages
        _read(StoreConfig(**_store), _after, _head, _pages)

"""The interpreter's memory around a long load (a catch-up on a large log, a snapshot).

A load makes millions of objects that live on and many more that do not (documents
decoded and dropped, a file's bytes): `long_lived_objects()` keeps the cyclic garbage
collector off meanwhile, puts what is left out of its reach, and hands the C heap's
free pages back to the system.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from collections.abc import Callable, Iterator

__all__ = ["collector_paused", "long_lived_objects", "release_free_heap"]


def _malloc_trim() -> Callable[[int], int] | None:
    try:  # the C library is among the process's own symbols
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_heap() -> None:
    """Returns the C heap's free pages to the system (glibc's `malloc_trim`; elsewhere
    nothing): the resident set then counts what is in use, not what a load left free."""
    if _TRIM is not None:
        _TRIM(0)


@contextlib.contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (many short-lived objects, as a
    pickler makes, would trigger full collections); with `freeze`, what is left is then
    put out of its reach for good (`gc.freeze`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def long_lived_objects() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile: a long catch-up makes millions of
    objects that live on, and each full collection would walk them all again. Then
    they are frozen out of its reach for good (`gc.freeze`): a full collection, which a
    large answer's allocations trigger, took 400 ms on a 200k-lot read model, and
    takes 5 ms on a frozen 1M-lot one. Last, the free heap goes back to the system."""
    try:
        with collector_paused(freeze=True):
            yield
    finally:
        release_free_heap()

"""The hand-off of a capture to a worker thread, cheaper than Starlette's.

`run_in_threadpool` goes through anyio (a capacity limiter, a cancel scope, a queue and a
condition per call): about twice the CPU of asyncio's own `run_in_executor`, paid by every
POST on the event loop. `in_capture_thread` is the latter, on a pool of its own (so
captures waiting for a slow store never hold the threads `/health` and the reads are
answered in), with the caller's context (the request id of its log lines) carried along.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["CAPTURE_THREADS", "in_capture_thread"]

CAPTURE_THREADS = 40
"""At most this many captures at once (as many as anyio's default pool has threads):
those beyond wait for one, as they would for the append lock."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _capture_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(CAPTURE_THREADS, thread_name_prefix="kpledger-capture")
        return _pool


async def in_capture_thread(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`function(*args, **kwargs)` in a capture thread, in the caller's context."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _pool or _capture_pool(), lambda: context.run(function, *args, **kwargs)
    )

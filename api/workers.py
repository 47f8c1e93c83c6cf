"""`kpledger serve --workers N`: the application built in each server process.

uvicorn's supervisor binds nothing itself: it hands the socket `kpledger serve` bound to
N processes, each of which imports `app` below and builds its own application (its own
connection pool, read model and follower) over the same PostgreSQL database. Every read
catches its process's read model up with the log's head before answering, so a read made
after a write's answer sees that write whichever process answers it (read-your-writes).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.logs import configure
from api.settings import Settings
from ledger.signing import load_or_create

__all__ = ["app"]


def app() -> FastAPI:
    """A worker process's application, configured from the environment like `serve`."""
    settings = Settings()
    configure(settings.log_format, settings.log_level)
    return create_app(settings, signing_key=load_or_create(settings.signing_key))

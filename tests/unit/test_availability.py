"""Which errors mean the store is away, and what a refusal for it says."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)

from ledger.availability import Availability, StoreUnavailable, is_store_away
from ledger.store import StoreError, _connection_lost, store_config, store_timeout


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("couldn't get a connection after 2.00 sec"),
        InterfaceError("the connection is closed"),
        PersistenceError("lost"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_the_store_away(error: Exception) -> None:
    assert is_store_away(error)


@pytest.mark.parametrize(
    "error", [IntegrityError("duplicate key"), ProgrammingError("syntax"), ValueError("bug")]
)
def test_not_the_store_away(error: Exception) -> None:
    assert not is_store_away(error)


def test_a_write_is_unknown_only_when_the_answer_may_have_been_lost() -> None:
    assert _connection_lost(psycopg.OperationalError("server closed the connection"))
    assert _connection_lost(psycopg.errors.AdminShutdown())
    assert not _connection_lost(psycopg.errors.LockNotAvailable())  # refused: rolled back


def test_the_store_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPLEDGER_STORE_TIMEOUT", raising=False)
    assert store_timeout() == 2
    monkeypatch.setenv("KPLEDGER_STORE_TIMEOUT", "5")
    assert store_config("postgresql://u@h/db").env["POSTGRES_CONNECT_TIMEOUT"] == "5"
    for bad in ("0", "1.5", "x", "61"):
        monkeypatch.setenv("KPLEDGER_STORE_TIMEOUT", bad)
        with pytest.raises(StoreError, match="KPLEDGER_STORE_TIMEOUT"):
            store_timeout()


def test_a_store_found_away_is_refused_at_once_until_a_probe_finds_it(tmp_path: Path) -> None:
    availability = Availability(store_config(f"sqlite:///{tmp_path}/x.db"), timeout=1)
    availability.mark_unreachable(OperationalError("gone"))
    availability.interval = 1e12  # no probe is due
    with pytest.raises(StoreUnavailable) as refused:
        availability.check()
    assert refused.value.status == 503 and refused.value.code == "unavailable"
    assert availability.probe() and availability.reachable  # the file is there
    availability.check()

"""KPLEDGER_DATABASE_URL → the eventsourcing environment of the store it names.

- unset: the embedded SQLite file ./kpledger.db;
- sqlite:///relative.db or sqlite:////absolute/path.db;
- postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (tables created on first use).

Every problem is a `StoreError` whose message fits on one line.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import StoredEvent

__all__ = [
    "DEFAULT_SQLITE_FILE",
    "DEFAULT_STORE_TIMEOUT",
    "STATEMENT_TIMEOUT_MS",
    "KeptConnection",
    "StoreConfig",
    "StoreError",
    "WriteOutcomeUnknown",
    "check_reachable",
    "connection_deadlines",
    "insert_rows",
    "interrupt_busy_connections",
    "postgres_connect_kwargs",
    "require_existing",
    "select_aggregates_events",
    "select_last",
    "select_last_version",
    "select_originators_of_topic",
    "select_sequence",
    "shut_down",
    "store_config",
    "store_timeout",
    "tune_pool",
]

DEFAULT_SQLITE_FILE = "kpledger.db"
DEFAULT_STORE_TIMEOUT = 2
_CHUNK = 900


class StoreError(Exception):
    """The store cannot be used: a bad URL, an unreachable database, refused credentials."""


class WriteOutcomeUnknown(Exception):
    """The connection failed after an insert was sent: it may or may not have committed."""


def store_timeout() -> int:
    """KPLEDGER_STORE_TIMEOUT: whole seconds a request waits for the store (1 to 60)."""
    text = os.environ.get("KPLEDGER_STORE_TIMEOUT", "").strip() or str(DEFAULT_STORE_TIMEOUT)
    if not text.isdigit() or not 1 <= int(text) <= 60:
        raise StoreError(
            f"KPLEDGER_STORE_TIMEOUT: {text!r} is not a whole number of seconds from 1 to 60"
        )
    return int(text)


@dataclass(frozen=True)
class StoreConfig:
    """Which store, described for people, and the eventsourcing environment that opens it."""

    kind: str
    description: str
    env: dict[str, str]


def store_config(url: str | None) -> StoreConfig:
    """Parses a database URL (None or "" for the embedded default)."""
    if not url:
        return _sqlite(Path(DEFAULT_SQLITE_FILE))
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise StoreError(
                f"bad database URL {url!r}: use sqlite:///relative.db or sqlite:////abs/path.db"
            )
        return _sqlite(Path(unquote(parts.path[1:])))
    if parts.scheme in ("postgresql", "postgres"):
        return _postgresql(url)
    raise StoreError(f"bad database URL {url!r}: it must start with sqlite:/// or postgresql://")


def require_existing(url: str | None) -> None:
    """A StoreError unless the store `url` names exists: a SQLite file must be there (a
    command that only reads must not leave an empty database behind a mistyped path);
    a PostgreSQL database that does not exist fails on connecting anyway."""
    config = store_config(url)
    path = config.env.get("SQLITE_DBNAME")
    if config.kind == "sqlite" and path and not Path(path).is_file():
        raise StoreError(
            f"no database at {path}: kpledger serve, demo, generate, import or token create "
            "makes one; "
            "or set KPLEDGER_DATABASE_URL to the store to use"
        )


def _sqlite(path: Path) -> StoreConfig:
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise StoreError(f"cannot open SQLite file {path}: folder {folder} does not exist")
    return StoreConfig(
        kind="sqlite",
        description=f"SQLite file {path}",
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        },
    )


def _postgresql(url: str) -> StoreConfig:
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise StoreError(f"bad database URL {_redact(url)!r}: the port is not a number") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.username or not parts.hostname or not dbname or "/" in dbname:
        raise StoreError(
            f"bad database URL {_redact(url)!r}: use postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"
        )
    return StoreConfig(
        kind="postgresql",
        description=f"PostgreSQL database {dbname} at {parts.hostname}:{port}",
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": unquote(parts.username),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # eventsourcing gives this to the pool as the longest wait for a connection
            # (a getconn timeout): the bound on how long a request waits for the store.
            "POSTGRES_CONNECT_TIMEOUT": str(store_timeout()),
            # Check a pooled connection before lending it, so that one a restart of
            # PostgreSQL terminated is replaced instead of failing the request.
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "12",
            # Insert through eventsourcing's stored function, in one statement: psycopg's
            # pipeline (the other path) deadlocks on a 10,000-document batch (psycopg
            # issue 685). The function does not LOCK TABLE, and need not: appends are
            # serialised by the journal's unique (id, version) key, so no two committed
            # batches can interleave their rows.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        },
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def postgres_connect_kwargs(config: StoreConfig) -> dict[str, Any]:
    """psycopg.connect() arguments for a PostgreSQL store."""
    env = config.env
    return {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        "connect_timeout": int(env["POSTGRES_CONNECT_TIMEOUT"]),
        **connection_deadlines(int(env["POSTGRES_CONNECT_TIMEOUT"])),
    }


STATEMENT_TIMEOUT_MS = 30_000
"""PostgreSQL's own bound on one statement (`statement_timeout`): a runaway statement of
ours ends there. A database that stops answering is caught by the probe, not by it."""

_CONNECTIONS: weakref.WeakSet[Any] = weakref.WeakSet()
"""Every pooled PostgreSQL connection of this process (see `interrupt_busy_connections`)."""


def connection_deadlines(timeout: int) -> dict[str, Any]:
    """libpq settings that keep a connection from waiting for ever on a database or a
    network that stopped answering: TCP keepalives on an idle connection (the peer gone
    is noticed within `timeout` + 2 s), `tcp_user_timeout` on unacknowledged data (a
    network that drops packets without resetting), and the server's `statement_timeout`."""
    return {
        "keepalives": 1,
        "keepalives_idle": max(1, timeout),
        "keepalives_interval": 1,
        "keepalives_count": 2,
        "tcp_user_timeout": (timeout + 1) * 1000,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
    }


def tune_pool(recorder: Any, timeout: int, reachable: Callable[[], bool] | None = None) -> None:
    """Bounds every wait of a PostgreSQL pool: its connections get `connection_deadlines`
    and are noted for `interrupt_busy_connections`; a failed connect is retried for
    `timeout` s, not psycopg_pool's 5 minutes of doubling delays (after an outage of a
    minute the next try could be a minute away: with a short one it gives up instead,
    and connects again when a request asks). The pool's wait for a connection is
    eventsourcing's POSTGRES_CONNECT_TIMEOUT, the same `timeout`.

    With `reachable`, the pool's check of a connection it lends (pre-ping) fails at once
    while the store is known away: a check interrupted because the store stopped
    answering is not followed by a check of the next connection, waiting as long again."""
    pool = getattr(recorder.datastore, "pool", None)
    if pool is None:
        return
    pool.reconnect_timeout = float(timeout)
    if not hasattr(recorder.datastore, "schema"):  # SQLite's pool: no network to wait on
        return
    if isinstance(pool.kwargs, dict):
        pool.kwargs.update(connection_deadlines(timeout))
    check = pool._check
    if check is not None and reachable is not None:

        def check_unless_away(connection: Any) -> None:
            if not reachable():
                import psycopg

                raise psycopg.OperationalError("the store does not answer: not asked")
            check(connection)

        pool._check = check_unless_away
    configure = pool._configure

    def noted(connection: Any) -> None:
        if configure is not None:
            configure(connection)
        _CONNECTIONS.add(connection)

    pool._configure = noted
    for connection in list(getattr(pool, "_pool", ())):  # opened before (CREATE TABLE)
        _CONNECTIONS.add(connection)


def interrupt_busy_connections() -> int:
    """Ends every pooled connection of this process that waits for an answer, by shutting
    its socket down: the thread waiting on it gets an error at once (a lost connection)
    instead of waiting for a database that stopped answering (SIGSTOP, or a network that
    drops packets: the kernel keeps acknowledging, so no TCP timeout fires). Called when
    the probe finds the store not answering. Returns how many were interrupted."""
    from psycopg.pq import TransactionStatus

    interrupted = 0
    for connection in list(_CONNECTIONS):
        try:
            if (
                connection.closed
                or connection.pgconn.transaction_status != TransactionStatus.ACTIVE
            ):
                continue
            shut_down(connection.fileno())
            interrupted += 1
        except Exception:  # closed meanwhile
            continue
    return interrupted


def shut_down(fileno: int) -> None:
    """Shuts a connected socket down (both ways) by its file descriptor; whoever waits on
    it wakes up to an end of stream."""
    duplicate = socket.socket(fileno=os.dup(fileno))
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


def check_reachable(config: StoreConfig) -> None:
    """Connects once, so that an unusable store fails with one clear line, before any work."""
    if config.kind == "sqlite":
        try:
            connection = sqlite3.connect(config.env["SQLITE_DBNAME"])
            try:  # a file that is not SQLite fails here, not at connect
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {config.description}: {error}") from None
        return
    import psycopg

    try:
        psycopg.connect(**postgres_connect_kwargs(config)).close()
    except psycopg.Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StoreError(f"cannot connect to {config.description}: {reason}") from None


_COPY_TYPES = ("uuid", "int8", "text", "bytea")
_FEW_ROWS = 64  # fewer go in one INSERT statement, more by COPY


class KeptConnection:
    """One pooled PostgreSQL connection kept between the uses of one user, who makes
    them one at a time (the append lock's), so that it is lent without the pool's check
    (a round trip), only after a poll of its socket: one the server ended since (a
    restart of PostgreSQL) has its last message and end waiting there. On SQLite, none.

    `lend()` yields the kept connection, unchecked, or else one the pool checks, with
    whether it was checked. A connection left broken (or not idle) by a use goes back
    to the pool, which replaces it; the next use is lent a checked one. Errors of
    psycopg come out as eventsourcing's, as from the datastore's own connections.
    """

    def __init__(self, recorder: Any) -> None:
        datastore = recorder.datastore
        self._datastore = datastore if hasattr(datastore, "schema") else None
        self._kept: Any = None

    @contextlib.contextmanager
    def lend(self) -> Iterator[tuple[Any, bool]]:
        """(connection, checked): the kept one unchecked, else a checked one from the pool;
        (None, True) on SQLite."""
        datastore = self._datastore
        if datastore is None:
            yield None, True
            return
        pool = datastore.pool
        connection, self._kept = self._kept, None
        if connection is not None and _has_input(connection):
            # a server ending a connection says so and closes it: nothing else comes
            # unasked on an idle connection nobody listens on
            connection.close()
            pool.putconn(connection)  # the pool replaces it
            connection = None
            self.check_pool()  # the others likely went the same way
        checked = connection is None
        with _translated():
            if connection is None:
                timeout = datastore.pool_open_timeout
                pool.open(timeout is not None, timeout or 30.0)
                connection = pool.getconn()  # checked by the pool (pre-ping)
        try:
            with _translated():
                yield connection, checked
        finally:
            from psycopg.pq import TransactionStatus

            if connection.broken or connection.info.transaction_status != TransactionStatus.IDLE:
                pool.putconn(connection)  # the pool closes or resets it, and replaces it
            else:
                self._kept = connection

    def check_pool(self) -> None:
        """Has the pool check its idle connections now, replacing the broken ones: once the
        kept one was found broken the others likely are too (PostgreSQL restarted), and
        the pool, checking them one by one as it lends them, waits a second or more
        between two that fail."""
        if self._datastore is not None:
            with _translated():
                self._datastore.pool.check()

    def close(self) -> None:
        """Gives the kept connection back to the pool."""
        connection, self._kept = self._kept, None
        if connection is not None and self._datastore is not None:
            self._datastore.pool.putconn(connection)


def _has_input(connection: Any) -> bool:
    """Whether the server sent anything on the connection (a poll, not a round trip)."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """psycopg's errors as eventsourcing's, as `PostgresDatastore.get_connection` raises
    them (callers tell a concurrent writer by eventsourcing's `IntegrityError`)."""
    import psycopg
    from eventsourcing import persistence

    try:
        yield
    except psycopg.InterfaceError as error:
        raise persistence.InterfaceError(str(error)) from error
    except psycopg.OperationalError as error:
        raise persistence.OperationalError(str(error)) from error
    except psycopg.DataError as error:
        raise persistence.DataError(str(error)) from error
    except psycopg.IntegrityError as error:
        raise persistence.IntegrityError(str(error)) from error
    except psycopg.InternalError as error:
        raise persistence.InternalError(str(error)) from error
    except psycopg.ProgrammingError as error:
        raise persistence.ProgrammingError(str(error)) from error
    except psycopg.NotSupportedError as error:
        raise persistence.NotSupportedError(str(error)) from error
    except psycopg.DatabaseError as error:
        raise persistence.DatabaseError(str(error)) from error
    except psycopg.Error as error:
        raise persistence.PersistenceError(str(error)) from error


def _connection(recorder: Any, connection: Any) -> Any:
    if connection is not None:
        return contextlib.nullcontext(connection)
    return recorder.datastore.get_connection()


def select_aggregates_events(
    recorder: Any, aggregate_ids: Sequence[UUID], connection: Any = None
) -> list[StoredEvent]:
    """Every stored event of the given aggregates, by aggregate then version, in few queries
    (on `connection` if given, see `KeptConnection`).

    eventsourcing reads one aggregate per query; a batch of 10,000 documents needs them
    all at once.
    """
    rows: list[StoredEvent] = []
    for start in range(0, len(aggregate_ids), _CHUNK):
        chunk = list(aggregate_ids[start : start + _CHUNK])
        if hasattr(recorder.datastore, "schema"):  # PostgreSQL
            from psycopg.sql import SQL, Identifier

            statement = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with _connection(recorder, connection) as lent, lent.cursor() as cursor:
                cursor.execute(statement, [chunk])
                found = [
                    (r["originator_id"], r["originator_version"], r["topic"], r["state"])
                    for r in cursor.fetchall()
                ]
        else:
            marks = ",".join("?" * len(chunk))
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    "SELECT originator_id, originator_version, topic, state "
                    f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                    "ORDER BY originator_id, originator_version",
                    [aggregate_id.hex for aggregate_id in chunk],
                )
                found = [tuple(row) for row in cursor.fetchall()]
        rows.extend(
            StoredEvent(
                originator_id=UUID(str(originator_id)),
                originator_version=version,
                topic=topic,
                state=bytes(state),
            )
            for originator_id, version, topic, state in found
        )
    return rows


def select_originators_of_topic(recorder: Any, topic: str) -> list[UUID]:
    """The ids of the aggregates with an event of `topic`, in order of storing (a scan of
    the events table: for rare questions such as `kpledger token list`)."""
    if hasattr(recorder.datastore, "schema"):  # PostgreSQL
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT originator_id FROM {}.{} WHERE topic = %s ORDER BY notification_id"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as lent, lent.cursor() as cursor:
            cursor.execute(statement, [topic])
            return [UUID(str(row["originator_id"])) for row in cursor.fetchall()]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {recorder.events_table_name} WHERE topic = ? "
            "ORDER BY rowid",
            [topic],
        )
        return [UUID(str(row[0])) for row in cursor.fetchall()]


def select_sequence(
    recorder: Any,
    originator_id: UUID,
    after: int,
    limit: int,
    *,
    last: bool = False,
    connection: Any = None,
) -> list[tuple[int, str, bytes]]:
    """(version, topic, state) of up to `limit` events of one aggregate after `after`, in
    order (the last ones first, if `last`; on `connection` if given).

    Plain tuples, in binary on PostgreSQL, for reading the whole journal: eventsourcing's
    `select_events` makes a dict and a `StoredEvent` of each row, and hex of each state.
    """
    if hasattr(recorder.datastore, "schema"):  # PostgreSQL
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT originator_version, topic, state FROM {}.{} WHERE originator_id = %s "
            "AND originator_version > %s ORDER BY originator_version {} LIMIT %s"
        ).format(
            Identifier(recorder.datastore.schema),
            Identifier(recorder.events_table_name),
            SQL("DESC" if last else "ASC"),
        )
        with (
            _connection(recorder, connection) as lent,
            lent.cursor(row_factory=tuple_row, binary=True) as cursor,
        ):
            cursor.execute(statement, (originator_id, after, limit), prepare=True)
            return cursor.fetchall()
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT originator_version, topic, state FROM {recorder.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version "
            f"{'DESC' if last else 'ASC'} LIMIT ?",
            (originator_id.hex, after, limit),
        )
        return [tuple(row) for row in cursor.fetchall()]


def select_last(
    recorder: Any, originator_id: UUID, connection: Any = None
) -> tuple[int, str, bytes] | None:
    """(version, topic, state) of an aggregate's last event, or None (on `connection` if
    given).

    In one try: eventsourcing's `select_events` retries a lost connection ten times,
    each waiting up to the store timeout, so a request would wait ten times as long.
    """
    rows = select_sequence(recorder, originator_id, -1, 1, last=True, connection=connection)
    return rows[0] if rows else None


_LAST_VERSION: dict[tuple[str, str], str] = {}


def select_last_version(recorder: Any, originator_id: UUID, connection: Any = None) -> int:
    """The version of an aggregate's last event (0: none), in one try (on `connection` if
    given): the log's head, asked before every read. On PostgreSQL one column of one row,
    by a statement quoted once, prepared: a third of `select_last`'s time."""
    datastore = recorder.datastore
    if not hasattr(datastore, "schema"):
        last = select_last(recorder, originator_id)
        return last[0] if last is not None else 0
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    with _connection(recorder, connection) as lent:
        key = (datastore.schema, recorder.events_table_name)
        statement = _LAST_VERSION.get(key)
        if statement is None:
            statement = _LAST_VERSION[key] = (
                SQL(
                    "SELECT originator_version FROM {}.{} WHERE originator_id = %s "
                    "ORDER BY originator_version DESC LIMIT 1"
                )
                .format(Identifier(key[0]), Identifier(key[1]))
                .as_string(lent)
            )
        with lent.cursor(row_factory=tuple_row) as cursor:
            row = cursor.execute(statement, (originator_id,), prepare=True).fetchone()
    return int(row[0]) if row is not None else 0


def insert_rows(recorder: Any, rows: Sequence[StoredEvent], connection: Any = None) -> None:
    """Inserts stored events atomically; a duplicate (id, version) is an IntegrityError
    (on `connection` if given, see `KeptConnection`).

    On PostgreSQL, in as few round trips as the size allows, each one statement (so one
    transaction on the pool's autocommit connections) that NOTIFYs the events channel
    as eventsourcing's own insert does: a few rows as one INSERT ... VALUES with the
    NOTIFY in the same statement; many rows by binary COPY, which psycopg writes in C,
    then the NOTIFY. Elsewhere, eventsourcing's insert.
    """
    if not hasattr(recorder.datastore, "schema"):
        recorder.insert_events(rows)
        return
    from psycopg.sql import SQL, Identifier

    table = SQL("{}.{} (originator_id, originator_version, topic, state)").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    import psycopg

    with _connection(recorder, connection) as lent:
        try:
            _insert(lent, recorder, table, rows)
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            if _connection_lost(error):
                raise WriteOutcomeUnknown(str(error)) from error
            raise  # refused by the server (a lock timeout): rolled back, nothing appended


def _connection_lost(error: Exception) -> bool:
    """A failure that may have come after the server committed: no answer (no SQLSTATE),
    a connection exception (08...) or an operator's intervention (57P..., a shutdown)."""
    state = getattr(error, "sqlstate", None) or ""
    return not state or state.startswith(("08", "57P"))


_FEW_ROWS_STATEMENTS: dict[tuple[str, str, int], bytes] = {}
"""The INSERT ... VALUES statement of n rows into a schema's table, composed once."""


def _insert(connection: Any, recorder: Any, table: Any, rows: Sequence[StoredEvent]) -> None:
    from psycopg.sql import SQL, Identifier

    if len(rows) <= _FEW_ROWS:
        # rows as plain values, which psycopg dumps in C: arrays of them took twice the
        # client's CPU (200 against 100 us for a document's three rows), paid under the
        # append lock by every single-document POST
        key = (recorder.datastore.schema, recorder.events_table_name, len(rows))
        statement = _FEW_ROWS_STATEMENTS.get(key)
        if statement is None:
            values = ", ".join(["(%s::uuid, %s::bigint, %s::text, %s::bytea)"] * len(rows))
            statement = _FEW_ROWS_STATEMENTS[key] = (
                SQL("WITH inserted AS (INSERT INTO {} VALUES ").format(table).as_bytes(connection)
                + f"{values} RETURNING 1) SELECT pg_notify(%s, '')".encode()
            )
        parameters = [value for row in rows for value in _row_values(row)]
        connection.execute(statement, [*parameters, recorder.channel_name], binary=True)
        return
    with (
        connection.cursor() as cursor,
        cursor.copy(SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(table)) as copy,
    ):
        copy.set_types(_COPY_TYPES)
        for row in rows:
            copy.write_row(_row_values(row))
    connection.execute(SQL("NOTIFY {}").format(Identifier(recorder.channel_name)))


def _row_values(row: StoredEvent) -> tuple[UUID | str, int, str, bytes]:
    return row.originator_id, row.originator_version, row.topic, row.state

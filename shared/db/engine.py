"""One engine factory for every process, with the SQLite discipline applied to each connection.

Every SQLite connection gets WAL, busy_timeout, foreign_keys and synchronous=NORMAL. The driver's
own transaction handling is switched off and we emit BEGIN ourselves: write units of work start
with BEGIN IMMEDIATE, because a deferred transaction that upgrades to a write fails with
"database is locked" at once, whatever the busy timeout; reads stay deferred and never block
writers under WAL.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = 5000,
    foreign_keys: bool = True,
    pool_size: int = 10,
) -> Engine:
    """Create an engine; for SQLite, install the pragma and BEGIN hooks."""
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=30, pool_timeout=30)
        _install_sqlite_hooks(engine, busy_timeout_ms=busy_timeout_ms, foreign_keys=foreign_keys)
    else:
        engine = create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
    return engine


def _install_sqlite_hooks(engine: Engine, *, busy_timeout_ms: int, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver must not BEGIN on its own; _on_begin does
        if sys.version_info >= (3, 12):  # keep isolation_level=None meaning "no implicit BEGIN"
            dbapi_conn.autocommit = sqlite3.LEGACY_TRANSACTION_CONTROL
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")  # persistent in the file; re-asserting is cheap
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")  # only outside a txn
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL-safe: never corrupts, may lose the last txn
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown sqlite_begin mode {mode!r}")
        if mode == "DEFERRED":
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)  # noqa: S101 - the sqlite dialect's driver
            try:
                begin_for_writing(raw, mode, busy_timeout_ms)
            except sqlite3.OperationalError as exc:  # surface it as SQLAlchemy does for any statement
                raise OperationalError(f"BEGIN {mode}", None, exc) from exc


def begin_for_writing(raw: sqlite3.Connection, mode: str, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE/EXCLUSIVE, waiting up to the busy timeout for the write lock, fairly.

    SQLite's own busy handler sleeps 1, 2, 5, 10, ... then 100 ms between tries, so a writer that
    arrives while others keep the lock busy can lose every race and wait 100 ms at a time (the API's
    p99 beside busy workers). Here the wait is polled in short steps (0.2 ms growing to 2 ms), with
    the same overall limit; "database is locked" only after BUSY_TIMEOUT_MS, as before.
    """
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + busy_timeout_ms / 1000
        pause = 0.0002
        while True:
            try:
                raw.execute(f"BEGIN {mode}")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


class Database:
    """The engine and session factories of one process.

    `write()` is a unit of work that begins IMMEDIATE and commits on success; `read()` is a
    deferred, read-only session. Keep both short: never hold one across a sleep or a slow call.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 5000) -> Database:
        return cls(make_engine(url, busy_timeout_ms=busy_timeout_ms))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        # SQLite has one writer at a time, and its busy handler makes waiters sleep in growing steps
        # (1, 2, 5, 10... ms) even after the lock is free. Threads of this process therefore queue
        # on a Python lock, which hands over at once; only other processes meet the busy handler.
        with self._writer_lock, self._write.begin() as session:
            yield session

    @contextmanager
    def write_conn(self) -> Iterator[Connection]:
        """write() on a bare Core connection: the worker's hot path, without ORM bookkeeping."""
        with self._writer_lock, self._write_engine.begin() as connection:
            yield connection

    @contextmanager
    def read_conn(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

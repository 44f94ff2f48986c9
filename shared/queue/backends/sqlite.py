"""SQLite in WAL mode: one file shared by every process on one host.

Discipline (design.md §6): every connection gets WAL, busy_timeout, foreign_keys and
synchronous=NORMAL; the driver's own transaction handling is off and we BEGIN ourselves; writes
begin IMMEDIATE, because a deferred transaction that upgrades to a write fails with "database is
locked" at once, whatever the busy timeout. SQLite has one writer at a time, so numbering jobs
MAX(seq)+1 inside the write transaction is race-free, and a claim needs no row locks.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from sqlalchemy import REAL, Engine, Integer, Text, create_engine, event, text

from shared.queue.backends.base import Backend, WakeSource
from shared.queue.backends.inotify import DirectoryWatch


def to_text(moment: datetime) -> str:
    """SQLite-style UTC text with milliseconds (`YYYY-MM-DD HH:MM:SS.SSS`): the seed's format,
    so `scheduled_at <= datetime('now')` compares right on our rows. The year has four digits
    always (strftime's %Y writes the year 60 as `60`, which sorts after 2026 and parses as nothing)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")


def from_text(value: Any) -> datetime:
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


_JOB_COLUMNS = (
    "id, type, payload, status, priority, claim_priority, attempts, max_attempts, scheduled_at, created_at, "
    "updated_at, seq, idempotency_key, workflow_id, parent_id, concurrency_key, request_id"
)
_JOB_VALUES = (
    ":id, :type, :payload, 'pending', :priority, :priority, 0, :max_attempts, :scheduled_at, :created_at, "
    ":created_at, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), :idempotency_key, :workflow_id, :parent_id, "
    ":concurrency_key, :request_id"
)


class WriteLockTimeoutError(sqlite3.OperationalError):
    """BEGIN IMMEDIATE waited BUSY_TIMEOUT_MS and another connection still held the write lock.

    Raised in place of SQLite's own "database is locked", which also means a broken discipline (a
    deferred transaction upgrading to a write fails at once, whatever the timeout): an outage (a
    long transaction elsewhere) then reads differently from a bug in logs and error reports.
    """


class SqliteBackend(Backend):
    name = "sqlite"
    now_default = "datetime('now')"
    driver_errors = (sqlite3.Error,)
    timestamp_type = Text
    money_type = REAL
    sequence_type = Integer
    migration_options: ClassVar[dict[str, Any]] = {"sqlite_begin": "IMMEDIATE"}  # holds the write lock

    insert_job = f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_JOB_VALUES})"
    insert_job_unique = (
        f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_JOB_VALUES}) "
        "ON CONFLICT (idempotency_key) WHERE status IN ('pending', 'processing') DO NOTHING RETURNING id"
    )
    # Numbered from the current MAX(seq) in array order; evaluated once, inside the write lock.
    insert_jobs_json = (
        f"INSERT INTO jobs ({_JOB_COLUMNS}) "
        "SELECT value ->> 'id', value ->> 'type', value ->> 'payload', 'pending', value ->> 'priority', "
        "value ->> 'priority', 0, value ->> 'max_attempts', value ->> 'scheduled_at', value ->> 'created_at', "
        "value ->> 'created_at', (SELECT COALESCE(MAX(seq), 0) FROM jobs) + key + 1, value ->> 'idempotency_key', "
        "value ->> 'workflow_id', value ->> 'parent_id', value ->> 'concurrency_key', value ->> 'request_id' "
        "FROM json_each(:rows)"
    )
    # Without statistics SQLite's planner prefers (status, scheduled_at) and sorts every due job;
    # INDEXED BY makes it walk the claim-order index and read only the rows it takes (31 ms -> 0.01 ms
    # per claim with 150,000 due jobs). The partial index needs the literal 'pending'.
    claim_candidates = (
        "SELECT id, type, payload, priority, attempts, max_attempts, scheduled_at, seq, workflow_id, "
        "parent_id, concurrency_key, request_id, claims FROM jobs INDEXED BY idx_jobs_claim "
        "WHERE status = 'pending' AND scheduled_at <= :now{exclude} "
        "ORDER BY claim_priority DESC, scheduled_at, seq LIMIT :limit"
    )

    # `+status` keeps the planner on the primary key: without statistics it would walk every
    # pending (or processing) row through idx_jobs_status_scheduled instead of looking up the ids.
    claim_update = (
        "UPDATE jobs SET status = 'processing', locked_by = :worker, locked_at = :now, started_at = :now, "
        "attempts = attempts + 1, claims = claims + 1, updated_at = :now "
        "WHERE id IN (SELECT value FROM json_each(:ids)) AND +status = 'pending'"
    )
    complete_many = (
        "UPDATE jobs SET status = 'completed', completed_at = :now, updated_at = :now "
        "FROM (SELECT value ->> 'id' AS id, value ->> 'claims' AS claims FROM json_each(:held)) AS held "
        "WHERE jobs.id = held.id AND jobs.claims = held.claims AND jobs.locked_by = :worker "
        "AND +jobs.status = 'processing' RETURNING jobs.id"
    )

    aging_candidates = (
        "SELECT id FROM jobs INDEXED BY idx_jobs_claim WHERE status = 'pending' AND claim_priority = :level "
        "AND scheduled_at <= :cutoff AND (aged_at IS NULL OR aged_at <= :cutoff) "
        "ORDER BY scheduled_at, seq LIMIT :limit"
    )
    promote = (
        "UPDATE jobs SET claim_priority = :to, aged_at = :now "
        "WHERE id IN (SELECT value FROM json_each(:ids)) AND +status = 'pending' AND claim_priority = :level"
    )

    @property
    def serialises_writers(self) -> bool:
        return True

    @property
    def path(self) -> str:
        return self.url.split(":///", 1)[1] if ":///" in self.url else ""

    def check_after_migration(self, connection: Any) -> None:
        problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if problems:
            raise RuntimeError(f"foreign key violations after migration: {problems}")

    def ensure_location(self) -> None:
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def create_engine(self, *, foreign_keys: bool = True, pool_size: int = 10) -> Engine:
        engine = create_engine(self.url, pool_size=pool_size, max_overflow=30, pool_timeout=30)
        busy_timeout_ms = self.busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # the driver must not BEGIN on its own; we do
            if sys.version_info >= (3, 12):  # keep isolation_level=None meaning "no implicit BEGIN"
                dbapi_conn.autocommit = sqlite3.LEGACY_TRANSACTION_CONTROL
            dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")  # persistent in the file; re-asserting is cheap
            dbapi_conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")  # only outside a txn
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")  # WAL-safe: never corrupts, may lose the last txn

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # SQLAlchemy-level transactions (Alembic): IMMEDIATE when asked, DEFERRED otherwise.
            if conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
                self.begin_write(conn.connection.driver_connection)
            else:
                conn.exec_driver_sql("BEGIN DEFERRED")

        return engine

    def begin_write(self, raw: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, waiting up to the busy timeout for the write lock, fairly.

        SQLite's own busy handler sleeps 1, 2, 5, 10, ... then 100 ms between tries, so a writer that
        arrives while others keep the lock busy can lose every race and wait the whole timeout. Here
        the busy handler is off (busy_timeout=0) from the first try, and the wait is polled in short
        steps (0.2 ms growing to 2 ms) with the same overall limit: a refusal only after
        BUSY_TIMEOUT_MS, as WriteLockTimeoutError.
        """
        raw.execute("PRAGMA busy_timeout=0")
        try:
            deadline = time.monotonic() + self.busy_timeout_ms / 1000
            pause = 0.0002
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() >= deadline:
                        raise WriteLockTimeoutError(
                            f"no write lock within BUSY_TIMEOUT_MS ({self.busy_timeout_ms} ms): "
                            "another connection kept it"
                        ) from None
                time.sleep(pause)
                pause = min(pause * 1.5, 0.002)
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")

    def begin_read(self, raw: sqlite3.Connection) -> None:
        raw.execute("BEGIN DEFERRED")

    def commit(self, raw: sqlite3.Connection) -> None:
        raw.execute("COMMIT")

    def rollback(self, raw: sqlite3.Connection) -> None:
        if raw.in_transaction:  # a failed COMMIT (disk full) may already have rolled back
            raw.execute("ROLLBACK")

    def unavailable(self, exc: BaseException) -> bool:
        if isinstance(exc, WriteLockTimeoutError):
            return True
        if not isinstance(exc, sqlite3.OperationalError):
            return False
        text = str(exc)
        return any(part in text for part in ("locked", "busy", "unable to open", "disk I/O", "full"))

    @staticmethod
    def to_db(moment: datetime) -> str:
        return to_text(moment)

    @staticmethod
    def from_db(value: Any) -> datetime:
        return from_text(value)

    def money_to_db(self, amount: Decimal) -> float:
        return float(amount)  # the seed's REAL columns; read back through shared.money.money()

    def list_param(self, ids: list[str]) -> Any:
        return msgspec.json.encode(ids).decode()

    def list_table(self, param: str) -> str:
        return f"json_each(:{param})"

    def minute_of(self, column: str) -> str:
        return f"substr({column}, 1, 16) || ':00.000'"  # 'YYYY-MM-DD HH:MM' + ':00.000'

    def wake_source(self, *, interval: float, idle_max: float) -> WakeSource:
        return DataVersionWatcher(self.path, interval=interval, idle_max=idle_max)


class DataVersionWatcher(WakeSource):
    """Wakes the worker when another connection commits, from a thread of its own.

    `PRAGMA data_version` changes whenever another connection commits; reading it looks at shared
    memory (no transaction, no lock). Where the kernel offers inotify the thread sleeps until the
    database's WAL file is written (instant, and no CPU while idle), then checks data_version; a
    check every FALLBACK_SECONDS covers what inotify cannot see. Elsewhere it polls data_version
    every `interval`, backing off to `idle_max` while nothing changes.
    """

    FALLBACK_SECONDS = 0.05

    def __init__(self, path: str, *, interval: float, idle_max: float) -> None:
        self._path = path
        self._interval = interval
        self._idle_max = max(idle_max, interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, notify: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._run, args=(notify,), name="wake-data-version", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _run(self, notify: Callable[[], None]) -> None:
        conn = sqlite3.connect(self._path, timeout=5, check_same_thread=False, isolation_level=None)
        database = Path(self._path)
        watch = DirectoryWatch.open(database.parent, frozenset({database.name, f"{database.name}-wal"}))
        try:
            if watch is not None:
                self._follow_writes(conn, watch, notify)
            else:
                self._poll(conn, notify)
        finally:
            if watch is not None:
                watch.close()
            conn.close()

    def _follow_writes(self, conn: sqlite3.Connection, watch: DirectoryWatch, notify: Callable[[], None]) -> None:
        last = self._version(conn)
        while not self._stop.is_set():
            watch.wait(self.FALLBACK_SECONDS)
            current = self._version(conn)
            if current != last:
                last = current
                notify()
                time.sleep(self._interval)  # a burst of commits makes one wake-up per interval

    def _poll(self, conn: sqlite3.Connection, notify: Callable[[], None]) -> None:
        last = self._version(conn)
        delay = self._interval
        while not self._stop.wait(delay):
            current = self._version(conn)
            if current != last:
                last = current
                delay = self._interval
                notify()
            else:
                delay = min(delay * 1.1, self._idle_max)

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        try:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return -1  # could not tell: look for work rather than miss it

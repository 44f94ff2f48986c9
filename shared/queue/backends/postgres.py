"""PostgreSQL: for when one machine is not enough (workers on many hosts).

Many writers run at once here, so the queue relies on row locks instead of a single write lock:
claims take due rows `FOR UPDATE SKIP LOCKED` (each worker passes over rows another is claiming),
jobs are numbered by a sequence, and rate or concurrency limits take a transaction-scoped
advisory lock on their key. New work is announced with LISTEN/NOTIFY: a trigger notifies once per
enqueueing transaction (PostgreSQL folds identical notifications of a transaction into one).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Engine, Numeric, create_engine, event
from sqlalchemy.types import TIMESTAMP, TypeEngine

from shared.logging import get_logger
from shared.queue.backends.base import Backend, WakeSource

log = get_logger("queue.postgres")
CHANNEL = "shopqueue_jobs"
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

_JOB_COLUMNS = (
    "id, type, payload, status, priority, claim_priority, attempts, max_attempts, scheduled_at, created_at, "
    "updated_at, idempotency_key, workflow_id, parent_id, concurrency_key, request_id"
)
_JOB_VALUES = (
    ":id, :type, :payload, 'pending', :priority, :priority, 0, :max_attempts, :scheduled_at, :created_at, "
    ":created_at, :idempotency_key, :workflow_id, :parent_id, :concurrency_key, :request_id"
)


def _timestamp() -> TypeEngine[Any]:
    return TIMESTAMP(timezone=True)


def _money() -> TypeEngine[Any]:
    return Numeric(12, 2)


class PostgresBackend(Backend):
    name = "postgresql"
    now_default = "now()"
    driver_errors = (psycopg.Error,)
    timestamp_type = _timestamp
    money_type = _money
    sequence_type = BigInteger

    insert_job = f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_JOB_VALUES})"
    insert_job_unique = (
        f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({_JOB_VALUES}) "
        "ON CONFLICT (idempotency_key) WHERE status IN ('pending', 'processing') DO NOTHING RETURNING id"
    )
    # The sequence numbers the rows in the order the SELECT yields them: the array's order.
    insert_jobs_json = (
        f"INSERT INTO jobs ({_JOB_COLUMNS}) "
        "SELECT e.value ->> 'id', e.value ->> 'type', e.value ->> 'payload', 'pending', "
        "CAST(e.value ->> 'priority' AS integer), CAST(e.value ->> 'priority' AS integer), 0, "
        "CAST(e.value ->> 'max_attempts' AS integer), CAST(e.value ->> 'scheduled_at' AS timestamptz), "
        "CAST(e.value ->> 'created_at' AS timestamptz), CAST(e.value ->> 'created_at' AS timestamptz), "
        "e.value ->> 'idempotency_key', e.value ->> 'workflow_id', e.value ->> 'parent_id', "
        "e.value ->> 'concurrency_key', e.value ->> 'request_id' "
        "FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS e(value, n) ORDER BY e.n"
    )
    claim_candidates = (
        "SELECT id, type, payload, priority, attempts, max_attempts, scheduled_at, seq, workflow_id, "
        "parent_id, concurrency_key, request_id, claims FROM jobs "
        "WHERE status = 'pending' AND scheduled_at <= :now{exclude} "
        "ORDER BY claim_priority DESC, scheduled_at, seq LIMIT :limit FOR UPDATE SKIP LOCKED"
    )
    claim_update = (
        "UPDATE jobs SET status = 'processing', locked_by = :worker, locked_at = :now, started_at = :now, "
        "attempts = attempts + 1, claims = claims + 1, updated_at = :now "
        "WHERE id = ANY(CAST(:ids AS text[])) AND status = 'pending'"
    )
    complete_many = (
        "UPDATE jobs SET status = 'completed', completed_at = :now, updated_at = :now "
        "FROM jsonb_to_recordset(CAST(:held AS jsonb)) AS held(id text, claims integer) "
        "WHERE jobs.id = held.id AND jobs.claims = held.claims AND jobs.locked_by = :worker "
        "AND jobs.status = 'processing' RETURNING jobs.id"
    )
    aging_candidates = (
        "SELECT id FROM jobs WHERE status = 'pending' AND claim_priority = :level "
        "AND scheduled_at <= :cutoff AND (aged_at IS NULL OR aged_at <= :cutoff) "
        "ORDER BY scheduled_at, seq LIMIT :limit"
    )
    # `claim_priority = :level`: a worker promoting the same jobs at the same time finds them
    # promoted already (the row is re-checked after the other's commit) and leaves them.
    promote = (
        "UPDATE jobs SET claim_priority = :to, aged_at = :now WHERE id = ANY(CAST(:ids AS text[])) "
        "AND status = 'pending' AND claim_priority = :level"
    )
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(url, busy_timeout_ms=busy_timeout_ms)
        self._converted: dict[str, str] = {}

    # ---- connections and transactions --------------------------------------------------------

    def create_engine(self, *, foreign_keys: bool = True, pool_size: int = 10) -> Engine:
        engine = create_engine(self.url, pool_size=pool_size, max_overflow=30, pool_timeout=30, pool_pre_ping=True)
        lock_timeout = int(self.busy_timeout_ms)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: psycopg.Connection[Any], _record: Any) -> None:
            dbapi_conn.autocommit = True  # we BEGIN ourselves, as on SQLite
            dbapi_conn.execute("SET TIME ZONE 'UTC'")
            # Waiting for a row or advisory lock is bounded like SQLite's busy timeout.
            dbapi_conn.execute(f"SET lock_timeout = {lock_timeout}")

        return engine

    def begin_write(self, raw: psycopg.Connection[Any]) -> None:
        raw.execute("BEGIN")

    def begin_read(self, raw: psycopg.Connection[Any]) -> None:
        # One snapshot for every statement of the read, and a promise to write nothing.
        raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self, raw: psycopg.Connection[Any]) -> None:
        raw.execute("COMMIT")

    def rollback(self, raw: psycopg.Connection[Any]) -> None:
        if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raw.execute("ROLLBACK")

    def unavailable(self, exc: BaseException) -> bool:
        # Connection trouble, a lock wait past lock_timeout, a deadlock between claimers.
        transient = (
            psycopg.OperationalError,
            psycopg.errors.LockNotAvailable,
            psycopg.errors.DeadlockDetected,
            psycopg.errors.SerializationFailure,
        )
        return isinstance(exc, transient)

    def serialize(self, tx: Any, key: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(hashtext(:key))", {"key": key})

    # ---- statements ---------------------------------------------------------------------------

    def sql(self, text: str) -> str:
        converted = self._converted.get(text)
        if converted is None:
            converted = _PARAMETER.sub(r"%(\1)s", text.replace("%", "%%"))
            self._converted[text] = converted
        return converted

    @staticmethod
    def to_db(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return moment

    @staticmethod
    def from_db(value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).astimezone(UTC)

    def money_to_db(self, amount: Decimal) -> Decimal:
        return amount

    def list_param(self, ids: list[str]) -> list[str]:
        return list(ids)

    def list_table(self, param: str) -> str:
        return f"unnest(CAST(:{param} AS text[])) AS list(value)"

    def minute_of(self, column: str) -> str:
        return f"date_trunc('minute', {column})"

    # ---- migrations ---------------------------------------------------------------------------

    def numbering_ddl(self) -> list[str]:
        return [
            "CREATE SEQUENCE jobs_seq_seq OWNED BY jobs.seq",
            "SELECT setval('jobs_seq_seq', COALESCE((SELECT MAX(seq) FROM jobs), 0) + 1, false)",
            "ALTER TABLE jobs ALTER COLUMN seq SET DEFAULT nextval('jobs_seq_seq')",
        ]

    def wake_up_ddl(self) -> tuple[list[str], list[str]]:
        notify = f"PERFORM pg_notify('{CHANNEL}', '');"
        return (
            [
                "CREATE FUNCTION shopqueue_notify() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {notify} RETURN NULL; END $$",
                # One per enqueueing statement; PostgreSQL delivers one per transaction.
                "CREATE TRIGGER jobs_enqueued AFTER INSERT ON jobs FOR EACH STATEMENT "
                "EXECUTE FUNCTION shopqueue_notify()",
                # A job made due again (retry now, dead-letter retry, hand-back) or asked to cancel.
                "CREATE TRIGGER jobs_released AFTER UPDATE OF status, cancel_requested ON jobs FOR EACH ROW "
                "WHEN ((NEW.status = 'pending' AND OLD.status <> 'pending') "
                "OR (NEW.cancel_requested = 1 AND OLD.cancel_requested = 0)) EXECUTE FUNCTION shopqueue_notify()",
            ],
            [
                "DROP TRIGGER IF EXISTS jobs_released ON jobs",
                "DROP TRIGGER IF EXISTS jobs_enqueued ON jobs",
                "DROP FUNCTION IF EXISTS shopqueue_notify()",
            ],
        )

    # ---- wake-up ------------------------------------------------------------------------------

    def wake_source(self, *, interval: float, idle_max: float) -> WakeSource:
        return NotificationListener(self._libpq_url())

    def _libpq_url(self) -> str:
        """The URL for psycopg itself: without SQLAlchemy's `+driver` part."""
        return re.sub(r"^postgresql\+\w+://", "postgresql://", self.url)


class NotificationListener(WakeSource):
    """LISTENs on a connection of its own, on a thread of its own; without a connection (the server
    restarting) it wakes the worker every FALLBACK_SECONDS instead, and reconnects."""

    FALLBACK_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, notify: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._run, args=(notify,), name="wake-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3)

    def _run(self, notify: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    notify()  # anything that arrived while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            notify()
            except psycopg.Error as exc:
                log.warning("worker.listen_failed", error=str(exc))
                notify()  # poll instead, until the connection is back
                time.sleep(self.FALLBACK_SECONDS)

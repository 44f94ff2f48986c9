"""The backend seam: everything that differs between database engines, behind one interface.

The queue core, the shop and the API write portable SQL with `:name` parameters and run it through
`shared.db.Tx`; the backend turns that into what its driver expects and supplies the parts no
portable SQL can express: how a connection is set up, how a write transaction begins (SQLite's
write lock), how timestamps are stored, how jobs are numbered and claimed, and how an idle worker
learns that work arrived. Nothing outside the backends branches on the engine.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Engine
from sqlalchemy.types import TypeEngine


class DatabaseUnavailableError(RuntimeError):
    """The database could not be reached or stayed locked past the busy timeout; safe to retry later."""


class WakeSource(abc.ABC):
    """Tells an idle worker, from a thread of its own, that another connection committed."""

    @abc.abstractmethod
    def start(self, notify: Callable[[], None]) -> None:
        """Begin watching; call `notify()` (from any thread) after each foreign commit."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop watching and close the connection; idempotent."""


class Backend(abc.ABC):
    """One database engine. Instances are cheap and stateless apart from their settings."""

    name: ClassVar[str]

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms

    # ---- connections and transactions --------------------------------------------------------

    def ensure_location(self) -> None:
        """Create what must exist before a first connection can make the database (a file's folder)."""
        return

    @abc.abstractmethod
    def create_engine(self, *, foreign_keys: bool = True, pool_size: int = 10) -> Engine:
        """A SQLAlchemy engine (pool and URL handling) whose connections follow this engine's discipline."""

    @abc.abstractmethod
    def begin_write(self, raw: Any) -> None:
        """Start a write transaction on a driver connection, holding the write lock where there is one."""

    @abc.abstractmethod
    def begin_read(self, raw: Any) -> None:
        """Start a read transaction: one consistent snapshot, no write lock."""

    def commit(self, raw: Any) -> None:
        raw.commit()

    def rollback(self, raw: Any) -> None:
        raw.rollback()

    # Every error the driver raises (the DB-API's `Error`), for callers that report rather than crash.
    driver_errors: ClassVar[tuple[type[BaseException], ...]]

    @abc.abstractmethod
    def unavailable(self, exc: BaseException) -> bool:
        """True for errors that mean "the database is busy or unreachable, try again later"."""

    def serialize(self, tx: Any, key: str) -> None:
        """Make concurrent claimers take turns on `key` (a rate window, a concurrency key) until the
        transaction ends. Engines with one writer at a time need nothing."""
        return

    @property
    def serialises_writers(self) -> bool:
        """True when the engine allows one writer at a time (SQLite): a process then funnels its
        writes through one thread instead of letting its threads queue on the engine's lock."""
        return False

    # ---- statements ---------------------------------------------------------------------------

    def sql(self, text: str) -> str:
        """Portable SQL (`:name` parameters) in the driver's own parameter style."""
        return text

    @staticmethod
    @abc.abstractmethod
    def to_db(moment: datetime) -> Any:
        """A timestamp parameter as this engine stores it."""

    @staticmethod
    @abc.abstractmethod
    def from_db(value: Any) -> datetime:
        """A timestamp read back from this engine, as an aware UTC datetime."""

    def money_to_db(self, amount: Decimal) -> Any:
        """An exact amount as this engine's money column takes it."""
        return amount

    def list_param(self, ids: list[str]) -> Any:
        """A list of strings as one parameter; `list_table(name)` expands it into rows."""
        return ids

    @abc.abstractmethod
    def list_table(self, param: str) -> str:
        """A FROM item with one row per element of the list parameter `:param`, in a column `value`."""

    # DDL: the default of the seed's timestamp columns ("now", in this engine's timestamp format),
    # and the column types of timestamps, money and the enqueue order.
    now_default: ClassVar[str]
    timestamp_type: ClassVar[Callable[[], TypeEngine[Any]]]
    money_type: ClassVar[Callable[[], TypeEngine[Any]]]
    sequence_type: ClassVar[Callable[[], TypeEngine[Any]]]

    # ---- migrations ---------------------------------------------------------------------------

    # Execution options of the connection that runs the migrations (SQLite: take the write lock).
    migration_options: ClassVar[dict[str, Any]] = {}

    def numbering_ddl(self) -> list[str]:
        """Statements that make the engine number new jobs (`seq`) itself, run once by revision 0002."""
        return []

    def wake_up_ddl(self) -> tuple[list[str], list[str]]:
        """Statements (upgrade, downgrade) that make commits announce new work, if the engine can."""
        return [], []

    def check_after_migration(self, connection: Any) -> None:
        """Verify what the migration could not (SQLite: foreign keys, which are off during it)."""
        return

    # ---- the queue's engine-specific statements -----------------------------------------------

    # INSERT of one job with parameters :id, :type, :payload, :priority, :max_attempts, :scheduled_at,
    # :created_at, :idempotency_key, :workflow_id, :parent_id, :concurrency_key, numbered by the engine
    # in enqueue order (`seq`), safe with any number of concurrent writers.
    insert_job: ClassVar[str]
    # The same, but only if no unfinished job holds :idempotency_key; RETURNING id when inserted.
    insert_job_unique: ClassVar[str]
    # Many jobs in ONE statement: :rows is a JSON array of objects with the insert_job parameters.
    insert_jobs_json: ClassVar[str]
    # Due candidates in claim order (:now, :limit), locked for this transaction where the engine
    # allows concurrent claimers; columns as `shared.queue.store.CLAIM_COLUMNS`. `{exclude}` is
    # replaced by a filter on excluded types (paused, rate-limited) or by nothing.
    claim_candidates: ClassVar[str]

    # Claim the candidates (:worker, :now, :ids as a list parameter) and complete many plain jobs of
    # one worker at once (:worker, :now, :held as records of id and claims), RETURNING the ids
    # completed. Both find rows by id: the engine must not be tempted by the status index.
    claim_update: ClassVar[str]
    complete_many: ClassVar[str]
    # Aging (shared.queue.aging): the longest-waiting due jobs at claim priority :level, due and not
    # promoted since :cutoff (:limit of them); and their promotion from :level to :to (:ids, :now).
    aging_candidates: ClassVar[str]
    promote: ClassVar[str]
    # Appended to a SELECT of rows to work on: lets concurrent workers pass over each other's rows.
    skip_locked: ClassVar[str] = ""

    @abc.abstractmethod
    def minute_of(self, column: str) -> str:
        """A SQL expression: the timestamp column truncated to its minute, comparable with `to_db`."""

    @abc.abstractmethod
    def wake_source(self, *, interval: float, idle_max: float) -> WakeSource:
        """A watcher for new commits by other connections."""

"""Move a shop from its SQLite file into an empty PostgreSQL database (`shopqueue migrate-to-postgres`).

A one-way tool, so unlike the rest of the code it knows both engines. The SQLite file is read in
one snapshot; PostgreSQL is written in ONE transaction, with its tables locked, through COPY
(psycopg streams rows in the server's bulk-load protocol, far faster than an INSERT per row). Any
refusal or error rolls the whole transaction back: the target is left as it was.

What is copied: every table of the schema but `workers`, the registry of processes attached to
the old database (they are stopped; new workers register themselves). That keeps the queue (every
job with its id, payload, priority, run-at time, attempts, idempotency key and workflow links), the
job history that order pipelines, job timelines and dead-letter retries read, the dead-letter
queue, the `processed_jobs` ledger of effects already done, the remembered responses of
Idempotency-Keys (a client retrying POST /orders after the move gets its first answer, not a
second order), cron schedules with their state and ticks, paused queues, rate windows, metric
counters and sales reports. A job that was running when its worker stopped is handed back as
pending with that attempt given back, as a worker's own shutdown does, or is cancelled if an
operator had asked to cancel it.

"Empty" means what `alembic upgrade head` leaves: no rows but the seeded products and schedules
(replaced by the source's, when the source has them all). Workers already started on the target
only register there, so their rows do not count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Table
from sqlalchemy.engine import make_url

from shared.db.database import Database
from shared.db.metadata import load_metadata
from shared.db.tx import Tx
from shared.db.types import Money, UtcText
from shared.money import money
from shared.queue.backends.sqlite import from_text, to_text
from shared.queue.queries import live_workers

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
LEFT_BEHIND = ("workers",)
# Tables the migrations seed (the three products, the two schedules): the source's rows replace them.
SEEDED = ("products", "cron_schedules")
CHUNK = 1000  # rows fetched from SQLite at a time: memory stays flat however large the file


class TransferError(Exception):
    """The source or the target is not fit for the move, or the copy did not match; nothing was written."""


class TableCount(msgspec.Struct, rename="camel"):
    table: str
    rows: int


class SequenceValue(msgspec.Struct, rename="camel"):
    sequence: str
    next_value: int


class TransferReport(msgspec.Struct, rename="camel"):
    source: str
    target: str
    revision: str
    tables: list[TableCount]  # rows in the source, found again in the target after the copy
    sequences: list[SequenceValue]
    handed_back: int  # running jobs put back to pending
    cancelled: int  # running jobs an operator had asked to cancel
    left_behind: list[str]


def schema_head() -> str:
    """The head revision of the migrations this code ships (the schema its queries expect)."""
    if not ALEMBIC_INI.is_file():
        raise TransferError(f"cannot find {ALEMBIC_INI}: run from the repository or the image")
    head = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()
    if head is None:
        raise TransferError("the migrations have no head revision")
    return head


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def copied_tables() -> list[Table]:
    """Every table of the schema but LEFT_BEHIND, parents before children (foreign keys)."""
    return [table for table in load_metadata().sorted_tables if table.name not in LEFT_BEHIND]


def migrate_to_postgres(source_url: str, target_url: str, *, now: datetime, heartbeat_seconds: float) -> TransferReport:
    """Copy the shop at `source_url` (SQLite) into the empty migrated database at `target_url`."""
    head = schema_head()
    tables = copied_tables()
    source = Database(source_url)
    target = Database(target_url, pool_size=1)
    try:
        with source.read() as src:
            _check_source(src, head, now, heartbeat_seconds)
            # str(): a table name is SQLAlchemy's quoted_name, which the JSON report cannot encode.
            counts = {str(table.name): int(src.scalar(f"SELECT COUNT(*) FROM {table.name}")) for table in tables}
            with target.write() as dst:
                _check_target(dst, src, head, tables)
                running = _copy(src, dst, tables, now)
                sequences = _fix_sequences(dst, tables)
                _verify(dst, counts)
    finally:
        source.dispose()
        target.dispose()
    return TransferReport(
        source=shown(source_url),
        target=shown(target_url),
        revision=head,
        tables=[TableCount(name, rows) for name, rows in counts.items()],
        sequences=sequences,
        handed_back=running.count("pending"),
        cancelled=running.count("cancelled"),
        left_behind=list(LEFT_BEHIND),
    )


# ---- checks -------------------------------------------------------------------------------------


def _check_source(src: Tx, head: str, now: datetime, heartbeat_seconds: float) -> None:
    if src.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'") is None:
        raise TransferError("the source is not a shop database: it has no alembic_version table")
    revision = src.scalar("SELECT version_num FROM alembic_version")
    if revision != head:
        raise TransferError(
            f"the source's schema is at revision {revision}, this code's is {head}: "
            "upgrade the SQLite file first (DATABASE_URL=<the --from URL> alembic upgrade head)"
        )
    live = live_workers(src, now, heartbeat_seconds)
    if live:
        names = ", ".join(worker.id for worker in live)
        raise TransferError(
            f"{len(live)} worker(s) still running on the source ({names}): stop the workers and the API first, "
            "or work done after the copy would be lost or done twice"
        )


def _check_target(dst: Tx, src: Tx, head: str, tables: list[Table]) -> None:
    if dst.scalar("SELECT to_regclass('alembic_version')") is None:
        raise TransferError("the target has no schema: run `alembic upgrade head` with DATABASE_URL set to it first")
    revision = dst.scalar("SELECT version_num FROM alembic_version")
    if revision != head:
        raise TransferError(
            f"the target's schema is at revision {revision}, this code's is {head}: "
            "run `alembic upgrade head` with DATABASE_URL set to it first"
        )
    # Nobody reads or writes these tables until this transaction ends (lock_timeout bounds the wait).
    # Workers already started on the target may keep beating: the registry is not part of the move.
    dst.execute(f"LOCK TABLE {', '.join(table.name for table in tables)} IN ACCESS EXCLUSIVE MODE")
    found = []
    for table in tables:
        if table.name in SEEDED:
            key = table.primary_key.columns.keys()[0]
            theirs = {row[0] for row in dst.all(f"SELECT {key} FROM {table.name}")}
            ours = {row[0] for row in src.all(f"SELECT {key} FROM {table.name}")}
            extra = sorted(theirs - ours)
            if extra:
                found.append(f"{table.name} {', '.join(extra)} (not in the source)")
        elif (rows := int(dst.scalar(f"SELECT COUNT(*) FROM {table.name}"))) > 0:
            found.append(f"{table.name} {rows}")
    if found:
        raise TransferError(f"the target is not empty ({'; '.join(found)}): move into a freshly migrated database")


# ---- the copy -----------------------------------------------------------------------------------


def _converter(column_type: Any) -> Callable[[Any], Any]:
    """SQLite's value of a column as PostgreSQL's column takes it: UTC text to an aware datetime,
    the seed's REAL money to an exact Decimal, anything else as it is."""
    if isinstance(column_type, UtcText):
        return lambda value: None if value is None else from_text(value)
    if isinstance(column_type, Money):
        return lambda value: None if value is None else money(value)
    return lambda value: value


def _rows(src: Tx, table: Table) -> Iterator[tuple[Any, ...]]:
    cursor = src.execute(f"SELECT {', '.join(table.columns.keys())} FROM {table.name}")
    while chunk := cursor.fetchmany(CHUNK):
        yield from chunk


def _copy(src: Tx, dst: Tx, tables: list[Table], now: datetime) -> list[str]:
    """COPY every table; returns what became of each job that was running (its new status)."""
    running: list[str] = []
    for name in reversed(SEEDED):
        dst.execute(f"DELETE FROM {name}")
    for table in tables:
        names = table.columns.keys()
        convert = [_converter(column.type) for column in table.columns]
        rows: Iterable[tuple[Any, ...]] = _rows(src, table)
        if table.name == "jobs":
            rows = _settle_running(rows, names, now, running)
        with dst.raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([fn(value) for fn, value in zip(convert, row, strict=True)])
    return running


def _settle_running(
    rows: Iterable[tuple[Any, ...]], names: list[str], now: datetime, running: list[str]
) -> Iterator[tuple[Any, ...]]:
    """Jobs still `processing` have no worker any more: hand each back as pending with its attempt
    given back (the worker's own shutdown does the same), or cancel it if that was asked."""
    at = {name: i for i, name in enumerate(names)}
    for row in rows:
        if row[at["status"]] != "processing":
            yield row
            continue
        job = list(row)
        if job[at["cancel_requested"]]:
            job[at["status"]] = "cancelled"
            job[at["last_error"]] = "cancelled on request, while moving to PostgreSQL"
        else:
            job[at["status"]] = "pending"
            job[at["attempts"]] = max(int(job[at["attempts"]]) - 1, 0)
        job[at["locked_by"]] = job[at["locked_at"]] = None
        job[at["updated_at"]] = to_text(now)  # converted with the other SQLite timestamps
        running.append(job[at["status"]])
        yield tuple(job)


def _fix_sequences(dst: Tx, tables: list[Table]) -> list[SequenceValue]:
    """Point every sequence past the ids and numbers copied in (jobs.seq, the serial ids)."""
    fixed = []
    for table in tables:
        for column in table.columns:
            sequence = dst.scalar(
                "SELECT pg_get_serial_sequence(:table, :column)", {"table": table.name, "column": column.name}
            )
            if sequence is None:
                continue
            next_value = int(dst.scalar(f"SELECT COALESCE(MAX({column.name}), 0) + 1 FROM {table.name}"))
            dst.execute("SELECT setval(:sequence, :value, false)", {"sequence": sequence, "value": next_value})
            fixed.append(SequenceValue(sequence, next_value))
    return fixed


def _verify(dst: Tx, counts: dict[str, int]) -> None:
    """Every table holds as many rows as the source's; otherwise the transaction is undone."""
    wrong = {
        name: (expected, found)
        for name, expected in counts.items()
        if (found := int(dst.scalar(f"SELECT COUNT(*) FROM {name}"))) != expected
    }
    if wrong:
        details = ", ".join(f"{name}: {found} of {expected}" for name, (expected, found) in wrong.items())
        raise TransferError(f"the copy does not match the source ({details}); nothing was written")

"""The queue's tables. `jobs` keeps the seed's columns; later revisions add what a real queue needs.

These definitions are the schema Alembic compares the database with (`alembic check`); the code
reads and writes them with SQL through `shared.db.Tx`.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.db.base import metadata
from shared.db.types import JobNumber, UtcText, utc_now
from shared.queue.status import JobStatus

UNFINISHED = text("status IN ('pending', 'processing')")
PENDING = text("status = 'pending'")
CANCEL_REQUESTED = text("cancel_requested = 1")
COMPLETED = text("status = 'completed'")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("payload", Text, nullable=False, server_default=text("'{}'")),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False, server_default=text("5")),
    Column("last_error", Text),
    Column("scheduled_at", UtcText, nullable=False, server_default=utc_now()),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    Column("updated_at", UtcText, nullable=False, server_default=utc_now()),
    Column("completed_at", UtcText),
    Column("locked_by", Text),
    Column("locked_at", UtcText),
    # Revision 0002: enqueue order (the TEXT ids carry none) and unique enqueue.
    Column("seq", JobNumber, nullable=False),
    Column("idempotency_key", Text),
    # Revision 0005: the workflow (the order, for shop jobs) and the job that enqueued this one;
    # the priority claims use (raised by aging, when it last was); when the current attempt
    # started; the key of a per-key concurrency limit; a request to cancel a running job.
    Column("workflow_id", Text),
    Column("parent_id", Text),
    Column("claim_priority", Integer, nullable=False, server_default=text("0")),
    Column("aged_at", UtcText),
    Column("started_at", UtcText),
    Column("concurrency_key", Text),
    Column("cancel_requested", Integer, nullable=False, server_default=text("0")),
    # Revision 0007: the HTTP request that enqueued the job, for logs across processes.
    Column("request_id", Text),
    # Revision 0010: how many times the job was claimed; it names one claim (the fencing token),
    # where attempts go back down on a hand-back or a dead-letter retry.
    Column("claims", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("id"),
    CheckConstraint(f"status IN {tuple(s.value for s in JobStatus)!r}", name="status_known"),
)
Index("idx_jobs_status_scheduled", jobs.c.status, jobs.c.scheduled_at)
Index("idx_jobs_type", jobs.c.type)
Index("idx_jobs_seq", jobs.c.seq, unique=True)
Index("idx_jobs_workflow", jobs.c.workflow_id)
# Unique enqueue: at most one unfinished job per idempotency key.
Index(
    "idx_jobs_idempotency_unfinished",
    jobs.c.idempotency_key,
    unique=True,
    sqlite_where=UNFINISHED,
    postgresql_where=UNFINISHED,
)
# Completions by time: the last hour's throughput, rates, and the cleanup of old completed jobs.
Index("idx_jobs_completed_at", jobs.c.completed_at, sqlite_where=COMPLETED, postgresql_where=COMPLETED)
# Running jobs an operator asked to cancel (almost always none: the index stays empty).
Index("idx_jobs_cancel_requested", jobs.c.locked_by, sqlite_where=CANCEL_REQUESTED, postgresql_where=CANCEL_REQUESTED)
# The claim walks this in claim order and stops after LIMIT due rows: no sort of the backlog.
Index(
    "idx_jobs_claim",
    jobs.c.claim_priority.desc(),
    jobs.c.scheduled_at,
    jobs.c.seq,
    sqlite_where=PENDING,
    postgresql_where=PENDING,
)

dead_letter_jobs = Table(
    "dead_letter_jobs",
    metadata,
    Column("id", Text, nullable=False),
    Column("original_job_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("failed_at", UtcText, nullable=False, server_default=utc_now()),
    Column("reviewed", Integer, nullable=False, server_default=text("0")),
    Column("notes", Text),
    PrimaryKeyConstraint("id"),
)
Index("idx_dead_letter_reviewed", dead_letter_jobs.c.reviewed, dead_letter_jobs.c.failed_at)
Index("idx_dead_letter_original", dead_letter_jobs.c.original_job_id)

processed_jobs = Table(
    "processed_jobs",
    metadata,
    Column("job_id", Text, nullable=False),
    Column("processed_at", UtcText, nullable=False, server_default=utc_now()),
    Column("idempotency_key", Text),
    Column("type", Text),
    Column("result", Text),
    PrimaryKeyConstraint("job_id"),
    UniqueConstraint("idempotency_key"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", Text, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("running", Integer, nullable=False, server_default=text("0")),
    Column("started_at", UtcText, nullable=False),
    Column("last_seen_at", UtcText, nullable=False),
    PrimaryKeyConstraint("id"),
    CheckConstraint("status IN ('running', 'stopping', 'stopped')", name="status_known"),
)

# Every failed attempt of a job, for its timeline (the job row keeps only the last error).
job_failures = Table(
    "job_failures",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("job_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("worker_id", Text),
    Column("failed_at", UtcText, nullable=False),
    PrimaryKeyConstraint("id"),
    CheckConstraint("outcome IN ('retried', 'dead_lettered', 'rescued')", name="outcome_known"),
)
Index("idx_job_failures_job", job_failures.c.job_id)
Index("idx_job_failures_failed_at", job_failures.c.failed_at)

# Revision 0006: recurring jobs (the course's table, plus what leader-less cron needs).
cron_schedules = Table(
    "cron_schedules",
    metadata,
    Column("id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("payload", Text, nullable=False, server_default=text("'{}'")),
    Column("cron_expression", Text, nullable=False),
    Column("last_run_at", UtcText),
    Column("next_run_at", UtcText, nullable=False),
    Column("is_active", Integer, nullable=False, server_default=text("1")),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    # May a run start while the previous one is unfinished? 'skip' (log and wait for the next tick)
    # or 'allow'.
    Column("overlap", Text, nullable=False, server_default=text("'skip'")),
    Column("last_job_id", Text),
    PrimaryKeyConstraint("id"),
    CheckConstraint("overlap IN ('skip', 'allow')", name="overlap_known"),
)
Index("idx_cron_schedules_due", cron_schedules.c.is_active, cron_schedules.c.next_run_at)

# One row per schedule and tick, written in the transaction that enqueues the tick's job: the
# primary key makes each tick fire once however many workers tick (as Solid Queue and procrastinate do).
cron_runs = Table(
    "cron_runs",
    metadata,
    Column("schedule_id", Text, nullable=False),
    Column("fire_at", UtcText, nullable=False),
    Column("job_id", Text),
    Column("outcome", Text, nullable=False),
    Column("recorded_at", UtcText, nullable=False),
    PrimaryKeyConstraint("schedule_id", "fire_at"),
    CheckConstraint("outcome IN ('enqueued', 'skipped', 'manual')", name="outcome_known"),
)

# Every start of a rate-limited job type, for a sliding window shared by all workers.
rate_limit_starts = Table(
    "rate_limit_starts",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("limit_key", Text, nullable=False),
    Column("started_at", UtcText, nullable=False),
    Column("job_id", Text, nullable=False),
    PrimaryKeyConstraint("id"),
)
Index("idx_rate_limit_starts_key", rate_limit_starts.c.limit_key, rate_limit_starts.c.started_at)

# Job types no worker claims for now: their jobs stay pending.
queue_pauses = Table(
    "queue_pauses",
    metadata,
    Column("type", Text, nullable=False),
    Column("paused_at", UtcText, nullable=False),
    Column("reason", Text),
    PrimaryKeyConstraint("type"),
)

# Monotonic totals the workers add to (Prometheus counters and histogram buckets): the API exposes
# them at scrape time, so the figures are right whichever container ran the jobs (revision 0007).
queue_counters = Table(
    "queue_counters",
    metadata,
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("le", Text, nullable=False, server_default=text("''")),  # a histogram bucket's bound, or ''
    Column("value", Float, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("name", "type", "le"),
)

"""The queue's tables. `jobs` keeps the seed's columns; later revisions add what a real queue needs.

These definitions are the schema Alembic compares the database with (`alembic check`); the code
reads and writes them with SQL through `shared.db.Tx`.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.db.base import metadata
from shared.db.types import UtcText, utc_now
from shared.queue.status import JobStatus

UNFINISHED = text("status IN ('pending', 'processing')")
PENDING = text("status = 'pending'")
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
    Column("seq", Integer, nullable=False),
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

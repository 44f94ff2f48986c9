"""The queue's tables. `jobs` keeps the seed's columns; later revisions add what a real queue needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcText

SQLITE_NOW = text("(datetime('now'))")
JOB_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
UNFINISHED = "status IN ('pending', 'processing')"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status_known"),
        Index("idx_jobs_status_scheduled", "status", "scheduled_at"),
        Index("idx_jobs_type", "type"),
        Index("idx_jobs_seq", "seq", unique=True),
        Index("idx_jobs_correlation", "correlation_id"),
        # Unique enqueue: at most one unfinished job per idempotency key.
        Index(
            "idx_jobs_idempotency_unfinished",
            "idempotency_key",
            unique=True,
            sqlite_where=text(UNFINISHED),
            postgresql_where=text(UNFINISHED),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    last_error: Mapped[str | None] = mapped_column(Text)
    scheduled_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)
    created_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)
    updated_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)
    completed_at: Mapped[datetime | None] = mapped_column(UtcText)
    locked_by: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None] = mapped_column(UtcText)
    # Added by revision 0002: enqueue order (the TEXT ids carry none), unique enqueue, and a
    # correlation id (the order id for shop jobs) so an order's pipeline is one indexed lookup.
    seq: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(Text)


# The claim walks this in claim order and stops after LIMIT due rows: no sort of the backlog.
Index(
    "idx_jobs_claim",
    Job.priority.desc(),
    Job.scheduled_at,
    Job.seq,
    sqlite_where=text("status = 'pending'"),
    postgresql_where=text("status = 'pending'"),
)


class DeadLetterJob(Base):
    """A job that spent its attempts or can never run (the course's table)."""

    __tablename__ = "dead_letter_jobs"
    __table_args__ = (
        Index("idx_dead_letter_reviewed", "reviewed", "failed_at"),
        Index("idx_dead_letter_original", "original_job_id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    original_job_id: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)
    reviewed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    notes: Mapped[str | None] = mapped_column(Text)


class ProcessedJob(Base):
    """What a handler did, keyed by the step's stable key (the course's table, extended)."""

    __tablename__ = "processed_jobs"

    job_id: Mapped[str] = mapped_column(Text, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)
    idempotency_key: Mapped[str | None] = mapped_column(Text, unique=True)
    type: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)


class WorkerRecord(Base):
    """A worker process's identity and liveness, refreshed by its heartbeat."""

    __tablename__ = "workers"
    __table_args__ = (CheckConstraint("status IN ('running', 'stopping', 'stopped')", name="status_known"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    hostname: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    concurrency: Mapped[int] = mapped_column(Integer)
    running: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    started_at: Mapped[datetime] = mapped_column(UtcText)
    last_seen_at: Mapped[datetime] = mapped_column(UtcText)

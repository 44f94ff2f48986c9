"""Read queries about the queue, in one place: /health, the worker healthcheck, the order view,
the admin API, metrics and the CLI all ask through these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db.tx import Tx
from shared.queue.policy import live_since
from shared.queue.status import JobStatus

JOB_COLUMNS = (
    "id, type, payload, status, priority, attempts, max_attempts, last_error, scheduled_at, created_at, "
    "updated_at, completed_at, locked_by, locked_at, seq, idempotency_key, workflow_id, parent_id, started_at"
)


@dataclass(frozen=True)
class JobRow:
    id: str
    type: str
    payload: str
    status: JobStatus
    priority: int
    attempts: int
    max_attempts: int
    last_error: str | None
    scheduled_at: datetime
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    locked_by: str | None
    locked_at: datetime | None
    seq: int
    idempotency_key: str | None
    workflow_id: str | None
    parent_id: str | None
    started_at: datetime | None


def _job(tx: Tx, row: tuple[Any, ...]) -> JobRow:
    return JobRow(
        id=row[0],
        type=row[1],
        payload=row[2],
        status=JobStatus(row[3]),
        priority=row[4],
        attempts=row[5],
        max_attempts=row[6],
        last_error=row[7],
        scheduled_at=tx.dt(row[8]),
        created_at=tx.dt(row[9]),
        updated_at=tx.dt(row[10]),
        completed_at=tx.dt_or_none(row[11]),
        locked_by=row[12],
        locked_at=tx.dt_or_none(row[13]),
        seq=row[14],
        idempotency_key=row[15],
        workflow_id=row[16],
        parent_id=row[17],
        started_at=tx.dt_or_none(row[18]),
    )


def job(tx: Tx, job_id: str) -> JobRow | None:
    row = tx.one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = :id", {"id": job_id})
    return None if row is None else _job(tx, row)


def jobs_in_workflow(tx: Tx, workflow_id: str) -> list[JobRow]:
    """Every job of a workflow (an order's pipeline), in enqueue order."""
    rows = tx.all(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE workflow_id = :workflow ORDER BY seq",
        {"workflow": workflow_id},
    )
    return [_job(tx, row) for row in rows]


@dataclass(frozen=True)
class UnfinishedCounts:
    pending: int
    processing: int


def unfinished_counts(tx: Tx) -> UnfinishedCounts:
    """Pending and processing jobs (one indexed query: status leads idx_jobs_status_scheduled)."""
    rows = tx.all("SELECT status, COUNT(*) FROM jobs WHERE status IN ('pending', 'processing') GROUP BY status")
    counts = {status: int(count) for status, count in rows}
    return UnfinishedCounts(counts.get(JobStatus.PENDING, 0), counts.get(JobStatus.PROCESSING, 0))


def counts_by_type_and_status(tx: Tx) -> list[tuple[str, JobStatus, int]]:
    rows = tx.all("SELECT type, status, COUNT(*) FROM jobs GROUP BY type, status ORDER BY type, status")
    return [(job_type, JobStatus(status), int(count)) for job_type, status, count in rows]


def oldest_pending(tx: Tx, now: datetime) -> datetime | None:
    """When the job that has waited longest became due (None when nothing is due)."""
    return tx.dt_or_none(
        tx.scalar(
            "SELECT MIN(scheduled_at) FROM jobs WHERE status = 'pending' AND scheduled_at <= :now", {"now": tx.ts(now)}
        )
    )


@dataclass(frozen=True)
class WorkerRow:
    id: str
    hostname: str
    pid: int
    status: str
    concurrency: int
    running: int
    started_at: datetime
    last_seen_at: datetime


def live_workers(tx: Tx, now: datetime, heartbeat_seconds: float, *, hostname: str | None = None) -> list[WorkerRow]:
    """Workers that beat within the liveness window (policy.MISSED_BEATS heartbeats), optionally on one host."""
    sql = (
        "SELECT id, hostname, pid, status, concurrency, running, started_at, last_seen_at FROM workers "
        "WHERE status != 'stopped' AND last_seen_at >= :since"
    )
    params: dict[str, Any] = {"since": tx.ts(live_since(now, heartbeat_seconds))}
    if hostname is not None:
        sql += " AND hostname = :hostname"
        params["hostname"] = hostname
    rows = tx.all(sql + " ORDER BY started_at", params)
    return [WorkerRow(r[0], r[1], r[2], r[3], r[4], r[5], tx.dt(r[6]), tx.dt(r[7])) for r in rows]


@dataclass(frozen=True)
class DeadLetterRow:
    id: str
    original_job_id: str
    type: str
    payload: str
    attempts: int
    last_error: str | None
    failed_at: datetime
    reviewed: bool
    notes: str | None


def dead_letters(tx: Tx, *, unreviewed_only: bool = False, limit: int = 100) -> list[DeadLetterRow]:
    where = "WHERE reviewed = 0 " if unreviewed_only else ""
    rows = tx.all(
        "SELECT id, original_job_id, type, payload, attempts, last_error, failed_at, reviewed, notes "
        f"FROM dead_letter_jobs {where}ORDER BY failed_at, id LIMIT :limit",
        {"limit": limit},
    )
    return [DeadLetterRow(r[0], r[1], r[2], r[3], r[4], r[5], tx.dt(r[6]), bool(r[7]), r[8]) for r in rows]

"""Every statement a worker runs on the jobs table. Each runs inside a short `db.write()`.

Every write on a claimed job is fenced on (id, locked_by, attempts, status='processing'): a
worker that lost its lease (rescued, then claimed again elsewhere) cannot change anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, TextualSelect, Update, and_, func, insert, select, text, update

from shared.clock import to_db
from shared.db.sql import Executor, affected, dialect_name
from shared.queue.models import DeadLetterJob, Job


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds: the claim token is (locked_by, attempts)."""

    id: str
    type: str
    payload: str
    priority: int
    attempts: int
    max_attempts: int
    scheduled_at: datetime
    seq: int
    locked_by: str
    correlation_id: str | None = field(default=None, compare=False)


def _held(job: ClaimedJob) -> ColumnElement[bool]:
    return and_(
        Job.id == job.id,
        Job.locked_by == job.locked_by,
        Job.attempts == job.attempts,
        Job.status == "processing",
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Job.status == "pending", Job.scheduled_at <= now)


def has_due_work(session: Executor, now: datetime) -> bool:
    """A cheap read (no write lock) to decide whether claiming is worth a write transaction."""
    return session.execute(select(Job.id).where(_due(now)).limit(1)).first() is not None


def next_due_at(session: Executor) -> datetime | None:
    due: datetime | None = session.execute(
        select(func.min(Job.scheduled_at)).where(Job.status == "pending")
    ).scalar_one()
    return due


# SQLite's planner, without statistics, prefers (status, scheduled_at) and sorts every due job;
# INDEXED BY makes it walk the claim-order index and read only the rows it takes (measured: 31 ms
# -> 0.01 ms per claim with 150,000 due jobs). The partial index needs the literal 'pending'.
_SQLITE_CANDIDATES = text(
    "SELECT id FROM jobs INDEXED BY idx_jobs_claim "
    "WHERE status = 'pending' AND scheduled_at <= :now "
    "ORDER BY priority DESC, scheduled_at, seq LIMIT :limit"
).columns(Job.id)


def claim_statement(dialect: str, worker_id: str, limit: int, now: datetime) -> Update:
    """One UPDATE claiming up to `limit` due jobs: highest priority, then oldest, then FIFO."""
    candidates: TextualSelect | ScalarSelect[str]
    if dialect == "sqlite":
        candidates = _SQLITE_CANDIDATES.bindparams(now=to_db(now), limit=limit)
    else:
        candidates = (
            select(Job.id)
            .where(_due(now))
            .order_by(Job.priority.desc(), Job.scheduled_at, Job.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    return (
        update(Job)
        .where(Job.id.in_(candidates), Job.status == "pending")
        .values(
            status="processing",
            locked_by=worker_id,
            locked_at=now,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(
            Job.id,
            Job.type,
            Job.payload,
            Job.priority,
            Job.attempts,
            Job.max_attempts,
            Job.scheduled_at,
            Job.seq,
            Job.correlation_id,
        )
    )


def claim(session: Executor, worker_id: str, limit: int, now: datetime) -> list[ClaimedJob]:
    """Claim up to `limit` due jobs in one statement (see claim_statement)."""
    rows = session.execute(claim_statement(dialect_name(session), worker_id, limit, now)).all()
    jobs = [
        ClaimedJob(
            id=r.id,
            type=r.type,
            payload=r.payload,
            priority=r.priority,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
            scheduled_at=r.scheduled_at,
            seq=r.seq,
            locked_by=worker_id,
            correlation_id=r.correlation_id,
        )
        for r in rows
    ]
    jobs.sort(key=lambda j: (-j.priority, j.scheduled_at, j.seq))
    return jobs


def complete(session: Executor, job: ClaimedJob, now: datetime) -> bool:
    """Mark the job completed; False if this worker no longer holds it."""
    return (
        affected(
            session,
            update(Job).where(_held(job)).values(status="completed", completed_at=now, updated_at=now),
        )
        == 1
    )


def retry_later(session: Executor, job: ClaimedJob, error: str, run_at: datetime, now: datetime) -> bool:
    return (
        affected(
            session,
            update(Job)
            .where(_held(job))
            .values(
                status="pending", last_error=error, scheduled_at=run_at, locked_by=None, locked_at=None, updated_at=now
            ),
        )
        == 1
    )


def dead_letter(session: Executor, job: ClaimedJob, error: str, now: datetime) -> bool:
    """Fail the job for good and file it in the dead-letter queue, in the same transaction."""
    failed = update(Job).where(_held(job)).values(status="failed", last_error=error, updated_at=now)
    if affected(session, failed) != 1:
        return False
    _file_dead_letter(
        session, job_id=job.id, job_type=job.type, payload=job.payload, attempts=job.attempts, error=error, now=now
    )
    return True


def _file_dead_letter(
    session: Executor, *, job_id: str, job_type: str, payload: str, attempts: int, error: str | None, now: datetime
) -> None:
    session.execute(
        insert(DeadLetterJob).values(
            id=str(uuid.uuid4()),
            original_job_id=job_id,
            type=job_type,
            payload=payload,
            attempts=attempts,
            last_error=error,
            failed_at=now,
            reviewed=0,
        )
    )


def hand_back(session: Executor, job: ClaimedJob, now: datetime) -> bool:
    """Return an unfinished job on shutdown without spending the attempt it was claimed with."""
    return (
        affected(
            session,
            update(Job)
            .where(_held(job))
            .values(status="pending", attempts=Job.attempts - 1, locked_by=None, locked_at=None, updated_at=now),
        )
        == 1
    )


def refresh_locks(session: Executor, worker_id: str, job_ids: list[str], now: datetime) -> int:
    """Heartbeat: push `locked_at` forward on the jobs this worker still holds."""
    if not job_ids:
        return 0
    held = and_(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.status == "processing")
    return affected(session, update(Job).where(held).values(locked_at=now))


def has_expired_locks(session: Executor, cutoff: datetime) -> bool:
    """A read, so an idle worker takes the write lock only when there is something to rescue."""
    expired = and_(Job.status == "processing", Job.locked_at < cutoff)
    return session.execute(select(Job.id).where(expired).limit(1)).first() is not None


@dataclass(frozen=True)
class Rescue:
    requeued: list[str]
    dead: list[str]


def rescue_expired(session: Executor, cutoff: datetime, now: datetime) -> Rescue:
    """Jobs whose lock is older than the lease: back to pending (the attempt stays counted), or
    to the dead-letter queue when that was their last attempt."""
    expired = and_(Job.status == "processing", Job.locked_at < cutoff)
    error = "lease expired: the worker stopped heartbeating (crashed or stalled)"
    dead = session.execute(
        update(Job)
        .where(expired, Job.attempts >= Job.max_attempts)
        .values(status="failed", last_error=error, updated_at=now)
        .returning(Job.id, Job.type, Job.payload, Job.attempts)
    ).all()
    for row in dead:
        _file_dead_letter(
            session, job_id=row.id, job_type=row.type, payload=row.payload, attempts=row.attempts, error=error, now=now
        )
    requeued = (
        session.execute(
            update(Job)
            .where(expired)
            .values(
                status="pending", last_error=error, locked_by=None, locked_at=None, scheduled_at=now, updated_at=now
            )
            .returning(Job.id)
        )
        .scalars()
        .all()
    )
    return Rescue(requeued=list(requeued), dead=[row.id for row in dead])

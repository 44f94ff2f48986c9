"""Put jobs into every state an operator meets, through the queue's own functions (enqueue, claim,
settle), as the worker and the API would: due, scheduled, running, completed, retried, dead-lettered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.clock import utcnow
from shared.db import Database
from shared.queue import ClaimedJob, enqueue, queries
from shared.queue.loading import load_job_types
from shared.queue.policy import QueuePolicy
from shared.queue.store import Kind, Outcome, claim, settle
from shared.queue.workers import register

TYPES = load_job_types(["shared.shop.jobs"])
WORKER = "host-a:17:cafe"
POLICY = QueuePolicy(retry_base_seconds=60, retry_max_seconds=60)


def email(to: str = "ops@shop.test") -> dict[str, Any]:
    return {"to": to, "subject": "hello"}


def add_job(
    db: Database,
    job_type: str = "send_email",
    payload: Mapping[str, Any] | None = None,
    *,
    delay: float | None = None,
    workflow_id: str | None = None,
    key: str | None = None,
    at: datetime | None = None,
) -> str:
    """Enqueue one job (an email unless told), due now unless delayed; `at` is its creation time."""
    with db.write() as tx:
        return enqueue(
            tx,
            TYPES.get(job_type),
            email() if payload is None else payload,
            delay=delay,
            workflow_id=workflow_id,
            idempotency_key=key,
            clock=lambda: at or utcnow(),
        )


def start_worker(db: Database, worker_id: str = WORKER) -> None:
    """Register a live worker (it has just beaten)."""
    with db.write() as tx:
        register(tx, worker_id, 4, utcnow())


def take(db: Database, count: int = 1, worker_id: str = WORKER, at: datetime | None = None) -> list[ClaimedJob]:
    """Claim the next `count` due jobs (priority, then age) for the worker: they are running now."""
    with db.write() as tx:
        claimed = claim(tx, worker_id, count, at or utcnow()).jobs
    assert len(claimed) == count
    return claimed


def finish(
    db: Database, jobs: list[ClaimedJob], kind: Kind, error: str | None = None, at: datetime | None = None
) -> None:
    """Settle running jobs as the worker would: completed, a failed attempt (retried later) or dead."""
    with db.write() as tx:
        settled = settle(tx, [Outcome(job, kind, error=error) for job in jobs], at or utcnow(), POLICY)
    assert all(result.applied is kind for result in settled)


def run(db: Database, kind: Kind, error: str | None = None, at: datetime | None = None, **job: Any) -> str:
    """Enqueue a job and run it to the given end at once (all at `at`, default now); returns its id."""
    job_id = add_job(db, at=at, **job)
    claimed = take(db, at=at)
    assert claimed[0].id == job_id
    finish(db, claimed, kind, error, at)
    return job_id


def dead_letter(
    db: Database,
    error: str,
    job_type: str = "send_email",
    payload: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> str:
    """A job that failed for good (at `at`, default now); returns its dead-letter entry's id."""
    job_id = run(db, Kind.DEAD, error, at, job_type=job_type, payload=payload)
    with db.read() as tx:
        detail = queries.job_detail(tx, job_id)
    assert detail is not None
    return detail.dead_letters[0].id


def job_row(db: Database, job_id: str) -> queries.JobRow:
    with db.read() as tx:
        found = queries.job(tx, job_id)
    assert found is not None
    return found


def job_count(db: Database) -> int:
    with db.read() as tx:
        return int(tx.scalar("SELECT COUNT(*) FROM jobs"))

"""Jobs for operators: browse, inspect, enqueue, cancel, retry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from shared.admin import cursors
from shared.admin.common import View, stored_json
from shared.admin.dead_letters import DeadLetterView, dead_letter_view
from shared.admin.timeline import TimelineEvent, timeline
from shared.clock import to_api
from shared.db import Tx
from shared.errors import FieldError
from shared.queue import operations, queries
from shared.queue.errors import EnqueueError, NotFoundError
from shared.queue.producer import enqueue
from shared.queue.registry import JobTypes

# Bounds of what an operator may ask for when enqueueing (the API's body and the CLI's options).
MAX_PRIORITY = 100
MAX_ATTEMPTS = 100
MAX_DELAY_SECONDS = 366 * 24 * 3600
# A payload is stored in the jobs table and read by every claim of it: a reference to the data, not
# the data. This bound holds whatever MAX_BODY_BYTES is set to.
MAX_PAYLOAD_BYTES = 32 * 1024


class PayloadTooLargeError(EnqueueError):
    def __init__(self, size: int) -> None:
        problem = f"{size} bytes as JSON, more than the limit of {MAX_PAYLOAD_BYTES}"
        super().__init__(f"the payload is too large: {problem}", [FieldError("payload", problem)])


class JobView(View):
    id: str
    type: str
    status: str
    priority: int
    attempts: int
    max_attempts: int
    last_error: str | None
    scheduled_at: str
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    locked_by: str | None
    workflow_id: str | None
    parent_id: str | None
    idempotency_key: str | None


class JobPage(View):
    jobs: list[JobView]  # newest first
    next_cursor: str | None  # pass as `cursor` for the next (older) page; None on the last page


class FailureView(View):
    attempt: int
    error: str
    outcome: str  # retried, rescued (its worker died) or dead_lettered
    worker_id: str | None
    failed_at: str


class JobDetailView(JobView):
    payload: Any
    request_id: str | None  # the HTTP request that enqueued it (children inherit their parent's)
    cancel_requested: bool
    failures: list[FailureView]
    timeline: list[TimelineEvent]
    children: list[JobView]
    dead_letters: list[DeadLetterView]


class CancelView(View):
    outcome: str  # cancelled (it was waiting) or cancel_requested (its worker stops it)
    job: JobView


@dataclass(frozen=True)
class Enqueued:
    job: JobView
    created: bool  # False: an unfinished job already held the idempotency key, and this is it


def job_view(job: queries.JobRow) -> JobView:
    return JobView(**_job_fields(job))


def _job_fields(job: queries.JobRow) -> dict[str, Any]:
    return {
        "id": job.id,
        "type": job.type,
        "status": job.status.value,
        "priority": job.priority,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "last_error": job.last_error,
        "scheduled_at": to_api(job.scheduled_at) or "",
        "created_at": to_api(job.created_at) or "",
        "updated_at": to_api(job.updated_at) or "",
        "started_at": to_api(job.started_at),
        "completed_at": to_api(job.completed_at),
        "locked_by": job.locked_by,
        "workflow_id": job.workflow_id,
        "parent_id": job.parent_id,
        "idempotency_key": job.idempotency_key,
    }


def get_job(tx: Tx, job_id: str) -> JobView:
    found = queries.job(tx, job_id)
    if found is None:
        raise NotFoundError(f"job {job_id!r} not found")
    return job_view(found)


def list_jobs(tx: Tx, where: queries.JobFilter, *, limit: int, cursor: str | None, now: datetime) -> JobPage:
    page = queries.list_jobs(tx, where, limit=limit, before_seq=cursors.job_position(cursor), now=now)
    return JobPage(
        jobs=[job_view(job) for job in page.jobs],
        next_cursor=None if page.next_cursor is None else cursors.job_cursor(page.next_cursor),
    )


def job_detail(tx: Tx, job_id: str) -> JobDetailView:
    detail = queries.job_detail(tx, job_id)
    if detail is None:
        raise NotFoundError(f"job {job_id!r} not found")
    return JobDetailView(
        **_job_fields(detail.job),
        payload=stored_json(detail.job.payload),
        request_id=detail.request_id,
        cancel_requested=detail.cancel_requested,
        failures=[
            FailureView(
                attempt=f.attempt,
                error=f.error,
                outcome=f.outcome,
                worker_id=f.worker_id,
                failed_at=to_api(f.failed_at) or "",
            )
            for f in detail.failures
        ],
        timeline=timeline(detail),
        children=[job_view(child) for child in detail.children],
        dead_letters=[dead_letter_view(letter) for letter in detail.dead_letters],
    )


def enqueue_job(
    tx: Tx,
    job_types: JobTypes,
    job_type: str,
    payload: Mapping[str, Any],
    *,
    now: datetime,
    priority: int | None = None,
    scheduled_at: datetime | None = None,
    delay_seconds: float | None = None,
    max_attempts: int | None = None,
    idempotency_key: str | None = None,
) -> Enqueued:
    """Enqueue a job of a known type; the payload and options are checked before anything is written
    (EnqueueError). With the idempotency key of an unfinished job, that job is returned instead."""
    kind = job_types.get(job_type)
    size = len(msgspec.json.encode(payload))
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(size)
    existing = None if idempotency_key is None else queries.unfinished_with_key(tx, idempotency_key)
    job_id = enqueue(
        tx,
        kind,
        payload,
        priority=priority,
        scheduled_at=scheduled_at,
        delay=delay_seconds,
        max_attempts=max_attempts,
        idempotency_key=idempotency_key,
        clock=lambda: now,
    )
    return Enqueued(get_job(tx, job_id), created=existing is None)


def cancel_job(tx: Tx, job_id: str, now: datetime) -> CancelView:
    """A waiting job is cancelled; a running one is asked to stop; a finished one is refused."""
    outcome = operations.cancel(tx, job_id, now)
    return CancelView(outcome=outcome.value, job=get_job(tx, job_id))


def retry_job(tx: Tx, job_id: str, now: datetime) -> JobView:
    """A failed job runs again with fresh attempts; a waiting one becomes due at once."""
    operations.retry_job(tx, job_id, now)
    return get_job(tx, job_id)

"""Enqueue: one INSERT in the caller's transaction, so business rows and their jobs commit together."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import func, insert, select

from shared.clock import Clock, utcnow
from shared.db.sql import Executor, upsert
from shared.queue.errors import EnqueueError, FieldError
from shared.queue.models import Job
from shared.queue.registry import JobRegistry

_UNFINISHED = Job.status.in_(("pending", "processing"))


def enqueue(
    session: Executor,
    type: str,
    payload: Mapping[str, Any] | msgspec.Struct,
    *,
    registry: JobRegistry,
    priority: int | None = None,
    scheduled_at: datetime | None = None,
    delay: float | timedelta | None = None,
    max_attempts: int | None = None,
    idempotency_key: str | None = None,
    clock: Clock = utcnow,
) -> str:
    """Validate and insert a job; return its id.

    With an `idempotency_key` that an unfinished job already holds, nothing is inserted and that
    job's id is returned (unique enqueue, as Oban and River users expect).
    Raises EnqueueError (UnknownJobType, InvalidPayload) before writing anything.
    """
    job_type = registry.get(type)
    body = job_type.validate(payload)
    if scheduled_at is not None and delay is not None:
        raise EnqueueError("give scheduled_at or delay, not both", [FieldError("delay", "conflicts")])
    attempts_allowed = job_type.max_attempts if max_attempts is None else max_attempts
    if attempts_allowed < 1:
        raise EnqueueError("max_attempts must be at least 1", [FieldError("maxAttempts", "must be >= 1")])
    if idempotency_key is not None and not idempotency_key.strip():
        raise EnqueueError("idempotency_key must not be blank", [FieldError("idempotencyKey", "blank")])
    now = clock()
    if delay is not None:
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        if seconds < 0:
            raise EnqueueError("delay must not be negative", [FieldError("delay", "negative")])
        scheduled_at = now + timedelta(seconds=seconds)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise EnqueueError("scheduled_at must be timezone-aware", [FieldError("scheduledAt", "naive")])

    job_id = str(uuid.uuid4())
    values = {
        "id": job_id,
        "type": type,
        "payload": job_type.encode(body),
        "status": "pending",
        "priority": job_type.priority if priority is None else priority,
        "attempts": 0,
        "max_attempts": attempts_allowed,
        "scheduled_at": scheduled_at or now,
        "created_at": now,
        "updated_at": now,
        # Enqueue order. Writers are serialised (BEGIN IMMEDIATE on SQLite), so MAX+1 is race-free
        # and cheap through the unique index on seq.
        "seq": select(func.coalesce(func.max(Job.seq), 0) + 1).scalar_subquery(),
        "idempotency_key": idempotency_key,
        "correlation_id": job_type.correlate(body) if job_type.correlate else None,
    }
    if idempotency_key is None:
        session.execute(insert(Job).values(values))
        return job_id
    statement = (
        upsert(session, Job)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Job.idempotency_key], index_where=_UNFINISHED)
        .returning(Job.id)
    )
    inserted = session.execute(statement).scalar_one_or_none()
    if inserted is not None:
        return inserted
    existing = session.execute(select(Job.id).where(Job.idempotency_key == idempotency_key, _UNFINISHED)).scalar_one()
    return existing

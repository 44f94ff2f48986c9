"""Enqueue: INSERTs in the caller's transaction, so business rows and their jobs commit together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from shared.clock import Clock, utcnow
from shared.db.tx import Tx
from shared.errors import FieldError
from shared.ids import new_id
from shared.queue.errors import EnqueueError

if TYPE_CHECKING:
    from shared.queue.registry import JobType

UNFINISHED_WITH_KEY = "SELECT id FROM jobs WHERE idempotency_key = :key AND status IN ('pending', 'processing')"


@dataclass(frozen=True)
class JobSpec:
    """One job to enqueue, with its options (for `enqueue_many`)."""

    job_type: JobType[Any]
    payload: Mapping[str, Any] | msgspec.Struct
    priority: int | None = None
    scheduled_at: datetime | None = None
    delay: float | timedelta | None = None
    max_attempts: int | None = None
    idempotency_key: str | None = None
    workflow_id: str | None = None
    parent_id: str | None = None
    request_id: str | None = None


def enqueue(
    tx: Tx,
    job_type: JobType[Any],
    payload: Mapping[str, Any] | msgspec.Struct,
    *,
    priority: int | None = None,
    scheduled_at: datetime | None = None,
    delay: float | timedelta | None = None,
    max_attempts: int | None = None,
    idempotency_key: str | None = None,
    workflow_id: str | None = None,
    parent_id: str | None = None,
    request_id: str | None = None,
    clock: Clock = utcnow,
) -> str:
    """Validate and insert a job; return its id.

    With an `idempotency_key` that an unfinished job already holds, nothing is inserted and that
    job's id is returned (unique enqueue, as Oban and River users expect).
    Raises EnqueueError (UnknownJobType, InvalidPayload, bad options) before writing anything.
    """
    spec = JobSpec(
        job_type,
        payload,
        priority,
        scheduled_at,
        delay,
        max_attempts,
        idempotency_key,
        workflow_id,
        parent_id,
        request_id,
    )
    row = _row(tx, spec, clock())
    if idempotency_key is None:
        tx.execute(tx.backend.insert_job, row)
        return str(row["id"])
    return _insert_unique(tx, row)


def enqueue_many(tx: Tx, specs: Sequence[JobSpec], *, clock: Clock = utcnow) -> list[str]:
    """Validate every job first (nothing is written if one is refused), then insert them numbered in
    the order given: each run of jobs without an idempotency key in ONE statement, and each job with
    a key on its own, since it may find an unfinished twin."""
    now = clock()
    rows = [_row(tx, spec, now) for spec in specs]
    ids: list[str] = []
    run: list[dict[str, Any]] = []
    for row in rows:
        if row["idempotency_key"] is None:
            run.append(row)
            ids.append(str(row["id"]))
            continue
        _insert_run(tx, run)
        run = []
        ids.append(_insert_unique(tx, row))
    _insert_run(tx, run)
    return ids


def _insert_run(tx: Tx, rows: list[dict[str, Any]]) -> None:
    if rows:
        tx.execute(tx.backend.insert_jobs_json, {"rows": msgspec.json.encode(rows).decode()})


def _insert_unique(tx: Tx, row: dict[str, Any]) -> str:
    """Insert unless an unfinished job holds the row's idempotency key; the id of the job that does."""
    inserted = tx.scalar(tx.backend.insert_job_unique, row)
    if inserted is not None:
        return str(inserted)
    return str(tx.scalar(UNFINISHED_WITH_KEY, {"key": row["idempotency_key"]}))


def _row(tx: Tx, spec: JobSpec, now: datetime) -> dict[str, Any]:
    job_type = spec.job_type
    body = job_type.validate(spec.payload)
    scheduled_at = spec.scheduled_at
    if scheduled_at is not None and spec.delay is not None:
        raise EnqueueError("give scheduled_at or delay, not both", [FieldError("delay", "conflicts with scheduledAt")])
    attempts_allowed = job_type.max_attempts if spec.max_attempts is None else spec.max_attempts
    if attempts_allowed < 1:
        raise EnqueueError("max_attempts must be at least 1", [FieldError("maxAttempts", "must be >= 1")])
    key = spec.idempotency_key
    if key is not None and not key.strip():
        raise EnqueueError("idempotency_key must not be blank", [FieldError("idempotencyKey", "blank")])
    if spec.delay is not None:
        seconds = spec.delay.total_seconds() if isinstance(spec.delay, timedelta) else float(spec.delay)
        if seconds < 0:
            raise EnqueueError("delay must not be negative", [FieldError("delay", "negative")])
        scheduled_at = now + timedelta(seconds=seconds)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise EnqueueError("scheduled_at must be timezone-aware", [FieldError("scheduledAt", "naive")])
    workflow_id = spec.workflow_id
    if workflow_id is None and job_type.workflow is not None:
        workflow_id = job_type.workflow(body)
    return {
        "id": new_id(),
        "type": job_type.name,
        "payload": job_type.encode(body),
        "priority": job_type.priority if spec.priority is None else spec.priority,
        "max_attempts": attempts_allowed,
        "scheduled_at": tx.ts(scheduled_at or now),
        "created_at": tx.ts(now),
        "idempotency_key": key,
        "workflow_id": workflow_id,
        "parent_id": spec.parent_id,
        "concurrency_key": job_type.concurrency.key(body) if job_type.concurrency is not None else None,
        "request_id": spec.request_id,
    }

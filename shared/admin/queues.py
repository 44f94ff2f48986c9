"""Queues (one per job type) for operators: what waits and runs, and pausing a type."""

from __future__ import annotations

from datetime import datetime

from shared.admin.common import View
from shared.db import Tx
from shared.queue import operations, queries
from shared.queue.errors import NotFoundError
from shared.queue.registry import JobTypes


class QueueView(View):
    type: str
    pending: int  # due now
    scheduled: int  # due later
    processing: int
    paused: bool


def list_queues(tx: Tx, job_types: JobTypes, now: datetime) -> list[QueueView]:
    """Every known type, and any other type with unfinished jobs or a pause."""
    return [_view(summary) for summary in queries.type_summaries(tx, job_types.names(), now)]


def pause_queue(tx: Tx, job_types: JobTypes, job_type: str, now: datetime, reason: str | None = None) -> QueueView:
    """No worker claims this type's jobs until it is resumed (pausing twice changes nothing)."""
    if job_type not in job_types:
        raise NotFoundError(f"unknown job type {job_type!r}")
    operations.pause_type(tx, job_type, now, reason)
    return _queue(tx, job_types, job_type, now)


def resume_queue(tx: Tx, job_types: JobTypes, job_type: str, now: datetime) -> QueueView:
    """Workers claim this type again; a paused type is resumed even if this process does not know it."""
    if not operations.resume_type(tx, job_type) and job_type not in job_types:
        raise NotFoundError(f"unknown job type {job_type!r}")
    return _queue(tx, job_types, job_type, now)


def _queue(tx: Tx, job_types: JobTypes, job_type: str, now: datetime) -> QueueView:
    for summary in queries.type_summaries(tx, job_types.names(), now):
        if summary.type == job_type:
            return _view(summary)
    return QueueView(type=job_type, pending=0, scheduled=0, processing=0, paused=False)


def _view(summary: queries.TypeSummary) -> QueueView:
    return QueueView(
        type=summary.type,
        pending=summary.pending,
        scheduled=summary.scheduled,
        processing=summary.processing,
        paused=summary.paused,
    )

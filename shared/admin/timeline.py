"""A job's history as events in time order, from what the jobs and job_failures tables keep.

Only the latest start is stored (`started_at`); earlier attempts show as their failures.
"""

from __future__ import annotations

from datetime import datetime

from shared.admin.common import View
from shared.clock import to_api
from shared.queue.queries import JobDetail
from shared.queue.status import JobStatus

# A failed attempt's outcome (job_failures.outcome) as a timeline event.
FAILURE_EVENTS = {"retried": "failed", "rescued": "rescued", "dead_lettered": "dead_lettered"}


class TimelineEvent(View):
    at: str
    event: str  # created, scheduled, started, failed, rescued, dead_lettered, completed, cancelled
    attempt: int | None = None
    detail: str | None = None  # the error of a failure, the reason of a cancellation


def timeline(detail: JobDetail) -> list[TimelineEvent]:
    job = detail.job
    # (time, rank, event): at the same instant, events sort in the order a job lives them.
    events: list[tuple[datetime, int, TimelineEvent]] = []

    def add(at: datetime, rank: int, event: str, attempt: int | None = None, text: str | None = None) -> None:
        events.append((at, rank, TimelineEvent(at=to_api(at) or "", event=event, attempt=attempt, detail=text)))

    add(job.created_at, 0, "created")
    if job.scheduled_at > job.created_at:  # delayed, waiting out a retry's backoff, or retried by hand
        add(job.scheduled_at, 1, "scheduled")
    if job.started_at is not None:
        add(job.started_at, 2, "started", job.attempts)
    for failure in detail.failures:
        add(failure.failed_at, 3, FAILURE_EVENTS.get(failure.outcome, failure.outcome), failure.attempt, failure.error)
    if job.completed_at is not None:
        add(job.completed_at, 4, "completed", job.attempts)
    if job.status is JobStatus.CANCELLED:
        add(job.updated_at, 4, "cancelled", None, job.last_error)
    return [event for _, _, event in sorted(events, key=lambda item: (item[0], item[1]))]

"""Shapes the pages need that the queries do not return as such: a job's timeline, an order's
pipeline as a tree, and counts by type and state as a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.queue.queries import JobDetail, JobRow
from shared.queue.status import JobStatus


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    detail: str | None = None
    tone: str = "neutral"  # neutral, ok, bad: the marker's colour


def timeline(detail: JobDetail) -> list[Event]:
    """What happened to a job, oldest first: enqueued, failed attempts, dead letters, the end."""
    job = detail.job
    events = [Event(job.created_at, "enqueued", f"priority {job.priority}, up to {job.max_attempts} attempts")]
    if job.scheduled_at > job.created_at and job.status is JobStatus.PENDING:
        events.append(Event(job.scheduled_at, "due"))
    events += [Event(f.failed_at, f"attempt {f.attempt} failed ({f.outcome})", f.error, "bad") for f in detail.failures]
    events += [Event(d.failed_at, "moved to the dead-letter queue", d.notes, "bad") for d in detail.dead_letters]
    if job.started_at is not None:
        events.append(Event(job.started_at, f"attempt {job.attempts} started", job.locked_by))
    if job.status is JobStatus.COMPLETED and job.completed_at is not None:
        events.append(Event(job.completed_at, "completed", None, "ok"))
    elif job.status is JobStatus.CANCELLED:
        events.append(Event(job.updated_at, "cancelled", job.last_error, "bad"))
    return sorted(events, key=lambda event: event.at)


@dataclass(frozen=True)
class Step:
    job: JobRow
    depth: int  # 0 for a first step, 1 for its children, ...


def pipeline_steps(pipeline: list[JobRow]) -> list[Step]:
    """The workflow's jobs depth first, each child under its parent, siblings in enqueue order."""
    ids = {job.id for job in pipeline}
    children: dict[str | None, list[JobRow]] = {}
    for job in pipeline:
        children.setdefault(job.parent_id if job.parent_id in ids else None, []).append(job)
    steps: list[Step] = []

    def visit(parent: str | None, depth: int) -> None:
        for job in children.get(parent, []):
            steps.append(Step(job, depth))
            visit(job.id, depth + 1)

    visit(None, 0)
    return steps


def type_table(by_type: list[tuple[str, str, int]]) -> list[tuple[str, dict[str, int]]]:
    """(type, state, count) rows as one row per type with a count per state."""
    table: dict[str, dict[str, int]] = {}
    for job_type, job_state, count in by_type:
        table.setdefault(job_type, {})[job_state] = count
    return sorted(table.items())

"""`shopqueue jobs list|show|retry|cancel`."""

from __future__ import annotations

from datetime import datetime

import click
import msgspec

from shared.admin import jobs as admin_jobs
from shared.admin.jobs import JobDetailView, JobPage
from shared.cli.operator import Operator
from shared.cli.options import time_option
from shared.cli.output import emit, fields, json_option, table
from shared.clock import utcnow
from shared.queue.queries import JobFilter
from shared.queue.status import JobStatus

STATES = [*(status.value for status in JobStatus), "scheduled"]


@click.group()
def jobs() -> None:
    """Browse and act on jobs."""


@jobs.command("list")
@click.option("--status", type=click.Choice(STATES), help="`pending` is due now, `scheduled` due later.")
@click.option("--type", "job_type", help="Only this job type.")
@click.option("--workflow", "workflow_id", help="Only this workflow (an order id).")
@time_option("--created-from", "Created at or after this time")
@time_option("--created-to", "Created before this time")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help="The next-page cursor a previous listing printed.")
@json_option
@click.pass_obj
def list_jobs(
    operator: Operator,
    *,
    status: str | None,
    job_type: str | None,
    workflow_id: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Jobs, newest first."""
    where = JobFilter(status, job_type, workflow_id, created_from, created_to)
    now = utcnow()
    page = operator.read(lambda tx: admin_jobs.list_jobs(tx, where, limit=limit, cursor=cursor, now=now))
    emit(page, as_json, lambda: render_page(page))


def render_page(page: JobPage) -> str:
    rows = [
        [j.id, j.type, j.status, f"{j.attempts}/{j.max_attempts}", j.priority, j.created_at, j.last_error]
        for j in page.jobs
    ]
    text = table(["ID", "TYPE", "STATUS", "ATTEMPTS", "PRIORITY", "CREATED", "LAST ERROR"], rows, empty="no jobs")
    return text if page.next_cursor is None else f"{text}\nmore: --cursor {page.next_cursor}"


@jobs.command("show")
@click.argument("job_id")
@json_option
@click.pass_obj
def show(operator: Operator, job_id: str, as_json: bool) -> None:
    """A job with its payload, failures, timeline, children and dead letters."""
    detail = operator.read(lambda tx: admin_jobs.job_detail(tx, job_id))
    emit(detail, as_json, lambda: render_detail(detail))


def render_detail(job: JobDetailView) -> str:
    summary = fields(
        [
            ("id", job.id),
            ("type", job.type),
            ("status", job.status + (" (cancel requested)" if job.cancel_requested else "")),
            ("priority", job.priority),
            ("attempts", f"{job.attempts}/{job.max_attempts}"),
            ("scheduled", job.scheduled_at),
            ("last error", job.last_error),
            ("workflow", job.workflow_id),
            ("parent", job.parent_id),
            ("idempotency key", job.idempotency_key),
            ("request", job.request_id),
            ("payload", msgspec.json.encode(job.payload).decode()),
        ]
    )
    timeline = table(["AT", "EVENT", "ATTEMPT", "DETAIL"], [[e.at, e.event, e.attempt, e.detail] for e in job.timeline])
    children = table(["CHILD", "TYPE", "STATUS"], [[c.id, c.type, c.status] for c in job.children], empty="")
    letters = table(
        ["DEAD LETTER", "FAILED", "REVIEWED", "NOTES"],
        [[d.id, d.failed_at, d.reviewed, d.notes] for d in job.dead_letters],
        empty="",
    )
    return "\n\n".join(part for part in (summary, timeline, children, letters) if part)


@jobs.command("retry")
@click.argument("job_id")
@json_option
@click.pass_obj
def retry(operator: Operator, job_id: str, as_json: bool) -> None:
    """Run a failed job again with fresh attempts, or a waiting one at once."""
    now = utcnow()
    job = operator.write(lambda tx: admin_jobs.retry_job(tx, job_id, now))
    emit(job, as_json, lambda: f"job {job.id} is {job.status}, due {job.scheduled_at}")


@jobs.command("cancel")
@click.argument("job_id")
@json_option
@click.pass_obj
def cancel(operator: Operator, job_id: str, as_json: bool) -> None:
    """Cancel a waiting job, or ask a running job's worker to stop it."""
    now = utcnow()
    result = operator.write(lambda tx: admin_jobs.cancel_job(tx, job_id, now))
    if result.outcome == "cancelled":
        message = f"job {job_id} cancelled"
    else:
        message = f"job {job_id} is running: its worker was asked to stop it"
    emit(result, as_json, lambda: message)

"""Browsing jobs (with filters and cursor paging), one job in detail, and the dead-letter queue."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.dashboard.auth import require_session
from api.dashboard.forms import (
    BULK_LIMIT,
    DEAD_LETTER_VIEWS,
    JOB_STATES,
    blank_to_none,
    dead_letter_cursor,
    dead_letter_filter,
    job_state,
    page_url,
    parse_dead_letter_cursor,
)
from api.dashboard.present import timeline
from api.dashboard.rendering import render
from shared.clock import utcnow
from shared.db import Database, Tx
from shared.queue import queries
from shared.queue.registry import JobTypes

PAGE_SIZE = 50
Query = Annotated[str | None, QueryParameter(required=False)]
TypeQuery = Annotated[str | None, QueryParameter(name="type", required=False)]  # `type` is a builtin


class BrowseController(Controller):
    path = "/ui"
    guards = [require_session]  # noqa: RUF012 - Litestar's layer attribute

    @get("/jobs")
    async def jobs(
        self,
        *,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
        status: Query = None,
        job_type: TypeQuery = None,
        workflow: Query = None,
        cursor: Annotated[int | None, QueryParameter(required=False, ge=0)] = None,
    ) -> Template:
        """Newest first; filter by status (`scheduled`: pending but not due yet), type and order."""
        where = queries.JobFilter(
            status=job_state(status), type=blank_to_none(job_type), workflow_id=blank_to_none(workflow)
        )
        now = utcnow()
        found = await db.run_read(lambda tx: queries.list_jobs(tx, where, limit=PAGE_SIZE, before_seq=cursor, now=now))
        filters = {"status": where.status, "type": where.type, "workflow": where.workflow_id}
        context = {
            "jobs": found.jobs,
            "filters": filters,
            "types": job_types.names(),
            "states": JOB_STATES,
            "first_url": page_url(request.url.path, filters) if cursor is not None else None,
            "next_url": None
            if found.next_cursor is None
            else page_url(request.url.path, {**filters, "cursor": str(found.next_cursor)}),
            "now": now,
        }
        return render(request, "jobs", "Jobs", context)

    @get("/jobs/{job_id:str}")
    async def job(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], job_id: FromPath[str]
    ) -> Template:
        """Payload, attempts and errors, timeline, children and dead letters of one job."""
        detail = await db.run_read(lambda tx: queries.job_detail(tx, job_id))
        if detail is None:
            raise NotFoundException(f"There is no job {job_id!r}.")
        context = {"detail": detail, "job": detail.job, "timeline": timeline(detail), "now": utcnow()}
        return render(request, "job", f"Job {job_id[:8]}", context)

    @get("/dead-letter")
    async def dead_letter(
        self,
        *,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
        job_type: TypeQuery = None,
        error: Query = None,
        show: Query = None,
        cursor: Query = None,
    ) -> Template:
        """Failed jobs waiting for a decision; retry or discard one, or every entry the filter matches."""
        where = dead_letter_filter(job_type, error, show)
        before = parse_dead_letter_cursor(cursor)

        def read(tx: Tx) -> tuple[queries.DeadLetterPage, int]:
            page = queries.list_dead_letters(tx, where, limit=PAGE_SIZE, before=before)
            return page, len(queries.dead_letter_ids(tx, where, limit=BULK_LIMIT + 1))

        page, matching = await db.run_read(read)
        filters = {"type": where.type, "error": where.error_contains, "show": blank_to_none(show)}
        context = {
            "entries": page.entries,
            "filters": filters,
            "types": job_types.names(),
            "views": DEAD_LETTER_VIEWS,
            "matching": matching,
            "bulk_limit": BULK_LIMIT,
            "first_url": page_url(request.url.path, filters) if before is not None else None,
            "next_url": None
            if page.next_cursor is None
            else page_url(request.url.path, {**filters, "cursor": dead_letter_cursor(*page.next_cursor)}),
            "now": utcnow(),
        }
        return render(request, "dead_letter", "Dead letters", context)

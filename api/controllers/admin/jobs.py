"""Jobs: list, inspect, enqueue, cancel, retry."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Literal

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter, QueryParameter, RawBody

from api.controllers.admin.base import (
    AdminController,
    Cursor,
    admin_errors,
    moment_parameter,
    query_moment,
    utc_moment,
)
from api.controllers.admin.bodies import NewJob
from api.schemas import INVALID_REQUEST, MAX_ID_LENGTH, PathId, decode_strict
from shared.admin import jobs
from shared.admin.jobs import CancelView, JobDetailView, JobPage, JobView
from shared.clock import utcnow
from shared.db import Database
from shared.errors import FieldError
from shared.queue.queries import JobFilter
from shared.queue.registry import JobTypes
from shared.shop.errors import InvalidRequestError

CreatedFrom = Annotated[str | None, moment_parameter("createdFrom", "inclusive")]
CreatedTo = Annotated[str | None, moment_parameter("createdTo", "exclusive")]
JobState = Literal["pending", "scheduled", "processing", "completed", "failed", "cancelled"]


class JobsController(AdminController):
    path = "/admin/jobs"
    tags = ("admin: jobs",)

    @get(operation_id="ListJobs", summary="List jobs, newest first", responses=admin_errors(400))
    async def list_jobs(
        self,
        *,
        db: NamedDependency[Database],
        status: Annotated[JobState | None, Parameter(description="`pending` is due now, `scheduled` due later")] = None,
        job_type: Annotated[str | None, QueryParameter(name="type", max_length=MAX_ID_LENGTH)] = None,
        workflow_id: Annotated[
            str | None, QueryParameter(name="workflowId", max_length=MAX_ID_LENGTH, description="e.g. an order id")
        ] = None,
        created_from: CreatedFrom = None,
        created_to: CreatedTo = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Cursor = None,
    ) -> JobPage:
        """One page of jobs matching every filter given; `nextCursor` fetches the next (older) page."""
        since, until = query_moment("createdFrom", created_from), query_moment("createdTo", created_to)
        where = JobFilter(status, job_type, workflow_id, since, until)
        now = utcnow()
        return await db.run_read(lambda tx: jobs.list_jobs(tx, where, limit=limit, cursor=cursor, now=now))

    @get("/{job_id:str}", operation_id="GetJob", summary="A job in detail", responses=admin_errors(400, 404))
    async def get_job(self, db: NamedDependency[Database], job_id: PathId) -> JobDetailView:
        """The job with its payload, failed attempts, timeline, children and dead-letter entries."""
        return await db.run_read(lambda tx: jobs.job_detail(tx, job_id))

    @post(
        operation_id="EnqueueJob",
        summary="Enqueue a job",
        status_code=HTTPStatus.CREATED,
        responses={
            HTTPStatus.OK: ResponseSpec(JobView, description="An unfinished job already held the idempotency key"),
            **admin_errors(400, 413),
        },
    )
    async def enqueue_job(
        self,
        data: JSONBody[NewJob],
        body: RawBody,
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
    ) -> Response[JobView]:
        """Enqueue a job of a known type; its payload is validated against the type's schema."""
        request = decode_strict(body, NewJob)
        if request.scheduled_at is not None and request.delay_seconds is not None:
            conflict = FieldError("delaySeconds", "give scheduledAt or delaySeconds, not both")
            raise InvalidRequestError(INVALID_REQUEST, [conflict])
        scheduled_at = utc_moment("scheduledAt", request.scheduled_at)
        now = utcnow()
        enqueued = await db.run_write(
            lambda tx: jobs.enqueue_job(
                tx,
                job_types,
                request.type,
                request.payload,
                now=now,
                priority=request.priority,
                scheduled_at=scheduled_at,
                delay_seconds=request.delay_seconds,
                max_attempts=request.max_attempts,
                idempotency_key=request.idempotency_key,
            )
        )
        return Response(enqueued.job, status_code=HTTPStatus.CREATED if enqueued.created else HTTPStatus.OK)

    @post(
        "/{job_id:str}/cancel",
        operation_id="CancelJob",
        summary="Cancel a job",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 409),
    )
    async def cancel_job(self, db: NamedDependency[Database], job_id: PathId) -> CancelView:
        """A waiting job is cancelled; a running one is asked to stop (its worker cancels it); 409 once finished."""
        now = utcnow()
        return await db.run_write(lambda tx: jobs.cancel_job(tx, job_id, now))

    @post(
        "/{job_id:str}/retry",
        operation_id="RetryJob",
        summary="Retry a job now",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 409),
    )
    async def retry_job(self, db: NamedDependency[Database], job_id: PathId) -> JobView:
        """A failed job runs again with fresh attempts; a waiting one becomes due at once; 409 otherwise."""
        now = utcnow()
        return await db.run_write(lambda tx: jobs.retry_job(tx, job_id, now))

"""The dead-letter queue: list, retry, review, discard; bulk retry and discard by filter."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Literal

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter, RawBody

from api.controllers.admin.base import (
    AdminController,
    Cursor,
    OptionalBody,
    admin_errors,
    moment_parameter,
    query_moment,
    utc_moment,
)
from api.controllers.admin.bodies import BulkDiscard, DeadLetterSelection, Discard, Review
from api.schemas import MAX_ID_LENGTH, PathId, decode_optional, decode_strict
from shared.admin import dead_letters
from shared.admin.dead_letters import BulkView, DeadLetterPage, DeadLetterView
from shared.clock import utcnow
from shared.db import Database
from shared.queue.queries import DeadLetterFilter

FailedFrom = Annotated[str | None, moment_parameter("failedFrom", "inclusive")]
FailedTo = Annotated[str | None, moment_parameter("failedTo", "exclusive")]
REVIEWED = {"false": False, "true": True, "all": None}
NO_NOTES = Discard()


class DeadLetterController(AdminController):
    path = "/admin/dead-letter"
    tags = ("admin: dead letters",)

    @get(operation_id="ListDeadLetters", summary="List dead letters, latest first", responses=admin_errors(400))
    async def list_dead_letters(
        self,
        *,
        db: NamedDependency[Database],
        job_type: Annotated[str | None, QueryParameter(name="type", max_length=MAX_ID_LENGTH)] = None,
        error: Annotated[str | None, Parameter(max_length=500, description="text in the last error, any case")] = None,
        failed_from: FailedFrom = None,
        failed_to: FailedTo = None,
        reviewed: Annotated[Literal["false", "true", "all"], Parameter(description="unreviewed by default")] = "false",
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Cursor = None,
    ) -> DeadLetterPage:
        """One page of dead-letter entries matching every filter given; `nextCursor` fetches the next page."""
        since, until = query_moment("failedFrom", failed_from), query_moment("failedTo", failed_to)
        where = DeadLetterFilter(job_type, error, since, until, REVIEWED[reviewed])
        return await db.run_read(lambda tx: dead_letters.list_dead_letters(tx, where, limit=limit, cursor=cursor))

    @post(
        "/retry",
        operation_id="RetryDeadLetters",
        summary="Retry dead letters by filter",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 413),
    )
    async def retry_dead_letters(
        self, data: JSONBody[DeadLetterSelection], body: RawBody, db: NamedDependency[Database]
    ) -> BulkView:
        """Retry the oldest unreviewed entries matching the filter (`{}`: any), at most `limit` per call."""
        selection = decode_strict(body, DeadLetterSelection)
        now = utcnow()
        return await db.run_write(lambda tx: dead_letters.retry_matching(tx, _filter(selection), selection.limit, now))

    @post(
        "/discard",
        operation_id="DiscardDeadLetters",
        summary="Discard dead letters by filter",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 413),
    )
    async def discard_dead_letters(
        self, data: JSONBody[BulkDiscard], body: RawBody, db: NamedDependency[Database]
    ) -> BulkView:
        """Discard the oldest unreviewed entries matching the filter (`{}`: any), at most `limit` per call."""
        selection = decode_strict(body, BulkDiscard)
        return await db.run_write(
            lambda tx: dead_letters.discard_matching(tx, _filter(selection), selection.limit, selection.notes)
        )

    @post(
        "/{dead_id:str}/retry",
        operation_id="RetryDeadLetter",
        summary="Retry a dead letter",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 409),
    )
    async def retry_dead_letter(self, db: NamedDependency[Database], dead_id: PathId) -> DeadLetterView:
        """Its job goes back to pending with fresh attempts (a workflow resumes from it); the entry is reviewed."""
        now = utcnow()
        return await db.run_write(lambda tx: dead_letters.retry_dead_letter(tx, dead_id, now))

    @post(
        "/{dead_id:str}/review",
        operation_id="ReviewDeadLetter",
        summary="Mark a dead letter reviewed",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 413),
    )
    async def review_dead_letter(
        self, data: JSONBody[Review], body: RawBody, db: NamedDependency[Database], dead_id: PathId
    ) -> DeadLetterView:
        """Mark the entry reviewed, with notes; its job stays as it is."""
        review = decode_strict(body, Review)
        return await db.run_write(lambda tx: dead_letters.review_dead_letter(tx, dead_id, review.notes))

    @post(
        "/{dead_id:str}/discard",
        operation_id="DiscardDeadLetter",
        summary="Discard a dead letter",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 413),
        operation_class=OptionalBody,
    )
    async def discard_dead_letter(
        self, body: RawBody, db: NamedDependency[Database], dead_id: PathId, data: JSONBody[Discard] = NO_NOTES
    ) -> DeadLetterView:
        """Give up on the entry: reviewed and noted as discarded; its job stays failed. The body is optional."""
        discard = decode_optional(body, Discard)
        return await db.run_write(lambda tx: dead_letters.discard_dead_letter(tx, dead_id, discard.notes))


def _filter(selection: DeadLetterSelection) -> DeadLetterFilter:
    since, until = utc_moment("failedFrom", selection.failed_from), utc_moment("failedTo", selection.failed_to)
    return DeadLetterFilter(selection.type, selection.error, since, until)

"""Queues (one per job type): list, pause, resume."""

from __future__ import annotations

from http import HTTPStatus

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, RawBody

from api.controllers.admin.base import AdminController, OptionalBody, admin_errors
from api.controllers.admin.bodies import Pause
from api.schemas import PathId, decode_optional
from shared.admin import queues
from shared.admin.queues import QueueView
from shared.clock import utcnow
from shared.db import Database
from shared.queue.registry import JobTypes

NO_REASON = Pause()


class QueuesController(AdminController):
    path = "/admin/queues"
    tags = ("admin: queues",)

    @get(operation_id="ListQueues", summary="List queues", responses=admin_errors())
    async def list_queues(self, db: NamedDependency[Database], job_types: NamedDependency[JobTypes]) -> list[QueueView]:
        """Every job type with its due, scheduled and running jobs, and whether it is paused."""
        now = utcnow()
        return await db.run_read(lambda tx: queues.list_queues(tx, job_types, now))

    @post(
        "/{job_type:str}/pause",
        operation_id="PauseQueue",
        summary="Pause a job type",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404, 413),
        operation_class=OptionalBody,
    )
    async def pause_queue(
        self,
        body: RawBody,
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
        job_type: PathId,
        data: JSONBody[Pause] = NO_REASON,
    ) -> QueueView:
        """Workers stop claiming jobs of this type (running ones finish); they wait, in order. Body optional."""
        pause = decode_optional(body, Pause)
        now = utcnow()
        return await db.run_write(lambda tx: queues.pause_queue(tx, job_types, job_type, now, pause.reason))

    @post(
        "/{job_type:str}/resume",
        operation_id="ResumeQueue",
        summary="Resume a job type",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404),
    )
    async def resume_queue(
        self, db: NamedDependency[Database], job_types: NamedDependency[JobTypes], job_type: PathId
    ) -> QueueView:
        """Workers claim jobs of this type again."""
        now = utcnow()
        return await db.run_write(lambda tx: queues.resume_queue(tx, job_types, job_type, now))

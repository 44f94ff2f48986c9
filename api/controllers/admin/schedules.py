"""Recurring jobs: list, pause, resume or re-time, run now."""

from __future__ import annotations

from http import HTTPStatus

from litestar import get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, RawBody

from api.controllers.admin.base import AdminController, admin_errors
from api.controllers.admin.bodies import ScheduleChange
from api.schemas import PathId, decode_strict
from shared.admin import schedules
from shared.admin.schedules import RunView, ScheduleView
from shared.clock import utcnow
from shared.db import Database
from shared.queue.registry import JobTypes


class SchedulesController(AdminController):
    path = "/admin/schedules"
    tags = ("admin: schedules",)

    @get(operation_id="ListSchedules", summary="List schedules", responses=admin_errors())
    async def list_schedules(self, db: NamedDependency[Database]) -> list[ScheduleView]:
        """Every recurring job with its cron expression, last and next run."""
        return await db.run_read(schedules.list_schedules)

    @patch(
        "/{schedule_id:str}",
        operation_id="UpdateSchedule",
        summary="Pause, resume or re-time a schedule",
        responses=admin_errors(400, 404, 413),
    )
    async def update_schedule(
        self, data: JSONBody[ScheduleChange], body: RawBody, db: NamedDependency[Database], schedule_id: PathId
    ) -> ScheduleView:
        """`isActive` pauses or resumes (a resumed schedule fires from its next tick); `cronExpression` changes
        the timetable. An invalid expression changes nothing."""
        change = decode_strict(body, ScheduleChange)
        now = utcnow()
        return await db.run_write(
            lambda tx: schedules.update_schedule(
                tx, schedule_id, now=now, is_active=change.is_active, cron_expression=change.cron_expression
            )
        )

    @post(
        "/{schedule_id:str}/run",
        operation_id="RunSchedule",
        summary="Run a schedule now",
        status_code=HTTPStatus.OK,
        responses=admin_errors(400, 404),
    )
    async def run_schedule(
        self, db: NamedDependency[Database], job_types: NamedDependency[JobTypes], schedule_id: PathId
    ) -> RunView:
        """Enqueue the schedule's job at once, outside its timetable; skipped while its previous run is
        unfinished (unless the schedule allows overlap)."""
        now = utcnow()
        return await db.run_write(lambda tx: schedules.run_schedule(tx, job_types, schedule_id, now))

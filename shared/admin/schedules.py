"""Recurring jobs for operators: the timetable, pausing or changing it, an extra run now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.admin.common import View, stored_json
from shared.clock import to_api
from shared.db import Tx
from shared.queue import cron
from shared.queue.registry import JobTypes


class ScheduleView(View):
    id: str
    type: str
    payload: Any
    cron_expression: str
    is_active: bool
    overlap: str  # skip: no run while the previous one is unfinished; allow
    last_run_at: str | None
    next_run_at: str
    last_job_id: str | None
    created_at: str


class RunView(View):
    schedule_id: str
    fired_at: str
    job_id: str | None  # None when the run was skipped
    outcome: str  # manual (a job was enqueued) or skipped (the previous run is unfinished, or it cannot run)


def schedule_view(schedule: cron.Schedule) -> ScheduleView:
    return ScheduleView(
        id=schedule.id,
        type=schedule.type,
        payload=stored_json(schedule.payload),
        cron_expression=schedule.cron_expression,
        is_active=schedule.is_active,
        overlap=schedule.overlap,
        last_run_at=to_api(schedule.last_run_at),
        next_run_at=to_api(schedule.next_run_at) or "",
        last_job_id=schedule.last_job_id,
        created_at=to_api(schedule.created_at) or "",
    )


def list_schedules(tx: Tx) -> list[ScheduleView]:
    return [schedule_view(schedule) for schedule in cron.schedules(tx)]


def update_schedule(
    tx: Tx, schedule_id: str, *, now: datetime, is_active: bool | None = None, cron_expression: str | None = None
) -> ScheduleView:
    """Change the timetable and/or pause or resume; an invalid expression changes nothing."""
    if cron_expression is not None:
        cron.set_expression(tx, schedule_id, cron_expression, now)
    if is_active is not None:
        cron.set_active(tx, schedule_id, is_active, now)
    return schedule_view(cron.get_schedule(tx, schedule_id))


def run_schedule(tx: Tx, job_types: JobTypes, schedule_id: str, now: datetime) -> RunView:
    """An extra run at once; the timetable is unchanged."""
    fired = cron.run_now(tx, job_types, schedule_id, now)
    return RunView(
        schedule_id=fired.schedule_id, fired_at=to_api(fired.fire_at) or "", job_id=fired.job_id, outcome=fired.outcome
    )

"""`shopqueue schedules list|pause|resume|run`."""

from __future__ import annotations

import click

from shared.admin import schedules as admin_schedules
from shared.admin.schedules import ScheduleView
from shared.cli.operator import Operator
from shared.cli.output import emit, json_option, table
from shared.clock import utcnow


@click.group()
def schedules() -> None:
    """Recurring jobs."""


@schedules.command("list")
@json_option
@click.pass_obj
def list_schedules(operator: Operator, as_json: bool) -> None:
    """Every schedule with its cron expression, last and next run."""
    views = operator.read(admin_schedules.list_schedules)
    rows = [[s.id, s.type, s.cron_expression, s.is_active, s.next_run_at, s.last_run_at] for s in views]
    emit(views, as_json, lambda: table(["ID", "TYPE", "CRON", "ACTIVE", "NEXT RUN", "LAST RUN"], rows))


@schedules.command("pause")
@click.argument("schedule_id", metavar="ID")
@json_option
@click.pass_obj
def pause(operator: Operator, schedule_id: str, as_json: bool) -> None:
    """Stop a schedule from firing."""
    view = set_active(operator, schedule_id, active=False)
    emit(view, as_json, lambda: f"paused schedule {view.id}")


@schedules.command("resume")
@click.argument("schedule_id", metavar="ID")
@json_option
@click.pass_obj
def resume(operator: Operator, schedule_id: str, as_json: bool) -> None:
    """Let a paused schedule fire again, from its next tick (missed ones are not made up)."""
    view = set_active(operator, schedule_id, active=True)
    emit(view, as_json, lambda: f"resumed schedule {view.id}: next run {view.next_run_at}")


def set_active(operator: Operator, schedule_id: str, *, active: bool) -> ScheduleView:
    now = utcnow()
    return operator.write(lambda tx: admin_schedules.update_schedule(tx, schedule_id, now=now, is_active=active))


@schedules.command("run")
@click.argument("schedule_id", metavar="ID")
@json_option
@click.pass_obj
def run(operator: Operator, schedule_id: str, as_json: bool) -> None:
    """Enqueue a schedule's job now, outside its timetable (skipped while its previous run is unfinished)."""
    now = utcnow()
    view = operator.write(lambda tx: admin_schedules.run_schedule(tx, operator.job_types, schedule_id, now))
    if view.job_id is None:
        message = f"skipped {view.schedule_id}: its previous run is unfinished (or its job cannot be enqueued)"
    else:
        message = f"enqueued {view.job_id} for schedule {view.schedule_id}"
    emit(view, as_json, lambda: message)

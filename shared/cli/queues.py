"""`shopqueue queues list|pause|resume`."""

from __future__ import annotations

import click

from shared.admin import queues as admin_queues
from shared.admin.queues import QueueView
from shared.cli.operator import Operator
from shared.cli.output import emit, json_option, table
from shared.clock import utcnow


@click.group()
def queues() -> None:
    """Job types: what waits and runs, and pausing them."""


@queues.command("list")
@json_option
@click.pass_obj
def list_queues(operator: Operator, as_json: bool) -> None:
    """Every job type with its due, scheduled and running jobs."""
    now = utcnow()
    views = operator.read(lambda tx: admin_queues.list_queues(tx, operator.job_types, now))
    rows = [[q.type, q.pending, q.scheduled, q.processing, q.paused] for q in views]
    emit(views, as_json, lambda: table(["TYPE", "PENDING", "SCHEDULED", "PROCESSING", "PAUSED"], rows))


@queues.command("pause")
@click.argument("job_type", metavar="TYPE")
@click.option("--reason", help="Why (kept with the pause).")
@json_option
@click.pass_obj
def pause(operator: Operator, job_type: str, reason: str | None, as_json: bool) -> None:
    """Stop workers claiming jobs of TYPE (running ones finish; the rest wait, in order)."""
    now = utcnow()
    view = operator.write(lambda tx: admin_queues.pause_queue(tx, operator.job_types, job_type, now, reason))
    emit(view, as_json, lambda: describe("paused", view))


@queues.command("resume")
@click.argument("job_type", metavar="TYPE")
@json_option
@click.pass_obj
def resume(operator: Operator, job_type: str, as_json: bool) -> None:
    """Let workers claim jobs of TYPE again."""
    now = utcnow()
    view = operator.write(lambda tx: admin_queues.resume_queue(tx, operator.job_types, job_type, now))
    emit(view, as_json, lambda: describe("resumed", view))


def describe(verb: str, view: QueueView) -> str:
    return f"{verb} {view.type}: {view.pending} due, {view.scheduled} scheduled, {view.processing} running"

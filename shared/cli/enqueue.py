"""`shopqueue enqueue TYPE JSON`."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from shared.admin import jobs as admin_jobs
from shared.admin.jobs import MAX_ATTEMPTS, MAX_DELAY_SECONDS, MAX_PRIORITY
from shared.cli.operator import Operator
from shared.cli.output import emit, json_option
from shared.clock import utcnow


def payload_object(_: click.Context, param: click.Parameter, value: str) -> dict[str, Any]:
    """Argument callback: the payload must be a JSON object."""
    try:
        decoded = msgspec.json.decode(value)
    except msgspec.DecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param=param) from None
    if not isinstance(decoded, dict):
        raise click.BadParameter('expected a JSON object, such as \'{"orderId": "o-1"}\'', param=param)
    return decoded


@click.command()
@click.argument("job_type", metavar="TYPE")
@click.argument("payload", metavar="JSON", callback=payload_object)
@click.option(
    "--priority", type=click.IntRange(0, MAX_PRIORITY), help="Default: the type's own (0 low .. 20 critical)."
)
@click.option("--delay", type=click.FloatRange(0, MAX_DELAY_SECONDS), help="Seconds before it is due.")
@click.option("--max-attempts", type=click.IntRange(1, MAX_ATTEMPTS), help="Default: the type's own.")
@click.option("--idempotency-key", help="If an unfinished job holds this key, nothing is enqueued.")
@json_option
@click.pass_obj
def enqueue(
    operator: Operator,
    *,
    job_type: str,
    payload: dict[str, Any],
    priority: int | None,
    delay: float | None,
    max_attempts: int | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Enqueue a job of a known TYPE with a JSON payload, validated against the type's schema."""
    now = utcnow()
    enqueued = operator.write(
        lambda tx: admin_jobs.enqueue_job(
            tx,
            operator.job_types,
            job_type,
            payload,
            now=now,
            priority=priority,
            delay_seconds=delay,
            max_attempts=max_attempts,
            idempotency_key=idempotency_key,
        )
    )
    job = enqueued.job
    if enqueued.created:
        message = f"enqueued {job.id} ({job.type}, priority {job.priority}, due {job.scheduled_at})"
    else:
        message = f"an unfinished job already holds that idempotency key: {job.id} ({job.status})"
    emit(job, as_json, lambda: message)

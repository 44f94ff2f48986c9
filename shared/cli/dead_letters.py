"""`shopqueue dlq list|retry|discard`."""

from __future__ import annotations

from datetime import datetime

import click

from shared.admin import dead_letters as admin_dlq
from shared.admin.dead_letters import MAX_BULK, BulkView, DeadLetterPage
from shared.cli.operator import CommandError, Operator
from shared.cli.options import F, dead_letter_filters
from shared.cli.output import emit, json_option, table
from shared.clock import utcnow
from shared.queue.queries import DeadLetterFilter

REVIEWED = {"no": False, "yes": True, "all": None}


@click.group()
def dlq() -> None:
    """The dead-letter queue: jobs that failed for good."""


@dlq.command("list")
@dead_letter_filters
@click.option("--reviewed", type=click.Choice(list(REVIEWED)), default="no", show_default=True)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help="The next-page cursor a previous listing printed.")
@json_option
@click.pass_obj
def list_dead_letters(
    operator: Operator,
    *,
    job_type: str | None,
    error: str | None,
    failed_from: datetime | None,
    failed_to: datetime | None,
    reviewed: str,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Dead letters, latest failure first."""
    where = DeadLetterFilter(job_type, error, failed_from, failed_to, REVIEWED[reviewed])
    page = operator.read(lambda tx: admin_dlq.list_dead_letters(tx, where, limit=limit, cursor=cursor))
    emit(page, as_json, lambda: render_page(page))


def render_page(page: DeadLetterPage) -> str:
    rows = [
        [d.id, d.type, d.original_job_id, d.failed_at, d.attempts, d.reviewed, d.last_error] for d in page.dead_letters
    ]
    text = table(["ID", "TYPE", "JOB", "FAILED", "ATTEMPTS", "REVIEWED", "LAST ERROR"], rows, empty="no dead letters")
    return text if page.next_cursor is None else f"{text}\nmore: --cursor {page.next_cursor}"


def bulk_options(command: F) -> F:
    """Which entries a bulk command takes: ids, or filters (with --limit), or --all."""
    for option in reversed(
        [
            click.argument("ids", nargs=-1),
            dead_letter_filters,
            click.option(
                "--limit",
                type=click.IntRange(1, MAX_BULK),
                default=MAX_BULK,
                show_default=True,
                help="With filters: the most entries to take, oldest first.",
            ),
            click.option("--all", "every", is_flag=True, help="Every unreviewed entry (no id, no filter)."),
            json_option,
        ]
    ):
        command = option(command)
    return command


def selection(ids: tuple[str, ...], where: DeadLetterFilter, every: bool) -> DeadLetterFilter | None:
    """The filter to act on, or None to act on `ids`; a usage error unless exactly one way is given."""
    filtered = where != DeadLetterFilter()
    if sum((bool(ids), filtered, every)) != 1:
        raise click.UsageError(
            "give dead-letter ids, or filters (--type, --error, --failed-from, --failed-to), or --all"
        )
    return None if ids else where


def report(result: BulkView, as_json: bool, verb: str) -> None:
    """Print what was done; when some entries were left alone, say so on stderr and exit 1."""

    def text() -> str:
        lines = [f"{verb} {result.done} dead letter{'' if result.done == 1 else 's'}"]
        lines += [f"left alone {dead_id}: {reason}" for dead_id, reason in result.refused.items()]
        if result.more:
            lines.append("more entries match: run the command again")
        return "\n".join(lines)

    emit(result, as_json, text)
    if result.refused:
        raise CommandError(f"{len(result.refused)} dead letter(s) left alone")


@dlq.command("retry")
@bulk_options
@click.pass_obj
def retry(
    operator: Operator,
    *,
    ids: tuple[str, ...],
    job_type: str | None,
    error: str | None,
    failed_from: datetime | None,
    failed_to: datetime | None,
    limit: int,
    every: bool,
    as_json: bool,
) -> None:
    """Retry dead letters: their jobs run again with fresh attempts, the entries are marked reviewed."""
    where = selection(ids, DeadLetterFilter(job_type, error, failed_from, failed_to), every)
    now = utcnow()
    if where is None:
        result = operator.write(lambda tx: admin_dlq.retry_many(tx, list(ids), now))
    else:
        result = operator.write(lambda tx: admin_dlq.retry_matching(tx, where, limit, now))
    report(result, as_json, "retried")


@dlq.command("discard")
@bulk_options
@click.option("--notes", help="Why (kept with each entry).")
@click.pass_obj
def discard(
    operator: Operator,
    *,
    ids: tuple[str, ...],
    job_type: str | None,
    error: str | None,
    failed_from: datetime | None,
    failed_to: datetime | None,
    limit: int,
    every: bool,
    as_json: bool,
    notes: str | None,
) -> None:
    """Give up on dead letters: marked reviewed and discarded, their jobs stay failed."""
    where = selection(ids, DeadLetterFilter(job_type, error, failed_from, failed_to), every)
    if where is None:
        result = operator.write(lambda tx: admin_dlq.discard_many(tx, list(ids), notes))
    else:
        result = operator.write(lambda tx: admin_dlq.discard_matching(tx, where, limit, notes))
    report(result, as_json, "discarded")

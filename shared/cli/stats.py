"""`shopqueue stats`."""

from __future__ import annotations

import click

from shared.admin import stats as admin_stats
from shared.admin.stats import QueueStatsView
from shared.cli.operator import Operator
from shared.cli.output import emit, json_option, table
from shared.clock import utcnow


@click.command()
@json_option
@click.pass_obj
def stats(operator: Operator, as_json: bool) -> None:
    """Jobs by state, dead letters, rates, paused types, live workers and counts by type."""
    now = utcnow()
    view = operator.read(lambda tx: admin_stats.queue_stats(tx, now, operator.settings.heartbeat_seconds))
    emit(view, as_json, lambda: render(view))


def render(view: QueueStatsView) -> str:
    queue = view.queue
    workers = table(
        ["WORKER", "HOST", "PID", "STATUS", "CONCURRENCY", "LAST SEEN", "RUNNING"],
        [
            [w.id, w.hostname, w.pid, w.status, w.concurrency, w.last_seen_at, " ".join(r.job_id for r in w.running)]
            for w in view.workers
        ],
        empty="no live worker",
    )
    by_type = table(["TYPE", "STATUS", "COUNT"], [[c.type, c.status, c.count] for c in view.by_type], empty="no jobs")
    return "\n".join(
        [
            f"pending {queue.pending} (oldest due since {queue.oldest_pending or '-'}), scheduled {queue.scheduled}, "
            f"processing {queue.processing}",
            f"completed in the last hour {queue.completed_last_hour}, failed {queue.failed}, "
            f"cancelled {queue.cancelled}",
            f"dead letters unreviewed {view.dead_letter_queue.unreviewed}",
            f"per minute (last 5 min): {view.rates.processed_per_minute} processed, "
            f"{view.rates.failed_per_minute} failed attempts",
            f"paused types: {', '.join(view.paused_types) or 'none'}",
            "",
            workers,
            "",
            by_type,
        ]
    )

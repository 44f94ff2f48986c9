"""The `shopqueue` command group: every command, on the database of DATABASE_URL."""

from __future__ import annotations

import click

from shared.cli.dead_letters import dlq
from shared.cli.enqueue import enqueue
from shared.cli.jobs import jobs
from shared.cli.migrate import migrate_to_postgres_command
from shared.cli.operator import Operator
from shared.cli.queues import queues
from shared.cli.schedules import schedules
from shared.cli.stats import stats


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Operate the shop's job queue: the database of DATABASE_URL, as the admin API does.

    Every command takes --json for scripts. Exit status: 0 done, 2 usage or invalid input, 1 any other error.
    """
    if ctx.obj is None:
        ctx.obj = Operator()
    ctx.call_on_close(ctx.obj.close)


for command in (stats, jobs, dlq, enqueue, queues, schedules, migrate_to_postgres_command):
    cli.add_command(command)

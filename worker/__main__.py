"""`python -m worker [--jobs MODULE ...] [--burst]`: run one worker process until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import sys

import click

from shared.config import ConfigError, load_settings
from shared.db import Database
from shared.logging import configure_logging, get_logger
from shared.queue.loading import load_job_types
from worker.runner import Worker


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--jobs",
    "job_modules",
    multiple=True,
    metavar="MODULE[:ATTR]",
    help="Module whose JobRegistry (attribute `jobs` unless named) to run; repeat for several. "
    "Default: the JOB_MODULES setting (the shop's job types).",
)
@click.option("--burst", is_flag=True, help="Exit 0 once no job is due and none is running (drain a backlog).")
def main(job_modules: tuple[str, ...], burst: bool) -> None:
    """Claim jobs from the queue and run their handlers."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc
    configure_logging(settings.log_level, settings.log_format)
    os.nice(settings.worker_nice)  # raising one's own nice value needs no privilege
    try:
        job_types = load_job_types(list(job_modules) or settings.job_module_list())
    except (ImportError, ValueError) as exc:
        raise click.ClickException(f"cannot load job types: {exc}") from exc
    db = Database(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        code = asyncio.run(Worker(settings, db, job_types, burst=burst).run())
    except Exception:
        get_logger("worker").exception("worker.crashed")
        code = 1
    finally:
        db.dispose()
    sys.exit(code)


if __name__ == "__main__":
    main()

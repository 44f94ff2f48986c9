"""`shopqueue migrate-to-postgres --from sqlite:///PATH --to postgresql+psycopg://...`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from shared.cli.operator import CommandError, Operator
from shared.cli.output import emit, json_option, table
from shared.clock import utcnow
from shared.db.transfer import TransferError, TransferReport, migrate_to_postgres

DRIVER_ERRORS = (sqlite3.Error, psycopg.Error, DBAPIError)


def sqlite_file(_: click.Context, param: click.Parameter, value: str) -> str:
    """Option callback: a sqlite:/// URL of an existing file."""
    try:
        url = make_url(value)
    except ArgumentError:
        url = None
    if url is None or url.drivername != "sqlite" or not url.database:
        raise click.BadParameter(f"{value!r} is not a sqlite:///PATH URL", param=param)
    if not Path(url.database).is_file():
        raise click.BadParameter(f"no SQLite file at {url.database}", param=param)
    return value


def postgres_url(_: click.Context, param: click.Parameter, value: str) -> str:
    """Option callback: a postgresql+psycopg:// URL (the driver the shop uses)."""
    try:
        driver = make_url(value).drivername
    except ArgumentError:
        driver = ""
    if driver != "postgresql+psycopg":
        raise click.BadParameter(f"{make_url_shown(value)!r} is not a postgresql+psycopg:// URL", param=param)
    return value


def make_url_shown(value: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value


@click.command("migrate-to-postgres")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="sqlite:///PATH",
    callback=sqlite_file,
    help="The shop's SQLite file (stop its API and workers first).",
)
@click.option(
    "--to",
    "target",
    required=True,
    envvar="DATABASE_URL",
    show_envvar=True,
    metavar="postgresql+psycopg://...",
    callback=postgres_url,
    help="An empty PostgreSQL database at the same schema revision (`alembic upgrade head` on it).",
)
@json_option
@click.pass_obj
def migrate_to_postgres_command(operator: Operator, *, source: str, target: str, as_json: bool) -> None:
    """Copy the shop from its SQLite file into an empty PostgreSQL database, in one transaction.

    Copies products, orders, jobs (running ones handed back as pending), dead letters, schedules and
    everything else but the worker registry; fixes the sequences, checks every table's row count
    against the source and prints it. Refuses, writing nothing, when the target is not empty, either
    schema is not at this code's revision, or workers still run on the source.
    """
    try:
        heartbeat = operator.settings.heartbeat_seconds
        report = migrate_to_postgres(source, target, now=utcnow(), heartbeat_seconds=heartbeat)
    except TransferError as exc:
        raise CommandError(f"{exc}; nothing was written") from exc
    except DRIVER_ERRORS as exc:
        cause = getattr(exc, "orig", None) or exc
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise CommandError(f"database error: {reason}; nothing was written") from exc
    emit(report, as_json, lambda: render(report))


def render(report: TransferReport) -> str:
    running = (
        f"running jobs: {report.handed_back} handed back as pending (attempt given back), "
        f"{report.cancelled} cancelled as an operator had asked"
    )
    sequences = ", ".join(f"{s.sequence} next {s.next_value}" for s in report.sequences) or "none"
    return "\n".join(
        [
            f"copied {report.source} into {report.target} (schema {report.revision}) in one transaction",
            "",
            table(["TABLE", "ROWS"], [[t.table, t.rows] for t in report.tables]),
            "",
            "every count above was checked in the target before the commit",
            running,
            f"sequences: {sequences}",
            f"left behind: {', '.join(report.left_behind)} (the old database's processes; new workers register)",
        ]
    )

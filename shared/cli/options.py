"""Options several commands share: times, and the dead-letter filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from shared.admin.common import as_utc

F = TypeVar("F", bound=Callable[..., Any])
TIME_HELP = "ISO 8601, e.g. 2026-11-28 or 2026-11-28T09:30:00Z; no offset means UTC"


def utc_time(_: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Option callback: parse an ISO 8601 time (UTC unless it has an offset)."""
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2026-11-28T09:30:00Z", param=param
        ) from None


def time_option(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(name, metavar="TIME", callback=utc_time, help=f"{help_text} ({TIME_HELP}).")


def dead_letter_filters(command: F) -> F:
    """--type, --error, --failed-from, --failed-to."""
    for option in reversed(
        [
            click.option("--type", "job_type", help="Only this job type."),
            click.option("--error", help="Only entries whose last error contains this text (any case)."),
            time_option("--failed-from", "Failed at or after this time"),
            time_option("--failed-to", "Failed before this time"),
        ]
    ):
        command = option(command)
    return command

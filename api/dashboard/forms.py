"""Reading what the browser sends: filters from the query string, fields from posted forms, cursors
and the page to go back to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.exceptions import ValidationException

from shared.clock import from_db, to_db
from shared.queue.queries import DeadLetterFilter
from shared.queue.status import JobStatus

HOME = "/admin"
# What an operator filters jobs by: the statuses, with pending jobs that are not due yet told apart.
JOB_STATES = ("pending", "scheduled", *(s.value for s in JobStatus if s is not JobStatus.PENDING))
NEXT_FIELD = "next"
BULK_LIMIT = 1000  # most dead-letter entries one bulk action takes, oldest first
# The dead-letter views: which entries by their reviewed flag (None: all); the first is the default.
DEAD_LETTER_VIEWS: dict[str, bool | None] = {"unreviewed": False, "reviewed": True, "all": None}


def blank_to_none(value: str | None) -> str | None:
    """An empty form field means "any"."""
    stripped = (value or "").strip()
    return stripped or None


def job_state(value: str | None) -> str | None:
    state = blank_to_none(value)
    if state is not None and state not in JOB_STATES:
        raise ValidationException(f"unknown status {state!r}: one of {', '.join(JOB_STATES)}")
    return state


def dead_letter_filter(job_type: str | None, error: str | None, show: str | None) -> DeadLetterFilter:
    view = blank_to_none(show) or "unreviewed"
    if view not in DEAD_LETTER_VIEWS:
        raise ValidationException(f"unknown view {view!r}: one of {', '.join(DEAD_LETTER_VIEWS)}")
    return DeadLetterFilter(
        type=blank_to_none(job_type), error_contains=blank_to_none(error), reviewed=DEAD_LETTER_VIEWS[view]
    )


def page_url(path: str, params: Mapping[str, str | None]) -> str:
    """The path with the parameters that are set, e.g. the next page of a filtered listing."""
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{path}?{query}" if query else path


def safe_next(value: object) -> str:
    """Where to go after an action: a path inside the dashboard, never another site."""
    if isinstance(value, str) and value.startswith(HOME) and value.isprintable() and " " not in value:
        return value
    return HOME


def here(request: Request[Any, Any, Any]) -> str:
    """This page's path and query: forms post it back as `next`."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def field(request: Request[Any, Any, Any], name: str) -> str | None:
    """A text field of the posted form; blank counts as missing."""
    value = (await request.form()).get(name)
    return blank_to_none(value) if isinstance(value, str) else None


def dead_letter_cursor(failed_at: datetime, dead_id: str) -> str:
    return f"{to_db(failed_at)}|{dead_id}"


def parse_dead_letter_cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value:
        return None
    stamp, sep, dead_id = value.partition("|")
    try:
        if not sep or not dead_id:
            raise ValueError(value)
        return from_db(stamp), dead_id
    except ValueError:
        raise ValidationException(f"malformed cursor {value!r}") from None

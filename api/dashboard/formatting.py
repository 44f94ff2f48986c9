"""Jinja filters: times, durations, ids and payloads as an operator reads them (UTC throughout)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.queue.queries import JobRow
from shared.queue.status import JobStatus


def when(moment: datetime | None) -> str:
    """`2026-11-28 10:04:05` (UTC), or an em dash."""
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def precise(moment: datetime) -> str:
    """`2026-11-28 10:04:05.123` (UTC): events of one job are often within the same second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def duration(seconds: float) -> str:
    """A short human duration: `45s`, `3m 12s`, `2h 05m`, `3d 4h`."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def relative(moment: datetime | None, now: datetime) -> str:
    """`12s ago`, `in 3h 05m`, `now`, or an em dash."""
    if moment is None:
        return "—"
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 1:
        return "now"
    return f"{duration(seconds)} ago" if seconds > 0 else f"in {duration(seconds)}"


def short_id(value: str | None) -> str:
    """The first 8 characters of a UUID: enough to tell jobs apart on screen."""
    return "—" if value is None else value[:8]


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


def state(job: JobRow, now: datetime) -> str:
    """The status an operator filters by: a pending job that is not due yet is `scheduled`."""
    if job.status is JobStatus.PENDING and job.scheduled_at > now:
        return "scheduled"
    return job.status.value


FILTERS = {
    "when": when,
    "precise": precise,
    "duration": duration,
    "relative": relative,
    "short_id": short_id,
    "pretty_json": pretty_json,
    "state": state,
}

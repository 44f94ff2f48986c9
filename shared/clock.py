"""The one time source, and the one timestamp format stored in the database.

Timestamps are UTC TEXT in SQLite's own format (`YYYY-MM-DD HH:MM:SS.SSS`) so that the seed's
`scheduled_at <= datetime('now')` comparisons are right on our rows. Code takes a `Clock`
argument where tests need to move time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    """Format an aware datetime as SQLite-style UTC text with milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    # isoformat, not strftime: %Y writes the year 60 as `60`, which sorts after `2026`.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")


def from_db(text: str) -> datetime:
    """Parse SQLite-style UTC text (with or without fractional seconds)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def to_api(moment: datetime | None) -> str | None:
    """ISO 8601 with Z for JSON responses; the database format stays internal."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

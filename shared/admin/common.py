"""What every view shares: the camelCase base, stored JSON shown as JSON, and UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

import msgspec


class View(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of the operator's views: camelCase JSON, timestamps as ISO 8601 with Z."""


def stored_json(text: str) -> Any:
    """A payload column as JSON; text that is not JSON (never written by enqueue) is shown as is."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """Operators' filters: a time without an offset is UTC, like every timestamp the API shows."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

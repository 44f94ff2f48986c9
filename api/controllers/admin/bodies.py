"""Request bodies of the admin API (camelCase, unknown fields refused, decoded strictly)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from api.schemas import RequestBody
from shared.admin.dead_letters import MAX_BULK
from shared.admin.jobs import MAX_ATTEMPTS, MAX_DELAY_SECONDS, MAX_PRIORITY

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]  # ISO 8601 with an offset, e.g. 2026-11-28T09:00:00Z


class NewJob(RequestBody, frozen=True):
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    priority: Annotated[int, msgspec.Meta(ge=0, le=MAX_PRIORITY)] | None = None  # default: the type's own
    scheduled_at: Moment | None = None
    delay_seconds: Annotated[float, msgspec.Meta(ge=0, le=MAX_DELAY_SECONDS)] | None = None
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=MAX_ATTEMPTS)] | None = None  # default: the type's own
    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None


class Review(RequestBody, frozen=True):
    notes: Text


class Discard(RequestBody, frozen=True):
    notes: Text | None = None


class DeadLetterSelection(RequestBody, frozen=True):
    """Unreviewed dead letters to act on, oldest first; every field narrows the selection."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    error: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None  # text in the last error
    failed_from: Moment | None = None
    failed_to: Moment | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_BULK)] = MAX_BULK


class BulkDiscard(DeadLetterSelection, frozen=True):
    notes: Text | None = None


class Pause(RequestBody, frozen=True):
    reason: Text | None = None


class ScheduleChange(RequestBody, frozen=True):
    is_active: bool | None = None
    cron_expression: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None

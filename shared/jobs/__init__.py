"""The shop's job types: payload schemas, defaults, and `enqueue` bound to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from shared.clock import Clock, utcnow
from shared.jobs.catalog import JOBS
from shared.queue import producer


def enqueue(
    session: Session,
    type: str,
    payload: Mapping[str, Any] | msgspec.Struct,
    *,
    priority: int | None = None,
    scheduled_at: datetime | None = None,
    delay: float | timedelta | None = None,
    max_attempts: int | None = None,
    idempotency_key: str | None = None,
    clock: Clock = utcnow,
) -> str:
    """Enqueue a shop job inside the caller's transaction; see shared.queue.producer.enqueue."""
    return producer.enqueue(
        session,
        JOBS,
        type,
        payload,
        priority=priority,
        scheduled_at=scheduled_at,
        delay=delay,
        max_attempts=max_attempts,
        idempotency_key=idempotency_key,
        clock=clock,
    )


__all__ = ["JOBS", "enqueue"]

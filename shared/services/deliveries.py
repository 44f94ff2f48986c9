"""Record a provider delivery; a repeated key is counted, never delivered again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shared.db.sql import Executor, upsert
from shared.services.models import ProviderDelivery


def record_delivery(
    session: Executor,
    *,
    provider: str,
    key: str,
    payload: Any,
    now: datetime,
    job_id: str | None = None,
) -> bool:
    """Insert the delivery, or bump `repeat_calls` if the key was seen. True if it was new."""
    statement = (
        upsert(session, ProviderDelivery)
        .values(
            provider=provider,
            idempotency_key=key,
            job_id=job_id,
            payload=msgspec.json.encode(payload).decode(),
            delivered_at=now,
            repeat_calls=0,
        )
        .on_conflict_do_update(
            index_elements=[ProviderDelivery.provider, ProviderDelivery.idempotency_key],
            set_={"repeat_calls": ProviderDelivery.repeat_calls + 1},
        )
        .returning(ProviderDelivery.repeat_calls)
    )
    return session.execute(statement).scalar_one() == 0

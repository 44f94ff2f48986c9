"""What each refused enqueue option says (the API and the CLI show it as is), and the edges that pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.db import Database
from shared.errors import FieldError
from shared.queue import enqueue, queries
from shared.queue.errors import EnqueueError
from tests.model import jobs as model_jobs

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("options", "message", "detail"),
    [
        (
            {"delay": 1, "scheduled_at": NOW},
            "give scheduled_at or delay, not both",
            FieldError("delay", "conflicts with scheduledAt"),
        ),
        ({"max_attempts": 0}, "max_attempts must be at least 1", FieldError("maxAttempts", "must be >= 1")),
        ({"idempotency_key": " "}, "idempotency_key must not be blank", FieldError("idempotencyKey", "blank")),
        ({"delay": -0.001}, "delay must not be negative", FieldError("delay", "negative")),
        ({"delay": timedelta(seconds=-1)}, "delay must not be negative", FieldError("delay", "negative")),
        (
            {"scheduled_at": datetime(2026, 11, 27, 12, 0)},  # naive: no tzinfo
            "scheduled_at must be timezone-aware",
            FieldError("scheduledAt", "naive"),
        ),
    ],
)
def test_a_refused_option_says_what_and_where(
    db: Database, options: dict[str, Any], message: str, detail: FieldError
) -> None:
    with db.write() as tx, pytest.raises(EnqueueError) as refused:
        enqueue(tx, model_jobs.plain, {"n": 1}, clock=lambda: NOW, **options)
    assert (str(refused.value), refused.value.details) == (message, [detail])


def test_the_edges_of_the_options_are_accepted(db: Database) -> None:
    with db.write() as tx:
        once = enqueue(tx, model_jobs.plain, {"n": 1}, max_attempts=1, delay=0, idempotency_key="k", clock=lambda: NOW)
        later = enqueue(tx, model_jobs.plain, {"n": 2}, delay=timedelta(minutes=1), clock=lambda: NOW)
        first, second = queries.job(tx, once), queries.job(tx, later)
    assert first is not None
    assert second is not None
    assert (first.max_attempts, first.scheduled_at, first.idempotency_key) == (1, NOW, "k")
    assert second.scheduled_at == NOW + timedelta(minutes=1)

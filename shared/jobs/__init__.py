"""The shop's job types: payload schemas, defaults, and `enqueue` bound to them."""

from __future__ import annotations

from functools import partial

from shared.jobs.catalog import JOBS
from shared.queue import producer

# enqueue(session, type, payload, *, priority, scheduled_at | delay, max_attempts, idempotency_key, clock):
# the generic producer with the shop's job types.
enqueue = partial(producer.enqueue, registry=JOBS)

__all__ = ["JOBS", "enqueue"]

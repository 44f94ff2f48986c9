"""The model's job types: one of each kind of flow control the queue core enforces at claim time.

The state machine never runs a handler (it plays the worker itself, through the core's calls), but a
job type cannot exist without one; these do nothing.
"""

from __future__ import annotations

import msgspec

from shared.queue import JobContext, JobRegistry, JobTypes, Priority
from shared.queue.limits import ConcurrencyLimit, RateLimit

jobs: JobRegistry[None] = JobRegistry()


class Work(msgspec.Struct, forbid_unknown_fields=True):
    n: int = 0


class Keyed(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    n: int = 0


RATE = RateLimit(2, 10.0)  # at most two starts in any ten seconds, across every worker
CONCURRENCY = 1  # at most one running job per key


@jobs.job("model_plain", Work, priority=Priority.NORMAL, max_attempts=3)
async def plain(ctx: JobContext[None], payload: Work) -> None:
    return None


@jobs.job("model_rated", Work, priority=Priority.LOW, max_attempts=2, rate_limit=RATE)
async def rated(ctx: JobContext[None], payload: Work) -> None:
    return None


@jobs.job(
    "model_keyed",
    Keyed,
    priority=Priority.NORMAL,
    max_attempts=3,
    concurrency=ConcurrencyLimit(key=lambda job: f"model:{job.key}", limit=CONCURRENCY),
)
async def keyed(ctx: JobContext[None], payload: Keyed) -> None:
    return None


@jobs.job("model_tick", Work, priority=Priority.HIGH, max_attempts=2)
async def tick(ctx: JobContext[None], payload: Work) -> None:
    return None


TYPES = JobTypes([jobs])
LIMITS = TYPES.flow_limits()

"""The queue's own job types, loaded by every worker: housekeeping that runs as ordinary jobs
(scheduled by cron, retried, visible like any other)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated

import msgspec

from shared.db.tx import Tx
from shared.queue.context import JobContext, WorkerEnv
from shared.queue.priority import Priority
from shared.queue.registry import JobRegistry

BATCH = 500  # rows per write transaction: the write lock is never held for long
# Ticks are kept this long: they make each tick fire once, and a month is far past any clock jump.
CRON_RUNS_KEPT = timedelta(days=31)

jobs: JobRegistry[WorkerEnv] = JobRegistry()


@jobs.resources
@asynccontextmanager
async def worker_env(env: WorkerEnv) -> AsyncIterator[WorkerEnv]:
    yield env


class Cleanup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    # Completed jobs older than this go; None: the CLEANUP_AFTER_DAYS setting.
    older_than_days: Annotated[float, msgspec.Meta(ge=0)] | None = None


_OLD_COMPLETED = "SELECT id FROM jobs WHERE status = 'completed' AND completed_at < :cutoff LIMIT :limit"


def delete_completed_batch(tx: Tx, cutoff: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` completed jobs older than `cutoff`, with their processed steps and
    failure history; failed jobs and dead letters stay."""
    ids = [row[0] for row in tx.all(_OLD_COMPLETED, {"cutoff": tx.ts(cutoff), "limit": limit})]
    if ids:
        params = {"ids": tx.list_param(ids)}
        source = tx.list_table("ids")
        for table, column in (("processed_jobs", "job_id"), ("job_failures", "job_id"), ("jobs", "id")):
            tx.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM {source})", params)
    return len(ids)


def prune_bookkeeping(tx: Tx, now: datetime, longest_rate_window: float) -> None:
    """Forget cron ticks older than a month and rate-limit starts older than any window."""
    tx.execute("DELETE FROM cron_runs WHERE fire_at < :cutoff", {"cutoff": tx.ts(now - CRON_RUNS_KEPT)})
    cutoff = now - timedelta(seconds=max(longest_rate_window, 60.0))
    tx.execute("DELETE FROM rate_limit_starts WHERE started_at < :cutoff", {"cutoff": tx.ts(cutoff)})


@jobs.job("cleanup_completed_jobs", Cleanup, priority=Priority.LOW, timeout=3600)
async def cleanup_completed_jobs(ctx: JobContext[WorkerEnv], payload: Cleanup) -> None:
    env = ctx.resources
    days = env.settings.cleanup_after_days if payload.older_than_days is None else payload.older_than_days
    cutoff = env.clock() - timedelta(days=days)
    while await env.db.run_write(lambda tx: delete_completed_batch(tx, cutoff)) == BATCH:
        await asyncio.sleep(0.01)  # let the API and the other workers write between batches

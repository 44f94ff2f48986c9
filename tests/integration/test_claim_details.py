"""What a claim hands the worker: every column of the job it needs, and the starts it records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.db import Database
from shared.queue import enqueue, store
from shared.queue.context import ClaimedJob
from shared.queue.limits import FlowLimits, RateLimit
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_claimed_job_carries_every_column_the_worker_needs(db: Database) -> None:
    with db.write() as tx:
        job_id = enqueue(
            tx,
            model_jobs.keyed,
            {"key": "k"},
            priority=7,
            scheduled_at=at(-5),
            max_attempts=4,
            workflow_id="wf-1",
            parent_id="parent-1",
            request_id="req-1",
            clock=lambda: T0,
        )
        seq = tx.scalar("SELECT seq FROM jobs WHERE id = :id", {"id": job_id})
        (claimed,) = store.claim(tx, "w", 1, at(0)).jobs
    assert claimed == ClaimedJob(
        id=job_id,
        type="model_keyed",
        payload='{"key":"k","n":0}',
        priority=7,
        attempts=1,
        max_attempts=4,
        scheduled_at=at(-5),
        seq=seq,
        workflow_id="wf-1",
        parent_id="parent-1",
        concurrency_key="model:k",
        locked_by="w",
        started_at=at(0),
        claims=1,
        request_id="req-1",
    )


def test_a_claim_of_nothing_claims_nothing(db: Database) -> None:
    with db.write() as tx:
        enqueue(tx, model_jobs.plain, {"n": 1}, clock=lambda: T0)
        assert store.claim(tx, "w", 0, at(0)).jobs == []
        assert store.claim(tx, "w", -1, at(0)).jobs == []


def test_a_rate_limited_start_is_recorded_against_its_job(db: Database) -> None:
    limits = FlowLimits({"model_rated": RateLimit(5, 60.0)}, {})
    with db.write() as tx:
        ids = {enqueue(tx, model_jobs.rated, {"n": n}, clock=lambda: T0) for n in range(2)}
        enqueue(tx, model_jobs.plain, {"n": 9}, clock=lambda: T0)  # not rate-limited: no start recorded
        assert len(store.claim(tx, "w", 10, at(0), limits=limits).jobs) == 3
        starts = tx.all("SELECT limit_key, started_at, job_id FROM rate_limit_starts")
    assert {(key, tx.dt(started), job) for key, started, job in starts} == {
        ("model_rated", at(0), job_id) for job_id in ids
    }

"""What a rescue reports about each job it takes back, and what it leaves on the job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.db import Database
from shared.queue import enqueue, operations, store
from shared.queue.policy import QueuePolicy
from shared.queue.store import LEASE_LOST, RescuedJob
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
POLICY = QueuePolicy(lease_seconds=60, heartbeat_seconds=5)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_each_rescued_job_is_reported_with_its_attempt_workflow_and_lost_worker(db: Database) -> None:
    with db.write() as tx:
        requeued = enqueue(tx, model_jobs.plain, {"n": 1}, max_attempts=2, workflow_id="wf-1", clock=lambda: T0)
        dead = enqueue(tx, model_jobs.plain, {"n": 2}, max_attempts=1, clock=lambda: T0)
        store.claim(tx, "lost", 2, at(0))
        rescue = store.rescue(tx, at(61), POLICY)
    assert set(rescue.jobs) == {  # in no particular order
        RescuedJob(requeued, "model_plain", 1, "wf-1", "lost", store.REQUEUED),
        RescuedJob(dead, "model_plain", 1, None, "lost", store.DEAD_LETTERED),
    }


def test_a_rescued_job_an_operator_asked_to_cancel_ends_cancelled_saying_so(db: Database) -> None:
    with db.write() as tx:
        job_id = enqueue(tx, model_jobs.plain, {"n": 1}, clock=lambda: T0)
        store.claim(tx, "lost", 1, at(0))
        operations.cancel(tx, job_id, at(1))
        assert store.rescue(tx, at(61), POLICY).cancelled == [job_id]
        row = tx.one("SELECT status, last_error, locked_by FROM jobs WHERE id = :id", {"id": job_id})
    assert row == ("cancelled", f"cancelled on request ({LEASE_LOST})", None)

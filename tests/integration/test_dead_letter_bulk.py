"""Bulk dead-letter actions report the entries they acted on by id, and the ones they refused."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.db import Database
from shared.queue import enqueue, operations, store
from shared.queue.policy import QueuePolicy
from shared.queue.store import Kind, Outcome
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def dead_letter(db: Database, n: int) -> str:
    with db.write() as tx:
        job_id = enqueue(tx, model_jobs.plain, {"n": n}, clock=lambda: T0)
        (job,) = store.claim(tx, "w", 1, T0).jobs
        store.settle(tx, [Outcome(job, Kind.DEAD, "bad")], T0, QueuePolicy())
        return str(tx.scalar("SELECT id FROM dead_letter_jobs WHERE original_job_id = :id", {"id": job_id}))


def test_bulk_retry_and_discard_name_what_they_did_and_what_they_refused(db: Database) -> None:
    first, second = dead_letter(db, 1), dead_letter(db, 2)
    with db.write() as tx:
        retried = operations.retry_dead_letters(tx, [first, "missing"], T0)
        discarded = operations.discard_dead_letters(tx, [second, "gone"], "not needed")
    assert retried == operations.BulkResult([first], {"missing": "dead letter 'missing' not found"})
    assert discarded == operations.BulkResult([second], {"gone": "dead letter 'gone' not found"})

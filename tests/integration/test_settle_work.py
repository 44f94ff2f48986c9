"""A completion that carries work (children, hooks) on a real database: what the children inherit,
what a hook is handed, and what a failed follow-up leaves behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.db import Database, Tx
from shared.queue import enqueue, operations, store
from shared.queue.context import Child, ClaimedJob, Completion
from shared.queue.policy import QueuePolicy
from shared.queue.store import Kind, Outcome, Settled
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
POLICY = QueuePolicy(lease_seconds=60, heartbeat_seconds=5, retry_base_seconds=10)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def claimed_parent(db: Database) -> ClaimedJob:
    with db.write() as tx:
        enqueue(tx, model_jobs.plain, {"n": 0}, workflow_id="wf-1", request_id="req-1", clock=lambda: T0)
        (job,) = store.claim(tx, "w", 1, at(0)).jobs
    return job


def settle(db: Database, outcome: Outcome, now: datetime) -> Settled:
    with db.write() as tx:
        (result,) = store.settle(tx, [outcome], now, POLICY)
    return result


def test_children_inherit_the_workflow_the_parent_and_the_request(db: Database) -> None:
    parent = claimed_parent(db)
    completion = Completion(processed_key="step:parent")
    completion.children.append(Child(model_jobs.plain, {"n": 1}, 5, "child:1"))
    outcome = Outcome(parent, Kind.COMPLETED, completion=completion)
    assert settle(db, outcome, at(2)) == Settled(outcome, Kind.COMPLETED)
    with db.read() as tx:
        child = tx.one(
            "SELECT parent_id, workflow_id, request_id, idempotency_key, scheduled_at FROM jobs WHERE id != :id",
            {"id": parent.id},
        )
        assert child is not None
        assert child[:4] == (parent.id, "wf-1", "req-1", "child:1")
        assert tx.dt(child[4]) == at(7)  # the delay counts from the completion
        assert store.already_done(tx, ["step:parent"]) == {"step:parent"}


def test_a_hook_runs_in_the_completing_transaction(db: Database) -> None:
    parent = claimed_parent(db)

    def pause(tx: Tx) -> None:
        operations.pause_type(tx, "model_rated", at(2), "paused by a hook")

    completion = Completion()
    completion.hooks.append(pause)
    assert settle(db, Outcome(parent, Kind.COMPLETED, completion=completion), at(2)).applied is Kind.COMPLETED
    with db.read() as tx:
        assert operations.paused_types(tx) == ["model_rated"]


def test_a_failed_hook_fails_the_attempt_with_the_exception_named(db: Database) -> None:
    parent = claimed_parent(db)

    def refuse(_tx: Tx) -> None:
        raise LookupError("no such order")

    completion = Completion()
    completion.hooks.append(refuse)
    result = settle(db, Outcome(parent, Kind.COMPLETED, completion=completion), at(2))
    error = "completion failed: LookupError: no such order"
    assert (result.applied, result.error) == (Kind.FAILED, error)
    with db.read() as tx:
        assert tx.one("SELECT status, last_error FROM jobs WHERE id = :id", {"id": parent.id}) == ("pending", error)


def test_a_fenced_out_completion_with_work_reports_nothing_applied_and_no_error(db: Database) -> None:
    parent = claimed_parent(db)
    with db.write() as tx:  # its lease runs out and another worker takes it
        store.rescue(tx, at(61), POLICY)
        store.claim(tx, "other", 1, at(62))
    completion = Completion()
    completion.children.append(Child(model_jobs.plain, {"n": 1}, None, None))
    outcome = Outcome(parent, Kind.COMPLETED, completion=completion)
    assert settle(db, outcome, at(63)) == Settled(outcome, None)


def test_a_settle_stopped_by_a_cancel_request_or_a_lost_lease_says_why(db: Database) -> None:
    parent = claimed_parent(db)
    with db.write() as tx:
        operations.cancel(tx, parent.id, at(1))
    failed = Outcome(parent, Kind.FAILED, "boom")
    assert settle(db, failed, at(2)) == Settled(
        failed, Kind.CANCELLED, error="cancelled on request (the attempt ended: boom)"
    )
    # a replay: the worker no longer holds the job
    assert settle(db, failed, at(3)) == Settled(failed, None, error="boom")


def test_a_dead_letter_reports_its_error_and_a_cancel_request_still_wins(db: Database) -> None:
    parent = claimed_parent(db)
    dead = Outcome(parent, Kind.DEAD, "bad payload")
    assert settle(db, dead, at(1)) == Settled(dead, Kind.DEAD, error="bad payload")
    other = claimed_parent(db)
    with db.write() as tx:
        operations.cancel(tx, other.id, at(2))
    stopped = Outcome(other, Kind.DEAD, "bad payload")
    assert settle(db, stopped, at(3)) == Settled(
        stopped, Kind.CANCELLED, error="cancelled on request (the attempt ended: bad payload)"
    )
    assert settle(db, stopped, at(4)) == Settled(stopped, None, error="bad payload")


def test_an_outcome_without_an_error_text_is_given_one(db: Database) -> None:
    failed, dead, cancelled, named = (claimed_parent(db) for _ in range(4))
    handed = claimed_parent(db)
    with db.write() as tx:
        operations.cancel(tx, handed.id, at(1))
        store.settle(
            tx,
            [
                Outcome(failed, Kind.FAILED),
                Outcome(dead, Kind.DEAD),
                Outcome(cancelled, Kind.CANCELLED),
                Outcome(named, Kind.CANCELLED, "timed out"),
                Outcome(handed, Kind.HANDED_BACK),
            ],
            at(2),
            POLICY,
        )
        errors = [
            tx.scalar("SELECT last_error FROM jobs WHERE id = :id", {"id": job.id})
            for job in (failed, dead, cancelled, named, handed)
        ]
    assert errors == [
        "failed",
        "failed",
        "cancelled",
        "timed out",
        "cancelled on request (the attempt ended: handed back at shutdown)",
    ]

"""The worker's statements on a real database: claim order, fencing, rescue, hand-back, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.db import Database
from shared.queue import enqueue, operations, queries, store, workers
from shared.queue.context import Child, ClaimedJob, Completion
from shared.queue.policy import QueuePolicy
from shared.queue.queries import JobRow
from shared.queue.store import Kind, Outcome
from shared.shop import jobs as shop_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
POLICY = QueuePolicy(lease_seconds=60, heartbeat_seconds=5, retry_base_seconds=10)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add(db: Database, order: str, *, priority: int | None = None, when: float = 0, attempts: int = 5) -> str:
    with db.write() as tx:
        return enqueue(
            tx,
            shop_jobs.generate_invoice,
            {"orderId": order},
            priority=priority,
            max_attempts=attempts,
            scheduled_at=at(when),
            clock=lambda: T0,
        )


def job(db: Database, job_id: str) -> JobRow:
    with db.read() as tx:
        row = queries.job(tx, job_id)
    assert row is not None
    return row


def claim(db: Database, worker: str, limit: int, now: datetime) -> list[ClaimedJob]:
    with db.write() as tx:
        return store.claim(tx, worker, limit, now).jobs


def settle(db: Database, *outcomes: Outcome, now: datetime) -> list[Kind | None]:
    with db.write() as tx:
        return [result.applied for result in store.settle(tx, list(outcomes), now, POLICY)]


def dead_letters(db: Database) -> list[queries.DeadLetterRow]:
    with db.read() as tx:
        return queries.dead_letters(tx)


def test_claim_orders_by_priority_then_time_then_enqueue_order(db: Database) -> None:
    low = add(db, "low", priority=0)
    first = add(db, "first", priority=5)
    second = add(db, "second", priority=5)
    urgent = add(db, "urgent", priority=10, when=1)
    future = add(db, "future", priority=20, when=60)
    claimed = claim(db, "w1", 10, at(2))
    assert [c.id for c in claimed] == [urgent, first, second, low]
    assert future not in [c.id for c in claimed]
    assert all(c.attempts == 1 and c.locked_by == "w1" for c in claimed)
    row = job(db, first)
    assert (row.status, row.locked_by, row.locked_at, row.attempts) == ("processing", "w1", at(2), 1)
    assert row.started_at == at(2)


def test_claim_takes_at_most_the_limit_and_never_twice(db: Database) -> None:
    for i in range(5):
        add(db, str(i))
    a = claim(db, "a", 3, at(0))
    b = claim(db, "b", 3, at(0))
    c = claim(db, "c", 3, at(0))
    assert (len(a), len(b), len(c)) == (3, 2, 0)
    assert not {j.id for j in a} & {j.id for j in b}


def test_a_worker_that_lost_its_lease_changes_nothing(db: Database) -> None:
    job_id = add(db, "o")
    (stale,) = claim(db, "zombie", 1, at(0))
    with db.write() as tx:  # the zombie stopped heartbeating; its lease expires
        rescue = store.rescue(tx, at(61), POLICY)
    assert rescue.requeued == [job_id]
    (fresh,) = claim(db, "alive", 1, at(62))
    assert fresh.attempts == 2
    # every late write from the zombie is fenced out
    assert (
        settle(
            db,
            Outcome(stale, Kind.COMPLETED),
            Outcome(stale, Kind.FAILED, "late"),
            Outcome(stale, Kind.DEAD, "late"),
            Outcome(stale, Kind.HANDED_BACK),
            Outcome(stale, Kind.CANCELLED),
            now=at(63),
        )
        == [None] * 5
    )
    with db.write() as tx:
        assert store.refresh_locks(tx, "zombie", at(63)) == 0
    row = job(db, job_id)
    assert (row.status, row.locked_by, row.attempts, row.locked_at) == ("processing", "alive", 2, at(62))
    assert dead_letters(db) == []
    assert settle(db, Outcome(fresh, Kind.COMPLETED), now=at(64)) == [Kind.COMPLETED]
    assert job(db, job_id).status == "completed"


def test_a_fenced_out_completion_records_no_step_and_enqueues_no_children(db: Database) -> None:
    add(db, "o")
    (stale,) = claim(db, "zombie", 1, at(0))
    with db.write() as tx:
        store.rescue(tx, at(61), POLICY)
    claim(db, "alive", 1, at(62))
    completion = Completion(processed_key="invoice:o")
    context = Completion(processed_key="confirmation:o")
    context.children.append(Child(shop_jobs.sync_inventory, {"orderId": "o"}, None, "sync_inventory:o"))
    assert settle(
        db,
        Outcome(stale, Kind.COMPLETED, completion=completion),
        Outcome(stale, Kind.COMPLETED, completion=context),
        now=at(63),
    ) == [None, None]
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM processed_jobs") == 0
        assert tx.scalar("SELECT COUNT(*) FROM jobs") == 1


def test_same_worker_reclaiming_is_fenced_by_attempt(db: Database) -> None:
    job_id = add(db, "o")
    (old,) = claim(db, "w", 1, at(0))
    with db.write() as tx:
        store.rescue(tx, at(100), POLICY)
    (new,) = claim(db, "w", 1, at(100))
    assert settle(db, Outcome(old, Kind.COMPLETED), now=at(101)) == [None]
    assert settle(db, Outcome(new, Kind.COMPLETED), now=at(101)) == [Kind.COMPLETED]
    assert job(db, job_id).attempts == 2


def test_heartbeat_keeps_a_running_job_from_rescue(db: Database) -> None:
    job_id = add(db, "o")
    claim(db, "w", 1, at(0))
    with db.write() as tx:
        assert store.refresh_locks(tx, "w", at(50)) == 1
        rescue = store.rescue(tx, at(100), POLICY)  # lease cutoff 40: locked_at 50 is fresh
    assert rescue.requeued == []
    assert rescue.dead == []
    assert job(db, job_id).status == "processing"


def test_rescue_of_a_last_attempt_goes_to_the_dead_letter_queue(db: Database) -> None:
    job_id = add(db, "o", attempts=1)
    claim(db, "w", 1, at(0))
    with db.write() as tx:
        rescue = store.rescue(tx, at(61), POLICY)
    assert rescue.dead == [job_id]
    row = job(db, job_id)
    assert row.status == "failed"
    assert "lease expired" in (row.last_error or "")
    (dead,) = dead_letters(db)
    assert (dead.original_job_id, dead.type, dead.attempts, dead.reviewed) == (job_id, "generate_invoice", 1, False)
    assert dead.payload == '{"orderId":"o"}'


def test_jobs_of_a_worker_that_missed_three_beats_are_rescued_before_the_lease_expires(db: Database) -> None:
    job_id = add(db, "o")
    with db.write() as tx:
        workers.register(tx, "dead", 1, at(0))  # last seen at 0
    claim(db, "dead", 1, at(0))
    with db.write() as tx:
        assert store.rescue(tx, at(14), POLICY).requeued == []  # 2.8 beats: still alive
        assert store.rescue(tx, at(16), POLICY).requeued == [job_id]  # 3.2 beats: dead, lease or not
    assert job(db, job_id).status == "pending"


def test_a_worker_is_never_dead_to_itself(db: Database) -> None:
    """Its beats can be late (the database refused them), but it is running the job: only another
    worker may take it back."""
    job_id = add(db, "o")
    with db.write() as tx:
        workers.register(tx, "late", 1, at(0))  # last seen at 0
    claim(db, "late", 1, at(0))
    with db.write() as tx:
        assert store.has_orphans(tx, at(61), POLICY, rescuer="late") is False
        assert store.rescue(tx, at(61), POLICY, rescuer="late").jobs == []  # lease expired too: still its own
        assert store.rescue(tx, at(16), POLICY, rescuer="other").requeued == [job_id]


def test_until_the_rescuer_trusts_missed_beats_only_the_lease_counts(db: Database) -> None:
    job_id = add(db, "o")
    with db.write() as tx:
        workers.register(tx, "late", 1, at(0))  # last seen at 0
    claim(db, "late", 1, at(0))
    with db.write() as tx:
        assert store.has_orphans(tx, at(16), POLICY, rescuer="other", trust_beats=False) is False
        assert store.rescue(tx, at(59), POLICY, rescuer="other", trust_beats=False).jobs == []
        assert store.rescue(tx, at(61), POLICY, rescuer="other", trust_beats=False).requeued == [job_id]


def test_retry_and_dead_letter_and_hand_back(db: Database) -> None:
    retried, dead, handed = add(db, "r"), add(db, "d"), add(db, "h")
    claims = {c.id: c for c in claim(db, "w", 3, at(0))}
    with db.write() as tx:
        results = store.settle(
            tx,
            [
                Outcome(claims[retried], Kind.FAILED, "boom"),
                Outcome(claims[dead], Kind.DEAD, "bad payload"),
                Outcome(claims[handed], Kind.HANDED_BACK),
            ],
            at(1),
            POLICY,
        )
    delay = results[0].retry_delay
    assert delay is not None
    assert 5 <= delay <= 10  # the first backoff step: within [base/2, base]
    r, d, h = job(db, retried), job(db, dead), job(db, handed)
    assert (r.status, r.attempts, r.last_error, r.locked_by) == ("pending", 1, "boom", None)
    # the computed delay is applied (timestamps keep milliseconds)
    assert abs(r.scheduled_at - (at(1) + timedelta(seconds=delay))) < timedelta(milliseconds=1)
    assert (d.status, d.last_error) == ("failed", "bad payload")
    assert (h.status, h.attempts, h.locked_by) == ("pending", 0, None)  # the attempt was not spent
    assert [x.original_job_id for x in dead_letters(db)] == [dead]


def test_a_failed_last_attempt_is_dead_lettered(db: Database) -> None:
    job_id = add(db, "o", attempts=1)
    (claimed,) = claim(db, "w", 1, at(0))
    assert settle(db, Outcome(claimed, Kind.FAILED, "boom"), now=at(1)) == [Kind.DEAD]
    assert job(db, job_id).status == "failed"
    assert [x.original_job_id for x in dead_letters(db)] == [job_id]


def test_a_batch_that_fails_part_way_settles_the_rest(db: Database) -> None:
    """One completion's follow-up work fails: only that job's completion is undone (it counts a failed
    attempt); every other outcome in the same transaction commits."""
    first, broken, last = add(db, "a"), add(db, "b"), add(db, "c")
    claims = {c.id: c for c in claim(db, "w", 3, at(0))}

    def explode(_tx: object) -> None:
        raise RuntimeError("child refused")

    failing = Completion(processed_key="invoice:b")
    failing.hooks.append(explode)
    with db.write() as tx:
        results = store.settle(
            tx,
            [
                Outcome(claims[first], Kind.COMPLETED, completion=Completion(processed_key="invoice:a")),
                Outcome(claims[broken], Kind.COMPLETED, completion=failing),
                Outcome(claims[last], Kind.COMPLETED, completion=Completion(processed_key="invoice:c")),
            ],
            at(1),
            POLICY,
        )
    assert [r.applied for r in results] == [Kind.COMPLETED, Kind.FAILED, Kind.COMPLETED]
    assert job(db, first).status == "completed"
    assert job(db, last).status == "completed"
    failed = job(db, broken)
    assert (failed.status, failed.locked_by) == ("pending", None)
    assert "child refused" in (failed.last_error or "")
    with db.read() as tx:
        assert sorted(r[0] for r in tx.all("SELECT idempotency_key FROM processed_jobs")) == ["invoice:a", "invoice:c"]


def test_due_work_checks(db: Database) -> None:
    with db.read() as tx:
        assert store.has_due_work(tx, at(0)) is False
        assert store.next_due_at(tx) is None
    add(db, "later", when=30)
    with db.read() as tx:
        assert store.has_due_work(tx, at(0)) is False
        assert store.has_due_work(tx, at(30)) is True
        assert store.next_due_at(tx) == at(30)


def test_orphans_are_seen_by_a_read(db: Database) -> None:
    add(db, "o")
    claim(db, "w", 1, at(0))
    with db.read() as tx:
        assert store.has_orphans(tx, at(60), POLICY) is False
        assert store.has_orphans(tx, at(61), POLICY) is True


def test_a_job_asked_to_cancel_never_goes_back_to_the_queue(db: Database) -> None:
    """Found by the model-based test: a running job an operator asked to cancel went back to
    pending when its attempt failed, was handed back or was rescued, and started once more."""
    failed, dead, handed, orphan, completed = (add(db, name) for name in ("f", "d", "h", "o", "c"))
    claims = {c.id: c for c in claim(db, "w", 5, at(0))}
    with db.write() as tx:
        for job_id in claims:
            operations.cancel(tx, job_id, at(1))
    assert settle(
        db,
        Outcome(claims[failed], Kind.FAILED, "boom"),
        Outcome(claims[dead], Kind.DEAD, "bad payload"),
        Outcome(claims[handed], Kind.HANDED_BACK),
        Outcome(claims[completed], Kind.COMPLETED),  # it finished first: the work is done
        now=at(2),
    ) == [Kind.CANCELLED, Kind.CANCELLED, Kind.CANCELLED, Kind.COMPLETED]
    with db.write() as tx:
        rescue = store.rescue(tx, at(61), POLICY)  # the worker died holding the last one
    assert (rescue.requeued, rescue.dead, rescue.cancelled) == ([], [], [orphan])
    statuses = {job_id: job(db, job_id) for job_id in claims}
    assert {job_id: row.status for job_id, row in statuses.items()} == {
        failed: "cancelled",
        dead: "cancelled",
        handed: "cancelled",
        orphan: "cancelled",
        completed: "completed",
    }
    assert all(row.locked_by is None for job_id, row in statuses.items() if job_id != completed)
    assert "boom" in (statuses[failed].last_error or "")
    assert dead_letters(db) == []
    with db.read() as tx:
        assert store.has_due_work(tx, at(3600)) is False


def test_a_claim_token_names_one_claim_even_when_attempts_repeat(db: Database) -> None:
    """Found by the model-based test: the token was (worker, attempts), and attempts repeat (a
    hand-back gives the attempt back, a dead-letter retry starts again from zero), so a worker that
    claimed a job once more could settle it with the token of a claim it had lost."""
    job_id = add(db, "o", attempts=1)
    (lost,) = claim(db, "w", 1, at(0))
    with db.write() as tx:  # w stalls; its lease runs out on its last attempt: dead letter
        assert store.rescue(tx, at(61), POLICY).dead == [job_id]
        operations.retry_dead_letter(tx, tx.scalar("SELECT id FROM dead_letter_jobs"), at(62))
    (again,) = claim(db, "w", 1, at(63))  # w claims it once more: the same worker, attempt 1 again
    assert (again.locked_by, again.attempts) == (lost.locked_by, lost.attempts)
    assert settle(db, Outcome(lost, Kind.FAILED, "late"), Outcome(lost, Kind.COMPLETED), now=at(64)) == [None, None]
    row = job(db, job_id)
    assert (row.status, row.locked_by, row.attempts) == ("processing", "w", 1)
    with db.write() as tx:  # handed back and claimed again in one round: attempt 1 once more
        handed_back = store.settle(tx, [Outcome(again, Kind.HANDED_BACK)], at(65), POLICY)
        (third,) = store.claim(tx, "w", 1, at(65)).jobs
    assert handed_back[0].applied is Kind.HANDED_BACK
    assert (third.locked_by, third.attempts) == (again.locked_by, again.attempts)
    assert settle(db, Outcome(again, Kind.HANDED_BACK), now=at(66)) == [None]  # a replay of the hand-back
    assert settle(db, Outcome(third, Kind.COMPLETED), now=at(67)) == [Kind.COMPLETED]
    assert job(db, job_id).status == "completed"

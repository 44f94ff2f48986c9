"""The worker's statements on a real file: claim order, fencing, rescue, hand-back, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.clock import to_db
from shared.db import Database
from shared.jobs import enqueue
from shared.queue import consumer
from shared.queue.models import DeadLetterJob, Job

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add(db: Database, order: str, *, priority: int | None = None, when: float = 0, attempts: int = 5) -> str:
    with db.write() as session:
        return enqueue(
            session,
            "generate_invoice",
            {"orderId": order},
            priority=priority,
            max_attempts=attempts,
            scheduled_at=at(when),
            clock=lambda: T0,
        )


def job(db: Database, job_id: str) -> Job:
    with db.read() as session:
        row = session.get(Job, job_id)
        assert row is not None
        return row


def test_claim_orders_by_priority_then_time_then_enqueue_order(db: Database) -> None:
    low = add(db, "low", priority=0)
    first = add(db, "first", priority=5)
    second = add(db, "second", priority=5)
    urgent = add(db, "urgent", priority=10, when=1)
    future = add(db, "future", priority=20, when=60)
    with db.write() as session:
        claimed = consumer.claim(session, "w1", 10, at(2))
    assert [c.id for c in claimed] == [urgent, first, second, low]
    assert future not in [c.id for c in claimed]
    assert all(c.attempts == 1 and c.locked_by == "w1" for c in claimed)
    row = job(db, first)
    assert (row.status, row.locked_by, row.locked_at, row.attempts) == ("processing", "w1", at(2), 1)


def test_claim_takes_at_most_the_limit_and_never_twice(db: Database) -> None:
    for i in range(5):
        add(db, str(i))
    with db.write() as session:
        a = consumer.claim(session, "a", 3, at(0))
    with db.write() as session:
        b = consumer.claim(session, "b", 3, at(0))
    with db.write() as session:
        c = consumer.claim(session, "c", 3, at(0))
    assert (len(a), len(b), len(c)) == (3, 2, 0)
    assert not {j.id for j in a} & {j.id for j in b}


def test_a_worker_that_lost_its_lease_changes_nothing(db: Database) -> None:
    job_id = add(db, "o")
    with db.write() as session:
        (stale,) = consumer.claim(session, "zombie", 1, at(0))
    with db.write() as session:  # the zombie stopped heartbeating; its lease expires
        rescue = consumer.rescue_expired(session, cutoff=at(61), now=at(61))
    assert rescue.requeued == [job_id]
    with db.write() as session:
        (fresh,) = consumer.claim(session, "alive", 1, at(62))
    assert fresh.attempts == 2
    with db.write() as session:  # every late write from the zombie is fenced out
        assert consumer.complete(session, stale, at(63)) is False
        assert consumer.retry_later(session, stale, "late", at(70), at(63)) is False
        assert consumer.dead_letter(session, stale, "late", at(63)) is False
        assert consumer.hand_back(session, stale, at(63)) is False
        assert consumer.refresh_locks(session, "zombie", [job_id], at(63)) == 0
    row = job(db, job_id)
    assert (row.status, row.locked_by, row.attempts, row.locked_at) == ("processing", "alive", 2, at(62))
    with db.read() as session:
        assert session.execute(select(DeadLetterJob)).first() is None
    with db.write() as session:
        assert consumer.complete(session, fresh, at(64)) is True
    assert job(db, job_id).status == "completed"


def test_same_worker_reclaiming_is_fenced_by_attempt(db: Database) -> None:
    job_id = add(db, "o")
    with db.write() as session:
        (old,) = consumer.claim(session, "w", 1, at(0))
        consumer.rescue_expired(session, cutoff=at(100), now=at(100))
        (new,) = consumer.claim(session, "w", 1, at(100))
    with db.write() as session:
        assert consumer.complete(session, old, at(101)) is False
        assert consumer.complete(session, new, at(101)) is True
    assert job(db, job_id).attempts == 2


def test_heartbeat_keeps_a_running_job_from_rescue(db: Database) -> None:
    job_id = add(db, "o")
    with db.write() as session:
        consumer.claim(session, "w", 1, at(0))
        assert consumer.refresh_locks(session, "w", [job_id], at(50)) == 1
        rescue = consumer.rescue_expired(session, cutoff=at(40), now=at(100))
    assert rescue.requeued == []
    assert rescue.dead == []
    assert job(db, job_id).status == "processing"


def test_rescue_of_a_last_attempt_goes_to_the_dead_letter_queue(db: Database) -> None:
    job_id = add(db, "o", attempts=1)
    with db.write() as session:
        consumer.claim(session, "w", 1, at(0))
        rescue = consumer.rescue_expired(session, cutoff=at(61), now=at(61))
    assert rescue.dead == [job_id]
    row = job(db, job_id)
    assert row.status == "failed"
    assert "lease expired" in (row.last_error or "")
    with db.read() as session:
        dead = session.execute(select(DeadLetterJob)).scalar_one()
    assert (dead.original_job_id, dead.type, dead.attempts, dead.reviewed) == (job_id, "generate_invoice", 1, 0)
    assert dead.payload == '{"orderId":"o"}'


def test_retry_and_dead_letter_and_hand_back(db: Database) -> None:
    retried, dead, handed = add(db, "r"), add(db, "d"), add(db, "h")
    with db.write() as session:
        claims = {c.id: c for c in consumer.claim(session, "w", 3, at(0))}
    with db.write() as session:
        assert consumer.retry_later(session, claims[retried], "boom", at(30), at(1))
        assert consumer.dead_letter(session, claims[dead], "bad payload", at(1))
        assert consumer.hand_back(session, claims[handed], at(1))
    r, d, h = job(db, retried), job(db, dead), job(db, handed)
    assert (r.status, r.attempts, r.last_error, r.scheduled_at, r.locked_by) == ("pending", 1, "boom", at(30), None)
    assert (d.status, d.last_error) == ("failed", "bad payload")
    assert (h.status, h.attempts, h.locked_by) == ("pending", 0, None)  # the attempt was not spent
    with db.read() as session:
        assert [x.original_job_id for x in session.scalars(select(DeadLetterJob))] == [dead]


def test_due_work_checks(db: Database) -> None:
    with db.read() as session:
        assert consumer.has_due_work(session, at(0)) is False
        assert consumer.next_due_at(session) is None
    add(db, "later", when=30)
    with db.read() as session:
        assert consumer.has_due_work(session, at(0)) is False
        assert consumer.has_due_work(session, at(30)) is True
        assert consumer.next_due_at(session) == at(30)


def test_claim_walks_the_claim_order_index_without_sorting_the_backlog(db: Database) -> None:
    statement = consumer.claim_statement("sqlite", "w", 10, at(0))
    with db.read() as session:
        compiled = statement.compile(dialect=session.get_bind().dialect)
        params = tuple(
            to_db(v) if isinstance(v, datetime) else v for v in (compiled.params[n] for n in compiled.positiontup or ())
        )
        plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
    details = [row[-1] for row in plan]
    assert any("USING INDEX idx_jobs_claim" in d for d in details), details
    assert not any("TEMP B-TREE" in d for d in details), details


def test_expired_locks_are_seen_by_a_read(db: Database) -> None:
    add(db, "o")
    with db.write() as session:
        consumer.claim(session, "w", 1, at(0))
    with db.read() as session:
        assert consumer.has_expired_locks(session, cutoff=at(0)) is False
        assert consumer.has_expired_locks(session, cutoff=at(1)) is True

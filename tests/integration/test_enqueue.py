"""enqueue(): validation at enqueue, unique keys, enqueue order, the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.db import Database
from shared.queue import InvalidPayloadError, JobSpec, UnknownJobTypeError, enqueue, enqueue_many, queries
from shared.queue.errors import EnqueueError
from shared.queue.loading import load_job_types
from shared.queue.queries import JobRow
from shared.shop import jobs as shop_jobs

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
TYPES = load_job_types(["shared.shop.jobs"])


def clock() -> datetime:
    return NOW


def count_jobs(db: Database) -> int:
    with db.read() as tx:
        return int(tx.scalar("SELECT COUNT(*) FROM jobs"))


def job(db: Database, job_id: str) -> JobRow:
    with db.read() as tx:
        row = queries.job(tx, job_id)
    assert row is not None
    return row


def test_enqueue_writes_a_validated_job(db: Database) -> None:
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@b.test", "subject": "Hi", "orderId": "o-1"}, clock=clock)
    row = job(db, job_id)
    assert (row.type, row.status, row.priority, row.attempts, row.max_attempts) == (
        "send_email",
        "pending",
        5,
        0,
        5,
    )
    assert row.payload == '{"to":"a@b.test","subject":"Hi","body":"","orderId":"o-1"}'
    assert row.scheduled_at == NOW
    assert row.workflow_id == "o-1"


def test_delay_and_scheduled_at(db: Database) -> None:
    with db.write() as tx:
        delayed = enqueue(tx, shop_jobs.send_followup_email, {"orderId": "o"}, delay=timedelta(hours=24), clock=clock)
        at = enqueue(tx, shop_jobs.send_followup_email, {"orderId": "p"}, scheduled_at=NOW + timedelta(minutes=5))
    assert job(db, delayed).scheduled_at == NOW + timedelta(hours=24)
    assert job(db, at).scheduled_at == NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("job_type", "payload", "error", "field"),
    [
        ("no_such_job", {"orderId": "o"}, UnknownJobTypeError, "type"),
        ("generate_invoice", {}, InvalidPayloadError, "payload"),
        ("generate_invoice", {"orderId": 5}, InvalidPayloadError, "payload.orderId"),
        ("generate_invoice", {"orderId": "o", "extra": 1}, InvalidPayloadError, "payload"),
        ("send_email", {"to": "not-an-address", "subject": "x"}, InvalidPayloadError, "payload.to"),
    ],
)
def test_bad_jobs_are_refused_and_write_nothing(
    db: Database, job_type: str, payload: dict[str, Any], error: type[Exception], field: str
) -> None:
    def unit_of_work() -> None:
        with db.write() as tx:
            enqueue(tx, shop_jobs.send_email, {"to": "ok@x.test", "subject": "kept?"}, clock=clock)
            enqueue(tx, TYPES.get(job_type), payload, clock=clock)

    with pytest.raises(error) as raised:
        unit_of_work()
    assert isinstance(raised.value, EnqueueError)
    assert raised.value.details[0].field == field
    assert count_jobs(db) == 0  # the whole unit rolled back, the valid job too


def test_bad_options_are_refused(db: Database) -> None:
    with db.write() as tx:
        for options in ({"max_attempts": 0}, {"delay": -1}, {"idempotency_key": " "}):
            with pytest.raises(EnqueueError):
                enqueue(tx, shop_jobs.generate_invoice, {"orderId": "o"}, clock=clock, **options)
        with pytest.raises(EnqueueError):
            enqueue(tx, shop_jobs.generate_invoice, {"orderId": "o"}, delay=1, scheduled_at=NOW)
    assert count_jobs(db) == 0


def test_idempotency_key_is_unique_among_unfinished_jobs(db: Database) -> None:
    with db.write() as tx:
        first = enqueue(tx, shop_jobs.generate_invoice, {"orderId": "o"}, idempotency_key="k", clock=clock)
        again = enqueue(tx, shop_jobs.generate_invoice, {"orderId": "o"}, idempotency_key="k", clock=clock)
    assert first == again
    assert count_jobs(db) == 1
    with db.write() as tx:
        tx.execute("UPDATE jobs SET status = 'completed' WHERE id = :id", {"id": first})
    with db.write() as tx:
        later = enqueue(tx, shop_jobs.generate_invoice, {"orderId": "o"}, idempotency_key="k", clock=clock)
    assert later != first
    assert count_jobs(db) == 2


def test_enqueue_order_is_recorded(db: Database) -> None:
    with db.write() as tx:
        ids = [enqueue(tx, shop_jobs.generate_invoice, {"orderId": str(i)}, clock=clock) for i in range(5)]
    with db.write() as tx:
        ids.append(enqueue(tx, shop_jobs.generate_invoice, {"orderId": "5"}, clock=clock))
    with db.read() as tx:
        ordered = [row[0] for row in tx.all("SELECT id FROM jobs ORDER BY seq")]
    assert ordered == ids


def test_enqueue_many_validates_everything_before_writing(db: Database) -> None:
    specs = [JobSpec(shop_jobs.generate_invoice, {"orderId": str(i)}) for i in range(3)]
    with pytest.raises(InvalidPayloadError), db.write() as tx:
        enqueue_many(tx, [*specs, JobSpec(shop_jobs.generate_invoice, {"orderId": 7})], clock=clock)
    assert count_jobs(db) == 0
    with db.write() as tx:
        ids = enqueue_many(
            tx,
            [*specs, JobSpec(shop_jobs.sync_inventory, {"orderId": "k"}, idempotency_key="sync:k")],
            clock=clock,
        )
        assert enqueue_many(tx, [JobSpec(shop_jobs.sync_inventory, {"orderId": "k"}, idempotency_key="sync:k")]) == [
            ids[-1]
        ]
    with db.read() as tx:
        assert [row[0] for row in tx.all("SELECT id FROM jobs ORDER BY seq")] == ids


def test_enqueue_many_numbers_jobs_in_the_order_given_with_or_without_keys(db: Database) -> None:
    """Found by the model-based test: keyed jobs used to be numbered after every plain one, so a
    batch's FIFO order was not the order given."""
    with db.write() as tx:
        ids = enqueue_many(
            tx,
            [
                JobSpec(shop_jobs.sync_inventory, {"orderId": "a"}, idempotency_key="sync:a"),
                JobSpec(shop_jobs.generate_invoice, {"orderId": "b"}),
                JobSpec(shop_jobs.generate_invoice, {"orderId": "c"}),
                JobSpec(shop_jobs.sync_inventory, {"orderId": "a"}, idempotency_key="sync:a"),  # its twin
                JobSpec(shop_jobs.sync_inventory, {"orderId": "d"}, idempotency_key="sync:d"),
                JobSpec(shop_jobs.generate_invoice, {"orderId": "e"}),
            ],
            clock=clock,
        )
    assert ids[3] == ids[0]
    with db.read() as tx:
        assert [row[0] for row in tx.all("SELECT id FROM jobs ORDER BY seq")] == [ids[0], ids[1], ids[2], *ids[4:]]

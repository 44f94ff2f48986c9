"""enqueue(): validation at enqueue, unique keys, enqueue order, the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.db import Database
from shared.jobs import enqueue
from shared.queue import InvalidPayloadError, UnknownJobTypeError
from shared.queue.errors import EnqueueError
from shared.queue.models import Job

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def count_jobs(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(Job)).scalar_one()


def test_enqueue_writes_a_validated_job(db: Database) -> None:
    with db.write() as session:
        job_id = enqueue(session, "send_email", {"to": "a@b.test", "subject": "Hi", "orderId": "o-1"}, clock=clock)
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.type, job.status, job.priority, job.attempts, job.max_attempts) == (
            "send_email",
            "pending",
            5,
            0,
            5,
        )
        assert job.payload == '{"to":"a@b.test","subject":"Hi","body":"","orderId":"o-1"}'
        assert job.scheduled_at == NOW
        assert job.correlation_id == "o-1"


def test_delay_and_scheduled_at(db: Database) -> None:
    with db.write() as session:
        delayed = enqueue(session, "send_followup_email", {"orderId": "o"}, delay=timedelta(hours=24), clock=clock)
        at = enqueue(session, "send_followup_email", {"orderId": "p"}, scheduled_at=NOW + timedelta(minutes=5))
    with db.read() as session:
        assert session.get(Job, delayed).scheduled_at == NOW + timedelta(hours=24)  # type: ignore[union-attr]
        assert session.get(Job, at).scheduled_at == NOW + timedelta(minutes=5)  # type: ignore[union-attr]


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
    db: Database, job_type: str, payload: dict[str, object], error: type[Exception], field: str
) -> None:
    def unit_of_work() -> None:
        with db.write() as session:
            enqueue(session, "send_email", {"to": "ok@x.test", "subject": "kept?"}, clock=clock)
            enqueue(session, job_type, payload, clock=clock)

    with pytest.raises(error) as raised:
        unit_of_work()
    assert isinstance(raised.value, EnqueueError)
    assert raised.value.details[0].field == field
    assert count_jobs(db) == 0  # the whole unit rolled back, the valid job too


def test_bad_options_are_refused(db: Database) -> None:
    with db.write() as session:
        for options in ({"max_attempts": 0}, {"delay": -1}, {"idempotency_key": " "}):
            with pytest.raises(EnqueueError):
                enqueue(session, "generate_invoice", {"orderId": "o"}, clock=clock, **options)
        with pytest.raises(EnqueueError):
            enqueue(session, "generate_invoice", {"orderId": "o"}, delay=1, scheduled_at=NOW)
    assert count_jobs(db) == 0


def test_idempotency_key_is_unique_among_unfinished_jobs(db: Database) -> None:
    with db.write() as session:
        first = enqueue(session, "generate_invoice", {"orderId": "o"}, idempotency_key="k", clock=clock)
        again = enqueue(session, "generate_invoice", {"orderId": "o"}, idempotency_key="k", clock=clock)
    assert first == again
    assert count_jobs(db) == 1
    with db.write() as session:
        session.get(Job, first).status = "completed"  # type: ignore[union-attr]
    with db.write() as session:
        later = enqueue(session, "generate_invoice", {"orderId": "o"}, idempotency_key="k", clock=clock)
    assert later != first
    assert count_jobs(db) == 2


def test_enqueue_order_is_recorded(db: Database) -> None:
    with db.write() as session:
        ids = [enqueue(session, "generate_invoice", {"orderId": str(i)}, clock=clock) for i in range(5)]
    with db.write() as session:
        ids.append(enqueue(session, "generate_invoice", {"orderId": "5"}, clock=clock))
    with db.read() as session:
        ordered = session.scalars(select(Job.id).order_by(Job.seq)).all()
    assert list(ordered) == ids

"""Bad jobs go to the dead-letter queue and the worker carries on; retries, timeouts, wake-up."""

from __future__ import annotations

import signal
import time
import uuid

from shared.config import Settings
from shared.db import Database
from shared.queue import enqueue
from shared.shop import jobs as shop_jobs
from tests.support.queue import delivered, query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors


def insert_raw_job(db: Database, job_id: str, job_type: str, payload: str) -> None:
    """Write a row the way a buggy producer or an old deploy might, bypassing enqueue's checks."""
    with db.write() as tx:
        tx.execute(
            tx.backend.insert_job,
            {
                "id": job_id,
                "type": job_type,
                "payload": payload,
                "priority": 0,
                "max_attempts": 5,
                "scheduled_at": tx.ts(tx.dt("2000-01-01 00:00:00")),
                "created_at": tx.ts(tx.dt("2000-01-01 00:00:00")),
                "idempotency_key": None,
                "workflow_id": None,
                "parent_id": None,
                "concurrency_key": None,
                "request_id": None,
            },
        )


def status(db: Database, job_id: str) -> str:
    return str(scalar(db, "SELECT status FROM jobs WHERE id = :id", {"id": job_id}))


def test_unknown_type_and_poison_payload_are_dead_lettered_without_retries(
    db: Database, workers: WorkerFactory
) -> None:
    insert_raw_job(db, "unknown", "launch_rockets", '{"orderId": "x"}')
    insert_raw_job(db, "poison", "send_email", '{"to": 42}')
    insert_raw_job(db, "garbage", "generate_invoice", "not json at all")
    insert_raw_job(db, "missing", "generate_invoice", '{"orderId": "no-such-order"}')
    with db.write() as tx:
        good = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "still works"})
    worker = workers("w", SIMULATED_FAILURE_RATE="0")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('completed', 'failed')") == 5,
        timeout=30,
        what="all five jobs finished",
    )
    rows = {row[0]: row[1:] for row in query(db, "SELECT id, status, attempts, max_attempts, last_error FROM jobs")}
    assert rows[good][:2] == ("completed", 1)
    for job_id, problem in (
        ("unknown", "launch_rockets"),
        ("poison", "to"),
        ("garbage", "JSON"),
        ("missing", "does not exist"),
    ):
        job_status, attempts, max_attempts, error = rows[job_id]
        assert (job_status, attempts, max_attempts) == ("failed", 1, 5), job_id  # no retries spent
        assert problem in error
    dead = query(db, "SELECT original_job_id, type, attempts FROM dead_letter_jobs ORDER BY original_job_id")
    assert dead == [
        ("garbage", "generate_invoice", 1),
        ("missing", "generate_invoice", 1),
        ("poison", "send_email", 1),
        ("unknown", "launch_rockets", 1),
    ]
    assert worker.process.poll() is None  # it carried on
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_failures_retry_with_backoff_then_dead_letter(db: Database, settings: Settings, workers: WorkerFactory) -> None:
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "doomed"}, max_attempts=3)
    worker = workers("w", SIMULATED_FAILURE_RATE="1", RETRY_BASE_SECONDS="0.2", RETRY_MAX_SECONDS="1")
    started = time.monotonic()
    wait_until(lambda: status(db, job_id) == "failed", timeout=30, what="the job to exhaust its attempts")
    elapsed = time.monotonic() - started
    job_status, attempts, error = query(
        db, "SELECT status, attempts, last_error FROM jobs WHERE id = :id", {"id": job_id}
    )[0]
    assert (job_status, attempts) == ("failed", 3)
    assert error.startswith("ServiceError:")
    assert query(db, "SELECT original_job_id, attempts, reviewed FROM dead_letter_jobs") == [(job_id, 3, 0)]
    log = worker.log()
    assert log.count('"event": "job.failed"') == 2  # two retries were scheduled ...
    delays = [float(part.split(",")[0]) for part in log.split('"retry_in_seconds": ')[1:]]
    assert 0.1 <= delays[0] <= 0.2  # ... the first within [base/2, base]
    assert 0.2 <= delays[1] <= 0.4  # ... the second doubled
    assert elapsed >= sum(delays)  # and the job really waited for them
    assert log.count('"event": "job.dead_lettered"') == 1
    failures = query(
        db, "SELECT attempt, outcome FROM job_failures WHERE job_id = :id ORDER BY attempt", {"id": job_id}
    )
    assert failures == [(1, "retried"), (2, "retried"), (3, "dead_lettered")]
    # A reply lost after delivery is retried under the same key: at most one delivery, never two.
    assert [key for _, key, _, _ in delivered(settings, "email")] in ([], [f"email:{job_id}"])
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_timed_out_job_counts_as_a_failed_attempt(db: Database, settings: Settings, workers: WorkerFactory) -> None:
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "slow"}, max_attempts=2)
    # Email takes 0.5 s x 4 = 2 s; its timeout is 0.3 s.
    worker = workers(
        "w",
        SIMULATED_LATENCY_SCALE="4",
        SIMULATED_FAILURE_RATE="0",
        JOB_TIMEOUTS="send_email=0.3",
        RETRY_BASE_SECONDS="0.05",
    )
    wait_until(lambda: status(db, job_id) == "failed", timeout=30, what="the job to time out twice")
    assert query(db, "SELECT attempts, last_error FROM jobs WHERE id = :id", {"id": job_id}) == [
        (2, "TimeoutError: timed out after 0.3s")
    ]
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs WHERE original_job_id = :id", {"id": job_id}) == 1
    assert delivered(settings) == []  # cut off before delivering
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_new_work_wakes_an_idle_worker_long_before_its_poll_interval(db: Database, workers: WorkerFactory) -> None:
    worker = workers("w", POLL_INTERVAL="60", SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: scalar(db, "SELECT COUNT(*) FROM workers") == 1, timeout=20, what="worker registered")
    time.sleep(0.5)  # idle now
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "wake up"})
    # A 60 s poll would miss this by far; the data_version watcher notices the commit.
    wait_until(lambda: status(db, job_id) == "completed", timeout=15, what="the job to run without waiting for a poll")
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert_no_lock_errors([worker])


def test_a_delayed_job_runs_when_due_not_before(db: Database, workers: WorkerFactory) -> None:
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "later"}, delay=1.5)
    started = time.monotonic()
    worker = workers("w", POLL_INTERVAL="60", SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: status(db, job_id) == "completed", timeout=15, what="the delayed job to run")
    assert time.monotonic() - started >= 1.4
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_key_is_only_ever_delivered_once_across_jobs(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    """Two jobs share a step key: the second finds it recorded and does not call the provider."""
    order = str(uuid.uuid4())
    with db.write() as tx:
        tx.execute(
            "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (:id, 'u', 'paid', 1, :now)",
            {"id": order, "now": tx.ts(tx.dt("2026-01-01 00:00:00"))},
        )
        first = enqueue(tx, shop_jobs.send_followup_email, {"orderId": order})
    worker = workers("w", SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: status(db, first) == "completed", timeout=15, what="the first job")
    with db.write() as tx:
        second = enqueue(tx, shop_jobs.send_followup_email, {"orderId": order})
    wait_until(lambda: status(db, second) == "completed", timeout=15, what="the second job")
    assert delivered(settings, "email") == [("email", f"followup:{order}", first, 0)]  # no repeat call at all
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0

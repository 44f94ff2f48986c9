"""Bad jobs go to the dead-letter queue and the worker carries on; retries, timeouts, wake-up."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from shared.db import Database
from shared.jobs import enqueue
from tests.support.queue import query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors


def insert_raw_job(db_path: Path, job_id: str, job_type: str, payload: str) -> None:
    """Write a row the way a buggy producer or an old deploy might, bypassing enqueue's checks."""
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO jobs (id, type, payload, seq, scheduled_at) "
            "VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), '2000-01-01 00:00:00')",
            (job_id, job_type, payload),
        )
    conn.close()


def test_unknown_type_and_poison_payload_are_dead_lettered_without_retries(
    db: Database, db_path: Path, workers: WorkerFactory
) -> None:
    insert_raw_job(db_path, "unknown", "launch_rockets", '{"orderId": "x"}')
    insert_raw_job(db_path, "poison", "send_email", '{"to": 42}')
    insert_raw_job(db_path, "garbage", "generate_invoice", "not json at all")
    with db.write() as session:
        good = enqueue(session, "send_email", {"to": "a@shop.test", "subject": "still works"})
    worker = workers("w", SIMULATED_FAILURE_RATE="0")
    wait_until(
        lambda: scalar(db_path, "SELECT COUNT(*) FROM jobs WHERE status IN ('completed', 'failed')") == 4,
        timeout=30,
        what="all four jobs finished",
    )
    rows = {
        row[0]: row[1:] for row in query(db_path, "SELECT id, status, attempts, max_attempts, last_error FROM jobs")
    }
    assert rows[good][:2] == ("completed", 1)
    for job_id, problem in (("unknown", "launch_rockets"), ("poison", "to"), ("garbage", "JSON")):
        status, attempts, max_attempts, error = rows[job_id]
        assert (status, attempts, max_attempts) == ("failed", 1, 5), job_id  # no retries spent
        assert problem in error
    dead = query(db_path, "SELECT original_job_id, type, attempts FROM dead_letter_jobs ORDER BY original_job_id")
    assert dead == [
        ("garbage", "generate_invoice", 1),
        ("poison", "send_email", 1),
        ("unknown", "launch_rockets", 1),
    ]
    assert worker.process.poll() is None  # it carried on
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_failures_retry_with_backoff_then_dead_letter(db: Database, db_path: Path, workers: WorkerFactory) -> None:
    with db.write() as session:
        job_id = enqueue(session, "send_email", {"to": "a@shop.test", "subject": "doomed"}, max_attempts=3)
    worker = workers("w", SIMULATED_FAILURE_RATE="1", RETRY_BASE_SECONDS="0.2", RETRY_MAX_SECONDS="1")
    wait_until(
        lambda: scalar(db_path, "SELECT status FROM jobs WHERE id = ?", [job_id]) == "failed",
        timeout=30,
        what="the job to exhaust its attempts",
    )
    status, attempts, error = query(db_path, "SELECT status, attempts, last_error FROM jobs WHERE id = ?", [job_id])[0]
    assert (status, attempts) == ("failed", 3)
    assert error.startswith("ServiceError:")
    assert query(db_path, "SELECT original_job_id, attempts, reviewed FROM dead_letter_jobs") == [(job_id, 3, 0)]
    log = worker.log()
    assert log.count('"event": "job.failed"') == 2  # two retries were scheduled ...
    delays = [float(part.split(",")[0]) for part in log.split('"retry_in_seconds": ')[1:]]
    assert 0.1 <= delays[0] <= 0.2  # ... the first within [base/2, base]
    assert 0.2 <= delays[1] <= 0.4  # ... the second doubled
    assert log.count('"event": "job.dead_lettered"') == 1
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_timed_out_job_counts_as_a_failed_attempt(db: Database, db_path: Path, workers: WorkerFactory) -> None:
    with db.write() as session:
        job_id = enqueue(session, "send_email", {"to": "a@shop.test", "subject": "slow"}, max_attempts=2)
    # Email takes 0.5 s x 4 = 2 s; its timeout is 0.3 s.
    worker = workers(
        "w",
        SIMULATED_LATENCY_SCALE="4",
        SIMULATED_FAILURE_RATE="0",
        JOB_TIMEOUTS="send_email=0.3",
        RETRY_BASE_SECONDS="0.05",
    )
    wait_until(
        lambda: scalar(db_path, "SELECT status FROM jobs WHERE id = ?", [job_id]) == "failed",
        timeout=30,
        what="the job to time out twice",
    )
    assert query(db_path, "SELECT attempts, last_error FROM jobs WHERE id = ?", [job_id]) == [
        (2, "TimeoutError: timed out after 0.3s")
    ]
    assert scalar(db_path, "SELECT COUNT(*) FROM dead_letter_jobs WHERE original_job_id = ?", [job_id]) == 1
    assert scalar(db_path, "SELECT COUNT(*) FROM provider_deliveries") == 0  # cut off before delivering
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_new_work_wakes_an_idle_worker_long_before_its_poll_interval(
    db: Database, db_path: Path, workers: WorkerFactory
) -> None:
    worker = workers("w", POLL_INTERVAL="60", SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: scalar(db_path, "SELECT COUNT(*) FROM workers") == 1, timeout=20, what="worker registered")
    time.sleep(0.5)  # idle now
    with db.write() as session:
        job_id = enqueue(session, "send_email", {"to": "a@shop.test", "subject": "wake up"})
    # A 60 s poll would miss this by far; the data_version watcher notices the commit.
    wait_until(
        lambda: scalar(db_path, "SELECT status FROM jobs WHERE id = ?", [job_id]) == "completed",
        timeout=15,
        what="the job to run without waiting for a poll",
    )
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert_no_lock_errors([worker])

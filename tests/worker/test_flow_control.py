"""Global rate and concurrency limits, pause/resume, cancellation, with real worker processes (a fleet
of 3 on SQLite, 6 on PostgreSQL, where limits must hold across processes)."""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from shared.clock import utcnow
from shared.db import Database
from shared.queue import JobSpec, enqueue_many, operations
from shared.queue.errors import StateConflictError
from shared.queue.operations import CancelOutcome
from shared.shop import jobs as shop_jobs
from tests.support.jobs import nap
from tests.support.queue import query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

TEST_JOBS = ("--jobs", "shared.shop.jobs", "--jobs", "tests.support.jobs")


def status(db: Database, job_id: str) -> str:
    return str(scalar(db, "SELECT status FROM jobs WHERE id = :id", {"id": job_id}))


def test_a_rate_limit_holds_across_a_fleet_and_is_reached(
    db: Database, workers: WorkerFactory, fleet: list[str]
) -> None:
    limit, window = 60, 2.0
    env = {"SIMULATED_FAILURE_RATE": "0", "RATE_LIMITS": f"send_email={limit}/{window}", "WORKER_CONCURRENCY": "20"}
    running = [workers(name, **env) for name in fleet]
    wait_until(lambda: scalar(db, "SELECT COUNT(*) FROM workers") == len(fleet), timeout=30, what="the fleet")
    with db.write() as tx:
        enqueue_many(tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@x.test", "subject": "s"}) for i in range(300)])
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == 300,
        timeout=60,
        what="every job",
    )
    with db.read() as tx:
        starts = sorted(tx.dt(row[0]) for row in tx.all("SELECT started_at FROM jobs"))
    busiest = max(
        sum(1 for other in starts[i:] if other - start < timedelta(seconds=window)) for i, start in enumerate(starts)
    )
    assert busiest <= limit  # no window of 2 s, wherever it starts, saw more than 60 starts
    assert query(db, "SELECT MAX(attempts) FROM jobs") == [(1,)]  # held-back jobs spent no attempt
    span = (starts[-1] - starts[0]).total_seconds()
    assert span < (300 / limit) * window * 1.25  # and the limit was used: about 60 per 2 s
    # Several processes shared the work: a limiter counting per process would have let each start 60.
    assert len({row[0] for row in query(db, "SELECT locked_by FROM jobs")}) >= 2
    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0] * len(fleet)
    assert_no_lock_errors(running)


def test_a_concurrency_limit_per_key_holds_across_a_fleet(
    db: Database, workers: WorkerFactory, fleet: list[str], tmp_path: Path
) -> None:
    """Three or more workers with one slot each could run three naps of a key at once; the limit is two.
    The naps record when they really ran (the rows' started_at is the claim's clock reading, taken
    before a claimer waits its turn on PostgreSQL, so it can precede the completion it waited for)."""
    running = [workers(name, *TEST_JOBS, WORKER_CONCURRENCY="1") for name in fleet]
    wait_until(lambda: scalar(db, "SELECT COUNT(*) FROM workers") == len(fleet), timeout=30, what="the fleet")
    log = str(tmp_path / "naps.log")
    with db.write() as tx:
        naps = [JobSpec(nap, {"key": "a", "seconds": 0.15, "log": log}) for _ in range(12)]
        enqueue_many(tx, [*naps, *(JobSpec(nap, {"key": "b", "seconds": 0.15, "log": log}) for _ in range(2))])
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == 14,
        timeout=60,
        what="every nap",
    )
    runs = [line.split() for line in Path(log).read_text().splitlines()]
    assert len(runs) == 14
    mine = [(float(start), float(end)) for key, start, end in runs if key == "a"]
    most = max(sum(1 for s, e in mine if s <= start < e) for start, _ in mine)
    assert most == 2  # never three at once, and the limit was used: two workers held the key together
    assert len({row[0] for row in query(db, "SELECT locked_by FROM jobs")}) >= 3  # the work was shared
    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0] * len(fleet)


def test_a_paused_type_stays_pending_and_resumes_where_it_was(db: Database, workers: WorkerFactory) -> None:
    with db.write() as tx:
        operations.pause_type(tx, "send_email", utcnow(), "provider incident")
        paused = enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@x.test", "subject": "s"}) for i in range(5)]
        )
        other = enqueue_many(tx, [JobSpec(nap, {"key": "k", "seconds": 0})])
    worker = workers("w", *TEST_JOBS, SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: status(db, other[0]) == "completed", timeout=30, what="the other type to run")
    time.sleep(1)
    assert {status(db, job_id) for job_id in paused} == {"pending"}
    assert query(db, "SELECT MAX(attempts) FROM jobs WHERE type = 'send_email'") == [(0,)]
    with db.write() as tx:
        assert operations.resume_type(tx, "send_email")
    wait_until(lambda: {status(db, job_id) for job_id in paused} == {"completed"}, timeout=30, what="the resumed jobs")
    order = [row[0] for row in query(db, "SELECT id FROM jobs WHERE type = 'send_email' ORDER BY started_at, seq")]
    assert order == paused  # in the order they were enqueued
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_cancellation_of_waiting_running_and_finished_jobs(db: Database, workers: WorkerFactory) -> None:
    with db.write() as tx:
        waiting, running_job, done = enqueue_many(
            tx,
            [
                JobSpec(nap, {"key": "w", "seconds": 0}, delay=2),
                JobSpec(nap, {"key": "r", "seconds": 60}),
                JobSpec(nap, {"key": "d", "seconds": 0}),
            ],
        )
    with db.write() as tx:
        assert operations.cancel(tx, waiting, utcnow()) is CancelOutcome.CANCELLED
    worker = workers("w", *TEST_JOBS)
    wait_until(
        lambda: status(db, running_job) == "processing" and status(db, done) == "completed",
        timeout=30,
        what="one job running, one done",
    )
    with db.write() as tx:
        assert operations.cancel(tx, running_job, utcnow()) is CancelOutcome.REQUESTED
    started = time.monotonic()
    wait_until(lambda: status(db, running_job) == "cancelled", timeout=15, what="the running job to stop")
    assert time.monotonic() - started < 5  # stopped at its next await, not after its 60 s nap
    assert query(db, "SELECT attempts, locked_by FROM jobs WHERE id = :id", {"id": running_job}) == [(1, None)]
    for finished in (done, running_job, waiting):
        with pytest.raises(StateConflictError), db.write() as tx:
            operations.cancel(tx, finished, utcnow())
    time.sleep(2.5)  # the cancelled delayed job's time has come: it is never claimed
    assert status(db, waiting) == "cancelled"
    assert query(db, "SELECT attempts FROM jobs WHERE id = :id", {"id": waiting}) == [(0,)]
    assert '"event": "job.cancelled"' in worker.log()
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs") == 0  # cancelled is not failed, not retried
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0

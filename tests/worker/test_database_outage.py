"""A worker started while the database refuses writes (an outside transaction holds the write lock
past BUSY_TIMEOUT_MS) waits for it instead of exiting 1: under a supervisor that restarts it, an
exit would be a crash loop for as long as the outage lasts. Found by the chaos soak (tests/soak),
where restarted workers met a held lock or a full disk while registering."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator

import pytest

from shared.config import Settings
from shared.db import Database
from shared.queue import enqueue
from shared.shop import jobs as shop_jobs
from tests.support.processes import Service
from tests.support.queue import scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

WAITING = '"worker.waiting_for_database"'
IMPATIENT = {"BUSY_TIMEOUT_MS": "200", "SIMULATED_FAILURE_RATE": "0"}


@pytest.fixture
def backend() -> str:
    """SQLite's write lock, held by another process: this module runs on SQLite only."""
    return "sqlite"


@pytest.fixture
def held_lock(settings: Settings) -> Iterator[sqlite3.Connection]:
    """BEGIN EXCLUSIVE on the test's database, as a maintenance script would; released at the end
    unless the test released it."""
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def wait_for_the_wait(worker: Service) -> None:
    def waiting() -> bool:
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log()[-3000:]}"
        return worker.log().count(WAITING) >= 2

    wait_until(waiting, timeout=30, what="the worker to wait for the database")


def test_a_worker_started_during_the_outage_waits_then_works(
    db: Database, workers: WorkerFactory, held_lock: sqlite3.Connection
) -> None:
    worker = workers("patient", **IMPATIENT)
    wait_for_the_wait(worker)
    assert worker.process.poll() is None  # still there, not exited 1
    held_lock.execute("ROLLBACK")
    with db.write() as tx:
        job_id = enqueue(tx, shop_jobs.send_email, {"to": "a@shop.test", "subject": "after the outage"})

    wait_until(
        lambda: scalar(db, "SELECT status FROM jobs WHERE id = :id", {"id": job_id}) == "completed",
        timeout=30,
        what="the job to run",
    )
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert "WriteLockTimeoutError: no write lock within BUSY_TIMEOUT_MS (200 ms)" in worker.log()
    assert '"worker.crashed"' not in worker.log()
    assert_no_lock_errors([worker])


def test_sigterm_while_waiting_for_the_database_exits_0(
    db: Database, workers: WorkerFactory, held_lock: sqlite3.Connection
) -> None:
    worker = workers("patient", **IMPATIENT)
    wait_for_the_wait(worker)
    worker.signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    held_lock.execute("ROLLBACK")
    assert scalar(db, "SELECT COUNT(*) FROM workers") == 0  # never registered, never claimed
    assert '"worker.started"' not in worker.log()
    assert_no_lock_errors([worker])


def test_an_outage_longer_than_three_heartbeats_rescues_nothing(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    """Every worker's beats are late after an outage: that is the database's doing, not theirs.
    Nobody may take back a job that is still running (it would spend an attempt, and a last attempt
    would end in the dead-letter queue though its worker completes it); the lease still applies."""
    with db.write() as tx:
        ids = [enqueue(tx, shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "slow"}) for i in range(6)]
    # Heartbeats every 0.5 s: three missed beats are 1.5 s; each email takes 0.5 s x 16 = 8 s.
    env = {**IMPATIENT, "HEARTBEAT_SECONDS": "0.5", "LEASE_SECONDS": "60", "SIMULATED_LATENCY_SCALE": "16"}
    fleet = [workers(name, WORKER_CONCURRENCY="2", **env) for name in ("a", "b", "c")]
    wait_until(
        lambda: scalar(db, "SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE status = 'processing'") == 3,
        timeout=30,
        what="every worker to run jobs",
    )
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # 3 s: every beat in between is refused after BUSY_TIMEOUT_MS
    time.sleep(3)
    holder.execute("ROLLBACK")
    holder.close()

    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == len(ids),
        timeout=60,
        what="every email to be sent",
    )
    assert scalar(db, "SELECT COUNT(*) FROM job_failures") == 0
    assert scalar(db, "SELECT MAX(attempts) FROM jobs") == 1
    for worker in fleet:
        worker.signal(signal.SIGTERM)
    assert [worker.wait(30) for worker in fleet] == [0, 0, 0]
    for worker in fleet:
        assert '"worker.heartbeat_failed"' in worker.log()  # the outage was felt
        assert '"job.rescued"' not in worker.log()
        assert '"job.outcome_ignored"' not in worker.log()

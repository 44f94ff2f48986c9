"""A worker started while the database refuses writes (an outside transaction holds the write lock
past BUSY_TIMEOUT_MS) waits for it instead of exiting 1: under a supervisor that restarts it, an
exit would be a crash loop for as long as the outage lasts. Found by the chaos soak (tests/soak),
where restarted workers met a held lock or a full disk while registering."""

from __future__ import annotations

import signal
import sqlite3
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

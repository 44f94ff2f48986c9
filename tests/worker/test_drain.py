"""Three worker processes drain 3,000 jobs from one database: each exactly once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from shared.config import Settings
from shared.db import Database
from shared.queue import JobSpec, enqueue_many
from shared.shop import jobs as shop_jobs
from tests.support.queue import delivered, query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

JOBS = 3000


def niceness(pid: int) -> int:
    """Field 19 of /proc/<pid>/stat (after the command name, which may hold spaces)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[16])


def test_three_workers_drain_three_thousand_jobs_exactly_once(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    with db.write() as tx:
        enqueue_many(
            tx,
            [
                JobSpec(shop_jobs.send_email, {"to": f"user{i}@shop.test", "subject": f"message {i}"})
                for i in range(JOBS)
            ],
        )
    env = {"SIMULATED_FAILURE_RATE": "0", "HEARTBEAT_SECONDS": "1"}
    running = [workers(name, **env) for name in ("a", "b", "c")]

    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == JOBS,
        timeout=180,
        what="all jobs completed",
    )
    # WORKER_NICE (default 10): the workers yield the CPU to the API's requests on a shared host.
    assert [niceness(service.process.pid) for service in running] == 3 * [min(os.nice(0) + 10, 19)]
    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0, 0, 0]

    # Every claim counts an attempt: one attempt each means no job was ever claimed twice.
    assert query(db, "SELECT status, attempts, COUNT(*) FROM jobs GROUP BY status, attempts") == [
        ("completed", 1, JOBS)
    ]
    emails = delivered(settings, "email")
    assert len(emails) == JOBS
    assert len({job_id for _, _, job_id, _ in emails}) == JOBS
    assert sum(repeats for *_, repeats in emails) == 0  # the provider was never called twice for a key
    assert scalar(db, "SELECT COUNT(*) FROM processed_jobs") == JOBS
    # The work was shared: every worker completed some of it.
    per_worker = dict(query(db, "SELECT locked_by, COUNT(*) FROM jobs GROUP BY locked_by"))
    assert len(per_worker) == 3
    assert all(count > 0 for count in per_worker.values())
    assert_no_lock_errors(running)

"""Three worker processes drain 3,000 jobs from one SQLite file: each exactly once."""

from __future__ import annotations

import signal
from pathlib import Path

from shared.db import Database
from shared.jobs import enqueue
from tests.support.queue import query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

JOBS = 3000


def test_three_workers_drain_three_thousand_jobs_exactly_once(
    db: Database, db_path: Path, workers: WorkerFactory
) -> None:
    with db.write() as session:
        for i in range(JOBS):
            enqueue(session, "send_email", {"to": f"user{i}@shop.test", "subject": f"message {i}"})
    env = {"SIMULATED_FAILURE_RATE": "0", "HEARTBEAT_SECONDS": "1"}
    running = [workers(name, **env) for name in ("a", "b", "c")]

    wait_until(
        lambda: scalar(db_path, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == JOBS,
        timeout=180,
        what="all jobs completed",
    )
    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0, 0, 0]

    # Every claim counts an attempt: one attempt each means no job was ever claimed twice.
    assert query(db_path, "SELECT status, attempts, COUNT(*) FROM jobs GROUP BY 1, 2") == [("completed", 1, JOBS)]
    deliveries = query(
        db_path,
        "SELECT COUNT(*), COUNT(DISTINCT job_id), SUM(repeat_calls) FROM provider_deliveries WHERE provider = 'email'",
    )
    assert deliveries == [(JOBS, JOBS, 0)]
    assert scalar(db_path, "SELECT COUNT(*) FROM processed_jobs") == JOBS
    # The work was shared: every worker completed some of it.
    per_worker = dict(query(db_path, "SELECT locked_by, COUNT(*) FROM jobs GROUP BY locked_by"))
    assert len(per_worker) == 3
    assert all(count > 0 for count in per_worker.values())
    assert_no_lock_errors(running)

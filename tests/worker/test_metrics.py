"""/metrics is right with the API and the workers in separate processes: workers add their counts
to the database, and the API reads them at scrape time; job log lines carry every field."""

from __future__ import annotations

import json
import re
import signal

from litestar.testing import TestClient

from api.app import create_app
from shared.config import Settings
from shared.db import Database
from shared.queue import JobSpec, enqueue_many
from shared.shop import jobs as shop_jobs
from tests.support.queue import scalar, wait_until
from tests.worker.conftest import WorkerFactory


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_counters_and_histograms_come_from_workers_in_other_processes(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    with db.write() as tx:
        enqueue_many(
            tx,
            [JobSpec(shop_jobs.send_email, {"to": f"u{i}@x.test", "subject": "s"}) for i in range(20)]
            + [JobSpec(shop_jobs.generate_invoice, {"orderId": "missing"}) for _ in range(3)],
        )
    worker = workers("w", SIMULATED_FAILURE_RATE="0.3", RETRY_BASE_SECONDS="0.01", RETRY_MAX_SECONDS="0.02")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('completed', 'failed')") == 23,
        timeout=60,
        what="every job to finish",
    )
    worker.signal(signal.SIGTERM)  # its last counts are flushed as it stops
    assert worker.wait(30) == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        text = client.get("/metrics").text
    completed = scalar(db, "SELECT COUNT(*) FROM jobs WHERE type = 'send_email' AND status = 'completed'")
    failures = scalar(db, "SELECT COUNT(*) FROM job_failures WHERE outcome = 'retried'")
    assert sample(text, "shopqueue_jobs_completed_total", type="send_email") == completed == 20
    assert sample(text, "shopqueue_jobs_retried_total", type="send_email") == failures
    assert failures > 0  # 30 % failures really happened
    assert sample(text, "shopqueue_jobs_dead_lettered_total", type="generate_invoice") == 3
    assert sample(text, "shopqueue_job_duration_seconds_count", type="send_email") == 20 + failures
    assert sample(text, "shopqueue_job_wait_seconds_count", type="send_email") == 20 + failures
    assert sample(text, "shopqueue_job_duration_seconds_bucket", type="send_email", le="+Inf") == 20 + failures
    assert sample(text, "shopqueue_dead_letter_jobs", reviewed="false") == 3
    assert sample(text, "shopqueue_queue_jobs", type="send_email", state="completed") == 20
    assert sample(text, "shopqueue_workers_alive") == 0  # it stopped
    assert sample(text, "shopqueue_requests_total", path="/health", status_code="200") >= 1  # the API's own

    events = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    done = next(e for e in events if e["event"] == "job.completed")
    assert {"job_id", "type", "attempt", "duration_ms", "outcome", "worker_id", "workflow_id", "request_id"} <= set(
        done
    )
    dead = next(e for e in events if e["event"] == "job.dead_lettered")
    assert dead["outcome"] == "dead_lettered"
    assert "does not exist" in dead["error"]

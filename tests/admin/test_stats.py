"""GET /admin/queue/stats and /admin/queue/throughput: the course's shape, plus what operators need."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from shared.clock import to_api
from shared.db import Database
from shared.queue.store import Kind
from tests.api.helpers import assert_error
from tests.support.operator import WORKER, add_job, finish, job_row, start_worker, take

QUEUE_KEYS = {"pending", "scheduled", "processing", "completedLastHour", "failed", "cancelled", "oldestPending"}
WORKER_KEYS = {"id", "hostname", "pid", "status", "concurrency", "startedAt", "lastSeenAt", "running"}


def test_an_empty_queue(client: TestClient[Litestar]) -> None:
    response = client.get("/admin/queue/stats")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "queue": {
            "pending": 0,
            "scheduled": 0,
            "processing": 0,
            "completedLastHour": 0,
            "failed": 0,
            "cancelled": 0,
            "oldestPending": None,
        },
        "deadLetterQueue": {"unreviewed": 0},
        "byType": [],
        "rates": {"processedPerMinute": 0.0, "failedPerMinute": 0.0},
        "pausedTypes": [],
        "workers": [],
    }


def test_stats_count_every_state(client: TestClient[Litestar], db: Database) -> None:
    start_worker(db)
    completed, dead, cancelled, running, waiting = (add_job(db) for _ in range(5))
    later = add_job(db, delay=3600)
    finish(db, take(db), Kind.COMPLETED)
    finish(db, take(db), Kind.DEAD, "mailbox full")
    assert client.post(f"/admin/jobs/{cancelled}/cancel").status_code == 200
    assert [job.id for job in take(db)] == [running]
    invoice = add_job(db, "generate_invoice", {"orderId": "o-1"})
    assert client.post("/admin/queues/sync_inventory/pause").status_code == 200

    response = client.get("/admin/queue/stats")

    assert response.status_code == 200, response.text
    stats = response.json()
    assert set(stats) == {"queue", "deadLetterQueue", "byType", "rates", "pausedTypes", "workers"}
    assert set(stats["queue"]) == QUEUE_KEYS
    assert stats["queue"] == {
        "pending": 2,
        "scheduled": 1,
        "processing": 1,
        "completedLastHour": 1,
        "failed": 1,
        "cancelled": 1,
        "oldestPending": to_api(job_row(db, waiting).scheduled_at),
    }
    assert stats["deadLetterQueue"] == {"unreviewed": 1}
    assert stats["byType"] == [
        {"type": "generate_invoice", "status": "pending", "count": 1},
        {"type": "send_email", "status": "cancelled", "count": 1},
        {"type": "send_email", "status": "completed", "count": 1},
        {"type": "send_email", "status": "failed", "count": 1},
        {"type": "send_email", "status": "pending", "count": 1},
        {"type": "send_email", "status": "processing", "count": 1},
        {"type": "send_email", "status": "scheduled", "count": 1},
    ]
    # One completion and one failed attempt within the five-minute window.
    assert stats["rates"] == {"processedPerMinute": 0.2, "failedPerMinute": 0.2}
    assert stats["pausedTypes"] == ["sync_inventory"]
    [worker] = stats["workers"]
    assert set(worker) == WORKER_KEYS
    assert worker["id"] == WORKER
    assert (worker["status"], worker["concurrency"]) == ("running", 4)
    assert worker["running"] == [{"jobId": running, "type": "send_email"}]
    assert worker["lastSeenAt"].endswith("Z")
    states = {job_id: job_row(db, job_id).status for job_id in (completed, dead, later, invoice)}
    assert states == {completed: "completed", dead: "failed", later: "pending", invoice: "pending"}


def test_throughput_per_minute(client: TestClient[Litestar], db: Database) -> None:
    add_job(db)
    add_job(db)
    first, second = take(db, 2)
    finish(db, [first], Kind.COMPLETED)
    finish(db, [second], Kind.FAILED, "timeout")

    hour = client.get("/admin/queue/throughput")
    five = client.get("/admin/queue/throughput", params={"minutes": 5})

    assert hour.status_code == 200, hour.text
    minutes = hour.json()["minutes"]
    assert len(minutes) == 60
    assert minutes == sorted(minutes, key=lambda m: m["minute"])
    assert all(m["minute"].endswith(":00.000Z") for m in minutes)
    assert sum(m["completed"] for m in minutes) == 1
    assert sum(m["failed"] for m in minutes) == 1
    assert len(five.json()["minutes"]) == 5
    assert sum(m["completed"] + m["failed"] for m in five.json()["minutes"]) == 2


def test_throughput_window_is_bounded(client: TestClient[Litestar]) -> None:
    error = assert_error(client.get("/admin/queue/throughput", params={"minutes": 0}), 400, "VALIDATION_ERROR")

    assert [d["field"] for d in error["details"]] == ["minutes"]
    assert_error(client.get("/admin/queue/throughput", params={"minutes": 1441}), 400, "VALIDATION_ERROR")

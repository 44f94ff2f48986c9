"""GET /health: 200 with queue counts while the database answers, 503 when it does not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database


def test_healthy_with_queue_counts(client: TestClient[Litestar]) -> None:
    assert client.get("/health").json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"pending": 0, "scheduled": 0, "processing": 0},
        "liveWorkers": 0,
    }
    client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}]})

    response = client.get("/health")

    assert response.status_code == 200
    # The confirmation is due now; the follow-up email waits a day: scheduled, not a backlog.
    assert response.json()["queue"] == {"pending": 1, "scheduled": 1, "processing": 0}


def test_unreachable_database_is_503(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/shop.db")

    with TestClient(create_app(settings)) as client:
        response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"].startswith("error: ")
    assert "unable to open database file" in body["database"]
    assert "queue" not in body


def test_database_without_tables_is_503(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/never-migrated.db")

    with TestClient(create_app(settings)) as client:
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "no such table" in response.json()["database"]


def test_live_workers_are_counted_from_their_heartbeats(client: TestClient[Litestar], db: Database) -> None:
    now = utcnow()
    with db.write() as tx:
        for worker_id, status, seen in (
            ("fresh", "running", now),
            ("stale", "running", now - timedelta(minutes=5)),
            ("stopped", "stopped", now),
        ):
            tx.execute(
                "INSERT INTO workers (id, hostname, pid, status, concurrency, running, started_at, last_seen_at) "
                "VALUES (:id, 'h', 1, :status, 10, 0, :now, :seen)",
                {"id": worker_id, "status": status, "now": tx.ts(now), "seen": tx.ts(seen)},
            )
    assert client.get("/health").json()["liveWorkers"] == 1

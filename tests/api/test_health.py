"""GET /health: 200 with queue counts while the database answers, 503 when it does not."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from shared.clock import to_db, utcnow
from shared.config import Settings


def test_healthy_with_queue_counts(client: TestClient[Litestar]) -> None:
    assert client.get("/health").json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"pending": 0, "processing": 0},
        "liveWorkers": 0,
    }
    client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}]})

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["queue"] == {"pending": 2, "processing": 0}


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


def test_live_workers_are_counted_from_their_heartbeats(client: TestClient[Litestar], db_path: Path) -> None:
    now = utcnow()
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO workers (id, hostname, pid, status, concurrency, running, started_at, last_seen_at) "
            "VALUES (?, 'h', 1, ?, 10, 0, ?, ?)",
            [
                ("fresh", "running", to_db(now), to_db(now)),
                ("stale", "running", to_db(now), to_db(now - timedelta(minutes=5))),
                ("stopped", "stopped", to_db(now), to_db(now)),
            ],
        )
    assert client.get("/health").json()["liveWorkers"] == 1

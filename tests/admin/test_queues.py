"""GET /admin/queues, POST /admin/queues/{type}/pause and /resume."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from shared.db import Database
from shared.queue import operations
from shared.queue.store import Kind
from tests.api.helpers import assert_error
from tests.support.operator import TYPES, add_job, finish, take


def queues(client: TestClient[Litestar]) -> dict[str, dict[str, Any]]:
    response = client.get("/admin/queues")
    assert response.status_code == 200, response.text
    return {queue["type"]: queue for queue in response.json()}


def test_every_known_type_with_its_unfinished_jobs(client: TestClient[Litestar], db: Database) -> None:
    add_job(db)
    add_job(db)
    add_job(db, delay=600)
    finish(db, take(db), Kind.COMPLETED)
    add_job(db)
    take(db)

    listed = queues(client)

    assert list(listed) == sorted(TYPES.names())
    assert listed["send_email"] == {
        "type": "send_email",
        "pending": 1,
        "scheduled": 1,
        "processing": 1,
        "paused": False,
    }
    assert listed["generate_invoice"] == {
        "type": "generate_invoice",
        "pending": 0,
        "scheduled": 0,
        "processing": 0,
        "paused": False,
    }


def test_pause_and_resume(client: TestClient[Litestar], db: Database) -> None:
    add_job(db)

    paused = client.post("/admin/queues/send_email/pause", json={"reason": "provider outage"})

    assert paused.status_code == 200, paused.text
    assert paused.json() == {"type": "send_email", "pending": 1, "scheduled": 0, "processing": 0, "paused": True}
    with db.read() as tx:
        assert operations.paused_types(tx) == ["send_email"]
        assert tx.scalar("SELECT reason FROM queue_pauses") == "provider outage"
    assert client.get("/admin/queue/stats").json()["pausedTypes"] == ["send_email"]
    assert client.post("/admin/queues/send_email/pause").status_code == 200  # again: no change, no body needed
    assert queues(client)["send_email"]["paused"] is True

    resumed = client.post("/admin/queues/send_email/resume")

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["paused"] is False
    with db.read() as tx:
        assert operations.paused_types(tx) == []
    assert client.post("/admin/queues/send_email/resume").json()["paused"] is False


def test_unknown_types_are_404(client: TestClient[Litestar], db: Database) -> None:
    assert "nope" in assert_error(client.post("/admin/queues/nope/pause"), 404, "NOT_FOUND")["message"]
    assert_error(client.post("/admin/queues/nope/resume"), 404, "NOT_FOUND")
    with db.read() as tx:
        assert operations.paused_types(tx) == []


def test_a_paused_type_this_process_does_not_know_can_be_resumed(client: TestClient[Litestar], db: Database) -> None:
    with db.write() as tx:  # paused by a worker with other JOB_MODULES
        operations.pause_type(tx, "legacy_type", tx.dt("2026-01-01 00:00:00"))
    assert queues(client)["legacy_type"]["paused"] is True

    response = client.post("/admin/queues/legacy_type/resume")

    assert response.status_code == 200, response.text
    assert "legacy_type" not in queues(client)


def test_a_pause_reason_is_validated(client: TestClient[Litestar], db: Database) -> None:
    assert_error(client.post("/admin/queues/send_email/pause", json={"why": "x"}), 400, "VALIDATION_ERROR")
    assert_error(client.post("/admin/queues/send_email/pause", json={"reason": 5}), 400, "VALIDATION_ERROR")
    with db.read() as tx:
        assert operations.paused_types(tx) == []

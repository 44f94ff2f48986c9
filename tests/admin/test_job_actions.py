"""POST /admin/jobs/{id}/cancel and /retry."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from shared.db import Database
from shared.queue import queries
from shared.queue.store import Kind
from tests.api.helpers import assert_error
from tests.support.operator import add_job, finish, job_row, run, take


def test_cancel_a_waiting_job(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db, delay=3600)

    response = client.post(f"/admin/jobs/{job_id}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "cancelled"
    assert response.json()["job"]["status"] == "cancelled"
    assert job_row(db, job_id).status == "cancelled"


def test_cancel_a_running_job_asks_its_worker(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db)
    take(db)

    response = client.post(f"/admin/jobs/{job_id}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "cancel_requested"
    assert job_row(db, job_id).status == "processing"  # its worker cancels it at its next await
    with db.read() as tx:
        detail = queries.job_detail(tx, job_id)
    assert detail is not None
    assert detail.cancel_requested
    assert client.get(f"/admin/jobs/{job_id}").json()["cancelRequested"] is True


def test_a_finished_job_cannot_be_cancelled(client: TestClient[Litestar], db: Database) -> None:
    for kind in (Kind.COMPLETED, Kind.DEAD):
        job_id = run(db, kind, "boom")
        before = job_row(db, job_id)

        error = assert_error(client.post(f"/admin/jobs/{job_id}/cancel"), 409, "CONFLICT")

        assert before.status.value in error["message"]
        assert job_row(db, job_id) == before


def test_cancel_an_unknown_job_is_404(client: TestClient[Litestar]) -> None:
    assert_error(client.post("/admin/jobs/nope/cancel"), 404, "NOT_FOUND")


def test_retry_a_failed_job(client: TestClient[Litestar], db: Database) -> None:
    job_id = run(db, Kind.DEAD, "provider down")

    response = client.post(f"/admin/jobs/{job_id}/retry")

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert take(db)[0].id == job_id  # due at once


def test_retry_a_waiting_job_makes_it_due(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db, delay=3600)

    response = client.post(f"/admin/jobs/{job_id}/retry")

    assert response.status_code == 200, response.text
    assert take(db)[0].id == job_id


def test_retry_refuses_running_and_completed_jobs(client: TestClient[Litestar], db: Database) -> None:
    done = run(db, Kind.COMPLETED)
    running = add_job(db)
    take(db)

    assert_error(client.post(f"/admin/jobs/{done}/retry"), 409, "CONFLICT")
    assert_error(client.post(f"/admin/jobs/{running}/retry"), 409, "CONFLICT")
    assert_error(client.post("/admin/jobs/nope/retry"), 404, "NOT_FOUND")
    assert (job_row(db, done).status, job_row(db, running).status) == ("completed", "processing")


def test_a_failed_attempt_waiting_for_its_retry_can_be_cancelled(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db)
    finish(db, take(db), Kind.FAILED, "timeout")

    response = client.post(f"/admin/jobs/{job_id}/cancel")

    assert response.json()["outcome"] == "cancelled"
    assert job_row(db, job_id).status == "cancelled"

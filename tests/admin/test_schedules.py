"""GET /admin/schedules, PATCH /admin/schedules/{id}, POST /admin/schedules/{id}/run."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from shared.db import Database
from shared.queue import cron
from tests.api.helpers import assert_error
from tests.support.operator import job_row

SCHEDULE_KEYS = {
    "id",
    "type",
    "payload",
    "cronExpression",
    "isActive",
    "overlap",
    "lastRunAt",
    "nextRunAt",
    "lastJobId",
    "createdAt",
}


def schedule(db: Database, schedule_id: str = "daily_sales_report") -> cron.Schedule:
    with db.read() as tx:
        return cron.get_schedule(tx, schedule_id)


def test_the_seeded_schedules(client: TestClient[Litestar]) -> None:
    response = client.get("/admin/schedules")

    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    assert [(s["id"], s["cronExpression"], s["isActive"]) for s in listed] == [
        ("cleanup_completed_jobs", "0 3 * * *", True),
        ("daily_sales_report", "0 0 * * *", True),
    ]
    assert set(listed[0]) == SCHEDULE_KEYS
    assert listed[1]["nextRunAt"].endswith("T00:00:00.000Z")


def test_pause_resume_and_retime(client: TestClient[Litestar], db: Database) -> None:
    paused = client.patch("/admin/schedules/daily_sales_report", json={"isActive": False})
    assert paused.status_code == 200, paused.text
    assert paused.json()["isActive"] is False
    assert schedule(db).is_active is False

    changed = client.patch(
        "/admin/schedules/daily_sales_report", json={"isActive": True, "cronExpression": "30  1 * * *"}
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["isActive"], changed.json()["cronExpression"]) == (True, "30 1 * * *")
    assert changed.json()["nextRunAt"].endswith("T01:30:00.000Z")
    saved = schedule(db)
    assert (saved.is_active, saved.cron_expression, saved.next_run_at.hour) == (True, "30 1 * * *", 1)


def test_an_invalid_expression_changes_nothing(client: TestClient[Litestar], db: Database) -> None:
    before = schedule(db)

    for body in ({"cronExpression": "every day", "isActive": False}, {"cronExpression": "61 * * * *"}):
        response = client.patch("/admin/schedules/daily_sales_report", json=body)

        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]] == ["cronExpression"]
    assert_error(client.patch("/admin/schedules/daily_sales_report", json={"isActive": "no"}), 400, "VALIDATION_ERROR")
    assert schedule(db) == before


def test_unknown_schedules_are_404(client: TestClient[Litestar]) -> None:
    assert_error(client.patch("/admin/schedules/nope", json={"isActive": False}), 404, "NOT_FOUND")
    assert_error(client.post("/admin/schedules/nope/run"), 404, "NOT_FOUND")


def test_run_now(client: TestClient[Litestar], db: Database) -> None:
    before = schedule(db)

    response = client.post("/admin/schedules/daily_sales_report/run")

    assert response.status_code == 200, response.text
    run = response.json()
    assert (run["scheduleId"], run["outcome"]) == ("daily_sales_report", "manual")
    job = job_row(db, run["jobId"])
    assert (job.type, job.status) == ("daily_sales_report", "pending")
    after = schedule(db)
    assert after.last_job_id == run["jobId"]
    assert after.next_run_at == before.next_run_at  # the timetable is unchanged

    again = client.post("/admin/schedules/daily_sales_report/run")

    assert again.json()["outcome"] == "skipped"  # the first run has not finished
    assert again.json()["jobId"] is None

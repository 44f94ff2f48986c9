"""`shopqueue schedules list|pause|resume|run`."""

from __future__ import annotations

from shared.db import Database
from shared.queue import cron
from tests.cli.conftest import Shopqueue, failed, ok, ok_json
from tests.support.operator import job_row


def active(db: Database, schedule_id: str) -> bool:
    with db.read() as tx:
        return cron.get_schedule(tx, schedule_id).is_active


def test_list(shopqueue: Shopqueue) -> None:
    text = ok(shopqueue("schedules", "list"))
    listed = ok_json(shopqueue("schedules", "list", "--json"))

    assert [(s["id"], s["cronExpression"]) for s in listed] == [
        ("cleanup_completed_jobs", "0 3 * * *"),
        ("daily_sales_report", "0 0 * * *"),
    ]
    assert text.splitlines()[2].split()[:7] == ["daily_sales_report", "daily_sales_report", "0", "0", "*", "*", "*"]


def test_pause_and_resume(shopqueue: Shopqueue, db: Database) -> None:
    assert ok(shopqueue("schedules", "pause", "daily_sales_report")).strip() == "paused schedule daily_sales_report"
    assert active(db, "daily_sales_report") is False

    resumed = ok_json(shopqueue("schedules", "resume", "daily_sales_report", "--json"))

    assert resumed["isActive"] is True
    assert active(db, "daily_sales_report") is True
    assert ok_json(shopqueue("schedules", "pause", "cleanup_completed_jobs", "--json"))["isActive"] is False
    resumed_text = ok(shopqueue("schedules", "resume", "cleanup_completed_jobs"))
    assert resumed_text.startswith("resumed schedule cleanup_completed_jobs: next run ")
    assert resumed_text.strip().endswith("T03:00:00.000Z")
    assert active(db, "cleanup_completed_jobs") is True
    assert "schedule 'nope' not found" in failed(shopqueue("schedules", "pause", "nope"), 1)


def test_run_now(shopqueue: Shopqueue, db: Database) -> None:
    text = ok(shopqueue("schedules", "run", "cleanup_completed_jobs"))

    job_id = text.split()[1]
    assert text.strip() == f"enqueued {job_id} for schedule cleanup_completed_jobs"
    assert job_row(db, job_id).type == "cleanup_completed_jobs"
    skipped = ok_json(shopqueue("schedules", "run", "cleanup_completed_jobs", "--json"))
    assert (skipped["outcome"], skipped["jobId"]) == ("skipped", None)
    assert "skipped cleanup_completed_jobs" in ok(shopqueue("schedules", "run", "cleanup_completed_jobs"))
    assert "not found" in failed(shopqueue("schedules", "run", "nope"), 1)

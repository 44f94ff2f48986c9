"""Schedules in the browser: a refused cron expression is shown beside its field and changes
nothing; a valid one, pause, resume and run now take effect."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.db import Database
from tests.dashboard.browser import Dashboard
from tests.support.queue import query

SCHEDULE = "daily_sales_report"


def schedule_row(db: Database) -> tuple[object, ...]:
    (row,) = query(
        db, "SELECT cron_expression, is_active, last_job_id FROM cron_schedules WHERE id = :id", {"id": SCHEDULE}
    )
    return row


def test_change_pause_resume_and_run_a_schedule(dashboard: Dashboard, db: Database) -> None:
    dashboard.sign_in("/admin/ui/schedules")
    page = dashboard.page
    row = page.locator(f"[data-schedule='{SCHEDULE}']")
    field = row.get_by_label(f"Cron expression of {SCHEDULE}")

    field.fill("61 * * * *")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_contain_text("invalid cron expression '61 * * * *'")
    expect(field).to_have_value("61 * * * *")  # what was typed is shown again, to correct it
    assert schedule_row(db) == ("0 0 * * *", 1, None)
    # The refresh leaves the region alone while the error is on display.
    first = page.locator("[data-stamp]").inner_text()
    expect(page.locator("[data-live-status]")).to_have_text("paused while editing")
    expect(page.locator("[data-stamp]")).to_have_text(first)
    expect(row.get_by_role("alert")).to_be_visible()

    field.fill("30 1 * * *")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("[data-flash]")).to_contain_text("now runs at '30 1 * * *'")
    expect(field).to_have_value("30 1 * * *")
    assert schedule_row(db)[:2] == ("30 1 * * *", 1)

    row.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-flash]")).to_have_text(f"Schedule {SCHEDULE} paused.")
    expect(row.locator(".badge")).to_have_text("paused")
    assert schedule_row(db)[1] == 0
    row.get_by_role("button", name="Resume").click()
    expect(row.locator(".badge")).to_have_text("active")
    assert schedule_row(db)[1] == 1

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Run now").click()
    expect(page.locator("[data-flash]")).to_contain_text(f"Schedule {SCHEDULE} enqueued job")
    job_id = schedule_row(db)[2]
    assert query(db, "SELECT type, status FROM jobs WHERE id = :id", {"id": job_id}) == [(SCHEDULE, "pending")]
    expect(row.locator(f"a[href='/admin/ui/jobs/{job_id}']")).to_be_visible()

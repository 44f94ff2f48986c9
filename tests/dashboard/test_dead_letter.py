"""The dead-letter queue in the browser: retry one entry with a click, discard every entry a filter
matches; entries come from a real worker that failed the jobs."""

from __future__ import annotations

from playwright.sync_api import Dialog, expect

from shared.config import Settings
from shared.db import Database
from shared.queue import enqueue
from shared.shop import jobs as shop_jobs
from tests.dashboard.browser import Dashboard, Screenshots
from tests.dashboard.conftest import WorkerFactory
from tests.support.processes import run_worker_burst
from tests.support.queue import query, scalar


def dead_letters(settings: Settings, db: Database) -> tuple[list[str], list[str]]:
    """Two emails whose only attempt fails and three invoices of orders that do not exist, run by a
    real worker until all five are in the dead-letter queue; returns their job ids."""
    with db.write() as tx:
        emails = [
            enqueue(tx, shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "hi"}, max_attempts=1)
            for i in range(2)
        ]
        invoices = [enqueue(tx, shop_jobs.generate_invoice, {"orderId": f"missing-{i}"}) for i in range(3)]
    burst = run_worker_burst(settings, SIMULATED_FAILURE_RATE="1")
    assert burst.returncode == 0, burst.stdout + burst.stderr
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs WHERE reviewed = 0") == 5
    return emails, invoices


def entry_of(db: Database, job_id: str) -> str:
    return str(scalar(db, "SELECT id FROM dead_letter_jobs WHERE original_job_id = :id", {"id": job_id}))


def test_retry_an_entry_with_a_click(
    settings: Settings, db: Database, dashboard: Dashboard, workers: WorkerFactory, screenshots: Screenshots
) -> None:
    emails, _ = dead_letters(settings, db)
    retried = emails[0]
    entry = entry_of(db, retried)
    dashboard.sign_in("/admin/ui/dead-letter")
    page = dashboard.page
    rows = page.locator("[data-dead-letters] tbody tr")
    expect(rows).to_have_count(5)
    screenshots.take(page, "dead-letter-before")

    page.locator(f"[data-dead-id='{entry}']").get_by_role("button", name="Retry").click()
    expect(page.locator("[data-flash]")).to_contain_text(f"job {retried[:8]} is pending again")
    expect(page.locator(f"[data-dead-id='{entry}']")).to_have_count(0)
    expect(rows).to_have_count(4)
    assert page.url == dashboard.url("/admin/ui/dead-letter")  # back where the click was
    assert query(db, "SELECT status, attempts FROM jobs WHERE id = :id", {"id": retried}) == [("pending", 0)]
    assert query(db, "SELECT reviewed, notes FROM dead_letter_jobs WHERE id = :id", {"id": entry}) == [(1, "retried")]

    # The job page follows it to the end once a healthy worker runs.
    dashboard.open(f"/admin/ui/jobs/{retried}")
    expect(page.locator("[data-job-status]")).to_have_text("pending")
    workers("healthy", SIMULATED_FAILURE_RATE="0")
    expect(page.locator("[data-job-status]")).to_have_text("completed")
    expect(page.locator(".timeline")).to_contain_text("moved to the dead-letter queue")
    screenshots.take(page, "dead-letter-retried-job")


def test_discard_every_entry_a_filter_matches(
    settings: Settings, db: Database, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    emails, invoices = dead_letters(settings, db)
    dashboard.sign_in("/admin/ui/dead-letter")
    page = dashboard.page
    page.get_by_label("Error contains").fill("does not exist")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(dashboard.url("/admin/ui/dead-letter?type=&error=does+not+exist&show=unreviewed"))
    rows = page.locator("[data-dead-letters] tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("[data-matching]")).to_have_text("3")
    screenshots.take(page, "dead-letter-filtered")

    prompts: list[str] = []

    def accept(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Discard all 3").click()
    expect(page.locator("[data-flash]")).to_have_text("Discarded 3 entries.")
    assert prompts == ["Discard 3 dead-letter entries? Their jobs stay failed."]
    expect(rows).to_have_count(0)  # the filter is kept, and nothing unreviewed matches it any more

    page.get_by_role("link", name="Clear").click()
    expect(rows).to_have_count(2)
    ids = {row[0]: row[1:] for row in query(db, "SELECT original_job_id, reviewed, notes FROM dead_letter_jobs")}
    assert {job_id: ids[job_id] for job_id in invoices} == dict.fromkeys(invoices, (1, "discarded"))
    assert {job_id: ids[job_id] for job_id in emails} == dict.fromkeys(emails, (0, None))
    statuses = query(db, "SELECT DISTINCT status FROM jobs WHERE type = 'generate_invoice'")
    assert statuses == [("failed",)]  # discarding gives up on the entry; the job stays failed

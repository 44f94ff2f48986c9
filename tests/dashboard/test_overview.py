"""The overview refreshes itself: counts follow a real worker through a backlog without a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.db import Database
from shared.queue import JobSpec, enqueue_many
from shared.shop import jobs as shop_jobs
from tests.dashboard.browser import Dashboard, Screenshots
from tests.dashboard.conftest import WorkerFactory

JOBS = 40


def test_counts_change_as_a_worker_processes_jobs_without_a_reload(
    dashboard: Dashboard, db: Database, workers: WorkerFactory, screenshots: Screenshots
) -> None:
    dashboard.sign_in("/admin")
    page = dashboard.page
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("[data-stat='pending']")).to_have_text("0")
    expect(page.locator("[data-stat='workers']")).to_have_text("0")

    with db.write() as tx:
        enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "hello"}) for i in range(JOBS)]
        )
    expect(page.locator("[data-stat='pending']")).to_have_text(str(JOBS))
    expect(page.locator("[data-stat='oldest']")).not_to_have_text("—")
    screenshots.take(page, "overview-backlog")

    workers("w", SIMULATED_FAILURE_RATE="0")
    expect(page.locator("[data-stat='completed']")).to_have_text(str(JOBS))
    expect(page.locator("[data-stat='pending']")).to_have_text("0")
    expect(page.locator("[data-stat='workers']")).to_have_text("1")
    expect(page.locator("[data-workers] tbody tr")).to_have_count(1)
    expect(page.locator("[data-stat='processed-rate']")).not_to_have_text("0.0")
    screenshots.take(page, "overview-drained")

    assert page.evaluate("window.stillTheSamePage") is True  # the region was swapped, the page kept
    assert navigations == []

"""Pausing a queue in the browser: its jobs stay pending while a worker runs everything else, and run
once it is resumed."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.db import Database
from shared.queue import JobSpec, enqueue_many
from shared.shop import jobs as shop_jobs
from tests.dashboard.browser import Dashboard, Screenshots
from tests.dashboard.conftest import WorkerFactory
from tests.support.queue import query, wait_until

EMAILS = 5


def test_a_paused_queue_keeps_its_jobs_pending_until_resumed(
    db: Database, dashboard: Dashboard, workers: WorkerFactory, screenshots: Screenshots
) -> None:
    dashboard.sign_in("/admin/ui/queues")
    page = dashboard.page
    row = page.locator("[data-queue='send_email']")
    row.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-flash]")).to_contain_text("send_email paused")
    expect(row.locator("[data-queue-state]")).to_have_text("paused")
    assert query(db, "SELECT type FROM queue_pauses") == [("send_email",)]

    with db.write() as tx:
        enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "hi"}) for i in range(EMAILS)]
        )
    order = dashboard.place_order()  # other types keep running: the worker is busy, not stuck
    expect(row.locator("[data-count='pending']")).to_have_text(str(EMAILS))
    workers("w", SIMULATED_FAILURE_RATE="0")

    def order_done() -> bool:
        rows = query(
            db,
            "SELECT COUNT(*) FROM jobs WHERE workflow_id = :id AND status = 'completed' "
            "AND type != 'send_followup_email'",
            {"id": order},
        )
        return rows == [(3,)]

    wait_until(order_done, timeout=60, what="the order's confirmation, invoice and inventory sync")
    expect(page.locator("[data-queue='sync_inventory'] [data-count='pending']")).to_have_text("0")
    expect(row.locator("[data-count='pending']")).to_have_text(str(EMAILS))
    expect(row.locator("[data-count='processing']")).to_have_text("0")
    screenshots.take(page, "queues-paused")
    assert query(db, "SELECT status, attempts, COUNT(*) FROM jobs WHERE type = 'send_email' GROUP BY 1, 2") == [
        ("pending", 0, EMAILS)
    ]

    row.get_by_role("button", name="Resume").click()
    expect(page.locator("[data-flash]")).to_contain_text("send_email resumed")
    expect(row.locator("[data-queue-state]")).to_have_text("active")
    expect(row.locator("[data-count='pending']")).to_have_text("0")
    wait_until(
        lambda: (
            query(db, "SELECT status, COUNT(*) FROM jobs WHERE type = 'send_email' GROUP BY 1")
            == [("completed", EMAILS)]
        ),
        timeout=60,
        what="the emails, once resumed",
    )

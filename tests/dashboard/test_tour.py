"""Every page on a busy shop, with the screenshots the README shows (UPDATE_SCREENSHOTS=1 refreshes
docs/screenshots). Orders go through the API and real workers; an hour of history is staged by
moving finished orders back in time, as an operator with a SQL shell could."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from shared.config import Settings
from shared.db import Database
from shared.queue import enqueue
from shared.shop import jobs as shop_jobs
from tests.dashboard.browser import Dashboard, Screenshots
from tests.dashboard.conftest import WorkerFactory
from tests.support.processes import run_worker_burst
from tests.support.queue import query, scalar

HISTORY_ORDERS = 30
LIVE_ORDERS = 4
JOB_TIMES = ("created_at", "scheduled_at", "updated_at", "started_at", "completed_at")


def move_back(db: Database, order_id: str, minutes: float) -> None:
    """Shift an order, its jobs and their failures `minutes` into the past, keeping their spacing."""
    delta = timedelta(minutes=minutes)
    with db.write() as tx:
        for row in tx.all(f"SELECT id, {', '.join(JOB_TIMES)} FROM jobs WHERE workflow_id = :id", {"id": order_id}):
            moved = {
                name: tx.ts_or_none(None if v is None else tx.dt(v) - delta)
                for name, v in zip(JOB_TIMES, row[1:], strict=True)
            }
            assignments = ", ".join(f"{name} = :{name}" for name in JOB_TIMES)
            tx.execute(f"UPDATE jobs SET {assignments} WHERE id = :id", {**moved, "id": row[0]})
            for failure_id, failed_at in tx.all(
                "SELECT id, failed_at FROM job_failures WHERE job_id = :id", {"id": row[0]}
            ):
                tx.execute(
                    "UPDATE job_failures SET failed_at = :at WHERE id = :id",
                    {"at": tx.ts(tx.dt(failed_at) - delta), "id": failure_id},
                )
        created = tx.scalar("SELECT created_at FROM orders WHERE id = :id", {"id": order_id})
        tx.execute(
            "UPDATE orders SET created_at = :at WHERE id = :id", {"at": tx.ts(tx.dt(created) - delta), "id": order_id}
        )


def burst(settings: Settings, failure_rate: str, retry_base_seconds: str = "2.0") -> None:
    """`python -m worker --burst` with simulated providers failing at this rate."""
    result = run_worker_burst(settings, SIMULATED_FAILURE_RATE=failure_rate, RETRY_BASE_SECONDS=retry_base_seconds)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_tour_of_every_page(
    settings: Settings, db: Database, dashboard: Dashboard, workers: WorkerFactory, tmp_path: Path
) -> None:
    shots = Screenshots(tmp_path, publish=True)
    products = ("prod-1", "prod-2", "prod-3")
    history = [dashboard.place_order(f"customer-{i}", products[i % 3]) for i in range(HISTORY_ORDERS)]
    for _ in range(2):  # the second run takes the retries the first left waiting
        burst(settings, "0.15", retry_base_seconds="0.01")
    minutes = random.Random(7)
    for order in history:
        move_back(db, order, minutes.uniform(1, 59))
    with db.write() as tx:
        for i in range(3):
            enqueue(tx, shop_jobs.generate_invoice, {"orderId": f"ord-archived-{i}"})
        for i in range(2):
            enqueue(tx, shop_jobs.send_email, {"to": f"vip{i}@shop.test", "subject": "Your voucher"}, max_attempts=1)
    burst(settings, "1")

    dashboard.sign_in("/admin/ui/queues")
    page = dashboard.page
    page.locator("[data-queue='sync_inventory']").get_by_role("button", name="Pause").click()
    expect(page.locator("[data-queue='sync_inventory'] [data-queue-state]")).to_have_text("paused")
    for i in range(LIVE_ORDERS):
        dashboard.place_order(f"live-{i}", products[i % 3])
    # Slow providers: each confirmation email takes 50 s, so the worker is seen running them.
    workers("live", SIMULATED_FAILURE_RATE="0", SIMULATED_LATENCY_SCALE="100", WORKER_CONCURRENCY="4")

    dashboard.open("/admin")
    expect(page.locator("[data-workers] .chip")).to_have_count(LIVE_ORDERS)
    expect(page.locator("[data-stat='processing']")).to_have_text(str(LIVE_ORDERS))
    assert page.locator(".chart rect.done").count() >= HISTORY_ORDERS // 3
    expect(page.locator("[data-paused]")).to_contain_text("sync_inventory")
    shots.take(page, "overview", full_page=True)

    dashboard.open("/admin/ui/jobs")
    expect(page.locator("[data-jobs] tbody tr")).to_have_count(50)
    shots.take(page, "jobs")

    (retried,) = query(
        db,
        "SELECT id FROM jobs j WHERE EXISTS (SELECT 1 FROM job_failures f WHERE f.job_id = j.id) "
        "ORDER BY (type = 'send_order_confirmation' AND status = 'completed') DESC, seq LIMIT 1",
    )[0]
    dashboard.open(f"/admin/ui/jobs/{retried}")
    expect(page.get_by_role("heading", name="Failed attempts")).to_be_visible()
    shots.take(page, "job", full_page=True)

    dashboard.open("/admin/ui/dead-letter")
    expect(page.locator("[data-dead-letters] tbody tr")).to_have_count(5)
    shots.take(page, "dead-letter")

    dashboard.open("/admin/ui/queues")
    expect(page.locator("[data-queue='sync_inventory'] [data-queue-state]")).to_have_text("paused")
    shots.take(page, "queues")

    dashboard.open("/admin/ui/schedules")
    row = page.locator("[data-schedule='cleanup_completed_jobs']")
    row.get_by_label("Cron expression of cleanup_completed_jobs").fill("0 3 * * mon-fry")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_contain_text("invalid cron expression")
    shots.take(page, "schedules")

    order = history[-1]
    dashboard.open(f"/admin/ui/orders/{order}")
    steps = page.locator("[data-pipeline] tbody tr")
    expect(steps).to_have_count(4)
    expect(steps.locator(".depth-1")).to_have_count(2)  # the invoice and the inventory sync, under the email
    shots.take(page, "order")

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("[data-flash]")).to_have_text("Signed out.")
    dashboard.open("/admin")
    expect(page.get_by_label("Admin token")).to_be_visible()
    shots.take(page, "login")
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs") == 5

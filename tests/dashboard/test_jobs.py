"""The jobs browser, a job's page and an order's workflow in the browser: filters and paging, run a
waiting job now, cancel a job and see where the order stopped."""

from __future__ import annotations

from playwright.sync_api import expect

from shared.db import Database
from shared.queue import JobSpec, enqueue_many
from shared.shop import jobs as shop_jobs
from tests.dashboard.browser import Dashboard, Screenshots
from tests.support.queue import query

PAGE_SIZE = 50  # api.dashboard.browse


def test_filter_page_and_open_jobs(dashboard: Dashboard, db: Database) -> None:
    with db.write() as tx:
        enqueue_many(tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "s"}) for i in range(60)])
    order = dashboard.place_order()
    dashboard.sign_in("/admin/ui/jobs")
    page = dashboard.page
    rows = page.locator("[data-jobs] tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    page.get_by_role("link", name="Older »").click()
    expect(rows).to_have_count(62 - PAGE_SIZE)  # 60 emails, the order's confirmation and follow-up
    expect(page.get_by_role("link", name="Older »")).to_have_count(0)

    page.get_by_label("Status").select_option("scheduled")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)  # the follow-up email, due in 24 hours
    expect(rows.first).to_contain_text("send_followup_email")

    page.get_by_label("Status").select_option("")
    page.get_by_label("Order / workflow id").fill(order)
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.get_by_label("Type").select_option("send_email")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".empty")).to_have_text("No job matches these filters.")

    response = dashboard.open("/admin/ui/jobs?status=bogus")
    assert response is not None
    assert response.status == 400
    response = dashboard.open("/admin/ui/jobs/no-such-job")
    assert response is not None
    assert response.status == 404


def test_run_a_waiting_job_now_and_cancel_a_step_of_an_order(
    dashboard: Dashboard, db: Database, screenshots: Screenshots
) -> None:
    order = dashboard.place_order()
    (confirmation, followup) = (
        row[0]
        for row in query(
            db, "SELECT id FROM jobs WHERE workflow_id = :id ORDER BY type != 'send_order_confirmation'", {"id": order}
        )
    )
    dashboard.sign_in(f"/admin/ui/jobs/{followup}")
    page = dashboard.page
    expect(page.locator("[data-job-status]")).to_have_text("scheduled")
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("[data-flash]")).to_contain_text("is due now")
    expect(page.locator("[data-job-status]")).to_have_text("pending")

    page.on("dialog", lambda dialog: dialog.accept())
    dashboard.open(f"/admin/ui/jobs/{confirmation}")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-flash]")).to_contain_text("cancelled: it will not run")
    expect(page.locator("[data-job-status]")).to_have_text("cancelled")
    assert query(db, "SELECT status FROM jobs WHERE id = :id", {"id": confirmation}) == [("cancelled",)]

    page.get_by_role("link", name=order[:8]).click()
    page.wait_for_url(dashboard.url(f"/admin/ui/orders/{order}"))
    expect(page.locator("[data-progress]")).to_have_attribute("data-progress", "stopped")
    expect(page.locator("[data-progress]")).to_contain_text("Stopped at send_order_confirmation (cancelled)")
    expect(page.locator("[data-pipeline] tbody tr")).to_have_count(2)
    screenshots.take(page, "order-stopped")

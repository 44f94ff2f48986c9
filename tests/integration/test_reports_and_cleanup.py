"""The daily sales report (exact sums, replaced not duplicated) and the cleanup of completed jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.db import Database, Tx
from shared.queue import JobSpec, enqueue_many
from shared.queue.maintenance import BATCH, delete_completed_batch
from shared.shop import jobs as shop_jobs
from shared.shop import reports
from shared.shop.order_store import Order, OrderItem, insert_order
from tests.support.queue import query, scalar

DAY = date(2026, 11, 26)
NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)


def order(tx: Tx, order_id: str, at: datetime, *lines: tuple[str, int, str]) -> None:
    items = [OrderItem(product, quantity, Decimal(price)) for product, quantity, price in lines]
    total = sum((item.amount for item in items), Decimal(0))
    insert_order(tx, Order(order_id, "u", "paid", total, at, items))


def test_a_days_report_sums_exactly_and_ranks_products(db: Database) -> None:
    with db.write() as tx:
        order(tx, "a", NOON, ("prod-1", 3, "0.10"), ("prod-2", 1, "34.99"))
        order(tx, "b", NOON + timedelta(hours=11, minutes=59), ("prod-1", 1, "0.10"))
        order(tx, "c", datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC), ("prod-3", 9, "49.99"))  # the day before
        order(tx, "d", datetime(2026, 11, 27, 0, 0, tzinfo=UTC), ("prod-3", 9, "49.99"))  # the day after
    with db.read() as tx:
        report = reports.compute(tx, DAY, NOON)
    assert (report.order_count, report.revenue, report.units_sold) == (2, Decimal("35.39"), 5)
    assert [(t.product_id, t.units, t.revenue) for t in report.top_products] == [
        ("prod-1", 4, Decimal("0.40")),
        ("prod-2", 1, Decimal("34.99")),
    ]


def test_running_a_day_again_replaces_its_report(db: Database) -> None:
    with db.write() as tx:
        order(tx, "a", NOON, ("prod-1", 1, "89.99"))
        reports.save(tx, reports.compute(tx, DAY, NOON))
        order(tx, "b", NOON, ("prod-2", 2, "34.99"))
        reports.save(tx, reports.compute(tx, DAY, NOON + timedelta(hours=1)))
    assert scalar(db, "SELECT COUNT(*) FROM sales_reports") == 1
    with db.read() as tx:
        stored = reports.get_report(tx, DAY)
    assert (stored.order_count, stored.revenue, stored.units_sold) == (2, Decimal("159.97"), 3)
    assert stored.generated_at == NOON + timedelta(hours=1)


def completed_jobs(db: Database, count: int, completed_at: datetime) -> list[str]:
    with db.write() as tx:
        ids = enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@x.test", "subject": "s"}) for i in range(count)]
        )
        for job_id in ids:
            tx.execute(
                "UPDATE jobs SET status = 'completed', completed_at = :t WHERE id = :id",
                {"id": job_id, "t": tx.ts(completed_at)},
            )
            tx.execute(
                "INSERT INTO processed_jobs (job_id, idempotency_key, processed_at) VALUES (:id, :key, :t)",
                {"id": job_id, "key": f"email:{job_id}", "t": tx.ts(completed_at)},
            )
    return ids


def test_cleanup_deletes_old_completed_jobs_in_batches_and_keeps_the_rest(db: Database) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    old = completed_jobs(db, BATCH + 20, now - timedelta(days=8))
    recent = completed_jobs(db, 5, now - timedelta(days=6))
    with db.write() as tx:
        failed = enqueue_many(tx, [JobSpec(shop_jobs.send_email, {"to": "f@x.test", "subject": "s"})])[0]
        tx.execute(
            "UPDATE jobs SET status = 'failed', updated_at = :t WHERE id = :id",
            {"id": failed, "t": tx.ts(now - timedelta(days=30))},
        )
        tx.execute(
            "INSERT INTO dead_letter_jobs (id, original_job_id, type, payload, attempts, failed_at) "
            "VALUES ('dl', :id, 'send_email', '{}', 5, :t)",
            {"id": failed, "t": tx.ts(now - timedelta(days=30))},
        )
    cutoff = now - timedelta(days=7)
    with db.write() as tx:
        assert delete_completed_batch(tx, cutoff) == BATCH  # one small batch per transaction
    with db.write() as tx:
        assert delete_completed_batch(tx, cutoff) == 20
    with db.write() as tx:
        assert delete_completed_batch(tx, cutoff) == 0
    remaining = {row[0] for row in query(db, "SELECT id FROM jobs")}
    assert remaining == {*recent, failed}
    assert not remaining & set(old)
    assert scalar(db, "SELECT COUNT(*) FROM processed_jobs") == len(recent)
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs") == 1

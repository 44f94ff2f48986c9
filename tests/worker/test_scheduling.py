"""Cron, reports, cleanup, priorities and aging with real worker processes on a real database."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.queue import JobSpec, Priority, enqueue_many
from shared.queue.maintenance import cleanup_completed_jobs
from shared.shop import jobs as shop_jobs
from tests.support.jobs import mark
from tests.support.queue import place_orders, query, scalar, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors


def job_ids(db: Database) -> set[str]:
    return {row[0] for row in query(db, "SELECT id FROM jobs")}


def test_a_fleet_fires_a_missed_tick_once_and_the_report_is_written(
    db: Database, settings: Settings, workers: WorkerFactory, fleet: list[str]
) -> None:
    place_orders(settings, 3, [("prod-1", 2)])
    today = utcnow().date()
    with db.write() as tx:  # the report's midnight tick was missed two days running
        tx.execute(
            "UPDATE cron_schedules SET next_run_at = :t WHERE id = 'daily_sales_report'",
            {"t": tx.ts(datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC))},
        )
    running = [workers(name, SIMULATED_FAILURE_RATE="0") for name in fleet]
    wait_until(
        lambda: scalar(db, "SELECT status FROM jobs WHERE type = 'daily_sales_report'") == "completed",
        timeout=30,
        what="the report job to run",
    )
    time.sleep(1.5)  # every worker has ticked again meanwhile
    assert scalar(db, "SELECT COUNT(*) FROM jobs WHERE type = 'daily_sales_report'") == 1  # one catch-up run
    assert query(db, "SELECT schedule_id, outcome FROM cron_runs") == [("daily_sales_report", "enqueued")]
    # The run at today's midnight reports yesterday; today's orders are not in it.
    assert query(db, "SELECT date, order_count FROM sales_reports") == [((today - timedelta(days=1)).isoformat(), 0)]
    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0] * len(fleet)
    assert_no_lock_errors(running)


def test_a_report_and_a_cleanup_enqueued_by_hand(db: Database, settings: Settings, workers: WorkerFactory) -> None:
    place_orders(settings, 2, [("prod-2", 3)])
    today = utcnow().date().isoformat()
    with db.write() as tx:
        old = enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": f"u{i}@x.test", "subject": "s"}) for i in range(3)]
        )
        for job_id in old:
            tx.execute(
                "UPDATE jobs SET status = 'completed', completed_at = :t WHERE id = :id",
                {"t": tx.ts(utcnow() - timedelta(days=30)), "id": job_id},
            )
        enqueue_many(
            tx,
            [
                JobSpec(shop_jobs.daily_sales_report, {"date": today}),
                JobSpec(shop_jobs.daily_sales_report, {"date": today}, delay=0.5),  # a second run replaces the first
                JobSpec(cleanup_completed_jobs, {"olderThanDays": 7}),
            ],
        )
    worker = workers("w", SIMULATED_FAILURE_RATE="0")
    wait_until(
        lambda: (
            scalar(
                db,
                "SELECT COUNT(*) FROM jobs WHERE status = 'completed' "
                "AND type IN ('daily_sales_report', 'cleanup_completed_jobs')",
            )
            == 3
        ),
        timeout=30,
        what="the reports and the cleanup",
    )
    assert query(db, "SELECT date, order_count, units_sold FROM sales_reports") == [(today, 2, 6)]
    assert not set(old) & job_ids(db)  # a month old: deleted
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_strict_priority_then_fifo_for_jobs_enqueued_in_the_same_millisecond(
    db: Database, workers: WorkerFactory, tmp_path: Path
) -> None:
    same_instant = utcnow()
    ran = tmp_path / "ran.txt"
    levels = [Priority.LOW, Priority.CRITICAL, Priority.NORMAL, Priority.HIGH] * 5
    with db.write() as tx:
        ids = enqueue_many(
            tx,
            [JobSpec(mark, {"path": str(ran), "label": str(i)}, priority=level) for i, level in enumerate(levels)],
            clock=lambda: same_instant,
        )
    worker = workers("w", "--jobs", "tests.support.jobs", WORKER_CONCURRENCY="1", CLAIM_BATCH="1", PREFETCH="0")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed'") == len(ids),
        timeout=30,
        what="every job",
    )
    order = [int(label) for label in ran.read_text().split()]
    expected = [i for level in sorted(set(levels), reverse=True) for i, lv in enumerate(levels) if lv == level]
    assert order == expected  # highest first; within a level, in enqueue order
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_flood_of_high_jobs_does_not_hold_a_low_job_back_past_aging(db: Database, workers: WorkerFactory) -> None:
    """With a 1 s aging period, the LOW job waits behind HIGH work while it is young, then climbs a
    level per period (the waiting HIGH jobs climb too) and, being the oldest, runs long before the
    flood is drained: held back at most one period per level between LOW and the top."""
    with db.write() as tx:
        (low,) = enqueue_many(
            tx, [JobSpec(shop_jobs.send_email, {"to": "low@x.test", "subject": "s"}, priority=Priority.LOW)]
        )
        enqueue_many(
            tx,
            [
                JobSpec(shop_jobs.send_email, {"to": f"h{i}@x.test", "subject": "s"}, priority=Priority.HIGH)
                for i in range(800)
            ],
        )
    # One job at a time, 10 ms each: the 800 HIGH jobs take about 8 s.
    worker = workers(
        "w",
        SIMULATED_FAILURE_RATE="0",
        SIMULATED_LATENCY_SCALE="0.02",
        WORKER_CONCURRENCY="1",
        CLAIM_BATCH="1",
        PRIORITY_AGING_SECONDS="1",
    )
    wait_until(
        lambda: scalar(db, "SELECT status FROM jobs WHERE id = :id", {"id": low}) == "completed",
        timeout=30,
        what="the LOW job to run",
        interval=0.05,
    )
    high_left = scalar(db, "SELECT COUNT(*) FROM jobs WHERE priority = 10 AND status = 'pending'")
    assert high_left > 200, "the LOW job only ran once the flood was over"
    with db.read() as tx:  # from the worker's first claim, so a slow process start does not count
        first, low_started = (
            tx.dt(value)
            for value in tx.one(
                "SELECT MIN(started_at), (SELECT started_at FROM jobs WHERE id = :id) FROM jobs", {"id": low}
            )
            or ()
        )
    assert (low_started - first).total_seconds() < 3 * 1 + 1  # three aging periods, plus a maintenance round
    before = scalar(
        db,
        "SELECT COUNT(*) FROM jobs WHERE priority = 10 AND started_at < (SELECT started_at FROM jobs WHERE id = :id)",
        {"id": low},
    )
    assert before > 0  # strict priority while it was young: HIGH work went first
    assert scalar(db, "SELECT claim_priority FROM jobs WHERE id = :id", {"id": low}) >= Priority.HIGH
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0

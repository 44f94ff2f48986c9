"""A shop with something in every state, for the fuzzer to find: orders (one with its invoice), jobs
waiting, scheduled, running, completed, retried, cancelled and dead, dead letters, a sales report.

The ids are handed to the fuzzer so that part of its requests name things that exist; random ids
alone would only ever meet 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.queue.store import Kind
from shared.shop import reports
from tests.support.operator import add_job, dead_letter, finish, run, take
from tests.support.processes import run_worker_burst
from tests.support.queue import execute, place_orders

PRODUCTS = ("prod-1", "prod-2", "prod-3")
SCHEDULES = ("daily_sales_report", "cleanup_completed_jobs")


@dataclass(frozen=True)
class KnownIds:
    """What exists, by the name of the path parameter that names it."""

    orders: tuple[str, ...]
    jobs: tuple[str, ...]
    dead_letters: tuple[str, ...]
    job_types: tuple[str, ...]
    report_day: date

    def for_parameter(self, name: str) -> tuple[str, ...]:
        return {
            "product_id": PRODUCTS,
            "order_id": self.orders,
            "job_id": self.jobs,
            "dead_id": self.dead_letters,
            "job_type": self.job_types,
            "schedule_id": SCHEDULES,
            "day": (self.report_day.isoformat(),),
        }[name]


def stock_a_busy_shop(db: Database, settings: Settings, job_types: tuple[str, ...]) -> KnownIds:
    orders = place_orders(settings, 3)
    # A real worker runs the orders' pipelines (confirmation, invoice, inventory; the follow-up stays
    # scheduled for tomorrow), so one order has an invoice to download.
    burst = run_worker_burst(settings, SIMULATED_FAILURE_RATE="0")
    assert burst.returncode == 0, burst.stderr
    # Enough stock that generated orders for known products can succeed, many times over.
    execute(db, "UPDATE products SET stock = 1000000000")

    # One due job at a time, so each claim takes the job just added.
    running = add_job(db, "sync_inventory", {"orderId": orders[0]})
    take(db)
    retried = add_job(db)
    finish(db, take(db), Kind.FAILED, "smtp timeout")  # back to pending, due in a minute
    cancelled = run(db, Kind.CANCELLED)
    completed = run(db, Kind.COMPLETED)
    letters = tuple(dead_letter(db, f"provider refused ({n})") for n in range(3))
    waiting = add_job(db)
    scheduled = add_job(db, delay=3600)
    with db.read() as tx:
        dead_jobs = tuple(str(row[0]) for row in tx.all("SELECT original_job_id FROM dead_letter_jobs"))
    with db.write() as tx:
        reports.save(tx, reports.compute(tx, utcnow().date(), utcnow()))
    return KnownIds(
        orders=tuple(orders),
        jobs=(waiting, scheduled, running, retried, cancelled, completed, *dead_jobs),
        dead_letters=letters,
        job_types=job_types,
        report_day=utcnow().date(),
    )

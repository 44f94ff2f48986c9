"""The overview, the queues, the schedules and an order's workflow."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from api.dashboard.auth import require_session
from api.dashboard.chart import throughput_chart
from api.dashboard.forms import JOB_STATES
from api.dashboard.present import pipeline_steps, type_table
from api.dashboard.rendering import render
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database, Tx
from shared.queue import cron, queries
from shared.queue.registry import JobTypes
from shared.shop import orders
from shared.shop.errors import NotFoundError
from shared.shop.invoices import invoice_path, invoice_url

CHART_MINUTES = 60


class PagesController(Controller):
    guards = [require_session]  # noqa: RUF012 - Litestar's layer attribute

    @get("/")
    async def overview(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> Template:
        """Depth, rates, throughput over the last hour, and the live workers with what they run."""
        now = utcnow()

        def read(tx: Tx) -> tuple[queries.QueueStats, list[Any]]:
            return queries.queue_stats(tx, now, settings.heartbeat_seconds), queries.throughput(tx, now, CHART_MINUTES)

        stats, points = await db.run_read(read)
        context = {
            "stats": stats,
            "chart": throughput_chart(points),
            "by_type": type_table(stats.by_type),
            "states": JOB_STATES,
            "now": now,
        }
        return render(request, "overview", "Overview", context)

    @get("/ui/queues")
    async def queues(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], job_types: NamedDependency[JobTypes]
    ) -> Template:
        """Every job type with its waiting and running jobs, paused or not."""
        now = utcnow()
        summaries = await db.run_read(lambda tx: queries.type_summaries(tx, job_types.names(), now))
        return render(request, "queues", "Queues", {"queues": summaries, "now": now})

    @get("/ui/schedules")
    async def schedules(self, request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Template:
        """Recurring jobs: their timetable, next and last run, and the job the last run enqueued."""
        found = await db.run_read(cron.schedules)
        return render(request, "schedules", "Schedules", {"schedules": found})

    @get("/ui/orders/{order_id:str}")
    async def order(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        order_id: FromPath[str],
    ) -> Template:
        """An order's pipeline: each step under its parent, its state, and where it stopped."""
        now = utcnow()
        try:
            details = await db.run_read(lambda tx: orders.get_order(tx, order_id))
        except NotFoundError as exc:
            raise NotFoundException(exc.message) from exc
        has_invoice = invoice_path(settings.resolved_data_dir(), order_id).is_file()
        context = {
            "order": details.order,
            "steps": pipeline_steps(details.pipeline),
            "progress": orders.progress(details.pipeline, now),
            "invoice_url": invoice_url(order_id) if has_invoice else None,
            "now": now,
        }
        return render(request, "order", f"Order {order_id[:8]}", context)

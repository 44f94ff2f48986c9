"""GET /admin/queue/stats and GET /admin/queue/throughput."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.controllers.admin.base import AdminController, admin_errors
from shared.admin import stats
from shared.admin.stats import QueueStatsView, ThroughputView
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database

Minutes = Annotated[int, Parameter(ge=1, le=24 * 60, description="How many minutes back, the current one included")]


class QueueStatsController(AdminController):
    path = "/admin/queue"
    tags = ("admin: queue",)

    @get("/stats", operation_id="GetQueueStats", summary="Queue statistics", responses=admin_errors())
    async def get_stats(self, db: NamedDependency[Database], settings: NamedDependency[Settings]) -> QueueStatsView:
        """Jobs by state (due now apart from scheduled for later), unreviewed dead letters, counts by type and
        status, processing and failure rates over the last five minutes, paused types and live workers."""
        now = utcnow()
        return await db.run_read(lambda tx: stats.queue_stats(tx, now, settings.heartbeat_seconds))

    @get("/throughput", operation_id="GetThroughput", summary="Jobs per minute", responses=admin_errors(400))
    async def get_throughput(self, db: NamedDependency[Database], minutes: Minutes = 60) -> ThroughputView:
        """Completed jobs and failed attempts in each of the last minutes (the last hour by default)."""
        now = utcnow()
        return await db.run_read(lambda tx: stats.throughput(tx, now, minutes))

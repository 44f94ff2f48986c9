"""The admin API (design.md §3): every route behind `admin_guard` (api/security.py)."""

from __future__ import annotations

from litestar import Controller

from api.controllers.admin.dead_letters import DeadLetterController
from api.controllers.admin.jobs import JobsController
from api.controllers.admin.queues import QueuesController
from api.controllers.admin.reports import ReportsController
from api.controllers.admin.schedules import SchedulesController
from api.controllers.admin.stats import QueueStatsController

ADMIN_CONTROLLERS: list[type[Controller]] = [
    QueueStatsController,
    JobsController,
    DeadLetterController,
    QueuesController,
    SchedulesController,
    ReportsController,
]

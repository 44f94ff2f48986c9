"""GET /admin/reports/daily/{date}."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.controllers.admin.base import AdminController, admin_errors
from api.schemas import INVALID_REQUEST
from shared.admin import reports
from shared.admin.reports import DailyReportView
from shared.db import Database
from shared.errors import FieldError
from shared.shop.errors import InvalidRequestError

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # date.fromisoformat alone would also take 20261128
Day = Annotated[str, PathParameter(format="date", description="A UTC day, `YYYY-MM-DD`")]


class ReportsController(AdminController):
    path = "/admin/reports"
    tags = ("admin: reports",)

    @get(
        "/daily/{day:str}",
        operation_id="GetDailyReport",
        summary="A day's sales report",
        responses=admin_errors(400, 404),
    )
    async def get_daily_report(self, db: NamedDependency[Database], day: Day) -> DailyReportView:
        """The sales report of a UTC day (`YYYY-MM-DD`); 404 until the daily_sales_report job has written it."""
        when = _day(day)
        return await db.run_read(lambda tx: reports.daily_report(tx, when))


def _day(text: str) -> date:
    try:
        if ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidRequestError(INVALID_REQUEST, [FieldError("date", "expected a date as YYYY-MM-DD")])

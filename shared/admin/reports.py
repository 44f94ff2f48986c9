"""The daily sales report as operators read it."""

from __future__ import annotations

from datetime import date

from shared.admin.common import View
from shared.clock import to_api
from shared.db import Tx
from shared.shop import reports


class TopProductView(View):
    product_id: str
    name: str
    units: int
    revenue: float


class DailyReportView(View):
    date: str
    order_count: int
    revenue: float
    units_sold: int
    top_products: list[TopProductView]
    generated_at: str


def daily_report(tx: Tx, day: date) -> DailyReportView:
    """The saved report of a UTC day (NotFoundError until the daily_sales_report job has written it)."""
    report = reports.get_report(tx, day)
    return DailyReportView(
        date=report.date.isoformat(),
        order_count=report.order_count,
        revenue=float(report.revenue),
        units_sold=report.units_sold,
        top_products=[
            TopProductView(product_id=t.product_id, name=t.name, units=t.units, revenue=float(t.revenue))
            for t in report.top_products
        ],
        generated_at=to_api(report.generated_at) or "",
    )

"""The daily sales report: one UTC day's orders, revenue, units and top products, kept per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from shared.db import Tx
from shared.money import line_amount, money, total
from shared.shop.errors import NotFoundError

TOP = 5
UPSERT = (
    "INSERT INTO sales_reports (date, order_count, revenue, units_sold, top_products, generated_at) "
    "VALUES (:date, :orders, :revenue, :units, :top, :now) "
    "ON CONFLICT (date) DO UPDATE SET order_count = excluded.order_count, revenue = excluded.revenue, "
    "units_sold = excluded.units_sold, top_products = excluded.top_products, generated_at = excluded.generated_at"
)


@dataclass(frozen=True)
class TopProduct:
    product_id: str
    name: str
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class DailyReport:
    date: date
    order_count: int
    revenue: Decimal
    units_sold: int
    top_products: list[TopProduct]
    generated_at: datetime


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), UTC)
    return start, start + timedelta(days=1)


def compute(tx: Tx, day: date, now: datetime) -> DailyReport:
    """Read the day's orders; amounts are summed exactly (Decimal), never in floating point."""
    start, end = day_bounds(day)
    bounds = {"start": tx.ts(start), "end": tx.ts(end)}
    totals = [
        money(row[0])
        for row in tx.all("SELECT total FROM orders WHERE created_at >= :start AND created_at < :end", bounds)
    ]
    lines = tx.all(
        "SELECT i.product_id, p.name, i.quantity, i.price FROM order_items i "
        "JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id "
        "WHERE o.created_at >= :start AND o.created_at < :end",
        bounds,
    )
    per_product: dict[str, tuple[str, int, Decimal]] = {}
    for product_id, name, quantity, price in lines:
        _, units, revenue = per_product.get(product_id, (name, 0, Decimal(0)))
        per_product[product_id] = (name, units + int(quantity), revenue + line_amount(money(price), int(quantity)))
    ranked = sorted(per_product.items(), key=lambda item: (-item[1][1], -item[1][2], item[0]))
    return DailyReport(
        date=day,
        order_count=len(totals),
        revenue=total(totals),
        units_sold=sum(units for _, units, _ in per_product.values()),
        top_products=[TopProduct(pid, name, units, revenue) for pid, (name, units, revenue) in ranked[:TOP]],
        generated_at=now,
    )


def save(tx: Tx, report: DailyReport) -> None:
    """Write the day's report, replacing an earlier run for the same day (never a second row)."""
    top = [
        {"productId": t.product_id, "name": t.name, "units": t.units, "revenue": f"{t.revenue:.2f}"}
        for t in report.top_products
    ]
    tx.execute(
        UPSERT,
        {
            "date": report.date.isoformat(),
            "orders": report.order_count,
            "revenue": tx.money(report.revenue),
            "units": report.units_sold,
            "top": msgspec.json.encode(top).decode(),
            "now": tx.ts(report.generated_at),
        },
    )


def get_report(tx: Tx, day: date) -> DailyReport:
    row = tx.one(
        "SELECT order_count, revenue, units_sold, top_products, generated_at FROM sales_reports WHERE date = :date",
        {"date": day.isoformat()},
    )
    if row is None:
        raise NotFoundError(f"no sales report for {day.isoformat()} yet")
    top: list[dict[str, Any]] = msgspec.json.decode(row[3])
    return DailyReport(
        date=day,
        order_count=int(row[0]),
        revenue=money(row[1]),
        units_sold=int(row[2]),
        top_products=[TopProduct(t["productId"], t["name"], int(t["units"]), money(t["revenue"])) for t in top],
        generated_at=tx.dt(row[4]),
    )

"""Shop tables, as the seed lesson defines them (names, types, defaults and CHECKs kept)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

from shared.db.base import metadata
from shared.db.types import Money, UtcText, utc_now

products = Table(
    "products",
    metadata,
    Column("id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("price", Money, nullable=False),
    Column("stock", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    PrimaryKeyConstraint("id"),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("total", Money, nullable=False),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    PrimaryKeyConstraint("id"),
)
# A day's orders, for the daily sales report (revision 0006).
Index("idx_orders_created", orders.c.created_at)

order_items = Table(
    "order_items",
    metadata,
    Column("order_id", Text, nullable=False),
    Column("product_id", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Money, nullable=False),
    PrimaryKeyConstraint("order_id", "product_id"),
    ForeignKeyConstraint(["order_id"], ["orders.id"]),
    ForeignKeyConstraint(["product_id"], ["products.id"]),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

# The first answer to a request sent with an `Idempotency-Key`, replayed on retries; while that
# request runs, its claim on the key (revision 0009).
idempotent_requests = Table(
    "idempotent_requests",
    metadata,
    Column("key", Text, nullable=False),
    Column("scope", Text, nullable=False),  # e.g. "POST /orders"
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer, nullable=True),  # NULL while the first request is in flight
    Column("response_body", Text, nullable=True),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    Column("locked_by", Text, nullable=True),  # the in-flight request's claim, cleared with its answer
    Column("locked_at", UtcText, nullable=True),
    PrimaryKeyConstraint("key", "scope"),
    CheckConstraint(
        "(status_code IS NOT NULL AND response_body IS NOT NULL AND locked_by IS NULL AND locked_at IS NULL) OR "
        "(status_code IS NULL AND response_body IS NULL AND locked_by IS NOT NULL AND locked_at IS NOT NULL)",
        name="answered_or_in_flight",
    ),
)

# One row per UTC day, replaced when the day's report runs again (revision 0006).
sales_reports = Table(
    "sales_reports",
    metadata,
    Column("date", Text, nullable=False),  # YYYY-MM-DD
    Column("order_count", Integer, nullable=False),
    Column("revenue", Money, nullable=False),
    Column("units_sold", Integer, nullable=False),
    Column("top_products", Text, nullable=False),  # JSON: [{"productId", "name", "units", "revenue"}]
    Column("generated_at", UtcText, nullable=False),
    PrimaryKeyConstraint("date"),
)

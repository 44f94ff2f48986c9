"""Shop tables, as the seed lesson defines them (names, types, defaults and CHECKs kept)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
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

# The first response to a request sent with an `Idempotency-Key`, replayed on retries.
idempotent_requests = Table(
    "idempotent_requests",
    metadata,
    Column("key", Text, nullable=False),
    Column("scope", Text, nullable=False),  # e.g. "POST /orders"
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", UtcText, nullable=False, server_default=utc_now()),
    PrimaryKeyConstraint("key", "scope"),
)

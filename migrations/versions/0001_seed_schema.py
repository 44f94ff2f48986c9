"""The seed lesson's schema: products, orders, order_items, jobs, its two indexes and three products.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.types import Money, UtcText, utc_now

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRODUCTS = [
    {"id": "prod-1", "name": "Mechanical Keyboard", "price": 89.99, "stock": 50},
    {"id": "prod-2", "name": "USB-C Hub", "price": 34.99, "stock": 100},
    {"id": "prod-3", "name": "Monitor Stand", "price": 49.99, "stock": 25},
]


def upgrade() -> None:
    products = op.create_table(
        "products",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("stock", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_products_price_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("created_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_table(
        "order_items",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_items_order_id_orders")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_order_items_product_id_products")),
        sa.PrimaryKeyConstraint("order_id", "product_id", name=op.f("pk_order_items")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("scheduled_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("created_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("updated_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("completed_at", UtcText(), nullable=True),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_at", UtcText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("idx_jobs_status_scheduled", "jobs", ["status", "scheduled_at"])
    op.create_index("idx_jobs_type", "jobs", ["type"])
    op.bulk_insert(products, PRODUCTS)


def downgrade() -> None:
    op.drop_index("idx_jobs_type", table_name="jobs")
    op.drop_index("idx_jobs_status_scheduled", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("order_items")
    op.drop_table("orders")
    op.drop_table("products")

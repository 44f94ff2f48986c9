"""Shop tables, as the seed lesson defines them (names, types, defaults and CHECKs kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import REAL, CheckConstraint, ForeignKey, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcText

SQLITE_NOW = text("(datetime('now'))")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    price: Mapped[float] = mapped_column(REAL)
    stock: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    total: Mapped[float] = mapped_column(REAL)
    created_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_id: Mapped[str] = mapped_column(Text, ForeignKey("orders.id"), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[float] = mapped_column(REAL)


class IdempotentRequest(Base):
    """The first response to a request sent with an `Idempotency-Key`, replayed on retries."""

    __tablename__ = "idempotent_requests"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    scope: Mapped[str] = mapped_column(Text, primary_key=True)  # e.g. "POST /orders"
    request_hash: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcText, server_default=SQLITE_NOW)

"""The SQL of orders: taking stock, writing an order with its items, reading one back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.db import Tx
from shared.errors import FieldError
from shared.money import line_amount, money
from shared.shop.errors import InsufficientStockError

TAKE_STOCK = "UPDATE products SET stock = stock - :quantity WHERE id = :id AND stock >= :quantity RETURNING price"
INSERT_ORDER = "INSERT INTO orders (id, user_id, status, total, created_at) VALUES (:id, :user, :status, :total, :now)"
INSERT_ITEM = (
    "INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (:order_id, :product_id, :quantity, :price)"
)


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return line_amount(self.unit_price, self.quantity)


@dataclass(frozen=True)
class Order:
    id: str
    user_id: str
    status: str
    total: Decimal
    created_at: datetime
    items: list[OrderItem]


def take_stock(tx: Tx, lines: list[OrderLine]) -> dict[str, Decimal]:
    """Decrement stock for every line, only where enough is left; return each product's price.

    Raising rolls the caller's unit back, so on a shortage nothing is decremented.
    """
    prices: dict[str, Decimal] = {}
    short: list[tuple[int, OrderLine, int]] = []
    for index, line in enumerate(lines):
        price = tx.scalar(TAKE_STOCK, {"id": line.product_id, "quantity": line.quantity})
        if price is None:
            stock = tx.scalar("SELECT stock FROM products WHERE id = :id", {"id": line.product_id})
            short.append((index, line, int(stock)))
        else:
            prices[line.product_id] = money(price)
    raise_if_short(short)
    return prices


def raise_if_short(short: list[tuple[int, OrderLine, int]]) -> None:
    if short:
        raise InsufficientStockError(
            "not enough stock",
            [FieldError(f"items[{i}].quantity", f"only {stock} left of {line.product_id}") for i, line, stock in short],
        )


def insert_order(tx: Tx, order: Order) -> None:
    tx.execute(
        INSERT_ORDER,
        {
            "id": order.id,
            "user": order.user_id,
            "status": order.status,
            "total": tx.money(order.total),
            "now": tx.ts(order.created_at),
        },
    )
    tx.executemany(
        INSERT_ITEM,
        [
            {
                "order_id": order.id,
                "product_id": item.product_id,
                "quantity": item.quantity,
                "price": tx.money(item.unit_price),
            }
            for item in order.items
        ],
    )


def load_order(tx: Tx, order_id: str) -> Order | None:
    row = tx.one("SELECT id, user_id, status, total, created_at FROM orders WHERE id = :id", {"id": order_id})
    if row is None:
        return None
    items = [
        OrderItem(product_id, int(quantity), money(price))
        for product_id, quantity, price in tx.all(
            "SELECT product_id, quantity, price FROM order_items WHERE order_id = :id ORDER BY product_id",
            {"id": order_id},
        )
    ]
    return Order(row[0], row[1], row[2], money(row[3]), tx.dt(row[4]), items)


def product_names(tx: Tx, product_ids: list[str]) -> dict[str, str]:
    rows = tx.all(
        f"SELECT id, name FROM products WHERE id IN (SELECT value FROM {tx.list_table('ids')})",
        {"ids": tx.list_param(product_ids)},
    )
    return dict(rows)

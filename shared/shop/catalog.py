"""Reading products."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.db import Tx
from shared.money import money
from shared.shop.errors import NotFoundError

COLUMNS = "id, name, price, stock, created_at"


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: Decimal
    stock: int
    created_at: datetime


def _product(tx: Tx, row: tuple[Any, ...]) -> Product:
    return Product(row[0], row[1], money(row[2]), int(row[3]), tx.dt(row[4]))


def list_products(tx: Tx) -> list[Product]:
    return [_product(tx, row) for row in tx.all(f"SELECT {COLUMNS} FROM products ORDER BY id")]


def get_product(tx: Tx, product_id: str) -> Product:
    row = tx.one(f"SELECT {COLUMNS} FROM products WHERE id = :id", {"id": product_id})
    if row is None:
        raise NotFoundError(f"product {product_id!r} not found")
    return _product(tx, row)


def products_by_id(tx: Tx, ids: list[str]) -> dict[str, Product]:
    rows = tx.all(
        f"SELECT {COLUMNS} FROM products WHERE id IN (SELECT value FROM {tx.list_table('ids')})",
        {"ids": tx.list_param(ids)},
    )
    return {row[0]: _product(tx, row) for row in rows}

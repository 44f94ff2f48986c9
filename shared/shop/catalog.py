"""Reading products."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.shop.errors import NotFoundError
from shared.shop.models import Product


def list_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.id)))


def get_product(session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFoundError(f"product {product_id!r} not found")
    return product

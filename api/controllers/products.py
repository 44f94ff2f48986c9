"""GET /products and GET /products/{id}."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.errors import error_responses
from shared.db import Database
from shared.shop import catalog
from shared.shop.views import ProductView, product_view


class ProductController(Controller):
    path = "/products"
    tags = ("products",)

    @get(operation_id="ListProducts", summary="List products", sync_to_thread=True)
    def list_products(self, db: NamedDependency[Database]) -> list[ProductView]:
        """Every product with its current price and stock."""
        with db.read() as session:
            return [product_view(product) for product in catalog.list_products(session)]

    @get(
        "/{product_id:str}",
        operation_id="GetProduct",
        summary="Get a product",
        sync_to_thread=True,
        responses=error_responses(404),
    )
    def get_product(self, db: NamedDependency[Database], product_id: FromPath[str]) -> ProductView:
        """One product by id."""
        with db.read() as session:
            return product_view(catalog.get_product(session, product_id))

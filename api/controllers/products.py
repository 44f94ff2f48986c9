"""GET /products and GET /products/{id}."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.errors import error_responses
from api.schemas import PathId
from api.views import ProductView, product_view
from shared.db import Database
from shared.shop import catalog


class ProductController(Controller):
    path = "/products"
    tags = ("products",)

    @get(operation_id="ListProducts", summary="List products", responses=error_responses())
    async def list_products(self, db: NamedDependency[Database]) -> list[ProductView]:
        """Every product with its current price and stock."""
        return [product_view(p) for p in await db.run_read(catalog.list_products)]

    @get("/{product_id:str}", operation_id="GetProduct", summary="Get a product", responses=error_responses(400, 404))
    async def get_product(self, db: NamedDependency[Database], product_id: PathId) -> ProductView:
        """One product by id."""
        return product_view(await db.run_read(lambda tx: catalog.get_product(tx, product_id)))

"""GET /products and GET /products/{id}."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.api.helpers import assert_error


def test_lists_the_seeded_products_in_camel_case(client: TestClient[Litestar]) -> None:
    response = client.get("/products")

    assert response.status_code == 200
    products = response.json()
    assert [p["id"] for p in products] == ["prod-1", "prod-2", "prod-3"]
    assert set(products[0]) == {"id", "name", "price", "stock", "createdAt"}
    assert products[0] | {"createdAt": None} == {
        "id": "prod-1",
        "name": "Mechanical Keyboard",
        "price": 89.99,
        "stock": 50,
        "createdAt": None,
    }
    assert products[0]["createdAt"].endswith("Z")


def test_gets_one_product(client: TestClient[Litestar]) -> None:
    response = client.get("/products/prod-2")

    assert response.status_code == 200
    assert response.json()["name"] == "USB-C Hub"
    assert response.json()["stock"] == 100


def test_unknown_product_is_404_in_the_error_envelope(client: TestClient[Litestar]) -> None:
    error = assert_error(client.get("/products/prod-404"), 404, "NOT_FOUND")

    assert "prod-404" in error["message"]

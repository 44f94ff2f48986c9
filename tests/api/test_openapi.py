"""The OpenAPI document at /schema describes every public operation and the error envelope."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient


def test_openapi_document(client: TestClient[Litestar]) -> None:
    response = client.get("/schema/openapi.json")

    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    operations = {
        operation["operationId"]: operation for path in document["paths"].values() for operation in path.values()
    }
    assert set(operations) == {"ListProducts", "GetProduct", "PlaceOrder", "GetOrder", "GetOrderInvoice"}
    assert "/health" not in document["paths"]

    place = operations["PlaceOrder"]
    assert place["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CreateOrder"}
    assert {"201", "400", "402", "404", "409", "413", "422"} <= set(place["responses"])
    assert place["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in place["parameters"])
    create_order = document["components"]["schemas"]["CreateOrder"]
    assert set(create_order["properties"]) == {"userId", "items", "paymentToken"}

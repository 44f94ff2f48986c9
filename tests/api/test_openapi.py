"""The OpenAPI document at /schema describes every public operation and the error envelope."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
SHOP_OPERATIONS = {"ListProducts", "GetProduct", "PlaceOrder", "GetOrder", "GetOrderInvoice"}


def document(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def test_openapi_document(client: TestClient[Litestar]) -> None:
    doc = document(client)
    operations = {operation["operationId"]: operation for path in doc["paths"].values() for operation in path.values()}
    shop = {
        op["operationId"] for path, ops in doc["paths"].items() if not path.startswith("/admin/") for op in ops.values()
    }
    assert shop == SHOP_OPERATIONS
    assert "/health" not in doc["paths"]

    place = operations["PlaceOrder"]
    assert place["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CreateOrder"}
    assert {"201", "400", "402", "404", "409", "413", "422", "503"} <= set(place["responses"])
    assert place["responses"]["503"]["content"]["application/json"]["schema"] == ERROR_BODY
    assert place["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderView"
    }
    assert place["responses"]["400"]["content"]["application/json"]["schema"] == ERROR_BODY
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in place["parameters"])
    create_order = doc["components"]["schemas"]["CreateOrder"]
    assert set(create_order["properties"]) == {"userId", "items", "paymentToken"}


def documented_handlers(app: Litestar) -> list[tuple[HTTPRoute, HTTPRouteHandler, str]]:
    """(route, handler, method) of every route the document must show: all but /schema itself and
    handlers kept out of it on purpose (/health, the dashboard's pages)."""
    found: list[tuple[HTTPRoute, HTTPRouteHandler, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                found.extend((route, handler, method) for method in sorted(handler.http_methods))
    return found


def test_every_route_is_documented(client: TestClient[Litestar]) -> None:
    doc = document(client)
    handlers = documented_handlers(client.app)
    walked = {(route.path_format, method.lower()) for route, _, method in handlers}
    assert walked == {(path, method) for path, operations in doc["paths"].items() for method in operations}
    operation_ids = set()

    for route, handler, method in handlers:
        where = f"{method} {route.path_format}"
        operation = doc["paths"][route.path_format][method.lower()]
        operation_ids.add(operation["operationId"])
        responses = operation["responses"]

        successes = {status: r for status, r in responses.items() if status.startswith("2")}
        assert successes, where
        for response in successes.values():
            [(media_type, content)] = response["content"].items()
            if media_type == "application/json":
                assert content["schema"].get("$ref") or content["schema"].get("type"), where
            else:
                assert handler.media_type == media_type, where

        body = operation.get("requestBody")
        if body is not None:
            assert body["content"]["application/json"]["schema"]["$ref"], where
        # Any request may be refused before its handler: a NUL character, malformed HTTP (400), header
        # fields over the limit (431).
        expected = {"400", "431"}
        if body is not None:
            expected.add("413")
        if "{" in route.path_format:
            expected.add("404")
        if route.path.startswith("/admin/"):
            expected.add("401")
            assert operation["security"] == [{"BearerToken": []}], where
        else:
            assert "security" not in operation, where
        errors = {status: r for status, r in responses.items() if status[0] in "45"}
        assert expected <= set(errors), where
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ERROR_BODY, f"{where} {status}"

    assert len(operation_ids) == len(handlers)  # unique


def test_admin_bodies_are_camel_case(client: TestClient[Litestar]) -> None:
    schemas = document(client)["components"]["schemas"]

    assert set(schemas["NewJob"]["properties"]) == {
        "type",
        "payload",
        "priority",
        "scheduledAt",
        "delaySeconds",
        "maxAttempts",
        "idempotencyKey",
    }
    assert set(schemas["DeadLetterSelection"]["properties"]) == {"type", "error", "failedFrom", "failedTo", "limit"}
    assert set(schemas["QueueStatsView"]["properties"]) == {
        "queue",
        "deadLetterQueue",
        "byType",
        "rates",
        "pausedTypes",
        "workers",
    }


def test_bodies_are_documented_as_msgspec_decodes_them(client: TestClient[Litestar]) -> None:
    """Found by the fuzzer: the document let through what the API refuses (unknown fields; `priority`
    lost its minimum of 0, Litestar drops a falsy constraint of an optional field)."""
    doc = document(client)
    schemas = doc["components"]["schemas"]
    bodies = ("CreateOrder", "OrderLineIn", "NewJob", "DeadLetterSelection", "BulkDiscard", "Review", "Discard")
    for name in (*bodies, "Pause", "ScheduleChange"):
        assert schemas[name]["additionalProperties"] is False, name
    priority = schemas["NewJob"]["properties"]["priority"]
    assert priority == {"anyOf": [{"type": "integer", "maximum": 100, "minimum": 0}, {"type": "null"}]}
    assert schemas["NewJob"]["properties"]["delaySeconds"]["anyOf"][0]["minimum"] == 0
    report = doc["paths"]["/admin/reports/daily/{day}"]["get"]
    assert report["parameters"][0]["schema"]["format"] == "date"
    listing = {p["name"]: p["schema"] for p in doc["paths"]["/admin/jobs"]["get"]["parameters"]}
    assert listing["createdFrom"]["format"] == "date-time"
    assert listing["type"]["maxLength"] == 100

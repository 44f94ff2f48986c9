"""POST /orders refuses malformed requests with 400 VALIDATION_ERROR, field details, and no writes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state

GOOD_LINE = {"productId": "prod-1", "quantity": 1}


def order(**changes: Any) -> bytes:
    body: dict[str, Any] = {"userId": "u1", "items": [GOOD_LINE], **changes}
    return msgspec.json.encode(body)


def line(**changes: Any) -> bytes:
    return order(items=[{**GOOD_LINE, **changes}])


def without(field: str) -> bytes:
    body: dict[str, Any] = {"userId": "u1", "items": [GOOD_LINE]}
    del body[field]
    return msgspec.json.encode(body)


CASES = [
    pytest.param(b'{"userId": "u1", "items": [', "body", id="malformed-json"),
    pytest.param(b"", "body", id="empty-body"),
    pytest.param(b"[]", "body", id="not-an-object"),
    pytest.param(without("userId"), "userId", id="missing-user"),
    pytest.param(order(userId=""), "userId", id="empty-user"),
    pytest.param(order(userId="u" * 101), "userId", id="long-user"),
    pytest.param(order(userId=7), "userId", id="numeric-user"),
    pytest.param(without("items"), "items", id="missing-items"),
    pytest.param(order(items=[]), "items", id="empty-items"),
    pytest.param(
        order(items=[{"productId": f"p{i}", "quantity": 1} for i in range(101)]), "items", id="too-many-items"
    ),
    pytest.param(order(items=[1]), "items[0]", id="item-not-an-object"),
    pytest.param(line(quantity=0), "items[0].quantity", id="zero-quantity"),
    pytest.param(line(quantity=-2), "items[0].quantity", id="negative-quantity"),
    pytest.param(line(quantity=1.5), "items[0].quantity", id="fractional-quantity"),
    pytest.param(line(quantity=2.0**60), "items[0].quantity", id="float-past-exact-integers"),
    pytest.param(line(quantity="2"), "items[0].quantity", id="string-quantity"),
    pytest.param(line(quantity=True), "items[0].quantity", id="boolean-quantity"),
    pytest.param(line(quantity=None), "items[0].quantity", id="null-quantity"),
    pytest.param(line(quantity=10**30), "items[0].quantity", id="huge-quantity"),
    pytest.param(order(items=[{"productId": "prod-1"}]), "items[0].quantity", id="missing-quantity"),
    pytest.param(line(productId=""), "items[0].productId", id="empty-product"),
    pytest.param(order(items=[{"quantity": 1}]), "items[0].productId", id="missing-product"),
    pytest.param(order(coupon="FREE"), "coupon", id="unknown-field"),
    pytest.param(line(colour="red"), "items[0].colour", id="unknown-item-field"),
    pytest.param(
        order(items=[GOOD_LINE, {"productId": "prod-2", "quantity": 1}, GOOD_LINE]),
        "items[2].productId",
        id="duplicate-product",
    ),
    pytest.param(order(paymentToken=42), "paymentToken", id="numeric-token"),
]


@pytest.mark.parametrize(("body", "field"), CASES)
def test_invalid_order_is_400_with_field_details(
    client: TestClient[Litestar], db: Database, settings: Settings, body: bytes, field: str
) -> None:
    before = shop_state(db, settings)

    response = client.post("/orders", content=body, headers={"Content-Type": "application/json"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == [field], error
    assert all(set(detail) == {"field", "message"} and detail["message"] for detail in error["details"])
    assert "Traceback" not in response.text
    assert shop_state(db, settings) == before


def test_malformed_json_says_so(client: TestClient[Litestar]) -> None:
    response = client.post("/orders", content=b"{not json", headers={"Content-Type": "application/json"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "not valid JSON" in error["message"]


def test_a_whole_number_with_a_fraction_is_that_integer(client: TestClient[Litestar]) -> None:
    """JSON has one number type; JSON Schema calls 2.0 an integer, so the document promises it works."""
    response = client.post("/orders", content=b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 2.0}]}')

    assert response.status_code == 201, response.text
    assert response.json()["items"][0]["quantity"] == 2


def test_unknown_field_is_named(client: TestClient[Litestar]) -> None:
    error = assert_error(client.post("/orders", content=order(coupon="FREE")), 400, "VALIDATION_ERROR")

    assert "coupon" in error["details"][0]["message"]


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "too-long"])
def test_bad_idempotency_key_is_400(client: TestClient[Litestar], db: Database, settings: Settings, key: str) -> None:
    before = shop_state(db, settings)

    response = client.post("/orders", content=order(), headers={"Idempotency-Key": key})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == ["Idempotency-Key"]
    assert shop_state(db, settings) == before

"""POST /orders refusals after validation: unknown product, short stock, declined card. Nothing is written."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state


def test_unknown_product_is_404_naming_the_item(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    before = shop_state(db, settings)

    response = client.post(
        "/orders",
        json={
            "userId": "u1",
            "items": [{"productId": "prod-1", "quantity": 1}, {"productId": "prod-999", "quantity": 1}],
        },
    )

    error = assert_error(response, 404, "NOT_FOUND")
    assert [d["field"] for d in error["details"]] == ["items[1].productId"]
    assert shop_state(db, settings) == before


def test_short_stock_on_one_item_is_409_and_takes_nothing(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    before = shop_state(db, settings)

    response = client.post(
        "/orders",
        json={
            "userId": "u1",
            "items": [{"productId": "prod-1", "quantity": 5}, {"productId": "prod-3", "quantity": 26}],
        },  # 25 in stock
    )

    error = assert_error(response, 409, "INSUFFICIENT_STOCK")
    assert [d["field"] for d in error["details"]] == ["items[1].quantity"]
    assert "25" in error["details"][0]["message"]
    assert shop_state(db, settings) == before  # prod-1 was not decremented either


def test_exactly_the_remaining_stock_can_be_bought(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    response = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-3", "quantity": 25}]})

    assert response.status_code == 201, response.text
    assert shop_state(db, settings)["stock"]["prod-3"] == 0
    assert_error(
        client.post("/orders", json={"userId": "u2", "items": [{"productId": "prod-3", "quantity": 1}]}),
        409,
        "INSUFFICIENT_STOCK",
    )


def test_declined_card_is_402_and_saves_nothing(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    before = shop_state(db, settings)

    response = client.post(
        "/orders",
        json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}], "paymentToken": "tok_declined"},
    )

    assert_error(response, 402, "PAYMENT_DECLINED")
    after = shop_state(db, settings)
    assert after == before
    assert after["provider_deliveries"] == 0  # no charge recorded

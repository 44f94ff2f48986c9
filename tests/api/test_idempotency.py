"""POST /orders with an Idempotency-Key: a retry replays the first response and creates nothing."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state

BODY = b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 2}]}'


def test_repeat_returns_the_first_response_byte_for_byte(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    first = client.post("/orders", content=BODY, headers={"Idempotency-Key": "order-abc"})
    after_first = shop_state(db, settings)

    repeat = client.post("/orders", content=BODY, headers={"Idempotency-Key": "order-abc"})

    assert first.status_code == repeat.status_code == 201
    assert repeat.content == first.content
    assert repeat.headers["content-type"] == "application/json"
    assert repeat.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert shop_state(db, settings) == after_first
    assert after_first["orders"] == 1
    assert after_first["jobs"] == 2
    assert after_first["stock"]["prod-1"] == 48


def test_same_request_spelled_differently_is_a_repeat(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    first = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k1"})
    respelled = b'{"items":[{"quantity":2,"productId":"prod-1"}],"userId":"u1","paymentToken":null}'

    repeat = client.post("/orders", content=respelled, headers={"Idempotency-Key": "k1"})

    assert repeat.status_code == 201
    assert repeat.content == first.content
    assert shop_state(db, settings)["orders"] == 1


def test_same_key_with_another_body_is_422(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    client.post("/orders", content=BODY, headers={"Idempotency-Key": "k1"})
    before = shop_state(db, settings)

    response = client.post(
        "/orders",
        content=b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 3}]}',
        headers={"Idempotency-Key": "k1"},
    )

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert shop_state(db, settings) == before


def test_different_keys_are_different_orders(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    first = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k1"})
    second = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k2"})

    assert first.json()["id"] != second.json()["id"]
    assert shop_state(db, settings)["orders"] == 2


def test_without_a_key_every_request_is_new(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    client.post("/orders", content=BODY)
    client.post("/orders", content=BODY)

    state = shop_state(db, settings)
    assert state["orders"] == 2
    assert state["idempotent_requests"] == 0

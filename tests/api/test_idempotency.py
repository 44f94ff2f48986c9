"""POST /orders with an Idempotency-Key: a retry replays the first answer (the order, or its refusal)
and creates nothing; a request with the key of one still in flight is refused with 409."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.controllers.orders import PLACE_ORDER_SCOPE
from api.idempotency import IN_FLIGHT_EXPIRY, request_hash
from api.schemas import CreateOrder, decode_strict
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state
from tests.support.queue import delivered, execute, query

BODY = b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 2}]}'
DECLINED = b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}], "paymentToken": "tok_declined"}'
TOO_MANY = b'{"userId": "u1", "items": [{"productId": "prod-3", "quantity": 26}]}'  # 25 in stock


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


def test_a_declined_card_is_replayed(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    first = client.post("/orders", content=DECLINED, headers={"Idempotency-Key": "k-declined"})
    after_first = shop_state(db, settings)

    repeat = client.post("/orders", content=DECLINED, headers={"Idempotency-Key": "k-declined"})

    assert_error(first, 402, "PAYMENT_DECLINED")
    assert repeat.status_code == 402
    assert repeat.content == first.content
    assert repeat.headers["idempotent-replayed"] == "true"
    assert shop_state(db, settings) == after_first
    assert after_first["orders"] == 0
    assert after_first["idempotent_requests"] == 1


def test_short_stock_is_replayed_even_once_the_stock_is_back(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    first = client.post("/orders", content=TOO_MANY, headers={"Idempotency-Key": "k-short"})
    execute(db, "UPDATE products SET stock = 100 WHERE id = 'prod-3'")

    repeat = client.post("/orders", content=TOO_MANY, headers={"Idempotency-Key": "k-short"})

    assert_error(first, 409, "INSUFFICIENT_STOCK")
    assert (repeat.status_code, repeat.content) == (409, first.content)
    assert repeat.headers["idempotent-replayed"] == "true"
    state = shop_state(db, settings)
    assert (state["orders"], state["stock"]["prod-3"]) == (0, 100)
    # A new key is a new attempt, and now there is stock.
    assert client.post("/orders", content=TOO_MANY, headers={"Idempotency-Key": "k-short-2"}).status_code == 201


def test_requests_refused_as_invalid_leave_the_key_free(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    unknown = b'{"userId": "u1", "items": [{"productId": "prod-999", "quantity": 1}]}'
    twice = (
        b'{"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}, {"productId": "prod-1", "quantity": 1}]}'
    )

    assert_error(client.post("/orders", content=unknown, headers={"Idempotency-Key": "k-fix"}), 404, "NOT_FOUND")
    assert_error(client.post("/orders", content=twice, headers={"Idempotency-Key": "k-fix"}), 400, "VALIDATION_ERROR")
    assert query(db, "SELECT key FROM idempotent_requests") == []

    corrected = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k-fix"})

    assert corrected.status_code == 201, corrected.text
    assert shop_state(db, settings)["orders"] == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_unknown_product_with_a_key_commits_nothing(client: TestClient[Litestar], settings: Settings) -> None:
    """Refused before the key is claimed, not claimed and released: no transaction commits at all.
    (SQLite's data_version, read on a connection of our own, moves with any other connection's commit.)"""
    unknown = b'{"userId": "u1", "items": [{"productId": "prod-999", "quantity": 1}]}'
    watcher = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()
        assert_error(client.post("/orders", content=unknown, headers={"Idempotency-Key": "k-x"}), 404, "NOT_FOUND")
        assert watcher.execute("PRAGMA data_version").fetchone() == before
    finally:
        watcher.close()


def claim(db: Database, key: str, body: bytes, age: timedelta) -> None:
    """The row a request with this key and body leaves while it runs, claimed `age` ago."""
    at = utcnow() - age
    with db.write() as tx:
        tx.execute(
            "INSERT INTO idempotent_requests (key, scope, request_hash, created_at, locked_by, locked_at) "
            "VALUES (:key, :scope, :hash, :at, 'another-request', :at)",
            {
                "key": key,
                "scope": PLACE_ORDER_SCOPE,
                "hash": request_hash(decode_strict(body, CreateOrder)),
                "at": tx.ts(at),
            },
        )


def test_a_request_whose_key_is_in_flight_is_refused_and_runs_nothing(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    claim(db, "k-busy", BODY, timedelta(seconds=1))
    before = shop_state(db, settings)

    response = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k-busy"})

    assert_error(response, 409, "IDEMPOTENCY_REQUEST_IN_FLIGHT")
    assert response.headers["retry-after"] == "1"
    assert shop_state(db, settings) == before
    assert before["provider_deliveries"] == 0  # no payment was even asked for
    # Another body with a key in use is still the client's mistake, not a wait.
    other = b'{"userId": "u2", "items": [{"productId": "prod-1", "quantity": 1}]}'
    assert_error(
        client.post("/orders", content=other, headers={"Idempotency-Key": "k-busy"}), 422, "IDEMPOTENCY_KEY_REUSED"
    )


def test_a_claim_whose_request_died_is_taken_over_once_it_expires(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    claim(db, "k-dead", BODY, IN_FLIGHT_EXPIRY + timedelta(seconds=1))

    response = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k-dead"})
    repeat = client.post("/orders", content=BODY, headers={"Idempotency-Key": "k-dead"})

    assert response.status_code == 201, response.text
    assert (repeat.status_code, repeat.content) == (201, response.content)
    rows = query(db, "SELECT status_code, locked_by, locked_at FROM idempotent_requests WHERE key = 'k-dead'")
    assert rows == [(201, None, None)]
    assert [key for _, key, _, _ in delivered(settings, "payment")] == [f"charge:{response.json()['id']}"]

"""Helpers of the API tests: read and change the test's database, check the error envelope."""

from __future__ import annotations

from typing import Any

import httpx

from shared.config import Settings
from shared.db import Database
from tests.support.queue import delivered

COUNTED_TABLES = ("orders", "order_items", "jobs", "idempotent_requests")
LIMIT = 64 * 1024  # MAX_BODY_BYTES by default


def shop_state(db: Database, settings: Settings) -> dict[str, Any]:
    """Row counts of every table an order writes, each product's stock, and the provider's deliveries."""
    with db.read() as tx:
        state: dict[str, Any] = {table: tx.scalar(f"SELECT COUNT(*) FROM {table}") for table in COUNTED_TABLES}
        state["stock"] = dict(tx.all("SELECT id, stock FROM products ORDER BY id"))
    state["provider_deliveries"] = len(delivered(settings))
    return state


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the error envelope with this status and code; return its `error` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    return error


def oversized_order(size: int) -> bytes:
    """A well-formed order whose body is `size` bytes long (the padding is in the user id)."""
    head, tail = b'{"userId": "', b'", "items": [{"productId": "prod-1", "quantity": 1}]}'
    return head + b"u" * (size - len(head) - len(tail)) + tail

"""Helpers of the API tests: read and change the test's SQLite file, check the error envelope."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

COUNTED_TABLES = ("orders", "order_items", "jobs", "provider_deliveries", "idempotent_requests")
LIMIT = 64 * 1024  # MAX_BODY_BYTES by default


def shop_state(db_path: Path) -> dict[str, Any]:
    """Row counts of every table an order writes, and each product's stock."""
    with closing(sqlite3.connect(db_path)) as conn:
        state: dict[str, Any] = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES
        }
        state["stock"] = dict(conn.execute("SELECT id, stock FROM products ORDER BY id").fetchall())
    return state


def execute(db_path: Path, sql: str, *params: Any) -> None:
    """Change the test's database directly, as an operator with sqlite3 would."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(sql, params)


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

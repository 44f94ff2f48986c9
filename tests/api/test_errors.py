"""Every error leaves in the envelope: unknown routes, wrong methods, oversized bodies, crashes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from shared.config import Settings
from shared.db import Database
from tests.api.helpers import LIMIT, assert_error, oversized_order, shop_state
from tests.support.queue import execute


def test_unknown_route_is_404(client: TestClient[Litestar]) -> None:
    error = assert_error(client.get("/no/such/route"), 404, "NOT_FOUND")

    assert "/no/such/route" in error["message"]


def test_wrong_method_is_405(client: TestClient[Litestar]) -> None:
    response = client.delete("/products")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


def test_body_over_the_limit_is_413(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    assert settings.max_body_bytes == LIMIT
    before = shop_state(db, settings)

    response = client.post("/orders", content=oversized_order(LIMIT + 1), headers={"Content-Type": "application/json"})

    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert str(LIMIT) in error["message"]
    assert shop_state(db, settings) == before


def test_chunked_body_over_the_limit_is_413(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    """Without a Content-Length the limit is enforced on the bytes actually received."""
    before = shop_state(db, settings)
    body = oversized_order(LIMIT + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post("/orders", content=chunks(), headers={"Content-Type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert shop_state(db, settings) == before


def test_body_at_the_limit_is_accepted(client: TestClient[Litestar]) -> None:
    # The padding makes the user id too long, so the request gets past the size check to validation.
    response = client.post("/orders", content=oversized_order(LIMIT), headers={"Content-Type": "application/json"})

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["userId"]


@pytest.fixture
def broken_client(settings: Settings, db: Database) -> Iterator[TestClient[Litestar]]:
    """The app on a database whose products table was taken away behind its back."""
    execute(db, "ALTER TABLE products RENAME TO products_gone")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_unexpected_failure_is_500_without_internals(broken_client: TestClient[Litestar]) -> None:
    response = broken_client.get("/products")

    error = assert_error(response, 500, "INTERNAL")
    assert error["details"] == []
    for leak in ("Traceback", "OperationalError", "no such table", "products", "sqlite", "SELECT"):
        assert leak not in response.text

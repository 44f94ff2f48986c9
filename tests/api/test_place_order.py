"""POST /orders, the accepted path: one transaction writes the order, its items, the charge and two jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.db import Database
from shared.money import money
from tests.api.helpers import shop_state
from tests.support.queue import delivered, execute, query

ORDER_KEYS = {"id", "userId", "status", "total", "items", "createdAt", "pipeline", "progress", "invoiceUrl"}


def test_places_an_order_at_current_prices(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    # Prices are read at order time, and the total is summed in decimal: 3 x 0.10 is 0.30, not
    # 0.30000000000000004, and the client cannot send a total or a price at all.
    execute(db, "UPDATE products SET price = 0.1 WHERE id = 'prod-1'")
    before = shop_state(db, settings)

    response = client.post(
        "/orders",
        json={
            "userId": "user-7",
            "items": [{"productId": "prod-1", "quantity": 3}, {"productId": "prod-2", "quantity": 2}],
        },
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["userId"] == "user-7"
    assert order["status"] == "paid"
    assert order["total"] == 70.28  # 3 x 0.10 + 2 x 34.99
    assert order["items"] == [
        {"productId": "prod-1", "quantity": 3, "price": 0.1},
        {"productId": "prod-2", "quantity": 2, "price": 34.99},
    ]
    assert order["invoiceUrl"] is None
    assert order["createdAt"].endswith("Z")
    assert [job["type"] for job in order["pipeline"]] == ["send_order_confirmation", "send_followup_email"]

    after = shop_state(db, settings)
    assert after["stock"] == before["stock"] | {"prod-1": 47, "prod-2": 98}
    assert after["orders"] == before["orders"] + 1
    assert after["order_items"] == before["order_items"] + 2
    assert after["jobs"] == before["jobs"] + 2
    assert after["provider_deliveries"] == before["provider_deliveries"] + 1


def test_saves_the_order_and_its_two_jobs(client: TestClient[Litestar], db: Database, settings: Settings) -> None:
    placed_at = datetime.now(UTC)
    order = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-3", "quantity": 1}]}).json()

    saved = query(db, "SELECT user_id, status, total, created_at FROM orders WHERE id = :id", {"id": order["id"]})[0]
    items = query(db, "SELECT product_id, quantity, price FROM order_items WHERE order_id = :id", {"id": order["id"]})
    with db.read() as tx:
        jobs = [
            (*row[:5], tx.dt(row[5]), tx.dt(row[6]))
            for row in tx.all(
                "SELECT type, priority, status, attempts, payload, scheduled_at, created_at FROM jobs ORDER BY seq"
            )
        ]
    charge = [(provider, key) for provider, key, _, _ in delivered(settings)]

    assert (*saved[:2], money(saved[2])) == ("u1", "paid", Decimal("49.99"))
    assert [(p, q, money(price)) for p, q, price in items] == [("prod-3", 1, Decimal("49.99"))]
    assert charge == [("payment", f"charge:{order['id']}")]
    assert [(t, p, s, a) for t, p, s, a, *_ in jobs] == [
        ("send_order_confirmation", 10, "pending", 0),
        ("send_followup_email", 0, "pending", 0),
    ]
    for job in jobs:
        assert msgspec.json.decode(job[4]) == {"orderId": order["id"]}
    confirmation_at, followup_at = (job[5] for job in jobs)
    created_at = jobs[1][6]
    assert abs(confirmation_at - placed_at) < timedelta(minutes=1)
    assert followup_at - created_at == timedelta(hours=24)


def test_reads_an_order_back_with_its_pipeline(client: TestClient[Litestar]) -> None:
    placed = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 2}]})

    response = client.get(f"/orders/{placed.json()['id']}")

    assert response.status_code == 200
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["id"] == placed.json()["id"]
    assert order["total"] == 179.98
    assert order["items"] == [{"productId": "prod-1", "quantity": 2, "price": 89.99}]
    pipeline = {job["type"]: job for job in order["pipeline"]}
    assert set(pipeline) == {"send_order_confirmation", "send_followup_email"}
    confirmation = pipeline["send_order_confirmation"]
    assert set(confirmation) == {
        "id",
        "parentId",
        "type",
        "status",
        "priority",
        "attempts",
        "maxAttempts",
        "lastError",
        "scheduledAt",
        "createdAt",
        "updatedAt",
        "completedAt",
    }
    assert confirmation["status"] == "pending"
    assert confirmation["priority"] == 10
    assert confirmation["attempts"] == 0
    assert confirmation["lastError"] is None
    assert pipeline["send_followup_email"]["priority"] == 0

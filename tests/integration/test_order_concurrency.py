"""Concurrent orders for the last units of stock, through the real server (`python -m api`).

Fifty clients race for a product with 20 units left while the simulated payment keeps its real
200 ms latency, so requests overlap across the read, the payment wait and the write transaction.
Exactly the stock is sold, never more, and each refused request leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from shared.config import Settings
from shared.db import Database
from tests.support.processes import running_api
from tests.support.queue import delivered, execute, query, scalar

CLIENTS = 50
STOCK = 20
PRODUCT = "prod-3"


def effective_charges(settings: Settings) -> list[str]:
    """Orders whose payment authorisation stands: charged and not voided."""
    keys = [key for _, key, _, _ in delivered(settings, "payment")]
    voided = {key.removeprefix("void:") for key in keys if key.startswith("void:")}
    return sorted(
        key.removeprefix("charge:")
        for key in keys
        if key.startswith("charge:") and key.removeprefix("charge:") not in voided
    )


def test_concurrent_orders_sell_exactly_the_stock(db: Database, settings: Settings, tmp_path: Path) -> None:
    execute(db, "UPDATE products SET stock = :stock WHERE id = :id", {"stock": STOCK, "id": PRODUCT})
    start = threading.Barrier(CLIENTS)

    with (
        running_api(settings, tmp_path, SIMULATED_LATENCY_SCALE="1") as api,
        httpx.Client(base_url=api.base_url, timeout=60, limits=httpx.Limits(max_connections=CLIENTS)) as client,
    ):

        def place(n: int) -> httpx.Response:
            start.wait()  # release every request at once
            return client.post(
                "/orders", json={"userId": f"user-{n}", "items": [{"productId": PRODUCT, "quantity": 1}]}
            )

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            responses = list(pool.map(place, range(CLIENTS)))
        log = api.log()

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [(r.status_code, r.text) for r in responses if r.status_code not in (201, 409)]
    accepted = [r.json() for r in responses if r.status_code == 201]
    assert sum(item["quantity"] for order in accepted for item in order["items"]) == STOCK
    assert statuses[409] == CLIENTS - STOCK
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert "database is locked" not in log
    assert all("database is locked" not in r.text for r in responses)

    accepted_ids = {order["id"] for order in accepted}
    stock = scalar(db, "SELECT stock FROM products WHERE id = :id", {"id": PRODUCT})
    order_ids = {row[0] for row in query(db, "SELECT id FROM orders")}
    sold = scalar(db, "SELECT SUM(quantity) FROM order_items WHERE product_id = :id", {"id": PRODUCT})
    jobs = query(db, "SELECT workflow_id, type FROM jobs")

    assert stock == 0
    assert sold == STOCK
    assert order_ids == accepted_ids
    assert effective_charges(settings) == sorted(accepted_ids)
    assert len(jobs) == 2 * len(accepted)
    jobs_by_order: dict[str, list[str]] = {}
    for order_id, job_type in jobs:
        jobs_by_order.setdefault(order_id, []).append(job_type)
    assert {order_id: sorted(types) for order_id, types in jobs_by_order.items()} == {
        order_id: ["send_followup_email", "send_order_confirmation"] for order_id in accepted_ids
    }


def test_concurrent_retries_with_one_idempotency_key_make_one_order(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Retries that overlap (a client timing out and retrying) run once: the others are told the
    first is in flight (or, arriving after it answered, get its answer), and exactly one order exists."""
    retries = 10
    start = threading.Barrier(retries)
    body = {"userId": "user-1", "items": [{"productId": PRODUCT, "quantity": 2}]}

    with (
        running_api(settings, tmp_path, SIMULATED_LATENCY_SCALE="1") as api,
        httpx.Client(base_url=api.base_url, timeout=60) as client,
    ):

        def place(_: int) -> httpx.Response:
            start.wait()
            return client.post("/orders", json=body, headers={"Idempotency-Key": "checkout-42"})

        with ThreadPoolExecutor(max_workers=retries) as pool:
            responses = list(pool.map(place, range(retries)))
        later = client.post("/orders", json=body, headers={"Idempotency-Key": "checkout-42"})

    created = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(created) == 1, [(r.status_code, r.text) for r in responses]
    for other in responses:
        if other is not created[0]:
            assert other.status_code in (201, 409), other.text
            if other.status_code == 409:
                assert other.json()["error"]["code"] == "IDEMPOTENCY_REQUEST_IN_FLIGHT"
            else:
                assert other.content == created[0].content
    assert (later.status_code, later.content, later.headers["idempotent-replayed"]) == (201, created[0].content, "true")
    counts = [scalar(db, f"SELECT COUNT(*) FROM {table}") for table in ("orders", "jobs", "idempotent_requests")]
    stock = scalar(db, "SELECT stock FROM products WHERE id = :id", {"id": PRODUCT})
    assert counts == [1, 2, 1]
    assert effective_charges(settings) == [created[0].json()["id"]]
    assert stock == 25 - 2

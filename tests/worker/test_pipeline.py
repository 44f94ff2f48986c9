"""200 orders through the real API, a fleet of workers (3 on SQLite, 6 on PostgreSQL), 30 % of
provider calls failing: every completed step delivered exactly once, and a step that spent its
attempts sits in the DLQ with no children."""

from __future__ import annotations

import json
import random
import signal
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.config import Settings
from shared.db import Database
from tests.support.processes import running_api
from tests.support.queue import delivered, query, scalar, set_stock, unfinished, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

ORDERS = 200
STEP_DELIVERIES = {
    "send_order_confirmation": ("email", "order-confirmation:{order}"),
    "generate_invoice": ("pdf", "invoice:{order}"),
}


def post_order(base_url: str, items: list[dict[str, object]], user: str) -> str:
    body = json.dumps({"userId": user, "items": items}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only
        base_url + "/orders", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201
        order_id: str = json.load(response)["id"]
        return order_id


def test_pipelines_under_failures_deliver_every_completed_step_exactly_once(
    db: Database, settings: Settings, tmp_path: Path, workers: WorkerFactory, fleet: list[str]
) -> None:
    set_stock(db, 10_000)
    env = {
        "SIMULATED_FAILURE_RATE": "0.3",
        "RETRY_BASE_SECONDS": "0.05",
        "RETRY_MAX_SECONDS": "0.5",
        "SIMULATED_LATENCY_SCALE": "0.01",
    }
    running = [workers(name, **env) for name in fleet]
    rng = random.Random(2026)
    carts = [
        [
            {"productId": p, "quantity": rng.randint(1, 3)}
            for p in rng.sample(["prod-1", "prod-2", "prod-3"], rng.randint(1, 3))
        ]
        for _ in range(ORDERS)
    ]
    with running_api(settings, tmp_path, SIMULATED_LATENCY_SCALE="0") as api, ThreadPoolExecutor(8) as pool:
        orders = list(pool.map(lambda i: post_order(api.base_url, carts[i], f"user-{i}"), range(ORDERS)))
        wait_until(lambda: unfinished(db) == 0, timeout=240, what="every pipeline to settle")
        api_log = api.log()

    for service in running:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in running] == [0] * len(fleet)
    assert_no_lock_errors(running)
    assert "database is locked" not in api_log

    deliveries = [(provider, key) for provider, key, _, _ in delivered(settings)]
    # Each (provider, key) is one row; a repeated call would only count in repeat_calls. No step
    # that completed was delivered twice, and a repeat happened only after a lost reply.
    delivered_keys = set(deliveries)
    jobs = query(db, "SELECT workflow_id, type, status FROM jobs")
    by_order: dict[str, dict[str, str]] = {}
    for order, job_type, status in jobs:
        by_order.setdefault(order, {})[job_type] = status
    dead = {
        (row[0], row[1])
        for row in query(
            db,
            "SELECT jobs.workflow_id, dead_letter_jobs.type FROM dead_letter_jobs "
            "JOIN jobs ON jobs.id = dead_letter_jobs.original_job_id",
        )
    }

    retried = int(scalar(db, "SELECT COUNT(*) FROM jobs WHERE attempts > 1"))
    assert retried > 0  # failures really happened and were retried
    for order, cart in zip(orders, carts, strict=True):
        steps = by_order[order]
        assert ("payment", f"charge:{order}") in delivered_keys
        assert steps["send_followup_email"] == "pending"  # 24 h later
        confirmation = steps["send_order_confirmation"]
        if confirmation == "failed":
            assert (order, "send_order_confirmation") in dead
            assert "generate_invoice" not in steps  # children never started
            assert "sync_inventory" not in steps
            continue
        assert confirmation == "completed"
        assert set(steps) == {"send_order_confirmation", "send_followup_email", "generate_invoice", "sync_inventory"}
        for job_type, (provider, key) in STEP_DELIVERIES.items():
            if steps[job_type] == "completed":
                assert (provider, key.format(order=order)) in delivered_keys
            else:
                assert steps[job_type] == "failed"
                assert (order, job_type) in dead
        if steps["sync_inventory"] == "completed":
            for item in cart:
                assert ("inventory", f"inventory:{order}:{item['productId']}") in delivered_keys
        else:
            assert (order, "sync_inventory") in dead
    # Every delivery belongs to a step of a known order: nothing stray.
    known = set(orders)
    assert all(key.split(":")[1] in known for _provider, key in deliveries)
    completed_steps = scalar(
        db,
        "SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND type != 'send_followup_email'",
    )
    assert scalar(db, "SELECT COUNT(*) FROM processed_jobs") == completed_steps
    # A provider was called again for a key only when a reply was lost: every repeat belongs to a
    # step whose job was retried.
    retried_steps = {row[0] for row in query(db, "SELECT id FROM jobs WHERE attempts > 1")}
    assert all(job_id in retried_steps for _, _, job_id, repeats in delivered(settings) if repeats and job_id)

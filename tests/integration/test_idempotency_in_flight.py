"""An Idempotency-Key while its first request is still running, through the real server
(`python -m api`) with the simulated payment's latency stretched, so the request is caught mid-way:
a second request with the key is refused with 409 instead of running again, a retry after the
answer replays it, and a payment authorised for an order that can no longer be filled is voided."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.config import Settings
from shared.db import Database
from tests.support.processes import running_api
from tests.support.queue import delivered, execute, query, scalar, wait_until

# The payment takes 200 ms at scale 1: 2 s here, ample time to act while a request waits on it.
SLOW_PAYMENT = "10"
BODY = {"userId": "user-1", "items": [{"productId": "prod-3", "quantity": 5}]}


def held(db: Database, key: str) -> bool:
    """The key is claimed by a request that has not answered yet."""
    rows = query(db, "SELECT locked_by FROM idempotent_requests WHERE key = :key", {"key": key})
    return bool(rows) and rows[0][0] is not None


@contextmanager
def slow_shop(settings: Settings, tmp_path: Path) -> Iterator[tuple[httpx.Client, ThreadPoolExecutor]]:
    """The real server with a slow payment processor, a client, and a thread to send from meanwhile."""
    with (
        running_api(settings, tmp_path, SIMULATED_LATENCY_SCALE=SLOW_PAYMENT) as api,
        httpx.Client(base_url=api.base_url, timeout=30) as client,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        yield client, background


def post(client: httpx.Client, key: str) -> httpx.Response:
    return client.post("/orders", json=BODY, headers={"Idempotency-Key": key})


def test_a_second_request_while_the_first_runs_gets_409_and_a_retry_the_first_answer(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with slow_shop(settings, tmp_path) as (client, background):
        first: Future[httpx.Response] = background.submit(post, client, "checkout-7")
        wait_until(lambda: held(db, "checkout-7"), timeout=10, what="the first request to claim its key")

        second = post(client, "checkout-7")
        created = first.result(timeout=30)
        retry = post(client, "checkout-7")

    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "IDEMPOTENCY_REQUEST_IN_FLIGHT"
    assert second.headers["retry-after"] == "1"
    assert created.status_code == 201, created.text
    assert "idempotent-replayed" not in created.headers
    assert (retry.status_code, retry.content, retry.headers["idempotent-replayed"]) == (201, created.content, "true")
    assert scalar(db, "SELECT COUNT(*) FROM orders") == 1
    assert scalar(db, "SELECT stock FROM products WHERE id = 'prod-3'") == 25 - 5
    # One authorisation: the refused request never reached the payment processor.
    assert [key for _, key, _, _ in delivered(settings, "payment")] == [f"charge:{created.json()['id']}"]


def test_stock_gone_while_the_payment_was_authorised_voids_it_and_the_refusal_is_kept(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with slow_shop(settings, tmp_path) as (client, background):
        first: Future[httpx.Response] = background.submit(post, client, "checkout-8")
        wait_until(lambda: held(db, "checkout-8"), timeout=10, what="the first request to claim its key")
        # The quote (one read) follows the claim at once, then the payment takes 2 s: halfway through,
        # the last units go elsewhere.
        time.sleep(1.0)
        execute(db, "UPDATE products SET stock = 0 WHERE id = 'prod-3'")
        refused = first.result(timeout=30)
        retry = post(client, "checkout-8")

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert (retry.status_code, retry.content, retry.headers["idempotent-replayed"]) == (409, refused.content, "true")
    assert scalar(db, "SELECT COUNT(*) FROM orders") == 0
    assert scalar(db, "SELECT stock FROM products WHERE id = 'prod-3'") == 0
    payments = sorted(key for _, key, _, _ in delivered(settings, "payment"))
    assert len(payments) == 2, payments
    charge, void = payments
    assert charge.startswith("charge:")
    assert void == "void:" + charge.removeprefix("charge:")
    assert payment_payload(settings, charge) == {"amount": "249.95", "token": None}  # 5 x 49.99
    assert payment_payload(settings, void) == {"voids": charge}


def payment_payload(settings: Settings, key: str) -> object:
    providers = Database(settings.resolved_providers_url())
    try:
        payload = scalar(
            providers,
            "SELECT payload FROM provider_deliveries WHERE provider = 'payment' AND idempotency_key = :key",
            {"key": key},
        )
    finally:
        providers.dispose()
    return json.loads(payload)


def test_a_request_that_lost_its_claim_saves_nothing_and_voids_its_payment(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """A claim taken over (its request seemed dead) fences the old request out: its order is rolled
    back and its authorisation voided, so the key still stands for at most one order."""
    with slow_shop(settings, tmp_path) as (client, background):
        first: Future[httpx.Response] = background.submit(post, client, "checkout-9")
        wait_until(lambda: held(db, "checkout-9"), timeout=10, what="the first request to claim its key")
        execute(db, "UPDATE idempotent_requests SET locked_by = 'a-later-request' WHERE key = 'checkout-9'")
        fenced = first.result(timeout=30)

    assert fenced.status_code == 409, fenced.text
    assert fenced.json()["error"]["code"] == "IDEMPOTENCY_REQUEST_IN_FLIGHT"
    assert scalar(db, "SELECT COUNT(*) FROM orders") == 0
    assert scalar(db, "SELECT stock FROM products WHERE id = 'prod-3'") == 25
    assert query(db, "SELECT locked_by, status_code FROM idempotent_requests") == [("a-later-request", None)]
    charge, void = sorted(key for _, key, _, _ in delivered(settings, "payment"))
    assert void == "void:" + charge.removeprefix("charge:")

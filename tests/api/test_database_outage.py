"""The database busy past BUSY_TIMEOUT_MS (an outside transaction holds the write lock) or its disk
full: POST /orders answers 503 in the error envelope with Retry-After, saves nothing, logs one
warning per refused request naming the cause (never a traceback, never "database is locked"), and the client's retry
with the same Idempotency-Key places exactly one order once the database is back.

Found by the chaos soak (tests/soak): both used to be 500 INTERNAL with a logged traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state
from tests.support.chaos import SmallDisk
from tests.support.processes import Service, running_api
from tests.support.queue import delivered

ORDER = {"userId": "u-outage", "items": [{"productId": "prod-1", "quantity": 1}]}


@pytest.fixture
def backend() -> str:
    """SQLite's write lock and a file on a full disk: this module runs on SQLite only."""
    return "sqlite"


def post_order(api: Service, key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return httpx.post(api.base_url + "/orders", json=ORDER, headers=headers, timeout=30)


def refused_twice(api: Service) -> list[httpx.Response]:
    """During the outage: an order with a key (refused at its first write, the key's claim, before
    the card is charged) and one without (charged, refused when the order is saved, then voided)."""
    return [post_order(api, "outage-1"), post_order(api, None)]


def outage_lines(api: Service) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("level") in ("warning", "error")]


def assert_refused_then_placed_once(
    api: Service, refusals: list[httpx.Response], db: Database, settings: Settings
) -> None:
    for refused in refusals:
        error = assert_error(refused, 503, "SERVICE_UNAVAILABLE")
        assert error["message"] == "the database is busy or out of space; retry shortly"
        assert refused.headers["retry-after"] == "1"
        assert "locked" not in refused.text
    retried = post_order(api, "outage-1")
    assert retried.status_code == 201, retried.text
    assert post_order(api, "outage-1").json()["id"] == retried.json()["id"]  # a replay, not a second order
    with db.read() as tx:
        assert tx.all("SELECT id FROM orders WHERE user_id = 'u-outage'") == [(retried.json()["id"],)]
    # The keyless attempt's card authorisation was voided: one charge stands, for the order placed.
    payments = sorted(key.split(":")[0] for provider, key, _, _ in delivered(settings) if provider == "payment")
    assert payments == ["charge", "charge", "void"]


def test_an_outside_transaction_past_the_busy_timeout_is_503_and_the_retry_places_one_order(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    path = settings.database_url.removeprefix("sqlite:///")
    with running_api(settings, tmp_path, BUSY_TIMEOUT_MS="300") as api:
        before = shop_state(db, settings)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # a maintenance script, or a sqlite3 shell left in a transaction
        try:
            refused = refused_twice(api)
            assert shop_state(db, settings) | {"provider_deliveries": 0} == before | {"provider_deliveries": 0}
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert_refused_then_placed_once(api, refused, db, settings)
        log = api.log()
    assert [(line["event"], line["error"]) for line in outage_lines(api)] == 2 * [
        (
            "database unavailable",
            "WriteLockTimeoutError: no write lock within BUSY_TIMEOUT_MS (300 ms): another connection kept it",
        )
    ]
    assert "database is locked" not in log
    assert "Traceback" not in log


@pytest.fixture
def small_disk(tmp_path: Path, migrated_template: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "disk", size_mb=4)
    disk.mount()
    shutil.copy(migrated_template, disk.path / "shop.db")
    try:
        yield disk
    finally:
        disk.unmount()


def test_a_full_disk_is_503_and_the_retry_places_one_order(small_disk: SmallDisk, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{small_disk.path / 'shop.db'}",
        data_dir=str(small_disk.path),
        providers_database_url=f"sqlite:///{tmp_path / 'providers.db'}",  # the providers are elsewhere
    )
    db = Database(settings.database_url)
    try:
        with running_api(settings, tmp_path) as api:
            before = shop_state(db, settings)
            with small_disk.full():
                refused = refused_twice(api)
                assert shop_state(db, settings) | {"provider_deliveries": 0} == before | {"provider_deliveries": 0}
            assert_refused_then_placed_once(api, refused, db, settings)
            log = api.log()
    finally:
        db.dispose()
    assert [line["event"] for line in outage_lines(api)] == 2 * ["database unavailable"]
    assert {line["error"] for line in outage_lines(api)} <= {
        "OperationalError: database or disk is full",
        "OperationalError: disk I/O error",
    }
    assert "Traceback" not in log

"""The compose bundle end to end: build, migrate once, serve through 127.0.0.1, keep data across down/up."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests.e2e.bundle import Bundle
from tests.e2e.shop import alembic_head, assert_database_sound, assert_migrated_once

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SERVICES = ("migrate", "api", "worker")
UPGRADE_LOGGED = "Running upgrade"  # alembic's INFO line per revision applied


def order_row(bundle: Bundle, order_id: str) -> list[list[Any]]:
    return bundle.sql("SELECT id, user_id, total FROM orders WHERE id = ?", [order_id])


def test_bundle_migrates_serves_and_keeps_data_across_down_and_up(bundle: Bundle) -> None:
    bundle.up(*SERVICES, build=True)
    assert_migrated_once(bundle)
    first_migration = bundle.logs("migrate")
    assert f"{UPGRADE_LOGGED}  -> 0001" in first_migration, first_migration  # the log would show upgrades
    assert f"-> {alembic_head()}" in first_migration, first_migration
    running = {c["Service"]: c for c in bundle.ps() if c["State"] == "running"}
    assert set(running) == {"api", "worker"}, bundle.ps()
    assert all(c["Health"] == "healthy" for c in running.values()), running

    health = bundle.wait_http_ok("/health")
    assert health.json()["status"] == "ok"

    assert_database_sound(bundle)
    assert bundle.scalar("PRAGMA journal_mode") == "wal"
    assert bundle.exec("api", "id", "-u").strip() == "10001"

    stock_before = bundle.scalar("SELECT stock FROM products WHERE id = 'prod-2'")
    key = f"e2e-{secrets.token_hex(8)}"
    placed = bundle.post_order([{"productId": "prod-2", "quantity": 2}], idempotency_key=key)
    assert placed.status == 201, placed.body
    order = placed.json()
    assert order_row(bundle, order["id"]) == [[order["id"], "e2e-user", order["total"]]]
    # The operator's CLI is on the image's PATH and reads the same database.
    stats = json.loads(bundle.exec("api", "shopqueue", "stats", "--json"))
    assert sum(entry["count"] for entry in stats["byType"]) >= 2  # the order's confirmation and follow-up

    # `down` without -v: containers go, the volume and everything in it stays.
    bundle.down()
    assert bundle.ps() == []
    bundle.up(*SERVICES)
    assert_migrated_once(bundle)  # a fresh migrate container
    second_migration = bundle.logs("migrate")
    assert "Context impl SQLiteImpl" in second_migration, second_migration  # alembic ran and logged...
    assert UPGRADE_LOGGED not in second_migration, second_migration  # ...but applied nothing

    fetched = bundle.get_json(f"/orders/{order['id']}")
    assert {k: fetched[k] for k in ("id", "userId", "total", "items")} == {
        k: order[k] for k in ("id", "userId", "total", "items")
    }
    replay = bundle.post_order([{"productId": "prod-2", "quantity": 2}], idempotency_key=key)
    assert (replay.status, replay.json()["id"]) == (201, order["id"])
    assert bundle.scalar("SELECT count(*) FROM orders") == 1
    assert bundle.scalar("SELECT stock FROM products WHERE id = 'prod-2'") == stock_before - 2
    assert_database_sound(bundle)

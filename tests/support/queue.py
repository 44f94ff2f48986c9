"""Helpers for tests that watch the queue from outside the processes, through the project's own
database layer (portable SQL with `:name` parameters), so they run on any backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.services.providers import Providers
from shared.services.simulation import Simulator
from shared.services.store import deliveries, ensure_schema
from shared.shop.order_store import OrderLine
from shared.shop.orders import Placed, PlaceOrder, place_order


def query(db: Database, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with db.read() as tx:
        return tx.all(sql, params)


def scalar(db: Database, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    with db.read() as tx:
        return tx.scalar(sql, params)


def execute(db: Database, sql: str, params: Mapping[str, Any] | None = None) -> None:
    """Change the test's database directly, as an operator with a SQL shell would."""
    with db.write() as tx:
        tx.execute(sql, params)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def place_orders(settings: Settings, count: int, lines: Sequence[tuple[str, int]] = (("prod-2", 1),)) -> list[str]:
    """Place orders through the real service (no payment latency), returning their ids."""
    fast = Settings(
        database_url=settings.database_url,
        providers_database_url=settings.resolved_providers_url(),
        simulated_latency_scale=0,
    )

    async def place_all() -> list[str]:
        db = Database(fast.database_url)
        providers_db = Database(fast.providers_database_url)
        providers = Providers(providers_db, Simulator(fast), utcnow)
        try:
            ids = []
            for i in range(count):
                placed: Placed[None] = await place_order(
                    db, providers, PlaceOrder(f"user-{i}", [OrderLine(p, q) for p, q in lines]), clock=utcnow
                )
                assert placed.order is not None
                ids.append(placed.order.order.id)
            return ids
        finally:
            db.dispose()
            providers_db.dispose()

    return asyncio.run(place_all())


def set_stock(db: Database, stock: int) -> None:
    execute(db, "UPDATE products SET stock = :stock", {"stock": stock})


def unfinished(db: Database, *, ignore_types: Sequence[str] = ("send_followup_email",)) -> int:
    with db.read() as tx:
        return int(
            tx.scalar(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'processing') "
                f"AND type NOT IN (SELECT value FROM {tx.list_table('ignored')})",
                {"ignored": tx.list_param(list(ignore_types))},
            )
        )


def delivered(settings: Settings, provider: str | None = None) -> list[tuple[str, str, str | None, int]]:
    """What the simulated providers received: (provider, key, job id, repeat calls), from their own database."""
    db = Database(settings.resolved_providers_url())
    try:
        ensure_schema(db)
        return deliveries(db, provider)
    finally:
        db.dispose()

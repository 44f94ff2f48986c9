"""Helpers for tests that watch the queue in a real SQLite file from outside the processes."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.services.simulation import Simulator
from shared.shop.orders import OrderLine, PlaceOrder, place_order


def query(db_path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def scalar(db_path: Path, sql: str, params: Sequence[Any] = ()) -> Any:
    return query(db_path, sql, params)[0][0]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def place_orders(db_path: Path, count: int, lines: Sequence[tuple[str, int]] = (("prod-2", 1),)) -> list[str]:
    """Place orders through the real service (no payment latency), returning their ids."""
    settings = Settings(database_url=f"sqlite:///{db_path}", simulated_latency_scale=0)
    db = Database.from_url(settings.database_url)
    try:
        return [
            place_order(
                db,
                Simulator(settings),
                PlaceOrder(f"user-{i}", [OrderLine(p, q) for p, q in lines]),
                clock=utcnow,
            ).id  # type: ignore[union-attr]
            for i in range(count)
        ]
    finally:
        db.dispose()


def set_stock(db_path: Path, stock: int) -> None:
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE products SET stock = ?", (stock,))
    conn.close()


def unfinished(db_path: Path, *, ignore_types: Sequence[str] = ("send_followup_email",)) -> int:
    marks = ",".join("?" * len(ignore_types))
    return int(
        scalar(
            db_path,
            f"SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'processing') AND type NOT IN ({marks})",
            list(ignore_types),
        )
    )

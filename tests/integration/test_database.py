"""The SQLite discipline on live connections: pragmas, BEGIN IMMEDIATE for writes, deferred reads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared.db import Database


def test_every_connection_gets_the_pragmas(db: Database) -> None:
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL


def test_pragmas_hold_on_pooled_connections_from_other_threads(db: Database) -> None:
    seen: list[tuple[int, int]] = []

    def probe() -> None:
        with db.write() as session:
            seen.append(
                (
                    session.execute(text("PRAGMA foreign_keys")).scalar_one(),
                    session.execute(text("PRAGMA busy_timeout")).scalar_one(),
                )
            )

    threads = [threading.Thread(target=probe) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [(1, 5000)] * 5


def test_write_units_hold_the_write_lock_from_their_first_statement(db: Database, db_path: Path) -> None:
    """BEGIN IMMEDIATE: another writer is refused while a write unit is open, even before it wrote."""
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    with db.write() as session:
        session.execute(text("SELECT 1")).scalar_one()  # a read only, yet the lock is held
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after the unit committed
    other.execute("ROLLBACK")
    other.close()


def test_reads_are_deferred_and_do_not_block_writers(db: Database, db_path: Path) -> None:
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    with db.read() as session:
        session.execute(text("SELECT COUNT(*) FROM products")).scalar_one()
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE products SET stock = stock + 1 WHERE id = 'prod-1'")
        other.execute("COMMIT")
    other.close()


def test_foreign_keys_are_enforced(db: Database) -> None:
    try:
        with db.write() as session:
            session.execute(
                text("INSERT INTO order_items (order_id, product_id, quantity, price) VALUES ('none', 'prod-1', 1, 1)")
            )
        raised = False
    except Exception as exc:
        raised = "FOREIGN KEY constraint failed" in str(exc)
    assert raised


def test_a_writer_waits_for_the_lock_and_gets_it_when_released(db: Database, db_path: Path) -> None:
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    with db.write() as session:  # waits instead of failing with "database is locked"
        session.execute(text("UPDATE products SET stock = 1 WHERE id = 'prod-1'"))
    release.join()
    holder.close()
    with db.read() as session:
        assert session.execute(text("SELECT stock FROM products WHERE id = 'prod-1'")).scalar_one() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000  # restored after BEGIN


def test_a_writer_gives_up_after_the_busy_timeout(db_path: Path) -> None:
    impatient = Database.from_url(f"sqlite:///{db_path}", busy_timeout_ms=200)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"), impatient.write() as session:
            session.execute(text("SELECT 1"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.dispose()

"""Alembic owns the schema: the real `alembic` command against real SQLite files."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import run_alembic

SEED_COLUMNS: dict[str, list[tuple[str, str, int, str | None, int]]] = {
    "products": [
        ("id", "TEXT", 1, None, 1),
        ("name", "TEXT", 1, None, 0),
        ("price", "REAL", 1, None, 0),
        ("stock", "INTEGER", 1, "0", 0),
        ("created_at", "TEXT", 1, "datetime('now')", 0),
    ],
    "orders": [
        ("id", "TEXT", 1, None, 1),
        ("user_id", "TEXT", 1, None, 0),
        ("status", "TEXT", 1, "'pending'", 0),
        ("total", "REAL", 1, None, 0),
        ("created_at", "TEXT", 1, "datetime('now')", 0),
    ],
    "order_items": [
        ("order_id", "TEXT", 1, None, 1),
        ("product_id", "TEXT", 1, None, 2),
        ("quantity", "INTEGER", 1, None, 0),
        ("price", "REAL", 1, None, 0),
    ],
    "jobs": [
        ("id", "TEXT", 1, None, 1),
        ("type", "TEXT", 1, None, 0),
        ("payload", "TEXT", 1, "'{}'", 0),
        ("status", "TEXT", 1, "'pending'", 0),
        ("priority", "INTEGER", 1, "0", 0),
        ("attempts", "INTEGER", 1, "0", 0),
        ("max_attempts", "INTEGER", 1, "5", 0),
        ("last_error", "TEXT", 0, None, 0),
        ("scheduled_at", "TEXT", 1, "datetime('now')", 0),
        ("created_at", "TEXT", 1, "datetime('now')", 0),
        ("updated_at", "TEXT", 1, "datetime('now')", 0),
        ("completed_at", "TEXT", 0, None, 0),
        ("locked_by", "TEXT", 0, None, 0),
        ("locked_at", "TEXT", 0, None, 0),
    ],
}


def columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, int, str | None, int]]:
    rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    # Defaults come back as written, e.g. "(datetime('now'))"; compare without the outer parentheses.
    return [
        (name, kind, notnull, default[1:-1] if default and default.startswith("(") else default, pk)
        for _cid, name, kind, notnull, default, pk in rows
    ]


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    return tmp_path / "fresh.db"


def alembic(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_alembic(f"sqlite:///{path}", *args)


def test_upgrade_on_an_empty_file_creates_the_seed_schema(empty_db: Path) -> None:
    alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        for table, expected in SEED_COLUMNS.items():
            assert columns(conn, table)[: len(expected)] == expected, table
        sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        assert "CHECK (price > 0)" in sql["products"]
        assert "CHECK (quantity > 0)" in sql["order_items"]
        assert "FOREIGN KEY(order_id) REFERENCES orders (id)" in sql["order_items"]
        assert "FOREIGN KEY(product_id) REFERENCES products (id)" in sql["order_items"]
        assert (
            sql["idx_jobs_status_scheduled"] == "CREATE INDEX idx_jobs_status_scheduled ON jobs (status, scheduled_at)"
        )
        assert sql["idx_jobs_type"] == "CREATE INDEX idx_jobs_type ON jobs (type)"
        assert conn.execute("SELECT id, name, price, stock FROM products ORDER BY id").fetchall() == [
            ("prod-1", "Mechanical Keyboard", 89.99, 50),
            ("prod-2", "USB-C Hub", 34.99, 100),
            ("prod-3", "Monitor Stand", 49.99, 25),
        ]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_models_and_migrations_do_not_drift(empty_db: Path) -> None:
    alembic(empty_db, "upgrade", "head")
    result = alembic(empty_db, "check")
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_downgrade_to_base_and_upgrade_again(empty_db: Path) -> None:
    alembic(empty_db, "upgrade", "head")
    alembic(empty_db, "downgrade", "base")
    with sqlite3.connect(empty_db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"alembic_version"}
    alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone() == (3,)


def test_second_upgrade_is_a_no_op(empty_db: Path) -> None:
    alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        conn.execute("UPDATE products SET stock = 7 WHERE id = 'prod-1'")
        before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    second = alembic(empty_db, "upgrade", "head")
    assert "Running upgrade" not in second.stderr
    with sqlite3.connect(empty_db) as conn:
        assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
        assert conn.execute("SELECT stock FROM products WHERE id = 'prod-1'").fetchone() == (7,)
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone() == (3,)
    current = alembic(empty_db, "current")
    heads = alembic(empty_db, "heads")
    assert heads.stdout.split()[0] in current.stdout


def test_the_due_jobs_query_uses_an_index(migrated_template: Path) -> None:
    """The seed's exercise 3."""
    with sqlite3.connect(migrated_template) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE status = 'pending' AND scheduled_at <= datetime('now') "
            "ORDER BY priority DESC, scheduled_at ASC"
        ).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "USING INDEX idx_jobs_status_scheduled" in details
    assert "SCAN jobs" not in details.replace("USING INDEX", "")


def test_migration_keeps_existing_jobs_in_enqueue_order(empty_db: Path) -> None:
    """Revision 0002 numbers jobs that existed before it by creation time."""
    alembic(empty_db, "upgrade", "0001")
    with sqlite3.connect(empty_db) as conn:
        conn.executemany(
            "INSERT INTO jobs (id, type, created_at) VALUES (?, 'send_email', ?)",
            [("c", "2026-01-01 00:00:03"), ("a", "2026-01-01 00:00:01"), ("b", "2026-01-01 00:00:02")],
        )
    alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        assert conn.execute("SELECT id FROM jobs ORDER BY seq").fetchall() == [("a",), ("b",), ("c",)]


def test_claim_counts_start_from_attempts_and_keep_the_claim_index_descending(empty_db: Path) -> None:
    """Revision 0010 adds `jobs.claims` (the fencing token) in place: SQLite does not copy the table,
    which would lose the DESC of idx_jobs_claim."""
    alembic(empty_db, "upgrade", "0009")
    with sqlite3.connect(empty_db) as conn:
        conn.execute("INSERT INTO jobs (id, type, seq, attempts) VALUES ('a', 'send_email', 1, 2)")
    alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        assert conn.execute("SELECT claims FROM jobs").fetchall() == [(2,)]
        (index,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'idx_jobs_claim'").fetchone()
        assert "claim_priority DESC" in index


def test_a_failed_upgrade_changes_nothing(empty_db: Path) -> None:
    """The whole upgrade is one IMMEDIATE transaction: a failure in a later revision undoes the earlier ones."""
    alembic(empty_db, "upgrade", "0001")
    with sqlite3.connect(empty_db) as conn:
        conn.execute("CREATE TABLE workers (squatter TEXT)")  # revision 0003 will collide with it
    with pytest.raises(subprocess.CalledProcessError):
        alembic(empty_db, "upgrade", "head")
    with sqlite3.connect(empty_db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        job_columns = [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
        assert "seq" not in job_columns  # revision 0002 was rolled back too
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'idempotent_requests'").fetchall() == []

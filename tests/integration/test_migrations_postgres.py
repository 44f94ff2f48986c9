"""Alembic owns the schema on PostgreSQL too: the real `alembic` command against a real server.

What differs from SQLite is checked here: timestamps are `timestamptz`, money is exact, jobs are
numbered by a sequence, and revision 0008's triggers announce new work on the channel the
worker's NotificationListener LISTENs to, once per transaction however many rows it writes.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from shared.clock import utcnow
from shared.db import Database
from shared.db.metadata import load_metadata
from shared.db.types import Money, UtcText
from shared.queue import JobSpec, enqueue, enqueue_many
from shared.queue.backends.postgres import CHANNEL
from shared.queue.loading import load_job_types
from tests.support.postgres import PostgresServer
from tests.support.processes import ROOT, run_alembic

TYPES = load_job_types(["shared.shop.jobs"])
SENTINEL = "shopqueue_test_sentinel"  # a channel of the test's own, to know when to stop reading


@pytest.fixture
def empty_url(postgres: PostgresServer) -> Iterator[str]:
    """A database with nothing in it, not even Alembic's table."""
    name = f"empty_{secrets.token_hex(6)}"
    postgres.admin(f"CREATE DATABASE {name}")
    yield postgres.url(name)
    postgres.drop(name)


@pytest.fixture
def migrated_url(postgres: PostgresServer) -> Iterator[str]:
    """A database at head (copied from the template `alembic upgrade head` made)."""
    name = postgres.fresh_database()
    yield postgres.url(name)
    postgres.drop(name)


def libpq(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(sql).fetchall()


def head() -> str:
    revision = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
    assert revision is not None
    return revision


def test_upgrade_on_an_empty_database_makes_timestamps_timestamptz(empty_url: str) -> None:
    run_alembic(empty_url, "upgrade", "head")

    metadata = load_metadata()
    assert {name for (name,) in rows(empty_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")} == {
        *metadata.tables,
        "alembic_version",
    }
    types = {
        (table, column): (data_type, precision, scale)
        for table, column, data_type, precision, scale in rows(
            empty_url,
            "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale "
            "FROM information_schema.columns WHERE table_schema = 'public'",
        )
    }
    for table in metadata.tables.values():
        for column in table.columns:
            found = types[(table.name, column.name)]
            if isinstance(column.type, UtcText):
                assert found[0] == "timestamp with time zone", (table.name, column.name, found)
            elif isinstance(column.type, Money):
                assert found == ("numeric", 12, 2), (table.name, column.name, found)
    assert not [key for key, found in types.items() if found[0] == "timestamp without time zone"]
    # The seed's products, priced exactly; jobs numbered by a sequence the column owns.
    assert rows(empty_url, "SELECT id, price, stock FROM products ORDER BY id") == [
        ("prod-1", Decimal("89.99"), 50),
        ("prod-2", Decimal("34.99"), 100),
        ("prod-3", Decimal("49.99"), 25),
    ]
    assert rows(empty_url, "SELECT pg_get_serial_sequence('jobs', 'seq')") == [("public.jobs_seq_seq",)]
    assert rows(empty_url, "SELECT version_num FROM alembic_version") == [(head(),)]


def test_models_and_migrations_do_not_drift_on_postgres(empty_url: str) -> None:
    run_alembic(empty_url, "upgrade", "head")
    result = run_alembic(empty_url, "check")
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_downgrade_to_base_and_upgrade_again_on_postgres(empty_url: str) -> None:
    run_alembic(empty_url, "upgrade", "head")
    run_alembic(empty_url, "downgrade", "base")

    public = "WHERE {}.nspname = 'public'"
    assert rows(empty_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [("alembic_version",)]
    leftovers = rows(
        empty_url,
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"{public.format('n')} UNION ALL "
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"{public.format('n')} AND c.relkind = 'S'",
    )
    assert leftovers == []  # no notify function, no sequence left behind

    run_alembic(empty_url, "upgrade", "head")
    assert rows(empty_url, "SELECT COUNT(*) FROM products") == [(3,)]
    triggers = rows(empty_url, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
    assert triggers == [("jobs_enqueued",), ("jobs_released",)]


@contextlib.contextmanager
def listening(url: str) -> Iterator[Callable[[], list[str]]]:
    """LISTEN on the backend's channel; yields `received()`: the notifications since the last call.

    `received()` sends a notification on a channel of its own and reads until it arrives. Transactions
    that committed before are delivered before it (PostgreSQL delivers in commit order), so the list
    is complete without waiting for a timeout."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        conn.execute(f"LISTEN {SENTINEL}")

        def received() -> list[str]:
            conn.execute(f"NOTIFY {SENTINEL}")
            channels: list[str] = []
            for notification in conn.notifies(timeout=10):
                if notification.channel == SENTINEL:
                    return channels
                channels.append(notification.channel)
            raise AssertionError(f"the sentinel did not arrive; got {channels}")

        yield received


def test_one_notification_per_enqueueing_transaction(migrated_url: str) -> None:
    email = TYPES.get("send_email")
    db = Database(migrated_url)
    try:
        with listening(migrated_url) as received:
            assert received() == []

            # One transaction, four INSERT statements writing seven rows: one notification.
            with db.write() as tx:
                for n in range(3):
                    enqueue(tx, email, {"to": f"a{n}@shop.test", "subject": "hi"})
                enqueue_many(tx, [JobSpec(email, {"to": f"b{n}@shop.test", "subject": "hi"}) for n in range(4)])
            assert received() == [CHANNEL]

            # Two transactions: two notifications.
            for n in range(2):
                with db.write() as tx:
                    enqueue(tx, email, {"to": f"c{n}@shop.test", "subject": "hi"})
            assert received() == [CHANNEL, CHANNEL]

            # A transaction that enqueues nothing, and one rolled back: none.
            with db.write() as tx:
                tx.execute("UPDATE products SET stock = stock + 1")
            with contextlib.suppress(RuntimeError), db.write() as tx:
                enqueue(tx, email, {"to": "d@shop.test", "subject": "hi"})
                raise RuntimeError("rolled back")
            assert received() == []

            # Jobs made due again (three rows, one statement) and a cancel request: one each.
            with db.write() as tx:
                tx.execute("UPDATE jobs SET status = 'processing', locked_by = 'w' WHERE status = 'pending'")
            assert received() == []  # taking jobs is no news for idle workers
            with db.write() as tx:
                tx.execute(
                    "UPDATE jobs SET status = 'pending', locked_by = NULL, scheduled_at = :now "
                    "WHERE id IN (SELECT id FROM jobs ORDER BY seq LIMIT 3)",
                    {"now": tx.ts(utcnow() + timedelta(seconds=1))},
                )
            assert received() == [CHANNEL]
            with db.write() as tx:
                tx.execute("UPDATE jobs SET cancel_requested = 1 WHERE status = 'processing'")
            assert received() == [CHANNEL]
    finally:
        db.dispose()

"""`shopqueue migrate-to-postgres`: a real SQLite shop (orders placed through the shop code, a worker
run, jobs in every state) copied into a real PostgreSQL database, then a worker on PostgreSQL
finishes the work; and every refusal, which writes nothing."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from api.app import create_app
from shared.cli import cli
from shared.cli.operator import Operator
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.db.metadata import load_metadata
from shared.db.transfer import copied_tables
from shared.db.types import Money, UtcText
from shared.money import money
from shared.queue import cron, operations
from shared.queue.backends.sqlite import from_text
from shared.queue.workers import register
from tests.support.operator import TYPES, add_job, dead_letter, take
from tests.support.postgres import PostgresServer
from tests.support.processes import ROOT, run_alembic, run_worker_burst
from tests.support.queue import delivered, execute, place_orders, query, scalar

STALE_WORKER = "old-host:1:dead"  # a worker killed an hour before the move: its jobs still say processing
STEPS = ("send_order_confirmation", "generate_invoice", "sync_inventory")
# Workers here run without simulated failures: every job needs one attempt, so what ran where is exact.


@pytest.fixture
def source(tmp_path: Path, migrated_template: Path) -> Settings:
    """The shop's SQLite file, migrated to head; providers and invoices in tmp_path/data."""
    path = tmp_path / "shop.db"
    shutil.copy(migrated_template, path)
    return Settings(
        database_url=f"sqlite:///{path}",
        data_dir=str(tmp_path / "data"),
        simulated_latency_scale=0,
        log_format="console",
    )


@pytest.fixture
def source_db(source: Settings) -> Iterator[Database]:
    database = Database(source.database_url)
    yield database
    database.dispose()


@pytest.fixture
def target(postgres: PostgresServer) -> Iterator[str]:
    """An empty PostgreSQL database at head (`alembic upgrade head` made the template)."""
    name = postgres.fresh_database()
    yield postgres.url(name)
    postgres.drop(name)


def revisions() -> tuple[str, str]:
    """The migrations' head and the revision before it."""
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    return head, previous


def move(source: Settings, *args: str) -> Result:
    return CliRunner().invoke(cli, ["migrate-to-postgres", "--from", source.database_url, *args], obj=Operator(source))


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.read() as tx:
            return {t.name: int(tx.scalar(f"SELECT COUNT(*) FROM {t.name}")) for t in load_metadata().sorted_tables}
    finally:
        db.dispose()


def table_rows(url: str, name: str) -> list[tuple[Any, ...]]:
    """Every row of a table, timestamps and money read as the engine's own types say, sorted."""
    table = load_metadata().tables[name]
    db = Database(url)
    try:
        with db.read() as tx:
            rows = tx.all(f"SELECT {', '.join(table.columns.keys())} FROM {name}")
            normal = [
                tuple(
                    None
                    if value is None
                    else tx.dt(value)
                    if isinstance(column.type, UtcText)
                    else money(value)
                    if isinstance(column.type, Money)
                    else value
                    for column, value in zip(table.columns, row, strict=True)
                )
                for row in rows
            ]
    finally:
        db.dispose()
    return sorted(normal, key=repr)


def busy_shop(source: Settings, db: Database) -> dict[str, str]:
    """A shop mid-life, built through its own code: orders whose work is done, orders whose work is
    due, follow-ups a day ahead, a job running on a worker that died, a running job an operator
    asked to cancel, a dead letter, a paused queue, a paused schedule, a sales report, a keyed
    request. Returns the ids the test follows."""
    now = utcnow()
    with db.write() as tx:
        cron.run_now(tx, TYPES, "daily_sales_report", now)  # a report for yesterday, made by the worker below
        cron.set_active(tx, "cleanup_completed_jobs", False, now)
    place_orders(source, 4, lines=(("prod-1", 1), ("prod-3", 2)))
    done = run_worker_burst(source, SIMULATED_FAILURE_RATE="0")
    assert done.returncode == 0, done.stdout + done.stderr
    dead = dead_letter(db, "smtp said no")  # nothing else is due now: this is the job it takes
    place_orders(source, 3)
    with TestClient(create_app(source)) as client:
        keyed = client.post(
            "/orders",
            json={"userId": "keyed", "items": [{"productId": "prod-2", "quantity": 1}]},
            headers={"Idempotency-Key": "move-1"},
        )
    assert keyed.status_code == 201, keyed.text
    with db.write() as tx:
        register(tx, STALE_WORKER, 4, now - timedelta(hours=1))
    running, asked = take(db, 2, worker_id=STALE_WORKER)  # two due confirmations, claimed
    with db.write() as tx:
        operations.cancel(tx, asked.id, now)  # cancel requested while it runs
    with db.write() as tx:
        operations.pause_type(tx, "cleanup_completed_jobs", now, "not during the move")
    paused = add_job(db, "cleanup_completed_jobs", {"olderThanDays": 7})
    return {"running": running.id, "asked": asked.id, "paused": paused, "dead": dead, "keyed": keyed.json()["id"]}


def test_the_shop_moves_whole_and_a_postgres_worker_finishes_its_work(
    source: Settings, source_db: Database, target: str
) -> None:
    ids = busy_shop(source, source_db)
    before = counts(source.database_url)
    assert before["orders"] == 8
    assert [before[name] for name in ("sales_reports", "cron_runs", "queue_pauses", "dead_letter_jobs")] == [1] * 4
    assert before["processed_jobs"] > 0
    assert before["queue_counters"] > 0
    seq_before = scalar(source_db, "SELECT MAX(seq) FROM jobs")

    result = move(source, "--to", target)

    assert result.exit_code == 0, (result.output, result.exception)
    printed = dict(re.findall(r"^(\w+) +(\d+)$", result.stdout, re.MULTILINE))
    assert {name: int(rows) for name, rows in printed.items()} == {t.name: before[t.name] for t in copied_tables()}, (
        result.stdout
    )
    assert "1 handed back as pending (attempt given back), 1 cancelled" in result.stdout
    assert "left behind: workers" in result.stdout
    after = counts(target)
    assert after == {**before, "workers": 0}

    # Row for row the same, timestamps and money included, but for the two jobs that were running.
    moved = {ids["running"], ids["asked"]}
    for table in copied_tables():
        theirs, ours = table_rows(target, table.name), table_rows(source.database_url, table.name)
        if table.name == "jobs":
            theirs = [row for row in theirs if row[0] not in moved]
            ours = [row for row in ours if row[0] not in moved]
        assert theirs == ours, table.name
    pg = Database(target)
    try:
        columns = "status, attempts, locked_by, locked_at, last_error"
        job = f"SELECT {columns} FROM jobs WHERE id = :id"
        assert query(pg, job, {"id": ids["running"]}) == [("pending", 0, None, None, None)]
        assert query(pg, job, {"id": ids["asked"]}) == [
            ("cancelled", 1, None, None, "cancelled on request, while moving to PostgreSQL")
        ]

        # A worker on PostgreSQL runs what was due; the dead letter retried there runs too.
        with pg.write() as tx:
            operations.retry_dead_letter(tx, ids["dead"], utcnow())
        pg_settings = Settings(
            database_url=target, data_dir=source.data_dir, simulated_latency_scale=0, log_format="console"
        )
        done = run_worker_burst(pg_settings, SIMULATED_FAILURE_RATE="0")
        assert done.returncode == 0, done.stdout + done.stderr

        pipelines: dict[str, dict[str, str]] = {}
        for order_id, job_type, status in query(
            pg, "SELECT workflow_id, type, status FROM jobs WHERE workflow_id IS NOT NULL"
        ):
            pipelines.setdefault(order_id, {})[job_type] = status
        cancelled_order = scalar(pg, "SELECT workflow_id FROM jobs WHERE id = :id", {"id": ids["asked"]})
        assert len(pipelines) == 8
        for order_id, pipeline in pipelines.items():
            if order_id == cancelled_order:  # stopped where the operator stopped it
                assert pipeline == {"send_order_confirmation": "cancelled", "send_followup_email": "pending"}
            else:
                assert pipeline == {**dict.fromkeys(STEPS, "completed"), "send_followup_email": "pending"}, order_id
        assert query(pg, "SELECT status, attempts FROM jobs WHERE id = :id", {"id": ids["running"]}) == [
            ("completed", 1)
        ]
        # Follow-ups still a day ahead, at the very time the SQLite shop set.
        followups = "SELECT id, scheduled_at FROM jobs WHERE type = 'send_followup_email' AND status = 'pending'"
        assert dict(query(pg, followups)) == {i: from_text(at) for i, at in query(source_db, followups)}
        assert scalar(pg, "SELECT status FROM jobs WHERE id = :id", {"id": ids["paused"]}) == "pending"
        assert scalar(pg, "SELECT status FROM jobs WHERE type = 'send_email'") == "completed"  # the dead letter's
        assert scalar(pg, "SELECT is_active FROM cron_schedules WHERE id = 'cleanup_completed_jobs'") == 0
        # The fan-out of the three confirmations run here was numbered after every copied job.
        new = query(pg, "SELECT type FROM jobs WHERE seq > :seq", {"seq": seq_before})
        assert sorted(row[0] for row in new) == ["generate_invoice"] * 3 + ["sync_inventory"] * 3
        assert scalar(pg, "SELECT COUNT(*) FROM jobs") == before["jobs"] + 6
    finally:
        pg.dispose()

    # Each effect happened once, whichever database its job ran on.
    keys = [(provider, key, repeats) for provider, key, _, repeats in delivered(source)]
    assert len({(provider, key) for provider, key, _ in keys}) == len(keys)
    assert [k for k in keys if k[2]] == []

    # The keyed request is remembered: the same request on PostgreSQL replays its first answer.
    with TestClient(create_app(pg_settings)) as client:
        replay = client.post(
            "/orders",
            json={"userId": "keyed", "items": [{"productId": "prod-2", "quantity": 1}]},
            headers={"Idempotency-Key": "move-1"},
        )
    assert (replay.status_code, replay.json()["id"]) == (201, ids["keyed"])

    # A second move into the now busy database is refused, and changes nothing.
    snapshot = counts(target)
    again = move(source, "--to", target)
    assert again.exit_code == 1
    assert "the target is not empty" in again.stderr
    assert counts(target) == snapshot


def refused(result: Result, exit_code: int = 1) -> str:
    """The command failed with this exit code and printed nothing on stdout; its stderr."""
    assert result.exit_code == exit_code, (result.output, result.exception)
    assert result.stdout == ""
    return result.stderr


def test_refuses_a_target_that_is_not_empty(source: Settings, target: str) -> None:
    place_orders(source, 2)
    in_use = Settings(database_url=target, data_dir=source.data_dir, simulated_latency_scale=0)
    place_orders(in_use, 1, lines=(("prod-3", 4),))
    before = counts(target)

    message = refused(move(source, "--to", target))

    assert "the target is not empty (jobs 2; orders 1; order_items 1)" in message
    assert "nothing was written" in message
    assert counts(target) == before
    pg = Database(target)
    try:
        assert scalar(pg, "SELECT stock FROM products WHERE id = 'prod-3'") == 25 - 4
    finally:
        pg.dispose()


def test_refuses_a_target_with_a_product_the_source_lacks(source: Settings, target: str) -> None:
    """The seeded products are replaced by the source's; one added on the target would be lost."""
    pg = Database(target)
    try:
        execute(pg, "INSERT INTO products (id, name, price, stock) VALUES ('prod-9', 'Desk Lamp', 19.99, 5)")
        message = refused(move(source, "--to", target))
        assert "the target is not empty (products prod-9 (not in the source))" in message
        assert scalar(pg, "SELECT COUNT(*) FROM products") == 4
    finally:
        pg.dispose()


def test_refuses_a_source_that_is_not_a_shop(source: Settings, tmp_path: Path, target: str) -> None:
    stranger = tmp_path / "other.db"
    stranger.touch()  # an empty file is an empty SQLite database
    result = CliRunner().invoke(
        cli, ["migrate-to-postgres", "--from", f"sqlite:///{stranger}", "--to", target], obj=Operator(source)
    )
    assert "the source is not a shop database: it has no alembic_version table" in refused(result)
    assert counts(target)["products"] == 3


def test_workers_waiting_on_the_target_do_not_make_it_busy(source: Settings, target: str) -> None:
    """Workers started on the new database before the move only register there; they take the
    copied jobs once the move commits."""
    place_orders(source, 1)
    pg = Database(target)
    try:
        with pg.write() as tx:
            register(tx, "new-host:1:cafe", 4, utcnow())
        result = move(source, "--to", target, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        report = json.loads(result.stdout)
        assert {entry["table"]: entry["rows"] for entry in report["tables"]} == {
            **{table.name: 0 for table in copied_tables()},
            **{"products": 3, "cron_schedules": 2, "orders": 1, "order_items": 1, "jobs": 2},
        }
        assert (report["handedBack"], report["cancelled"], report["leftBehind"]) == (0, 0, ["workers"])
        assert {"sequence": "public.jobs_seq_seq", "nextValue": 3} in report["sequences"]
        assert query(pg, "SELECT id FROM workers") == [("new-host:1:cafe",)]
        assert scalar(pg, "SELECT COUNT(*) FROM jobs WHERE status = 'pending'") == 2
    finally:
        pg.dispose()


def test_refuses_a_target_without_the_schema(source: Settings, postgres: PostgresServer) -> None:
    name = f"bare_{secrets.token_hex(6)}"
    postgres.admin(f"CREATE DATABASE {name}")
    try:
        message = refused(move(source, "--to", postgres.url(name)))
        assert "the target has no schema: run `alembic upgrade head`" in message
        with psycopg.connect(postgres.admin_url.rsplit("/", 1)[0] + f"/{name}") as conn:
            assert conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
    finally:
        postgres.drop(name)


def test_refuses_a_target_at_another_revision(source: Settings, target: str) -> None:
    place_orders(source, 1)
    run_alembic(target, "downgrade", "-1")

    message = refused(move(source, "--to", target))

    head, previous = revisions()
    assert (
        f"the target's schema is at revision {previous}, this code's is {head}: run `alembic upgrade head`" in message
    )
    assert counts(target)["orders"] == 0


def test_refuses_a_source_at_another_revision(source: Settings, target: str) -> None:
    run_alembic(source.database_url, "downgrade", "-1")

    message = refused(move(source, "--to", target))

    head, previous = revisions()
    assert f"the source's schema is at revision {previous}, this code's is {head}: upgrade the SQLite file" in message
    assert counts(target)["jobs"] == 0


def test_refuses_while_workers_run_on_the_source(source: Settings, source_db: Database, target: str) -> None:
    with source_db.write() as tx:
        register(tx, "busy-host:7:beef", 4, utcnow())

    message = refused(move(source, "--to", target))

    assert "1 worker(s) still running on the source (busy-host:7:beef)" in message
    assert counts(target)["workers"] == 0


def test_a_copy_that_fails_half_way_writes_nothing(source: Settings, source_db: Database, target: str) -> None:
    """SQLite stores whatever it is given; PostgreSQL refuses a word in an integer column. The table
    copied last fails after every other table was written, and the whole transaction goes."""
    assert copied_tables()[-1].name == "order_items"
    place_orders(source, 2)
    execute(source_db, "UPDATE order_items SET quantity = 'two' WHERE rowid = 1")
    before = counts(target)

    message = refused(move(source, "--to", target))

    assert 'database error: invalid input syntax for type integer: "two"' in message
    assert "nothing was written" in message
    assert counts(target) == before
    assert table_rows(target, "products") != table_rows(source.database_url, "products")  # stock untouched


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--from", "sqlite:///nowhere/shop.db", "--to", "postgresql+psycopg://u@localhost/db"], "no SQLite file"),
        (["--from", "postgresql+psycopg://u@localhost/db", "--to", "postgresql+psycopg://u@localhost/db"], "sqlite"),
        (["--to", "postgresql+psycopg://u@localhost/db"], "Missing option '--from'"),
        (["--from", "{source}", "--to", "sqlite:///other.db"], "is not a postgresql+psycopg:// URL"),
        (["--from", "{source}", "--to", "postgresql://u:secret@localhost/db"], "postgresql://u:***@localhost/db"),
    ],
)
def test_bad_urls_are_usage_errors(source: Settings, args: list[str], complaint: str) -> None:
    argv = ["migrate-to-postgres", *(arg.format(source=source.database_url) for arg in args)]
    result = CliRunner().invoke(cli, argv, obj=Operator(source))
    assert complaint in refused(result, exit_code=2)
    assert "secret" not in result.stderr

"""Leader-less cron with an injectable clock: three schedulers tick concurrently, clocks jump."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.config import Settings
from shared.db import Database
from shared.queue import cron
from shared.queue.cron import InvalidScheduleError
from shared.queue.loading import load_job_types
from tests.support.queue import query, scalar

TYPES = load_job_types(["shared.shop.jobs"])
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def schedulers(settings: Settings) -> Iterator[list[Database]]:
    """Three independent schedulers, each with its own connections (as three workers have)."""
    databases = [Database(settings.database_url) for _ in range(3)]
    yield databases
    for database in databases:
        database.dispose()


def every_quarter(db: Database, *, overlap: str = "skip") -> None:
    with db.write() as tx:
        cron.create_schedule(
            tx,
            TYPES,
            "quarterly-digest",
            job_type="send_email",
            expression="*/15 * * * *",
            now=T0,
            payload={"to": "ops@shop.test", "subject": "digest"},
            overlap=overlap,
        )


def tick_all(schedulers: list[Database], now: datetime) -> list[cron.Fired]:
    """All three tick at the same instant, concurrently."""
    fired: list[cron.Fired] = []
    start = threading.Barrier(len(schedulers))

    def tick(db: Database) -> None:
        start.wait()
        with db.write() as tx:
            fired.extend(cron.tick(tx, TYPES, now))

    threads = [threading.Thread(target=tick, args=(db,)) for db in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return fired


def digest_jobs(db: Database) -> list[tuple[str, str]]:
    return [
        (r[0], r[1]) for r in query(db, "SELECT id, idempotency_key FROM jobs WHERE type = 'send_email' ORDER BY seq")
    ]


def test_a_tick_at_the_same_instant_on_three_schedulers_enqueues_once(db: Database, schedulers: list[Database]) -> None:
    every_quarter(db)
    assert tick_all(schedulers, T0 + timedelta(minutes=14)) == []  # not due yet
    fired = tick_all(schedulers, T0 + timedelta(minutes=15))
    assert [(f.schedule_id, f.fire_at, f.outcome) for f in fired] == [
        ("quarterly-digest", T0 + timedelta(minutes=15), "enqueued")
    ]
    assert len(digest_jobs(db)) == 1
    assert tick_all(schedulers, T0 + timedelta(minutes=15, seconds=30)) == []  # same tick, later
    assert len(digest_jobs(db)) == 1
    with db.read() as tx:
        schedule = cron.get_schedule(tx, "quarterly-digest")
    assert (schedule.last_run_at, schedule.next_run_at) == (T0 + timedelta(minutes=15), T0 + timedelta(minutes=30))
    assert schedule.last_job_id == digest_jobs(db)[0][0]


def test_a_day_of_missed_ticks_runs_once_as_the_latest_tick(db: Database, schedulers: list[Database]) -> None:
    every_quarter(db, overlap="allow")
    later = T0 + timedelta(days=1, minutes=7)  # 96 ticks were missed while every worker was down
    fired = tick_all(schedulers, later)
    assert [f.fire_at for f in fired] == [T0 + timedelta(days=1)]  # one catch-up run, the latest tick
    assert len(digest_jobs(db)) == 1
    with db.read() as tx:
        assert cron.get_schedule(tx, "quarterly-digest").next_run_at == T0 + timedelta(days=1, minutes=15)


def test_a_clock_that_goes_back_never_fires_a_tick_twice(db: Database, schedulers: list[Database]) -> None:
    every_quarter(db, overlap="allow")
    assert len(tick_all(schedulers, T0 + timedelta(minutes=15))) == 1
    assert tick_all(schedulers, T0 + timedelta(minutes=5)) == []  # the clock jumped back
    with db.write() as tx:  # even if an operator resets the timetable to the past tick
        tx.execute(
            "UPDATE cron_schedules SET next_run_at = :t WHERE id = 'quarterly-digest'",
            {"t": tx.ts(T0 + timedelta(minutes=15))},
        )
    assert tick_all(schedulers, T0 + timedelta(minutes=15)) == []  # cron_runs already holds that tick
    assert len(tick_all(schedulers, T0 + timedelta(minutes=30))) == 1  # and the clock moves on
    assert len(digest_jobs(db)) == 2


def test_overlap_skips_a_run_while_the_previous_one_is_unfinished(db: Database) -> None:
    every_quarter(db)
    with db.write() as tx:
        first = cron.tick(tx, TYPES, T0 + timedelta(minutes=15))
        second = cron.tick(tx, TYPES, T0 + timedelta(minutes=30))  # the first job is still pending
    assert [f.outcome for f in first + second] == ["enqueued", "skipped"]
    assert len(digest_jobs(db)) == 1
    assert query(db, "SELECT outcome FROM cron_runs ORDER BY fire_at") == [("enqueued",), ("skipped",)]
    with db.write() as tx:
        tx.execute("UPDATE jobs SET status = 'completed' WHERE type = 'send_email'")
        third = cron.tick(tx, TYPES, T0 + timedelta(minutes=45))
    assert [f.outcome for f in third] == ["enqueued"]


def test_the_seeded_schedules_and_the_report_of_the_day_before(db: Database) -> None:
    with db.read() as tx:
        seeded = {s.id: (s.type, s.cron_expression, s.is_active) for s in cron.schedules(tx)}
    assert seeded == {
        "daily_sales_report": ("daily_sales_report", "0 0 * * *", True),
        "cleanup_completed_jobs": ("cleanup_completed_jobs", "0 3 * * *", True),
    }
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    with db.write() as tx:
        tx.execute("UPDATE cron_schedules SET next_run_at = :t", {"t": tx.ts(midnight - timedelta(days=3))})
        fired = cron.tick(tx, TYPES, midnight + timedelta(seconds=1))
    assert sorted(f.schedule_id for f in fired) == ["cleanup_completed_jobs", "daily_sales_report"]
    payloads = dict(query(db, "SELECT type, payload FROM jobs"))
    assert payloads["daily_sales_report"] == '{"date":"2026-11-30"}'  # the day that just ended
    assert payloads["cleanup_completed_jobs"] == '{"olderThanDays":null}'


@pytest.mark.parametrize(
    "expression", ["0 0 * * *", "*/15 9-17 * * mon-fri", "0 3 1,15 jan,jul *", "5 4 * * SUN", "  0  0 * * *  "]
)
def test_full_cron_syntax_is_accepted(db: Database, expression: str) -> None:
    with db.write() as tx:
        schedule = cron.set_expression(tx, "daily_sales_report", expression, T0)
    assert schedule.cron_expression == " ".join(expression.split())
    assert schedule.next_run_at > T0


@pytest.mark.parametrize("expression", ["", "* * *", "61 * * * *", "0 0 * * funday", "0 0 30 2 * extra"])
def test_invalid_expressions_are_refused_where_set_and_change_nothing(db: Database, expression: str) -> None:
    before = query(db, "SELECT cron_expression, next_run_at FROM cron_schedules ORDER BY id")
    with pytest.raises(InvalidScheduleError) as refused, db.write() as tx:
        cron.set_expression(tx, "daily_sales_report", expression, T0)
    assert refused.value.details[0].field == "cronExpression"
    with pytest.raises(InvalidScheduleError), db.write() as tx:
        cron.create_schedule(tx, TYPES, "new", job_type="send_email", expression=expression, now=T0)
    assert query(db, "SELECT cron_expression, next_run_at FROM cron_schedules ORDER BY id") == before
    assert scalar(db, "SELECT COUNT(*) FROM cron_schedules") == 2

"""Cron's smaller promises: the latest tick, when the next one is due, what a schedule may be created
with, and what a refusal says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from shared.db import Database
from shared.errors import FieldError
from shared.queue import cron
from shared.queue.cron import InvalidScheduleError
from shared.queue.loading import load_job_types

TYPES = load_job_types(["shared.shop.jobs"])
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def test_the_next_tick_due_is_the_earliest_of_the_active_schedules(db: Database) -> None:
    with db.write() as tx:
        for schedule in cron.schedules(tx):  # pause the seeded ones: only ours count
            cron.set_active(tx, schedule.id, False, T0)
        assert cron.next_due_at(tx) is None
        cron.create_schedule(tx, TYPES, "hourly", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        cron.create_schedule(
            tx, TYPES, "halfhourly", job_type="cleanup_completed_jobs", expression="*/30 * * * *", now=T0
        )
        assert cron.next_due_at(tx) == T0 + timedelta(minutes=30)
        cron.set_active(tx, "halfhourly", False, T0)
        assert cron.next_due_at(tx) == T0 + timedelta(hours=1)


def test_a_second_run_now_at_the_same_instant_is_refused_saying_so(db: Database) -> None:
    with db.write() as tx:
        cron.create_schedule(tx, TYPES, "hourly", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        first = cron.run_now(tx, TYPES, "hourly", T0)
        assert (first.outcome, cron.get_schedule(tx, "hourly").last_job_id) == ("manual", first.job_id)
        with pytest.raises(InvalidScheduleError) as refused:
            cron.run_now(tx, TYPES, "hourly", T0)
    assert str(refused.value) == "schedule 'hourly' already ran at this instant"


def test_the_latest_tick_is_at_or_before_the_moment() -> None:
    assert cron.latest_fire("0 * * * *", T0) == T0
    assert cron.latest_fire("0 * * * *", T0 - timedelta(microseconds=1)) == T0 - timedelta(hours=1)


def test_a_schedule_skips_overlaps_unless_told_and_its_payload_is_checked_as_a_tick_makes_it(db: Database) -> None:
    """The daily report's stored payload is empty: a tick adds the date, so the check must too."""
    with db.write() as tx:
        made = cron.create_schedule(tx, TYPES, "report", job_type="daily_sales_report", expression="0 1 * * *", now=T0)
    assert (made.overlap, made.payload, made.next_run_at, made.created_at) == (
        "skip",
        "{}",
        T0 + timedelta(hours=13),
        T0,
    )


def test_an_unknown_overlap_rule_is_refused_naming_the_field(db: Database) -> None:
    with db.write() as tx, pytest.raises(InvalidScheduleError) as refused:
        cron.create_schedule(
            tx, TYPES, "x", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0, overlap="queue"
        )
    assert (str(refused.value), refused.value.details) == (
        "overlap must be 'skip' or 'allow'",
        [FieldError("overlap", "skip or allow")],
    )


def test_a_second_schedule_with_a_taken_id_is_refused_naming_the_field(db: Database) -> None:
    with db.write() as tx:
        cron.create_schedule(tx, TYPES, "hourly", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        with pytest.raises(InvalidScheduleError) as refused:
            cron.create_schedule(tx, TYPES, "hourly", job_type="daily_sales_report", expression="0 * * * *", now=T0)
    assert (str(refused.value), refused.value.details) == (
        "schedule 'hourly' already exists",
        [FieldError("id", "taken")],
    )


def test_a_schedule_this_worker_cannot_run_is_recorded_as_skipped_and_advanced(db: Database) -> None:
    with db.write() as tx:
        cron.create_schedule(tx, TYPES, "gone", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        tx.execute("UPDATE cron_schedules SET type = 'retired_type' WHERE id = 'gone'")
        with capture_logs() as logs:
            (fired,) = [f for f in cron.tick(tx, TYPES, T0 + timedelta(hours=1)) if f.schedule_id == "gone"]
        runs = tx.all("SELECT outcome, job_id FROM cron_runs WHERE schedule_id = 'gone'")
        schedule = cron.get_schedule(tx, "gone")
    assert fired == cron.Fired("gone", T0 + timedelta(hours=1), None, "skipped")
    assert runs == [("skipped", None)]
    assert schedule.next_run_at == T0 + timedelta(hours=2)
    (failed,) = [log for log in logs if log.get("schedule_id") == "gone"]
    assert failed == {
        "event": "cron.failed",
        "schedule_id": "gone",
        "fire_at": (T0 + timedelta(hours=1)).isoformat(),
        "error": str(failed["error"]),
        "log_level": "error",
        "logger_name": "queue.cron",
    }
    assert "retired_type" in failed["error"]


def test_an_empty_stored_payload_counts_as_an_empty_object(db: Database) -> None:
    with db.write() as tx:
        cron.create_schedule(tx, TYPES, "bare", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        tx.execute("UPDATE cron_schedules SET payload = '' WHERE id = 'bare'")
        with capture_logs() as logs:
            (fired,) = [f for f in cron.tick(tx, TYPES, T0 + timedelta(hours=1)) if f.schedule_id == "bare"]
        payload = tx.scalar("SELECT payload FROM jobs WHERE id = :id", {"id": fired.job_id})
    assert (fired.outcome, payload) == ("enqueued", '{"olderThanDays":null}')
    assert [log for log in logs if log.get("schedule_id") == "bare"] == [
        {
            "event": "cron.enqueued",
            "schedule_id": "bare",
            "fire_at": (T0 + timedelta(hours=1)).isoformat(),
            "job_id": fired.job_id,
            "type": "cleanup_completed_jobs",
            "log_level": "info",
            "logger_name": "queue.cron",
        }
    ]


def test_a_skipped_overlap_is_logged_with_the_unfinished_run(db: Database) -> None:
    """Operators learn of a skipped run from this line alone: the schedule, the tick and the run
    still unfinished."""
    with db.write() as tx:
        cron.create_schedule(tx, TYPES, "hourly", job_type="cleanup_completed_jobs", expression="0 * * * *", now=T0)
        (first,) = [f for f in cron.tick(tx, TYPES, T0 + timedelta(hours=1)) if f.schedule_id == "hourly"]
        with capture_logs() as logs:
            cron.tick(tx, TYPES, T0 + timedelta(hours=2))
    assert [log for log in logs if log["event"] == "cron.skipped"] == [
        {
            "event": "cron.skipped",
            "schedule_id": "hourly",
            "fire_at": (T0 + timedelta(hours=2)).isoformat(),
            "reason": "the previous run is unfinished",
            "previous_job_id": first.job_id,
            "log_level": "warning",
            "logger_name": "queue.cron",
        }
    ]


def test_a_refused_expression_names_the_field_and_cronsims_reason() -> None:
    with pytest.raises(InvalidScheduleError) as refused:
        cron.check_expression("61 * * * *", field="expr")
    (detail,) = refused.value.details
    assert str(refused.value) == f"invalid cron expression '61 * * * *': {detail.message}"
    assert detail.field == "expr"
    assert "minute" in detail.message.lower()

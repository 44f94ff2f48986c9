"""Cron's smaller promises: when the next tick is due, and what a second run-now at one instant says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.db import Database
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

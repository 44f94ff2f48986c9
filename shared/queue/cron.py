"""Recurring jobs without a leader: every worker may tick; each tick fires once.

A tick claims its slot by inserting (schedule, fire time) into `cron_runs` in the same transaction
that enqueues its job, so however many workers tick at the same instant (or a clock jumps back and
forth), the primary key lets exactly one of them through, the way Solid Queue and procrastinate do
it. After downtime the missed ticks of a schedule collapse into one catch-up run: the latest tick
that is due. Expressions are five-field cron (lists, ranges, steps, names) parsed by cronsim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError

from shared.db.tx import Tx
from shared.errors import FieldError, InputError
from shared.logging import get_logger
from shared.queue.errors import EnqueueError, UnknownJobTypeError
from shared.queue.producer import enqueue
from shared.queue.registry import JobTypes

log = get_logger("queue.cron")

COLUMNS = "id, type, payload, cron_expression, last_run_at, next_run_at, is_active, created_at, overlap, last_job_id"
DUE = f"SELECT {COLUMNS} FROM cron_schedules WHERE is_active = 1 AND next_run_at <= :now ORDER BY id"
NEXT_DUE = "SELECT MIN(next_run_at) FROM cron_schedules WHERE is_active = 1"
CLAIM_TICK = (
    "INSERT INTO cron_runs (schedule_id, fire_at, outcome, recorded_at) VALUES (:id, :fire_at, :outcome, :now) "
    "ON CONFLICT (schedule_id, fire_at) DO NOTHING RETURNING schedule_id"
)
RECORD_TICK = "UPDATE cron_runs SET job_id = :job_id, outcome = :outcome WHERE schedule_id = :id AND fire_at = :fire_at"
ADVANCE = (
    "UPDATE cron_schedules SET last_run_at = :fire_at, next_run_at = :next_run_at, "
    "last_job_id = COALESCE(:job_id, last_job_id) WHERE id = :id"
)
UNFINISHED = "SELECT 1 FROM jobs WHERE id = :id AND status IN ('pending', 'processing')"
SET_LAST_JOB = "UPDATE cron_schedules SET last_job_id = :job_id WHERE id = :id"


class InvalidScheduleError(InputError):
    """A cron expression or schedule that cannot be used; nothing was written."""


class ScheduleNotFoundError(InputError):
    pass


@dataclass(frozen=True)
class Schedule:
    id: str
    type: str
    payload: str
    cron_expression: str
    last_run_at: datetime | None
    next_run_at: datetime
    is_active: bool
    created_at: datetime
    overlap: str
    last_job_id: str | None


@dataclass(frozen=True)
class Fired:
    """What one schedule's tick did: `job_id` is None when the run was skipped (overlap)."""

    schedule_id: str
    fire_at: datetime
    job_id: str | None
    outcome: str


def check_expression(expression: str, field: str = "cronExpression") -> str:
    """The expression, stripped, if cronsim accepts it (five fields); InvalidScheduleError otherwise."""
    text = " ".join(expression.split())
    try:
        CronSim(text, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise InvalidScheduleError(
            f"invalid cron expression {expression!r}: {exc}", [FieldError(field, str(exc))]
        ) from exc
    return text


def next_fire(expression: str, after: datetime) -> datetime:
    """The first tick strictly after `after`."""
    fire: datetime = next(CronSim(expression, after))
    return fire


def latest_fire(expression: str, at: datetime) -> datetime:
    """The last tick at or before `at`."""
    fire: datetime = next(CronSim(expression, at + timedelta(microseconds=1), reverse=True))
    return fire


def _schedule(tx: Tx, row: tuple[Any, ...]) -> Schedule:
    return Schedule(
        id=row[0],
        type=row[1],
        payload=row[2],
        cron_expression=row[3],
        last_run_at=tx.dt_or_none(row[4]),
        next_run_at=tx.dt(row[5]),
        is_active=bool(row[6]),
        created_at=tx.dt(row[7]),
        overlap=row[8],
        last_job_id=row[9],
    )


def schedules(tx: Tx) -> list[Schedule]:
    return [_schedule(tx, row) for row in tx.all(f"SELECT {COLUMNS} FROM cron_schedules ORDER BY id")]


def get_schedule(tx: Tx, schedule_id: str) -> Schedule:
    row = tx.one(f"SELECT {COLUMNS} FROM cron_schedules WHERE id = :id", {"id": schedule_id})
    if row is None:
        raise ScheduleNotFoundError(f"schedule {schedule_id!r} not found")
    return _schedule(tx, row)


def next_due_at(tx: Tx) -> datetime | None:
    return tx.dt_or_none(tx.scalar(NEXT_DUE))


def has_due(tx: Tx, now: datetime) -> bool:
    """A read, so an idle worker takes the write lock only when a tick is due."""
    return tx.one(DUE + " LIMIT 1", {"now": tx.ts(now)}) is not None


def tick(tx: Tx, job_types: JobTypes, now: datetime) -> list[Fired]:
    """Fire every due schedule once (in the caller's write transaction)."""
    fired: list[Fired] = []
    for row in tx.all(DUE + tx.backend.skip_locked, {"now": tx.ts(now)}):
        schedule = _schedule(tx, row)
        fire_at = max(latest_fire(schedule.cron_expression, now), schedule.next_run_at)
        with tx.savepoint():
            result = _fire(tx, job_types, schedule, fire_at, now, outcome="enqueued")
            tx.execute(
                ADVANCE,
                {
                    "id": schedule.id,
                    "fire_at": tx.ts(fire_at),
                    "next_run_at": tx.ts(next_fire(schedule.cron_expression, max(now, fire_at))),
                    "job_id": None if result is None else result.job_id,
                },
            )
        if result is not None:
            fired.append(result)
    return fired


def run_now(tx: Tx, job_types: JobTypes, schedule_id: str, now: datetime) -> Fired:
    """An extra run at once, outside the timetable (the timetable is unchanged; overlap applies)."""
    schedule = get_schedule(tx, schedule_id)
    result = _fire(tx, job_types, schedule, now, now, outcome="manual")
    if result is None:
        raise InvalidScheduleError(f"schedule {schedule_id!r} already ran at this instant")
    if result.job_id is not None:
        tx.execute(
            "UPDATE cron_schedules SET last_job_id = :job_id WHERE id = :id",
            {"id": schedule.id, "job_id": result.job_id},
        )
    return result


def _fire(
    tx: Tx, job_types: JobTypes, schedule: Schedule, fire_at: datetime, now: datetime, *, outcome: str
) -> Fired | None:
    """Claim the tick, then enqueue its job unless the previous run is unfinished and overlap is 'skip'.
    None: another worker (or an earlier tick at this instant) already fired it."""
    stamp = tx.ts(fire_at)
    claimed = tx.scalar(CLAIM_TICK, {"id": schedule.id, "fire_at": stamp, "outcome": outcome, "now": tx.ts(now)})
    if claimed is None:
        return None
    if schedule.overlap == "skip" and schedule.last_job_id and tx.one(UNFINISHED, {"id": schedule.last_job_id}):
        tx.execute(RECORD_TICK, {"id": schedule.id, "fire_at": stamp, "job_id": None, "outcome": "skipped"})
        log.warning(
            "cron.skipped",
            schedule_id=schedule.id,
            fire_at=fire_at.isoformat(),
            reason="the previous run is unfinished",
            previous_job_id=schedule.last_job_id,
        )
        return Fired(schedule.id, fire_at, None, "skipped")
    try:
        job_type = job_types.get(schedule.type)
        stored: dict[str, Any] = json.loads(schedule.payload or "{}")
        payload = job_type.scheduled_payload(fire_at, stored) if job_type.scheduled_payload else stored
        job_id = enqueue(tx, job_type, payload, idempotency_key=f"cron:{schedule.id}:{stamp}", clock=lambda: now)
    except (UnknownJobTypeError, EnqueueError, ValueError) as exc:
        # A schedule this worker cannot run (unknown type, bad stored payload): record and move on.
        tx.execute(RECORD_TICK, {"id": schedule.id, "fire_at": stamp, "job_id": None, "outcome": "skipped"})
        log.error("cron.failed", schedule_id=schedule.id, fire_at=fire_at.isoformat(), error=str(exc))
        return Fired(schedule.id, fire_at, None, "skipped")
    tx.execute(RECORD_TICK, {"id": schedule.id, "fire_at": stamp, "job_id": job_id, "outcome": outcome})
    log.info("cron.enqueued", schedule_id=schedule.id, fire_at=fire_at.isoformat(), job_id=job_id, type=schedule.type)
    return Fired(schedule.id, fire_at, job_id, outcome)


def create_schedule(
    tx: Tx,
    job_types: JobTypes,
    schedule_id: str,
    *,
    job_type: str,
    expression: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    overlap: str = "skip",
) -> Schedule:
    """A new recurring job; the expression, the type, the payload and the overlap rule are checked
    before anything is written."""
    text = check_expression(expression)
    kind = job_types.get(job_type)
    stored = payload or {}
    sample = kind.scheduled_payload(now, stored) if kind.scheduled_payload else stored
    kind.validate(sample)
    if overlap not in ("skip", "allow"):
        raise InvalidScheduleError("overlap must be 'skip' or 'allow'", [FieldError("overlap", "skip or allow")])
    inserted = tx.scalar(
        "INSERT INTO cron_schedules (id, type, payload, cron_expression, next_run_at, is_active, created_at, overlap) "
        "VALUES (:id, :type, :payload, :expr, :next, 1, :now, :overlap) ON CONFLICT (id) DO NOTHING RETURNING id",
        {
            "id": schedule_id,
            "type": job_type,
            "payload": json.dumps(stored),
            "expr": text,
            "next": tx.ts(next_fire(text, now)),
            "now": tx.ts(now),
            "overlap": overlap,
        },
    )
    if inserted is None:
        raise InvalidScheduleError(f"schedule {schedule_id!r} already exists", [FieldError("id", "taken")])
    return get_schedule(tx, schedule_id)


def set_active(tx: Tx, schedule_id: str, active: bool, now: datetime) -> Schedule:
    """Pause or resume a schedule; a resumed schedule fires from its next tick, not for the pause."""
    schedule = get_schedule(tx, schedule_id)
    next_run_at = schedule.next_run_at if not active else next_fire(schedule.cron_expression, now)
    tx.execute(
        "UPDATE cron_schedules SET is_active = :active, next_run_at = :next WHERE id = :id",
        {"id": schedule_id, "active": 1 if active else 0, "next": tx.ts(next_run_at)},
    )
    return get_schedule(tx, schedule_id)


def set_expression(tx: Tx, schedule_id: str, expression: str, now: datetime) -> Schedule:
    """Change the timetable (validated); the next run is the new expression's next tick."""
    text = check_expression(expression)
    get_schedule(tx, schedule_id)
    tx.execute(
        "UPDATE cron_schedules SET cron_expression = :expr, next_run_at = :next WHERE id = :id",
        {"id": schedule_id, "expr": text, "next": tx.ts(next_fire(text, now))},
    )
    return get_schedule(tx, schedule_id)

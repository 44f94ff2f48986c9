"""The invariants, read by SQL from the real tables after every step and compared with the model."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from shared.db import Tx
from shared.db.tx import Row
from tests.model.model import (
    COMPLETED,
    CONCURRENCY_LIMITED,
    FAILED,
    PENDING,
    PROCESSING,
    RATED,
    QueueModel,
)

JOB_COLUMNS = (
    "id, type, status, priority, claim_priority, attempts, max_attempts, scheduled_at, idempotency_key, "
    "workflow_id, parent_id, concurrency_key, locked_by, locked_at, completed_at, cancel_requested, claims"
)
STATUS, LOCKED_BY, CLAIMS = 2, 12, 16  # positions in JOB_COLUMNS


def check_jobs(tx: Tx, model: QueueModel) -> list[Row]:
    """Every job as the model has it; returns the rows for the other checks."""
    rows = tx.all(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY seq")
    # Nothing vanishes (but completed jobs by cleanup), nothing appears, and the enqueue order the
    # claims' FIFO relies on is the order in which the jobs were enqueued.
    assert [r[0] for r in rows] == [j.id for j in model.by_order()], "jobs differ from the model's, or their order"
    for row in rows:
        (job_id, kind, status, priority, claim_priority, attempts, max_attempts, scheduled_at, key) = row[:9]
        (workflow, parent, concurrency_key, locked_by, locked_at, completed_at, cancel_requested) = row[9:16]
        job = model.jobs[job_id]
        assert status in ("pending", "processing", "completed", "failed", "cancelled"), row
        expected = (job.type, job.status.value, job.priority, job.claim_priority, job.attempts, job.max_attempts)
        assert (kind, status, priority, claim_priority, attempts, max_attempts) == expected, (row, job)
        assert tx.dt(scheduled_at) == job.scheduled_at, (row, job)
        assert (key, workflow, parent, concurrency_key) == (
            job.idempotency_key,
            job.workflow_id,
            job.parent_id,
            job.concurrency_key,
        ), (row, job)
        assert bool(cancel_requested) == job.cancel_requested, (row, job)
        assert 0 <= attempts <= max_attempts, f"attempts beyond max_attempts: {row}"
        if status == PROCESSING:  # one live lease: its holder and when it last beat
            assert attempts >= 1, row
            assert (locked_by, tx.dt_or_none(locked_at)) == (job.locked_by, job.locked_at), (row, job)
            assert completed_at is None, row
        if status == PENDING:
            assert (locked_by, locked_at, completed_at) == (None, None, None), f"a pending job keeps a lease: {row}"
            assert not cancel_requested, f"a job asked to cancel is waiting to run again: {row}"
        if status == COMPLETED:
            assert tx.dt_or_none(completed_at) == job.completed_at, (row, job)
    return rows


def check_leases(rows: list[Row], model: QueueModel) -> None:
    """At most one claim token in any worker's hands passes the core's fence for a job, and a
    processing job's is the one the model says holds the lease."""
    held = {r[0]: (r[LOCKED_BY], r[CLAIMS]) for r in rows if r[STATUS] == PROCESSING}
    passing: Counter[str] = Counter()
    for _, token in model.tokens():
        if held.get(token.job.id) == (token.job.locked_by, token.job.claims):
            passing[token.job.id] += 1
            assert model.holds(token), f"a token whose lease was lost still passes the fence: {token}"
    assert all(count == 1 for count in passing.values()), f"two live leases on one job: {passing}"
    assert set(passing) == set(held), "a processing job whose lease no worker holds"


def check_limits(tx: Tx, model: QueueModel) -> None:
    running = tx.all(
        "SELECT type, concurrency_key, COUNT(*) FROM jobs WHERE status = 'processing' "
        "AND concurrency_key IS NOT NULL GROUP BY type, concurrency_key"
    )
    for kind, key, count in running:
        most = CONCURRENCY_LIMITED.get(kind)
        assert most is None or count <= most, f"{count} jobs run at once with key {key}"
    rows = tx.all("SELECT limit_key, started_at FROM rate_limit_starts")
    stored = sorted((key, tx.dt(at)) for key, at in rows)
    assert stored == sorted(model.starts), "rate_limit_starts differ from the model's"
    for kind, rate in RATED.items():
        window = timedelta(seconds=rate.per_seconds)
        recorded = [at for key, at in stored if key == kind]
        for history in (recorded, [at for key, at in model.every_start if key == kind]):
            for start in history:
                inside = sum(1 for at in history if start - window < at <= start)
                assert inside <= rate.limit, f"{inside} starts of {kind} within {window} before {start}"


def check_dead_letters(tx: Tx, rows: list[Row], model: QueueModel) -> None:
    """The dead-letter queue as the model has it (learning the ids of new entries); every failed
    job has an entry."""
    jobs = rows
    rows = tx.all("SELECT id, original_job_id, reviewed FROM dead_letter_jobs")
    stored = Counter((job_id, bool(reviewed)) for _, job_id, reviewed in rows)
    expected = Counter((entry.job_id, entry.reviewed) for entry in model.dead)
    assert stored == expected, f"dead letters differ: {stored} != {expected}"
    known = {entry.id for entry in model.dead if entry.id is not None}
    for dead_id, job_id, _ in sorted(rows, key=lambda r: str(r[0])):
        if dead_id in known:
            continue
        entry = next(e for e in model.dead if e.job_id == job_id and e.id is None)
        entry.id = dead_id
    failed = {r[0] for r in jobs if r[STATUS] == FAILED}
    assert failed <= {job_id for _, job_id, _ in rows}, "a failed job without a dead letter"
    assert all(j.status == FAILED for j in model.jobs.values() if j.id in failed)


def check_bookkeeping(tx: Tx, model: QueueModel) -> None:
    failures = {r[0]: r[1] for r in tx.all("SELECT job_id, COUNT(*) FROM job_failures GROUP BY job_id")}
    assert failures == {j.id: j.failures for j in model.jobs.values() if j.failures}, "job_failures differ"
    processed = {r[0] for r in tx.all("SELECT job_id FROM processed_jobs")}
    assert processed == {j.id for j in model.jobs.values() if j.processed}, "processed_jobs differ"
    workers = {r[0]: (tx.dt(r[1]), r[2]) for r in tx.all("SELECT id, last_seen_at, status FROM workers")}
    assert workers == {w: (r.last_seen, r.status) for w, r in model.workers.items()}
    assert {r[0] for r in tx.all("SELECT type FROM queue_pauses")} == model.paused


def check_schedule(tx: Tx, rows: list[Row], model: QueueModel, schedule_id: str) -> None:
    schedule = model.schedule
    if schedule is None:
        return
    row = tx.one("SELECT next_run_at, is_active, last_job_id FROM cron_schedules WHERE id = :id", {"id": schedule_id})
    assert row is not None
    assert (tx.dt(row[0]), bool(row[1]), row[2]) == (schedule.next_run_at, schedule.active, schedule.last_job_id)
    ticks = {tx.dt(r[0]) for r in tx.all("SELECT fire_at FROM cron_runs WHERE schedule_id = :id", {"id": schedule_id})}
    assert ticks == schedule.fired, "cron ticks differ from the model's"
    keys = Counter(r[8] for r in rows if r[8] and r[8].startswith("cron:"))
    assert all(count == 1 for count in keys.values()), f"a cron tick enqueued twice: {keys}"


def check_all(tx: Tx, model: QueueModel, schedule_id: str) -> None:
    rows = check_jobs(tx, model)
    check_leases(rows, model)
    check_limits(tx, model)
    check_dead_letters(tx, rows, model)
    check_bookkeeping(tx, model)
    check_schedule(tx, rows, model, schedule_id)

"""Read queries about the queue, in one place: /health, the worker healthcheck, the order view,
the admin API, metrics and the CLI all ask through these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.db.tx import Tx
from shared.queue.policy import live_since
from shared.queue.status import JobStatus

JOB_COLUMNS = (
    "id, type, payload, status, priority, attempts, max_attempts, last_error, scheduled_at, created_at, "
    "updated_at, completed_at, locked_by, locked_at, seq, idempotency_key, workflow_id, parent_id, started_at"
)


@dataclass(frozen=True)
class JobRow:
    id: str
    type: str
    payload: str
    status: JobStatus
    priority: int
    attempts: int
    max_attempts: int
    last_error: str | None
    scheduled_at: datetime
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    locked_by: str | None
    locked_at: datetime | None
    seq: int
    idempotency_key: str | None
    workflow_id: str | None
    parent_id: str | None
    started_at: datetime | None


def _job(tx: Tx, row: tuple[Any, ...]) -> JobRow:
    return JobRow(
        id=row[0],
        type=row[1],
        payload=row[2],
        status=JobStatus(row[3]),
        priority=row[4],
        attempts=row[5],
        max_attempts=row[6],
        last_error=row[7],
        scheduled_at=tx.dt(row[8]),
        created_at=tx.dt(row[9]),
        updated_at=tx.dt(row[10]),
        completed_at=tx.dt_or_none(row[11]),
        locked_by=row[12],
        locked_at=tx.dt_or_none(row[13]),
        seq=row[14],
        idempotency_key=row[15],
        workflow_id=row[16],
        parent_id=row[17],
        started_at=tx.dt_or_none(row[18]),
    )


def job(tx: Tx, job_id: str) -> JobRow | None:
    row = tx.one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = :id", {"id": job_id})
    return None if row is None else _job(tx, row)


def jobs_in_workflow(tx: Tx, workflow_id: str) -> list[JobRow]:
    """Every job of a workflow (an order's pipeline), in enqueue order."""
    rows = tx.all(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE workflow_id = :workflow ORDER BY seq",
        {"workflow": workflow_id},
    )
    return [_job(tx, row) for row in rows]


@dataclass(frozen=True)
class UnfinishedCounts:
    pending: int  # due now
    scheduled: int  # pending, due later (delayed jobs such as the follow-up email, retries in backoff)
    processing: int


def unfinished_counts(tx: Tx, now: datetime) -> UnfinishedCounts:
    """Unfinished jobs by state (one pass over the status index: status leads idx_jobs_status_scheduled)."""
    rows = tx.all(
        "SELECT CASE WHEN status = 'pending' AND scheduled_at > :now THEN 'scheduled' ELSE status END AS state, "
        "COUNT(*) FROM jobs WHERE status IN ('pending', 'processing') GROUP BY state",
        {"now": tx.ts(now)},
    )
    counts = {state: int(count) for state, count in rows}
    return UnfinishedCounts(counts.get("pending", 0), counts.get("scheduled", 0), counts.get("processing", 0))


def counts_by_type_and_status(tx: Tx) -> list[tuple[str, JobStatus, int]]:
    rows = tx.all("SELECT type, status, COUNT(*) FROM jobs GROUP BY type, status ORDER BY type, status")
    return [(job_type, JobStatus(status), int(count)) for job_type, status, count in rows]


def oldest_pending(tx: Tx, now: datetime) -> datetime | None:
    """When the job that has waited longest became due (None when nothing is due)."""
    return tx.dt_or_none(
        tx.scalar(
            "SELECT MIN(scheduled_at) FROM jobs WHERE status = 'pending' AND scheduled_at <= :now", {"now": tx.ts(now)}
        )
    )


@dataclass(frozen=True)
class WorkerRow:
    id: str
    hostname: str
    pid: int
    status: str
    concurrency: int
    running: int
    started_at: datetime
    last_seen_at: datetime


def live_workers(tx: Tx, now: datetime, heartbeat_seconds: float, *, hostname: str | None = None) -> list[WorkerRow]:
    """Workers that beat within the liveness window (policy.MISSED_BEATS heartbeats), optionally on one host."""
    sql = (
        "SELECT id, hostname, pid, status, concurrency, running, started_at, last_seen_at FROM workers "
        "WHERE status != 'stopped' AND last_seen_at >= :since"
    )
    params: dict[str, Any] = {"since": tx.ts(live_since(now, heartbeat_seconds))}
    if hostname is not None:
        sql += " AND hostname = :hostname"
        params["hostname"] = hostname
    rows = tx.all(sql + " ORDER BY started_at", params)
    return [WorkerRow(r[0], r[1], r[2], r[3], r[4], r[5], tx.dt(r[6]), tx.dt(r[7])) for r in rows]


@dataclass(frozen=True)
class DeadLetterRow:
    id: str
    original_job_id: str
    type: str
    payload: str
    attempts: int
    last_error: str | None
    failed_at: datetime
    reviewed: bool
    notes: str | None


def dead_letters(tx: Tx, *, unreviewed_only: bool = False, limit: int = 100) -> list[DeadLetterRow]:
    where = "WHERE reviewed = 0 " if unreviewed_only else ""
    rows = tx.all(
        "SELECT id, original_job_id, type, payload, attempts, last_error, failed_at, reviewed, notes "
        f"FROM dead_letter_jobs {where}ORDER BY failed_at, id LIMIT :limit",
        {"limit": limit},
    )
    return [DeadLetterRow(r[0], r[1], r[2], r[3], r[4], r[5], tx.dt(r[6]), bool(r[7]), r[8]) for r in rows]


# ---- the operator's view: stats, job and dead-letter browsing ------------------------------------

RATE_WINDOW = timedelta(minutes=5)  # processed and failed per minute: averaged over this


@dataclass(frozen=True)
class LiveWorker:
    worker: WorkerRow
    running: list[tuple[str, str]]  # (job id, type) of what it holds now


@dataclass(frozen=True)
class QueueStats:
    """The course's stats (pending, processing, completed in the last hour, failed, oldest pending,
    unreviewed dead letters, counts by type and status), with jobs due now told apart from jobs
    scheduled for later, rates, and the live workers."""

    pending: int  # due now
    scheduled: int  # pending, but due later (delayed jobs, retries waiting out their backoff)
    processing: int
    completed_last_hour: int
    failed: int
    cancelled: int
    oldest_pending: datetime | None  # when the longest-waiting due job became due
    dead_letter_unreviewed: int
    by_type: list[tuple[str, str, int]]  # (type, status; 'scheduled' apart from 'pending', count)
    processed_per_minute: float
    failed_per_minute: float
    paused_types: list[str]
    workers: list[LiveWorker]


def queue_stats(tx: Tx, now: datetime, heartbeat_seconds: float) -> QueueStats:
    stamp = tx.ts(now)
    by_type: list[tuple[str, str, int]] = []
    totals: dict[str, int] = {}
    rows = tx.all(
        "SELECT type, CASE WHEN status = 'pending' AND scheduled_at > :now THEN 'scheduled' ELSE status END AS state, "
        "COUNT(*) FROM jobs GROUP BY type, state ORDER BY type, state",
        {"now": stamp},
    )
    for job_type, state, count in rows:
        by_type.append((job_type, state, int(count)))
        totals[state] = totals.get(state, 0) + int(count)
    hour_ago, window_start = tx.ts(now - timedelta(hours=1)), tx.ts(now - RATE_WINDOW)
    completed_last_hour = int(
        tx.scalar("SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND completed_at > :since", {"since": hour_ago})
    )
    completed_recently = int(
        tx.scalar(
            "SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND completed_at > :since", {"since": window_start}
        )
    )
    failed_recently = int(
        tx.scalar("SELECT COUNT(*) FROM job_failures WHERE failed_at > :since", {"since": window_start})
    )
    minutes = RATE_WINDOW.total_seconds() / 60
    live = live_workers(tx, now, heartbeat_seconds)
    held: dict[str, list[tuple[str, str]]] = {}
    for job_id, job_type, locked_by in tx.all(
        "SELECT id, type, locked_by FROM jobs WHERE status = 'processing' ORDER BY started_at"
    ):
        held.setdefault(locked_by, []).append((job_id, job_type))
    return QueueStats(
        pending=totals.get("pending", 0),
        scheduled=totals.get("scheduled", 0),
        processing=totals.get(JobStatus.PROCESSING, 0),
        completed_last_hour=completed_last_hour,
        failed=totals.get(JobStatus.FAILED, 0),
        cancelled=totals.get(JobStatus.CANCELLED, 0),
        oldest_pending=oldest_pending(tx, now),
        dead_letter_unreviewed=int(tx.scalar("SELECT COUNT(*) FROM dead_letter_jobs WHERE reviewed = 0")),
        by_type=by_type,
        processed_per_minute=round(completed_recently / minutes, 2),
        failed_per_minute=round(failed_recently / minutes, 2),
        paused_types=[row[0] for row in tx.all("SELECT type FROM queue_pauses ORDER BY type")],
        workers=[LiveWorker(w, held.get(w.id, [])) for w in live],
    )


def throughput(tx: Tx, now: datetime, minutes: int = 60) -> list[tuple[datetime, int, int]]:
    """(minute, completed, failed attempts) for each of the last `minutes` minutes, oldest first."""
    start = (now - timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    params = {"since": tx.ts(start)}
    done = {
        tx.dt(minute): int(count)
        for minute, count in tx.all(
            f"SELECT {tx.backend.minute_of('completed_at')} AS minute, COUNT(*) FROM jobs "
            "WHERE status = 'completed' AND completed_at >= :since GROUP BY minute",
            params,
        )
    }
    failed = {
        tx.dt(minute): int(count)
        for minute, count in tx.all(
            f"SELECT {tx.backend.minute_of('failed_at')} AS minute, COUNT(*) FROM job_failures "
            "WHERE failed_at >= :since GROUP BY minute",
            params,
        )
    }
    buckets = [start + timedelta(minutes=i) for i in range(minutes)]
    return [(minute, done.get(minute, 0), failed.get(minute, 0)) for minute in buckets]


@dataclass(frozen=True)
class JobFilter:
    status: str | None = None  # a JobStatus value, or 'scheduled' (pending, due later)
    type: str | None = None
    workflow_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing, newest first; `next_cursor` fetches the next (older) page."""

    jobs: list[JobRow]
    next_cursor: int | None


def list_jobs(tx: Tx, where: JobFilter, *, limit: int, before_seq: int | None, now: datetime) -> Page:
    clauses: list[str] = []
    params: dict[str, Any] = {"limit": limit + 1}
    if where.status == "scheduled":
        clauses.append("status = 'pending' AND scheduled_at > :now")
        params["now"] = tx.ts(now)
    elif where.status == JobStatus.PENDING:
        clauses.append("status = 'pending' AND scheduled_at <= :now")
        params["now"] = tx.ts(now)
    elif where.status is not None:
        clauses.append("status = :status")
        params["status"] = where.status
    for column, value in (("type", where.type), ("workflow_id", where.workflow_id)):
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if where.created_from is not None:
        clauses.append("created_at >= :created_from")
        params["created_from"] = tx.ts(where.created_from)
    if where.created_to is not None:
        clauses.append("created_at < :created_to")
        params["created_to"] = tx.ts(where.created_to)
    if before_seq is not None:
        clauses.append("seq < :before")
        params["before"] = before_seq
    condition = " AND ".join(clauses) or "1 = 1"
    rows = tx.all(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {condition} ORDER BY seq DESC LIMIT :limit", params)
    found = [_job(tx, row) for row in rows[:limit]]
    return Page(found, found[-1].seq if len(rows) > limit and found else None)


@dataclass(frozen=True)
class Failure:
    attempt: int
    error: str
    outcome: str
    worker_id: str | None
    failed_at: datetime


@dataclass(frozen=True)
class JobDetail:
    """A job, every failed attempt, its dead letters, its children and (if any) its request."""

    job: JobRow
    failures: list[Failure]
    dead_letters: list[DeadLetterRow]
    children: list[JobRow]
    request_id: str | None
    cancel_requested: bool


def job_detail(tx: Tx, job_id: str) -> JobDetail | None:
    found = job(tx, job_id)
    if found is None:
        return None
    failures = [
        Failure(int(r[0]), r[1], r[2], r[3], tx.dt(r[4]))
        for r in tx.all(
            "SELECT attempt, error, outcome, worker_id, failed_at FROM job_failures WHERE job_id = :id ORDER BY id",
            {"id": job_id},
        )
    ]
    extra = tx.one("SELECT request_id, cancel_requested FROM jobs WHERE id = :id", {"id": job_id}) or (None, 0)
    children = [
        _job(tx, row)
        for row in tx.all(f"SELECT {JOB_COLUMNS} FROM jobs WHERE parent_id = :id ORDER BY seq", {"id": job_id})
    ]
    letters = [
        _dead_letter(tx, row)
        for row in tx.all(
            f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letter_jobs WHERE original_job_id = :id ORDER BY failed_at",
            {"id": job_id},
        )
    ]
    return JobDetail(found, failures, letters, children, extra[0], bool(extra[1]))


@dataclass(frozen=True)
class DeadLetterFilter:
    type: str | None = None
    error_contains: str | None = None
    failed_from: datetime | None = None
    failed_to: datetime | None = None
    reviewed: bool | None = False  # None: reviewed or not


def _dead_letter_where(tx: Tx, where: DeadLetterFilter, params: dict[str, Any]) -> str:
    clauses = []
    if where.reviewed is not None:
        clauses.append("reviewed = :reviewed")
        params["reviewed"] = 1 if where.reviewed else 0
    if where.type is not None:
        clauses.append("type = :type")
        params["type"] = where.type
    if where.error_contains:
        clauses.append("LOWER(last_error) LIKE :error ESCAPE '!'")
        escaped = where.error_contains.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        params["error"] = f"%{escaped}%"
    if where.failed_from is not None:
        clauses.append("failed_at >= :failed_from")
        params["failed_from"] = tx.ts(where.failed_from)
    if where.failed_to is not None:
        clauses.append("failed_at < :failed_to")
        params["failed_to"] = tx.ts(where.failed_to)
    return " AND ".join(clauses) or "1 = 1"


DEAD_LETTER_COLUMNS = "id, original_job_id, type, payload, attempts, last_error, failed_at, reviewed, notes"


def _dead_letter(tx: Tx, r: tuple[Any, ...]) -> DeadLetterRow:
    return DeadLetterRow(r[0], r[1], r[2], r[3], r[4], r[5], tx.dt(r[6]), bool(r[7]), r[8])


@dataclass(frozen=True)
class DeadLetterPage:
    entries: list[DeadLetterRow]
    next_cursor: tuple[datetime, str] | None  # (failed_at, id) of the last entry when more follow


def list_dead_letters(
    tx: Tx, where: DeadLetterFilter, *, limit: int, before: tuple[datetime, str] | None = None
) -> DeadLetterPage:
    params: dict[str, Any] = {"limit": limit + 1}
    condition = _dead_letter_where(tx, where, params)
    if before is not None:
        condition += " AND (failed_at < :before_at OR (failed_at = :before_at AND id < :before_id))"
        params.update(before_at=tx.ts(before[0]), before_id=before[1])
    rows = tx.all(
        f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letter_jobs WHERE {condition} "
        "ORDER BY failed_at DESC, id DESC LIMIT :limit",
        params,
    )
    entries = [_dead_letter(tx, row) for row in rows[:limit]]
    cursor = (entries[-1].failed_at, entries[-1].id) if len(rows) > limit and entries else None
    return DeadLetterPage(entries, cursor)


def dead_letter_ids(tx: Tx, where: DeadLetterFilter, *, limit: int) -> list[str]:
    """Ids of the entries a bulk action by filter applies to, oldest first."""
    params: dict[str, Any] = {"limit": limit}
    condition = _dead_letter_where(tx, where, params)
    sql = f"SELECT id FROM dead_letter_jobs WHERE {condition} ORDER BY failed_at, id LIMIT :limit"
    return [row[0] for row in tx.all(sql, params)]


@dataclass(frozen=True)
class TypeSummary:
    """One job type as the queues view shows it: due, scheduled and running jobs, and whether paused."""

    type: str
    pending: int
    scheduled: int
    processing: int
    paused: bool


def type_summaries(tx: Tx, known_types: list[str], now: datetime) -> list[TypeSummary]:
    """Every known type (and any other type with unfinished jobs), with its unfinished counts."""
    counts: dict[str, dict[str, int]] = {name: {} for name in known_types}
    for job_type, state, count in tx.all(
        "SELECT type, CASE WHEN status = 'pending' AND scheduled_at > :now THEN 'scheduled' ELSE status END AS state, "
        "COUNT(*) FROM jobs WHERE status IN ('pending', 'processing') GROUP BY type, state",
        {"now": tx.ts(now)},
    ):
        counts.setdefault(job_type, {})[state] = int(count)
    paused = {row[0] for row in tx.all("SELECT type FROM queue_pauses")}
    return [
        TypeSummary(name, c.get("pending", 0), c.get("scheduled", 0), c.get("processing", 0), name in paused)
        for name, c in sorted((name, counts.get(name, {})) for name in set(counts) | paused)
    ]


def dead_letter(tx: Tx, dead_id: str) -> DeadLetterRow | None:
    """One dead-letter entry by id (what an operator's action on it leaves behind)."""
    row = tx.one(f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letter_jobs WHERE id = :id", {"id": dead_id})
    return None if row is None else _dead_letter(tx, row)


def unfinished_with_key(tx: Tx, idempotency_key: str) -> str | None:
    """The id of the unfinished job holding this idempotency key (an enqueue with it inserts nothing)."""
    found = tx.scalar(
        "SELECT id FROM jobs WHERE idempotency_key = :key AND status IN ('pending', 'processing')",
        {"key": idempotency_key},
    )
    return None if found is None else str(found)

"""Every statement the worker runs on the queue, each inside a short write transaction.

Every write on a claimed job is fenced on (id, locked_by, claims, status='processing'): a worker
that lost its lease (rescued, then claimed again, elsewhere or by itself) cannot change anything.
`claims` counts the job's claims, so it names one; attempts would not (a hand-back gives the attempt
back, a dead-letter retry starts the count again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import msgspec

from shared.db.tx import Tx
from shared.ids import new_id
from shared.logging import get_logger
from shared.queue.context import ClaimedJob, Completion
from shared.queue.limits import FlowLimits, RateLimit
from shared.queue.policy import DeadLetter, QueuePolicy, Retry
from shared.queue.producer import enqueue

log = get_logger("queue")

_HELD = "id = :id AND locked_by = :worker AND claims = :claims AND status = 'processing'"
# An attempt that ends without success never sends a job an operator asked to cancel back to the
# queue (nor to the dead-letter queue): it ends cancelled instead (STOP_ON_REQUEST).
_NOT_ASKED_TO_CANCEL = f"{_HELD} AND cancel_requested = 0"
COMPLETE = f"UPDATE jobs SET status = 'completed', completed_at = :now, updated_at = :now WHERE {_HELD}"

RETRY = (
    "UPDATE jobs SET status = 'pending', last_error = :error, scheduled_at = :run_at, locked_by = NULL, "
    f"locked_at = NULL, updated_at = :now WHERE {_NOT_ASKED_TO_CANCEL}"
)
FAIL = f"UPDATE jobs SET status = 'failed', last_error = :error, updated_at = :now WHERE {_NOT_ASKED_TO_CANCEL}"
CANCEL = (
    "UPDATE jobs SET status = 'cancelled', last_error = :error, locked_by = NULL, locked_at = NULL, "
    f"updated_at = :now WHERE {_HELD}"
)
STOP_ON_REQUEST = f"{CANCEL} AND cancel_requested = 1"
HAND_BACK = (
    "UPDATE jobs SET status = 'pending', attempts = attempts - 1, locked_by = NULL, locked_at = NULL, "
    f"updated_at = :now WHERE {_NOT_ASKED_TO_CANCEL}"
)
RECORD_PROCESSED = (
    "INSERT INTO processed_jobs (job_id, idempotency_key, type, processed_at) "
    "VALUES (:job_id, :key, :type, :now) ON CONFLICT DO NOTHING"
)
RECORD_FAILURE = (
    "INSERT INTO job_failures (job_id, attempt, error, outcome, worker_id, failed_at) "
    "VALUES (:id, :attempts, :error, :outcome, :worker, :now)"
)
FILE_DEAD_LETTER = (
    "INSERT INTO dead_letter_jobs (id, original_job_id, type, payload, attempts, last_error, failed_at, reviewed) "
    "VALUES (:dead_id, :id, :type, :payload, :attempts, :error, :now, 0)"
)
REFRESH = "UPDATE jobs SET locked_at = :now WHERE locked_by = :worker AND status = 'processing'"
CANCEL_REQUESTS = "SELECT id FROM jobs WHERE locked_by = :worker AND status = 'processing' AND cancel_requested = 1"
HAS_DUE = "SELECT 1 FROM jobs WHERE status = 'pending' AND scheduled_at <= :now LIMIT 1"
NEXT_DUE = "SELECT MIN(scheduled_at) FROM jobs WHERE status = 'pending'"
ALREADY_DONE = "SELECT idempotency_key FROM processed_jobs WHERE idempotency_key IN (SELECT value FROM {ids})"
# A job has no live owner when its lease ran out, or when the worker holding it stopped beating
# (killed) or has stopped: rescued at once, without waiting for the lease.
# The rescuer's own jobs never are: it is running them.
_ORPHANED = (
    "status = 'processing' AND locked_by != :rescuer AND (locked_at < :lease_cutoff OR locked_by IN "
    "(SELECT id FROM workers WHERE last_seen_at < :live_cutoff OR status = 'stopped'))"
)
ORPHANED = (
    f"SELECT id, type, payload, attempts, max_attempts, locked_by, workflow_id, claims FROM jobs WHERE {_ORPHANED}"
)
HAS_ORPHANS = f"SELECT 1 FROM jobs WHERE {_ORPHANED} LIMIT 1"
LEASE_LOST = "lease expired: the worker stopped heartbeating (crashed or stalled)"


class Kind(Enum):
    COMPLETED = "completed"
    FAILED = "failed"  # an attempt failed: the policy decides retry or dead letter
    DEAD = "dead"  # retrying cannot help: dead letter at once
    CANCELLED = "cancelled"
    HANDED_BACK = "handed_back"


@dataclass(slots=True)
class Outcome:
    job: ClaimedJob
    kind: Kind
    error: str | None = None
    completion: Completion | None = None
    duration: float | None = None  # wall time of the run, for logs and metrics


@dataclass(slots=True)
class Settled:
    """What a settle did to one job: `applied` is None when the worker no longer held it."""

    outcome: Outcome
    applied: Kind | None
    retry_delay: float | None = None
    error: str | None = None


PAUSED = "SELECT type FROM queue_pauses"
RATE_WINDOW = "SELECT COUNT(*), MIN(started_at) FROM rate_limit_starts WHERE limit_key = :key AND started_at > :since"
RECORD_START = "INSERT INTO rate_limit_starts (limit_key, started_at, job_id) VALUES (:key, :now, :job_id)"
RUNNING_WITH_KEY = "SELECT COUNT(*) FROM jobs WHERE status = 'processing' AND concurrency_key = :key"
EXCLUDE_TYPES = " AND type NOT IN (SELECT value FROM {types})"
EXCLUDE_KEYS = " AND (concurrency_key IS NULL OR concurrency_key NOT IN (SELECT value FROM {keys}))"
CLAIM_PASSES = 3  # a pass that skips held-back jobs looks again past them, at most this often
NO_LIMITS = FlowLimits({}, {})


@dataclass(frozen=True)
class Claim:
    """Jobs claimed, the types a rate limit held back, and the earliest moment one of them gets a
    free slot (when the worker should look again)."""

    jobs: list[ClaimedJob]
    rate_limited: frozenset[str] = frozenset()
    wake_at: datetime | None = None


class _Gate:
    """The limits of one claim: each rate window and running count is read once, then tracked."""

    def __init__(self, tx: Tx, limits: FlowLimits, now: datetime, paused: set[str]) -> None:
        self.tx, self.limits, self.now = tx, limits, now
        self.excluded_types = set(paused)
        self.rate_limited: set[str] = set()
        self.blocked_keys: set[str] = set()
        self.allowance: dict[str, int] = {}
        self.oldest_start: dict[str, datetime] = {}  # per rate-limited type: its window's first start
        self.running: dict[str, int] = {}
        self.wake_at: datetime | None = None

    def admit(self, job_type: str, key: str | None) -> bool:
        rate = self.limits.rates.get(job_type)
        if rate is not None and self._allowance(job_type, rate) <= 0:
            self.excluded_types.add(job_type)
            self.rate_limited.add(job_type)
            return False
        most = self.limits.concurrency.get(job_type)
        if key is not None and most is not None:
            if key not in self.running:
                self.tx.backend.serialize(self.tx, f"concurrency:{key}")
                self.running[key] = int(self.tx.scalar(RUNNING_WITH_KEY, {"key": key}))
            if self.running[key] >= most:
                self.blocked_keys.add(key)
                return False
            self.running[key] += 1
        if rate is not None:
            self.allowance[job_type] -= 1
            if self.allowance[job_type] <= 0:
                # This claim filled the window: the type is held back from here on, and wakes
                # when the window's oldest start (one of this claim's, if it was empty) leaves it.
                self.excluded_types.add(job_type)
                self.rate_limited.add(job_type)
                self._wake_when_window_frees(job_type, rate)
        return True

    def _allowance(self, job_type: str, rate: RateLimit) -> int:
        if job_type not in self.allowance:
            self.tx.backend.serialize(self.tx, f"rate:{job_type}")
            since = self.now - timedelta(seconds=rate.per_seconds)
            used, oldest = self.tx.one(RATE_WINDOW, {"key": job_type, "since": self.tx.ts(since)}) or (0, None)
            self.allowance[job_type] = rate.limit - int(used)
            self.oldest_start[job_type] = self.now if oldest is None else self.tx.dt(oldest)
            if self.allowance[job_type] <= 0:
                self._wake_when_window_frees(job_type, rate)
        return self.allowance[job_type]

    def _wake_when_window_frees(self, job_type: str, rate: RateLimit) -> None:
        frees = self.oldest_start[job_type] + timedelta(seconds=rate.per_seconds)
        self.wake_at = frees if self.wake_at is None else min(self.wake_at, frees)

    def exclusions(self, params: dict[str, Any]) -> str:
        clause = ""
        if self.excluded_types:
            clause += EXCLUDE_TYPES.format(types=self.tx.list_table("excluded_types"))
            params["excluded_types"] = self.tx.list_param(sorted(self.excluded_types))
        if self.blocked_keys:
            clause += EXCLUDE_KEYS.format(keys=self.tx.list_table("blocked_keys"))
            params["blocked_keys"] = self.tx.list_param(sorted(self.blocked_keys))
        return clause


def claim(tx: Tx, worker_id: str, limit: int, now: datetime, *, limits: FlowLimits = NO_LIMITS) -> Claim:
    """Claim up to `limit` due jobs: highest (claim) priority, then oldest, then FIFO, skipping
    paused types and jobs a rate or concurrency limit holds back."""
    if limit <= 0:
        return Claim([])
    gate = _Gate(tx, limits, now, {row[0] for row in tx.all(PAUSED)})
    claimed: list[ClaimedJob] = []
    for _ in range(CLAIM_PASSES):
        params: dict[str, Any] = {"now": tx.ts(now), "limit": limit - len(claimed)}
        rows = tx.all(tx.backend.claim_candidates.format(exclude=gate.exclusions(params)), params)
        admitted = [row for row in rows if limits.empty or gate.admit(row[1], row[10])]
        if admitted:
            tx.execute(
                tx.backend.claim_update,
                {"worker": worker_id, "now": tx.ts(now), "ids": tx.list_param([row[0] for row in admitted])},
            )
            limited = [row for row in admitted if row[1] in limits.rates]
            tx.executemany(RECORD_START, [{"key": r[1], "now": tx.ts(now), "job_id": r[0]} for r in limited])
            claimed.extend(_claimed(tx, row, worker_id, now) for row in admitted)
        if len(admitted) == len(rows) or len(claimed) >= limit:
            break  # nothing was held back, or the batch is full: no need to look further
    return Claim(claimed, frozenset(gate.rate_limited), gate.wake_at)


def _claimed(tx: Tx, row: tuple[Any, ...], worker_id: str, now: datetime) -> ClaimedJob:
    return ClaimedJob(
        id=row[0],
        type=row[1],
        payload=row[2],
        priority=row[3],
        attempts=row[4] + 1,
        max_attempts=row[5],
        scheduled_at=tx.dt(row[6]),
        seq=row[7],
        workflow_id=row[8],
        parent_id=row[9],
        concurrency_key=row[10],
        locked_by=worker_id,
        started_at=now,
        request_id=row[11],
        claims=row[12] + 1,
    )


def settle(tx: Tx, outcomes: Sequence[Outcome], now: datetime, policy: QueuePolicy) -> list[Settled]:
    """Apply finished jobs' outcomes in the caller's transaction, each fenced on its claim; the
    results come back in the outcomes' order.

    Plain completions go in one statement. A completion that carries work (children, hooks) runs
    in a savepoint: if that work fails, only this job's completion is undone and the job counts a
    failed attempt instead.
    """
    stamp = tx.ts(now)
    processed: list[dict[str, Any]] = []
    plain = [o for o in outcomes if o.kind is Kind.COMPLETED and not _carries_work(o.completion)]
    settled = {id(result.outcome): result for result in _complete_plain(tx, plain, stamp, processed)} if plain else {}
    for outcome in outcomes:
        if id(outcome) in settled:
            continue
        job = outcome.job
        held = {"id": job.id, "worker": job.locked_by, "claims": job.claims, "attempts": job.attempts, "now": stamp}
        result: Settled
        if outcome.kind is Kind.COMPLETED:
            result = _complete_with_work(tx, outcome, held, now=now, policy=policy, processed=processed)
        elif outcome.kind is Kind.FAILED:
            result = _fail(tx, outcome, held, error=outcome.error or "failed", now=now, policy=policy)
        elif outcome.kind is Kind.DEAD:
            result = _dead_letter(tx, outcome, held, outcome.error or "failed")
        elif outcome.kind is Kind.CANCELLED:
            done = tx.rowcount(CANCEL, {**held, "error": outcome.error or "cancelled"}) == 1
            result = Settled(outcome, Kind.CANCELLED if done else None)
        elif tx.rowcount(HAND_BACK, held) == 1:
            result = Settled(outcome, Kind.HANDED_BACK)
        else:
            result = _stop_on_request(tx, outcome, held, "handed back at shutdown")
        settled[id(outcome)] = result
    tx.executemany(RECORD_PROCESSED, processed)
    return [settled[id(outcome)] for outcome in outcomes]


def _carries_work(completion: Completion | None) -> bool:
    return completion is not None and bool(completion.children or completion.hooks)


def _complete_plain(tx: Tx, outcomes: list[Outcome], stamp: Any, processed: list[dict[str, Any]]) -> list[Settled]:
    """The fast path: completions with nothing to commit beside them but their step key, one
    statement per worker (a batch normally holds one worker's jobs)."""
    applied: set[str] = set()
    by_worker: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_worker.setdefault(outcome.job.locked_by, []).append(outcome)
    for worker, group in by_worker.items():
        records = msgspec.json.encode([{"id": o.job.id, "claims": o.job.claims} for o in group]).decode()
        rows = tx.all(tx.backend.complete_many, {"now": stamp, "worker": worker, "held": records})
        applied.update(row[0] for row in rows)
    results = []
    for outcome in outcomes:
        done = outcome.job.id in applied
        completion = outcome.completion
        if done and completion is not None and completion.processed_key is not None:
            processed.append(
                {"job_id": outcome.job.id, "key": completion.processed_key, "type": outcome.job.type, "now": stamp}
            )
        results.append(Settled(outcome, Kind.COMPLETED if done else None))
    return results


def _complete_with_work(
    tx: Tx,
    outcome: Outcome,
    held: dict[str, Any],
    *,
    now: datetime,
    policy: QueuePolicy,
    processed: list[dict[str, Any]],
) -> Settled:
    job, completion = outcome.job, outcome.completion
    assert completion is not None  # noqa: S101 - only completions that carry work come here
    try:
        with tx.savepoint():
            if tx.rowcount(COMPLETE, held) != 1:
                return Settled(outcome, None)
            for child in completion.children:
                enqueue(
                    tx,
                    child.job_type,
                    child.payload,
                    delay=child.delay,
                    idempotency_key=child.idempotency_key,
                    workflow_id=job.workflow_id,
                    parent_id=job.id,
                    request_id=job.request_id,
                    clock=lambda: now,
                )
            for hook in completion.hooks:
                hook(tx)
    except Exception as exc:  # the job's own follow-up work failed: an attempt failed
        error = f"completion failed: {type(exc).__name__}: {exc}"
        return _fail(tx, outcome, held, error=error, now=now, policy=policy)
    if completion.processed_key is not None:
        processed.append({"job_id": job.id, "key": completion.processed_key, "type": job.type, "now": held["now"]})
    return Settled(outcome, Kind.COMPLETED)


def _fail(tx: Tx, outcome: Outcome, held: dict[str, Any], *, error: str, now: datetime, policy: QueuePolicy) -> Settled:
    job = outcome.job
    decision = policy.after_failure(job.attempts, job.max_attempts, now)
    if isinstance(decision, DeadLetter):
        return _dead_letter(tx, outcome, held, error)
    assert isinstance(decision, Retry)  # noqa: S101 - the two decisions
    if tx.rowcount(RETRY, {**held, "error": error, "run_at": tx.ts(decision.run_at)}) != 1:
        return _stop_on_request(tx, outcome, held, error)
    tx.execute(RECORD_FAILURE, {**held, "error": error, "outcome": "retried"})
    return Settled(outcome, Kind.FAILED, retry_delay=decision.delay, error=error)


def _dead_letter(tx: Tx, outcome: Outcome, held: dict[str, Any], error: str) -> Settled:
    """Fail the job for good and file it in the dead-letter queue, in the same transaction."""
    job = outcome.job
    if tx.rowcount(FAIL, {**held, "error": error}) != 1:
        return _stop_on_request(tx, outcome, held, error)
    row = {**held, "error": error, "dead_id": new_id(), "type": job.type, "payload": job.payload}
    tx.execute(FILE_DEAD_LETTER, row)
    tx.execute(RECORD_FAILURE, {**held, "error": error, "outcome": "dead_lettered"})
    return Settled(outcome, Kind.DEAD, error=error)


def _stop_on_request(tx: Tx, outcome: Outcome, held: dict[str, Any], ended: str) -> Settled:
    """The attempt ended without success on a job an operator asked to cancel: cancelled, if the
    worker still holds it (None otherwise)."""
    error = f"cancelled on request (the attempt ended: {ended})"
    if tx.rowcount(STOP_ON_REQUEST, {**held, "error": error}) != 1:
        return Settled(outcome, None, error=ended)
    return Settled(outcome, Kind.CANCELLED, error=error)


def refresh_locks(tx: Tx, worker_id: str, now: datetime) -> int:
    """Heartbeat: push `locked_at` forward on every job this worker holds."""
    return tx.rowcount(REFRESH, {"worker": worker_id, "now": tx.ts(now)})


def cancel_requests(tx: Tx, worker_id: str) -> list[str]:
    return [row[0] for row in tx.all(CANCEL_REQUESTS, {"worker": worker_id})]


def has_due_work(
    tx: Tx, now: datetime, *, except_types: frozenset[str] = frozenset(), except_paused: bool = False
) -> bool:
    """A cheap read (no write lock) to decide whether claiming is worth a write transaction; jobs of
    `except_types` (out of rate at the last claim) and, if asked, of paused types do not count."""
    excluded = set(except_types)
    if except_paused:
        excluded.update(row[0] for row in tx.all(PAUSED))
    if not excluded:
        return tx.one(HAS_DUE, {"now": tx.ts(now)}) is not None
    sql = HAS_DUE.replace(" LIMIT 1", EXCLUDE_TYPES.format(types=tx.list_table("excluded_types")) + " LIMIT 1")
    return tx.one(sql, {"now": tx.ts(now), "excluded_types": tx.list_param(sorted(excluded))}) is not None


def next_due_at(tx: Tx) -> datetime | None:
    return tx.dt_or_none(tx.scalar(NEXT_DUE))


def already_done(tx: Tx, keys: list[str]) -> set[str]:
    """Which of these step keys a completed job recorded."""
    return {row[0] for row in tx.all(ALREADY_DONE.format(ids=tx.list_table("keys")), {"keys": tx.list_param(keys)})}


REQUEUED, DEAD_LETTERED, CANCELLED = "requeued", "dead_lettered", "cancelled"


@dataclass(frozen=True)
class RescuedJob:
    """One job taken back from a worker presumed dead: what its log line and metrics need."""

    id: str
    type: str
    attempt: int  # the attempt that was lost
    workflow_id: str | None
    lost_worker: str
    outcome: str  # REQUEUED, DEAD_LETTERED (that was its last attempt) or CANCELLED (an operator asked)


@dataclass(frozen=True)
class Rescue:
    jobs: list[RescuedJob]

    def _with(self, outcome: str) -> list[str]:
        return [job.id for job in self.jobs if job.outcome == outcome]

    @property
    def requeued(self) -> list[str]:
        return self._with(REQUEUED)

    @property
    def dead(self) -> list[str]:
        return self._with(DEAD_LETTERED)

    @property
    def cancelled(self) -> list[str]:
        return self._with(CANCELLED)


def _orphan_params(tx: Tx, now: datetime, policy: QueuePolicy, rescuer: str, trust_beats: bool) -> dict[str, Any]:
    """Without trust in missed beats, a worker counts as dead only once unseen for a whole lease."""
    live_cutoff = policy.liveness_cutoff(now) if trust_beats else policy.lease_cutoff(now)
    return {"lease_cutoff": tx.ts(policy.lease_cutoff(now)), "live_cutoff": tx.ts(live_cutoff), "rescuer": rescuer}


def has_orphans(tx: Tx, now: datetime, policy: QueuePolicy, *, rescuer: str = "", trust_beats: bool = True) -> bool:
    """A read, so an idle worker takes the write lock only when there is something to rescue."""
    return tx.one(HAS_ORPHANS, _orphan_params(tx, now, policy, rescuer, trust_beats)) is not None


def rescue(tx: Tx, now: datetime, policy: QueuePolicy, *, rescuer: str = "", trust_beats: bool = True) -> Rescue:
    """Jobs with no live owner go back to pending (the attempt stays counted), or to the
    dead-letter queue when that was their last attempt, or end cancelled if an operator asked.
    `rescuer`: the worker rescuing, whose own jobs are left alone; `trust_beats`: whether missed
    heartbeats count (QueuePolicy.trusts_missed_beats), or only the lease."""
    taken: list[RescuedJob] = []
    stamp = tx.ts(now)
    for job_id, job_type, payload, attempts, max_attempts, locked_by, workflow_id, claims in tx.all(
        ORPHANED, _orphan_params(tx, now, policy, rescuer, trust_beats)
    ):
        held = {
            "id": job_id,
            "worker": locked_by,
            "claims": claims,
            "attempts": attempts,
            "now": stamp,
            "error": LEASE_LOST,
        }
        if attempts >= max_attempts and tx.rowcount(FAIL, held) == 1:
            tx.execute(FILE_DEAD_LETTER, {**held, "dead_id": new_id(), "type": job_type, "payload": payload})
            tx.execute(RECORD_FAILURE, {**held, "outcome": "dead_lettered"})
            outcome = DEAD_LETTERED
        elif attempts < max_attempts and tx.rowcount(RETRY, {**held, "run_at": stamp}) == 1:
            tx.execute(RECORD_FAILURE, {**held, "outcome": "rescued"})
            outcome = REQUEUED
        elif tx.rowcount(STOP_ON_REQUEST, {**held, "error": f"cancelled on request ({LEASE_LOST})"}) == 1:
            outcome = CANCELLED
        else:
            continue
        taken.append(RescuedJob(job_id, job_type, attempts, workflow_id, locked_by, outcome))
    return Rescue(taken)

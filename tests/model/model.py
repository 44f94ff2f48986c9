"""A plain-Python model of the queue: what the core must do at each step, with no database.

It is written from the queue's documented semantics (README "How the worker behaves", design.md §5),
not from the core's SQL, so that the two can disagree. A lease is modelled by its own identity (the
number of the claim that took it): a worker's claim token is good for that claim and no other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.queue.context import ClaimedJob
from shared.queue.status import JobStatus
from tests.model.jobs import CONCURRENCY, RATE

PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED = (
    JobStatus.PENDING,
    JobStatus.PROCESSING,
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)
UNFINISHED = (PENDING, PROCESSING)

LEASE = timedelta(seconds=60)
HEARTBEAT = timedelta(seconds=5)
MISSED_BEATS = 3  # a worker that has not beaten for three periods is dead
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 60.0
AGING = timedelta(seconds=30)
LEVELS = (0, 5, 10, 20)  # LOW, NORMAL, HIGH, CRITICAL: aging climbs these
RATED = {"model_rated": RATE}
CONCURRENCY_LIMITED = {"model_keyed": CONCURRENCY}
WORKER_RECORD_TTL = timedelta(days=1)
CRON_RUNS_KEPT = timedelta(days=31)
RATE_STARTS_KEPT = timedelta(seconds=max(RATE.per_seconds, 60.0))
CRON_STEP = timedelta(minutes=5)  # the model's schedule: */5 * * * *


@dataclass
class Job:
    id: str
    type: str
    order: int  # enqueue order, as the model saw the enqueues happen
    priority: int
    max_attempts: int
    scheduled_at: datetime
    idempotency_key: str | None = None
    workflow_id: str | None = None
    parent_id: str | None = None
    concurrency_key: str | None = None
    status: JobStatus = PENDING
    claim_priority: int = 0
    aged_at: datetime | None = None
    attempts: int = 0
    claim: int | None = None  # the claim that holds the lease, while processing
    locked_by: str | None = None
    locked_at: datetime | None = None
    completed_at: datetime | None = None
    cancel_requested: bool = False
    failures: int = 0  # rows in job_failures: retries, rescues, dead letters
    processed: bool = False  # its completion recorded a step in processed_jobs

    def rank(self) -> tuple[int, datetime, int]:
        """Claim order: claim priority (raised by aging), then scheduled time, then FIFO."""
        return (-self.claim_priority, self.scheduled_at, self.order)


@dataclass(frozen=True)
class Token:
    """What a worker got from one claim: the core's ClaimedJob and the model's claim number."""

    job: ClaimedJob
    claim: int


@dataclass
class DeadEntry:
    job_id: str
    reviewed: bool = False
    id: str | None = None  # learnt from the database once the core has filed it


@dataclass
class WorkerRecord:
    last_seen: datetime
    status: str = "running"


@dataclass
class Schedule:
    overlap: str
    next_run_at: datetime
    active: bool = True
    last_job_id: str | None = None
    fired: set[datetime] = field(default_factory=set)


def latest_tick(moment: datetime) -> datetime:
    """The last */5 tick at or before `moment`."""
    floor = moment.replace(second=0, microsecond=0)
    return floor - timedelta(minutes=floor.minute % 5)


def next_tick(after: datetime) -> datetime:
    """The first */5 tick strictly after `after`."""
    return latest_tick(after) + CRON_STEP


def backoff_bounds(attempt: int) -> tuple[float, float]:
    """A retry after failed attempt `attempt` waits between half and all of its doubling step."""
    step = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2.0 ** (attempt - 1))
    return step / 2, step


class QueueModel:
    def __init__(self, now: datetime, workers: Iterable[str]) -> None:
        self.now = now
        self.high_water = now  # the latest the clock has been
        self.jobs: dict[str, Job] = {}
        self.orders = 0
        self.claims = 0
        self.paused: set[str] = set()
        self.starts: list[tuple[str, datetime]] = []  # rate_limit_starts as the core keeps them
        self.every_start: list[tuple[str, datetime]] = []  # never pruned: the rate limit's history
        self.workers = {worker: WorkerRecord(now) for worker in workers}
        self.held: dict[str, list[Token]] = {worker: [] for worker in workers}
        self.dead: list[DeadEntry] = []
        self.schedule: Schedule | None = None

    # ---- enqueue -----------------------------------------------------------------------------

    def holder_of(self, key: str | None) -> Job | None:
        """The unfinished job holding an idempotency key, if any (unique enqueue)."""
        if key is None:
            return None
        return next((j for j in self.jobs.values() if j.idempotency_key == key and j.status in UNFINISHED), None)

    def add(self, job: Job) -> Job:
        self.orders += 1
        job.order = self.orders
        job.claim_priority = job.priority
        self.jobs[job.id] = job
        return job

    def by_order(self) -> list[Job]:
        return sorted(self.jobs.values(), key=lambda j: j.order)

    # ---- claims ------------------------------------------------------------------------------

    def eligible(self) -> list[Job]:
        """Due pending jobs of types not paused, in claim order."""
        due = [
            j
            for j in self.jobs.values()
            if j.status == PENDING and j.scheduled_at <= self.now and j.type not in self.paused
        ]
        return sorted(due, key=Job.rank)

    def running_with_key(self, key: str) -> int:
        return sum(1 for j in self.jobs.values() if j.status == PROCESSING and j.concurrency_key == key)

    def starts_in_window(self, job_type: str) -> int:
        rate = RATED[job_type]
        since = self.now - timedelta(seconds=rate.per_seconds)
        return sum(1 for kind, at in self.starts if kind == job_type and at > since)

    def blocked(self, job: Job) -> bool:
        """Would a limit hold this job back if it were claimed now?"""
        rate = RATED.get(job.type)
        if rate is not None and self.starts_in_window(job.type) >= rate.limit:
            return True
        most = CONCURRENCY_LIMITED.get(job.type)
        key = job.concurrency_key
        return key is not None and most is not None and self.running_with_key(key) >= most

    def claim(self, worker: str, claimed: ClaimedJob) -> Token:
        job = self.jobs[claimed.id]
        self.claims += 1
        job.status, job.claim, job.locked_by, job.locked_at = PROCESSING, self.claims, worker, self.now
        job.attempts += 1
        if job.type in RATED:
            self.starts.append((job.type, self.now))
            self.every_start.append((job.type, self.now))
        token = Token(claimed, self.claims)
        self.held[worker].append(token)
        return token

    def holds(self, token: Token) -> bool:
        """Is this token's claim still the job's lease? Only then may its outcome change anything."""
        job = self.jobs.get(token.job.id)
        return job is not None and job.status == PROCESSING and job.claim == token.claim

    def tokens(self) -> list[tuple[str, Token]]:
        return [(worker, token) for worker in sorted(self.held) for token in self.held[worker]]

    def drop(self, worker: str, token: Token) -> None:
        self.held[worker].remove(token)

    # ---- outcomes ----------------------------------------------------------------------------

    def _end_lease(self, job: Job) -> None:
        job.claim, job.locked_by, job.locked_at = None, None, None

    def complete(self, token: Token, *, processed: bool) -> Job:
        job = self.jobs[token.job.id]
        job.status, job.completed_at, job.claim = COMPLETED, self.now, None
        job.processed = processed
        return job

    def cancel_if_requested(self, job: Job) -> bool:
        """An attempt that ends without success ends a job an operator asked to cancel: it never
        starts again."""
        if not job.cancel_requested:
            return False
        job.status = CANCELLED
        self._end_lease(job)
        return True

    def fails_for_good(self, token: Token) -> bool:
        return token.job.attempts >= token.job.max_attempts

    def retry(self, token: Token, run_at: datetime) -> None:
        job = self.jobs[token.job.id]
        job.status, job.scheduled_at, job.failures = PENDING, run_at, job.failures + 1
        self._end_lease(job)

    def rescued(self, job: Job) -> None:
        """Back to pending at once; the attempt it was on stays counted."""
        job.status, job.scheduled_at, job.failures = PENDING, self.now, job.failures + 1
        self._end_lease(job)

    def dead_letter(self, job: Job) -> None:
        job.status, job.claim, job.failures = FAILED, None, job.failures + 1
        self.dead.append(DeadEntry(job.id))

    def cancelled_by_worker(self, token: Token) -> None:
        job = self.jobs[token.job.id]
        job.status = CANCELLED
        self._end_lease(job)

    def hand_back(self, token: Token) -> None:
        job = self.jobs[token.job.id]
        job.status, job.attempts = PENDING, job.attempts - 1
        self._end_lease(job)

    # ---- liveness ----------------------------------------------------------------------------

    def refresh(self, worker: str) -> int:
        """Heartbeat: push the lock time of every job the worker holds; returns how many."""
        refreshed = 0
        for job in self.jobs.values():
            if job.status == PROCESSING and job.locked_by == worker:
                job.locked_at = self.now
                refreshed += 1
        return refreshed

    def beat(self, worker: str, status: str) -> None:
        record = self.workers.get(worker)
        if record is not None:  # a forgotten worker's beat updates no row
            record.last_seen, record.status = self.now, status

    def prune_workers(self) -> None:
        cutoff = self.now - WORKER_RECORD_TTL
        self.workers = {w: r for w, r in self.workers.items() if r.last_seen >= cutoff}

    def cancel_requests(self, worker: str) -> set[str]:
        """Running jobs of this worker an operator asked to cancel."""
        return {
            j.id for j in self.jobs.values() if j.status == PROCESSING and j.locked_by == worker and j.cancel_requested
        }

    def orphans(self) -> list[Job]:
        """Processing jobs with no live owner: the lease ran out, or the worker missed its beats
        (or said it stopped)."""
        lease_cutoff = self.now - LEASE
        live_cutoff = self.now - HEARTBEAT * MISSED_BEATS
        dead = {w for w, r in self.workers.items() if r.last_seen < live_cutoff or r.status == "stopped"}
        processing = [j for j in self.by_order() if j.status == PROCESSING]
        return [j for j in processing if j.locked_by in dead or (j.locked_at or self.now) < lease_cutoff]

    # ---- operators ---------------------------------------------------------------------------

    def requeue(self, job: Job) -> None:
        """A failed job back to pending with fresh attempts (dead-letter retry, retry now)."""
        job.status, job.attempts, job.scheduled_at = PENDING, 0, self.now
        job.claim_priority, job.aged_at, job.cancel_requested = job.priority, None, False
        self._end_lease(job)

    # ---- maintenance -------------------------------------------------------------------------

    def age(self) -> dict[int, int]:
        """Promote every pending job below the top level that has waited AGING at its level."""
        cutoff = self.now - AGING
        promoted: dict[int, int] = {}
        for job in self.by_order():
            if job.status != PENDING or job.claim_priority >= LEVELS[-1]:
                continue
            if job.scheduled_at <= cutoff and (job.aged_at is None or job.aged_at <= cutoff):
                level = job.claim_priority
                job.claim_priority = next(x for x in LEVELS if x > level)
                job.aged_at = self.now
                promoted[level] = promoted.get(level, 0) + 1
        return promoted

    def cleanup(self, cutoff: datetime) -> list[str]:
        """Completed jobs older than the cutoff go (with their bookkeeping); nothing else ever does."""
        done = [j for j in self.jobs.values() if j.status == COMPLETED and j.completed_at is not None]
        gone = [j.id for j in done if j.completed_at is not None and j.completed_at < cutoff]
        for job_id in gone:
            del self.jobs[job_id]
        self.starts = [(kind, at) for kind, at in self.starts if at >= self.now - RATE_STARTS_KEPT]
        if self.schedule is not None:
            self.schedule.fired = {at for at in self.schedule.fired if at >= self.now - CRON_RUNS_KEPT}
        return gone

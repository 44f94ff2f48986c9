"""The worker runtime: one pump settles finished jobs and claims new ones in a single short write
transaction per round; handlers run concurrently as asyncio tasks outside any transaction.

Hand-offs go one way. A job's task pushes its outcome to a list and starts the next claimed job
from the local buffer at once; the pump takes every outcome gathered since its last round, settles
them (each fenced on its claim) and refills the buffer in the same transaction, on the database's
write thread: one thread hand-off per round, however many jobs it carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections import deque
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from shared.clock import Clock, utcnow
from shared.config import Settings
from shared.db import Database, Tx
from shared.logging import get_logger
from shared.queue import aging, cron, store, workers
from shared.queue.context import ClaimedJob, JobContext, WorkerEnv
from shared.queue.errors import EnqueueError, PermanentJobError
from shared.queue.maintenance import prune_bookkeeping
from shared.queue.metrics import MetricsBuffer
from shared.queue.metrics import flush as flush_metrics
from shared.queue.policy import QueuePolicy
from shared.queue.registry import JobTypes
from shared.queue.store import Claim, Kind, Outcome, Settled

log = get_logger("worker")
T = TypeVar("T")

IDLE_WAKE_MAX = 0.005  # slowest data_version check when idle: new work still starts within a few ms
WORKER_RECORD_TTL = timedelta(days=1)
MAINTENANCE_SECONDS = 1.0  # cron ticks, aging and rescue checks (each a read unless there is work)
PRUNE_EVERY = 60  # maintenance rounds between prunes of old cron ticks and rate-limit starts
FLUSH_BACKOFF_MAX = 2.0
SHORT_JOB_SECONDS = 0.05  # automatic prefetch: keep a buffer while jobs run shorter than this, on average
ABANDON_AFTER_FAILED_FLUSHES = 5
# A write that waited longer than this share of a heartbeat (and at least the floor, in seconds: a
# busy machine delays writes too, and only test settings have heartbeats under 2 s) means the
# database was unavailable; after a refused heartbeat the next try comes after this share of one
# (see Worker._write).
SLOW_WRITE_SHARE, SLOW_WRITE_FLOOR, HEARTBEAT_RETRY_SHARE = 0.5, 1.0, 0.25
REGISTER_RETRY_FIRST, REGISTER_RETRY_MAX = 0.1, 2.0  # seconds between tries while the database is unavailable


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        job_types: JobTypes,
        *,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        burst: bool = False,
    ) -> None:
        self.settings = settings
        self.db = db
        self.job_types = job_types
        self.clock = clock
        self.burst = burst
        self.policy = QueuePolicy(
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            lease_seconds=settings.lease_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            default_timeout_seconds=settings.job_timeout_seconds,
            timeout_overrides=settings.timeout_overrides(),
            rng=rng or random.Random(),  # noqa: S311 - jitter, not security
        )
        self.id = workers.new_worker_id(settings.worker_id)
        self.limits = job_types.flow_limits(settings.rate_limits, settings.concurrency_limits)
        self.capacity = settings.worker_concurrency
        self.running: dict[str, asyncio.Task[None]] = {}
        self.ready: deque[ClaimedJob] = deque()
        self.outcomes: list[Outcome] = []
        self._resources: dict[int, Any] = {}
        self._cancel_requested: set[str] = set()
        self._stopping = False
        self._wake = asyncio.Event()
        self._idle = False  # the pump sleeps until something changes: the watcher may wake it
        self._maybe_work = True  # the last claim was full, or something may have arrived since
        self._rate_limited: frozenset[str] = frozenset()  # types out of rate at the last claim ...
        self._slot_frees_at: datetime | None = None  # ... until the first of them gets a slot
        self._checks: list[tuple[str, asyncio.Future[bool]]] = []
        self._commit_seen = False  # another connection committed since the last look for cancel requests
        self.metrics = MetricsBuffer()
        self._average_run: float | None = None  # moving average of run times, for automatic prefetch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writable_since = clock()  # since when every write of ours has gone through (see _write)

    # ---- process lifecycle -------------------------------------------------------------------

    async def run(self) -> int:
        self._loop = loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        env = WorkerEnv(self.settings, self.db, self.clock)
        async with AsyncExitStack() as stack:
            for registry in self.job_types.registries:
                self._resources[id(registry)] = await stack.enter_async_context(registry.resource_factory(env))
            if not await self._register():
                log.info("worker.stopped", worker_id=self.id, registered=False)
                return 0
            log.info("worker.started", worker_id=self.id, concurrency=self.capacity, burst=self.burst)
            watcher = self.db.backend.wake_source(interval=self.settings.wake_interval, idle_max=IDLE_WAKE_MAX)
            watcher.start(self._on_foreign_commit)
            background = [asyncio.create_task(self._heartbeat_loop()), asyncio.create_task(self._maintenance_loop())]
            try:
                await self._rescue_or_warn()
                await self._pump()
                await self._drain()
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
                watcher.stop()
                with contextlib.suppress(Exception):
                    await self._flush_metrics()
                with contextlib.suppress(Exception):
                    await self._write(lambda tx: workers.beat(tx, self.id, 0, "stopped", self.clock()))
        log.info("worker.stopped", worker_id=self.id)
        return 0

    async def _write(self, unit: Callable[[Tx], T]) -> T:
        """Every write of this worker. A refusal by an unavailable database (lock held past
        BUSY_TIMEOUT_MS, disk full), or a write that waited over half a heartbeat (the lock was
        held elsewhere that long, refused or not), restarts the time this worker has seen the
        database take writes freely: only after MISSED_BEATS heartbeats of that does it judge other
        workers by their missed beats (QueuePolicy.trusts_missed_beats). Another worker's beats were
        held up by the same outage; with its prompt retry after a refusal they land well before."""
        started = time.monotonic()
        try:
            result = await self.db.run_write(unit)
        except Exception as exc:
            if self.db.backend.unavailable(exc):
                self._writable_since = self.clock()
            raise
        if time.monotonic() - started > self._slow_write_seconds():
            self._writable_since = self.clock()
        return result

    def _slow_write_seconds(self) -> float:
        return max(self.settings.heartbeat_seconds * SLOW_WRITE_SHARE, SLOW_WRITE_FLOOR)

    async def _register(self) -> bool:
        """Wait out a database that is busy, full or unreachable instead of exiting: a supervisor
        restarting a worker that exits would turn a short outage into a crash loop. A stop signal
        ends the wait (False: the worker stops, having claimed nothing)."""
        delay = REGISTER_RETRY_FIRST
        while True:
            try:
                await self._write(lambda tx: workers.register(tx, self.id, self.capacity, self.clock()))
                return True
            except Exception as exc:
                if not self.db.backend.unavailable(exc):
                    raise
                log.warning("worker.waiting_for_database", error=f"{type(exc).__name__}: {exc}", retry_in_seconds=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            if self._stopping:
                return False
            delay = min(delay * 2, REGISTER_RETRY_MAX)

    def _on_signal(self, sig: int) -> None:
        if self._stopping:
            # Second signal: leave now. Unfinished jobs are rescued once this worker misses its beats.
            log.warning("worker.forced_exit", signal=signal.Signals(sig).name, running=len(self.running))
            os._exit(128 + sig)
        log.info(
            "worker.stopping",
            signal=signal.Signals(sig).name,
            running=len(self.running),
            grace_seconds=self.settings.shutdown_grace_seconds,
        )
        self.stop()

    def stop(self) -> None:
        """Ask for a graceful stop (what the first SIGTERM does)."""
        self._stopping = True
        self._wake.set()

    def _on_foreign_commit(self) -> None:
        """From the watcher's thread: only an idle pump needs telling (a busy one is looking anyway)."""
        if self._idle and self._loop is not None:
            self._loop.call_soon_threadsafe(self._notice_commit)

    def _notice_commit(self) -> None:
        self._maybe_work = True
        self._commit_seen = True
        self._wake.set()

    # ---- the pump ----------------------------------------------------------------------------

    async def _pump(self) -> None:
        failures = 0
        while True:
            self._wake.clear()  # before looking, so a change during the look is not missed
            if self._commit_seen and self.running:  # an operator may have asked to cancel one of ours
                self._commit_seen = False
                await self._look_for_cancel_requests()
            want = self._room()
            if self.outcomes or (want and self._maybe_work):
                if not self.outcomes and not await self._due_work_exists():
                    self._maybe_work = False
                    continue
                batch, self.outcomes = self.outcomes, []
                try:
                    settled, claim, cancels = await self._write(partial(self._round, batch=batch, want=want))
                except Exception as exc:
                    failures += 1
                    batch = self._after_failed_round(batch, exc, failures)
                    self.outcomes[:0] = batch
                    await asyncio.sleep(min(FLUSH_BACKOFF_MAX, 0.05 * 2**failures))
                    continue
                failures = 0
                self._report(settled)
                self._accept(claim.jobs)
                self._cancel(cancels)
                self._maybe_work = len(claim.jobs) == want and want > 0
                if want:
                    self._rate_limited, self._slot_frees_at = claim.rate_limited, claim.wake_at
                continue
            if self._stopping:
                return
            if self.burst and not self.running and not self.ready:
                log.info("worker.burst_done", worker_id=self.id)
                return
            await self._sleep()

    async def _look_for_cancel_requests(self) -> None:
        try:
            self._cancel(await self.db.run_read(lambda tx: store.cancel_requests(tx, self.id)))
        except Exception as exc:  # the next round or heartbeat looks again
            log.warning("worker.poll_failed", error=str(exc))

    def _room(self) -> int:
        """Jobs to claim now: free slots plus the prefetch buffer's room, at most CLAIM_BATCH."""
        if self._stopping:
            return 0
        free = self.capacity + self._prefetch() - len(self.running) - len(self.ready)
        return max(0, min(free, self.settings.claim_batch))

    def _prefetch(self) -> int:
        """PREFETCH, or automatically a full batch while jobs are short and none while they are long:
        a buffered job waits for a slot here that another worker might have free now."""
        if self.settings.prefetch is not None:
            return self.settings.prefetch
        short = self._average_run is not None and self._average_run < SHORT_JOB_SECONDS
        return self.settings.claim_batch if short else 0

    async def _due_work_exists(self) -> bool:
        """A read before an idle claim, so idle workers never take the write lock for nothing (nor
        for jobs a pause or a rate limit holds back)."""
        now = self.clock()
        if self._slot_frees_at is not None and now >= self._slot_frees_at:
            self._rate_limited, self._slot_frees_at = frozenset(), None
        held = self._rate_limited
        try:
            return await self.db.run_read(lambda tx: store.has_due_work(tx, now, except_types=held, except_paused=True))
        except Exception as exc:
            log.warning("worker.poll_failed", error=str(exc))
            return False

    def _round(self, tx: Tx, *, batch: list[Outcome], want: int) -> tuple[list[Settled], Claim, list[str]]:
        now = self.clock()
        settled = store.settle(tx, batch, now, self.policy) if batch else []
        claim = store.claim(tx, self.id, want, now, limits=self.limits) if want else Claim([])
        cancels = store.cancel_requests(tx, self.id) if self.running else []
        return settled, claim, cancels

    def _after_failed_round(self, batch: list[Outcome], exc: Exception, failures: int) -> list[Outcome]:
        """Keep the outcomes for the next round, unless they keep failing: then let their leases run
        out (another worker rescues them) rather than retry forever."""
        if self.db.backend.unavailable(exc) or failures < ABANDON_AFTER_FAILED_FLUSHES:
            log.warning("worker.round_failed", error=f"{type(exc).__name__}: {exc}", failures=failures)
            return batch
        log.exception("worker.outcomes_abandoned", jobs=[o.job.id for o in batch], exc_info=exc)
        return []

    async def _sleep(self) -> None:
        """Until something changes: a job finishes, another connection commits, a delayed job is
        due, a rate-limited type gets a slot, or POLL_INTERVAL passes."""
        timeout = self.settings.poll_interval
        if len(self.running) < self.capacity:
            try:
                due = await self.db.run_read(store.next_due_at)
            except Exception as exc:
                log.warning("worker.poll_failed", error=str(exc))
                due = None
            for moment in (due, self._slot_frees_at):
                if moment is not None:
                    timeout = max(0.0, min(timeout, (moment - self.clock()).total_seconds()))
        self._idle = True
        try:
            if not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            self._idle = False
        self._maybe_work = True

    # ---- running jobs ------------------------------------------------------------------------

    def _accept(self, claimed: list[ClaimedJob]) -> None:
        for job in claimed:
            self.metrics.observe("job_wait_seconds", job.type, (job.started_at - job.scheduled_at).total_seconds())
        self.ready.extend(claimed)
        self._start_ready()

    def _start_ready(self) -> None:
        debug = log.is_enabled_for(logging.DEBUG)
        while self.ready and len(self.running) < self.capacity:
            job = self.ready.popleft()
            self.running[job.id] = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            if debug:
                log.debug(
                    "job.started",
                    job_id=job.id,
                    type=job.type,
                    attempt=job.attempts,
                    worker_id=self.id,
                    workflow_id=job.workflow_id,
                    request_id=job.request_id,
                )

    def _finish(self, outcome: Outcome) -> None:
        if outcome.duration is not None:
            last = self._average_run
            self._average_run = outcome.duration if last is None else 0.9 * last + 0.1 * outcome.duration
        self.running.pop(outcome.job.id, None)
        self._cancel_requested.discard(outcome.job.id)
        self.outcomes.append(outcome)
        if self._stopping:
            self._hand_back_ready()
        else:
            self._start_ready()
        self._wake.set()

    def _hand_back_ready(self) -> None:
        while self.ready:
            self.outcomes.append(Outcome(self.ready.popleft(), Kind.HANDED_BACK))

    async def _execute(self, job: ClaimedJob) -> None:
        started = time.monotonic()
        outcome: Outcome
        try:
            job_type = self.job_types.get(job.type)
            payload = job_type.validate(job.payload)
            context = JobContext(job, self._resources[id(job_type.registry)], self._already_done)
            timeout = self.policy.timeout_for(job.type, job_type.timeout_seconds)
            limit = asyncio.timeout(timeout)
            try:
                async with limit:
                    await job_type.handler(context, payload)
            except TimeoutError:
                if not limit.expired():
                    raise
                outcome = Outcome(job, Kind.FAILED, f"TimeoutError: timed out after {timeout:g}s")
            else:
                outcome = Outcome(job, Kind.COMPLETED, completion=context.completion)
        except asyncio.CancelledError:
            if job.id in self._cancel_requested:
                outcome = Outcome(job, Kind.CANCELLED, "cancelled while running, on request")
            else:  # shutdown past the grace period: hand the job back unspent
                outcome = Outcome(job, Kind.HANDED_BACK)
        except (PermanentJobError, EnqueueError) as exc:
            # Unknown type, bad payload, missing data: retrying cannot help.
            outcome = Outcome(job, Kind.DEAD, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            outcome = Outcome(job, Kind.FAILED, f"{type(exc).__name__}: {exc}")
        outcome.duration = time.monotonic() - started
        self._finish(outcome)

    def _cancel(self, job_ids: list[str]) -> None:
        """Cancel running jobs an operator asked to cancel; they stop at their next await."""
        for job_id in job_ids:
            task = self.running.get(job_id)
            if task is not None and job_id not in self._cancel_requested:
                self._cancel_requested.add(job_id)
                task.cancel()

    async def _already_done(self, key: str) -> bool:
        """Whether a completed job recorded this step key; every job asking in the same loop
        iteration shares one read."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._checks:
            asyncio.get_running_loop().call_soon(self._run_checks)
        self._checks.append((key, future))
        return await future

    def _run_checks(self) -> None:
        checks, self._checks = self._checks, []
        keys = [key for key, _ in checks]

        async def check() -> None:
            try:
                done = await self.db.run_read(lambda tx: store.already_done(tx, keys))
            except Exception as exc:
                for _, future in checks:
                    if not future.done():
                        future.set_exception(exc)
                return
            for key, future in checks:
                if not future.done():
                    future.set_result(key in done)

        asyncio.get_running_loop().create_task(check())

    def _count(self, result: Settled) -> None:
        job, applied, duration = result.outcome.job, result.applied, result.outcome.duration
        names = (
            {
                Kind.COMPLETED: ("jobs_completed",),
                Kind.FAILED: ("jobs_failed", "jobs_retried"),
                Kind.DEAD: ("jobs_failed", "jobs_dead_lettered"),
                Kind.CANCELLED: ("jobs_cancelled",),
            }.get(applied, ())
            if applied is not None
            else ()
        )
        for name in names:
            self.metrics.count(name, job.type)
        if duration is not None and applied in (Kind.COMPLETED, Kind.FAILED, Kind.DEAD):
            self.metrics.observe("job_duration_seconds", job.type, duration)

    async def _flush_metrics(self) -> None:
        rows = self.metrics.take()
        if not rows:
            return
        try:
            await self._write(lambda tx: flush_metrics(tx, rows))
        except Exception:
            self.metrics.put_back(rows)
            raise

    def _report(self, settled: list[Settled]) -> None:
        for result in settled:
            self._count(result)
        if not log.is_enabled_for(logging.WARNING):
            return
        info = log.is_enabled_for(logging.INFO)
        for result in settled:
            if result.applied in (Kind.COMPLETED, Kind.CANCELLED, Kind.HANDED_BACK) and not info:
                continue  # INFO lines, and INFO is off: skip building them
            job = result.outcome.job
            duration = result.outcome.duration
            fields: dict[str, Any] = {
                "job_id": job.id,
                "type": job.type,
                "attempt": job.attempts,
                "worker_id": self.id,
                "workflow_id": job.workflow_id,
                "request_id": job.request_id,
                "duration_ms": None if duration is None else round(duration * 1000, 1),
            }
            applied = result.applied
            if applied is None:
                log.warning("job.outcome_ignored", outcome=result.outcome.kind.value, reason="lease lost", **fields)
            elif applied is Kind.COMPLETED:
                log.info("job.completed", outcome="completed", **fields)
            elif applied is Kind.FAILED:
                log.warning(
                    "job.failed",
                    outcome="retried",
                    error=result.error,
                    retry_in_seconds=round(result.retry_delay or 0, 3),
                    **fields,
                )
            elif applied is Kind.DEAD:
                log.error("job.dead_lettered", outcome="dead_lettered", error=result.error, **fields)
            elif applied is Kind.CANCELLED:
                log.info("job.cancelled", outcome="cancelled", **fields)
            else:
                log.info("job.handed_back", outcome="handed_back", **fields)

    # ---- shutdown ----------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Let running jobs finish within the grace period, hand the rest back unspent, then settle."""
        self._hand_back_ready()
        with contextlib.suppress(Exception):
            running = len(self.running)
            await self._write(lambda tx: workers.beat(tx, self.id, running, "stopping", self.clock()))
        tasks = list(self.running.values())
        if tasks:
            _, unfinished = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        for attempt in range(5):
            if not self.outcomes:
                return
            batch, self.outcomes = self.outcomes, []
            try:
                settled, _, _ = await self._write(partial(self._round, batch=batch, want=0))
            except Exception as exc:
                log.warning("worker.final_round_failed", error=str(exc), attempt=attempt + 1)
                self.outcomes[:0] = batch
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self._report(settled)

    # ---- heartbeat and rescue ----------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        period = self.settings.heartbeat_seconds
        delay = period
        while True:
            await asyncio.sleep(delay)
            try:
                await self._heartbeat()
            except Exception as exc:  # a late beat makes this worker look dead: try again soon
                log.warning("worker.heartbeat_failed", error=f"{type(exc).__name__}: {exc}")
                delay = period * HEARTBEAT_RETRY_SHARE
                continue
            delay = period
            await self._rescue_or_warn()

    async def _heartbeat(self) -> None:
        status = "stopping" if self._stopping else "running"
        running = len(self.running)

        def beat(tx: Tx) -> list[str]:
            now = self.clock()
            store.refresh_locks(tx, self.id, now)
            workers.beat(tx, self.id, running, status, now)
            workers.prune(tx, now - WORKER_RECORD_TTL)
            return store.cancel_requests(tx, self.id) if running else []

        self._cancel(await self._write(beat))

    async def _maintenance_loop(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            rounds += 1
            try:
                await self._flush_metrics()
                await self._tick_cron()
                await self._age()
                await self._rescue()
                if rounds % PRUNE_EVERY == 0:
                    await self._write(self._prune)
            except Exception as exc:  # the next round may get through
                log.warning("worker.maintenance_failed", error=f"{type(exc).__name__}: {exc}")

    def _prune(self, tx: Tx) -> None:
        longest = max((rate.per_seconds for rate in self.limits.rates.values()), default=0.0)
        prune_bookkeeping(tx, self.clock(), longest)

    async def _tick_cron(self) -> None:
        """Every worker ticks; the tick's row in cron_runs lets exactly one of them enqueue it."""
        now = self.clock()
        if not await self.db.run_read(lambda tx: cron.has_due(tx, now)):
            return
        fired = await self._write(lambda tx: cron.tick(tx, self.job_types, self.clock()))
        if any(f.job_id for f in fired):
            self._maybe_work = True
            self._wake.set()

    async def _age(self) -> None:
        threshold = self.settings.priority_aging_seconds
        if threshold <= 0:
            return
        now = self.clock()
        if not await self.db.run_read(lambda tx: aging.has_aged(tx, now, threshold)):
            return
        promoted = await self._write(lambda tx: aging.age(tx, self.clock(), threshold))
        if promoted:
            log.info("jobs.aged", promoted={str(level): n for level, n in promoted.items()}, worker_id=self.id)

    async def _rescue_or_warn(self) -> None:
        """The rescue at start-up; if the database refuses it, the maintenance loop tries again."""
        try:
            await self._rescue()
        except Exception as exc:
            log.warning("worker.maintenance_failed", error=f"{type(exc).__name__}: {exc}")

    async def _rescue(self) -> None:
        now = self.clock()
        trust = self.policy.trusts_missed_beats(now, self._writable_since)
        if not await self.db.run_read(
            lambda tx: store.has_orphans(tx, now, self.policy, rescuer=self.id, trust_beats=trust)
        ):
            return
        asked = time.monotonic()

        def take_back(tx: Tx) -> store.Rescue:
            # A rescue that waited long for the write lock was held up by the same outage as the
            # other workers' beats (found in the soak: a draining worker's jobs taken back as it
            # settled them): then only the lease counts.
            trusted = trust and time.monotonic() - asked <= self._slow_write_seconds()
            return store.rescue(tx, self.clock(), self.policy, rescuer=self.id, trust_beats=trusted)

        rescue = await self._write(take_back)
        for job in rescue.jobs:
            self.metrics.count("jobs_rescued", job.type)
            if job.outcome == store.DEAD_LETTERED:
                self.metrics.count("jobs_dead_lettered", job.type)
            elif job.outcome == store.CANCELLED:
                self.metrics.count("jobs_cancelled", job.type)
            log.warning(
                "job.rescued",
                outcome=job.outcome,
                job_id=job.id,
                type=job.type,
                attempt=job.attempt,
                workflow_id=job.workflow_id,
                worker_id=self.id,
                lost_worker_id=job.lost_worker,
                error=store.LEASE_LOST,
            )
        if rescue.jobs:
            self._maybe_work = True
            self._wake.set()

"""The worker runtime: claim in batches, run handlers concurrently outside any transaction, finish
each job in a short fenced write, heartbeat, rescue expired leases, drain on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from structlog.stdlib import BoundLogger

from shared.clock import Clock, utcnow
from shared.config import Settings
from shared.db import Database
from shared.logging import get_logger
from shared.queue import consumer, workers
from shared.queue.consumer import ClaimedJob
from shared.queue.errors import EnqueueError
from shared.queue.handlers import Handler, JobContext, PermanentJobError
from shared.queue.registry import JobRegistry
from shared.queue.retry import backoff_seconds
from worker.finisher import FinalWrite, Finisher
from worker.wakeup import DataVersionWatcher

T = TypeVar("T")
log = get_logger("worker")

# Threads for the queue's own statements. Writes are serialised anyway; a second thread lets reads
# proceed while a write waits for the lock. More only add GIL hand-offs (measured: 1-2 beat 4 and 14).
DB_THREADS = 2
# Threads for handlers' blocking calls: enough to overlap I/O waits on two cores, few enough to keep
# GIL hand-offs down.
HANDLER_THREADS = 4
IDLE_WAKE_MAX = 0.05  # slowest data_version check when idle: new work still starts within ~50 ms
WORKER_RECORD_TTL = timedelta(days=1)


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: JobRegistry,
        handlers: dict[str, Handler],
        *,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.handlers = handlers
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.id = workers.new_worker_id(settings.worker_id)
        self.running: dict[asyncio.Task[None], ClaimedJob] = {}
        self._timeouts = settings.timeout_overrides()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._db_threads = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="queue-db")
        self._finisher = Finisher(
            db, self._db_threads, room=self._room_after, refill=self._refill, on_claimed=self._start_jobs
        )

    # ---- process lifecycle -------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        # Handlers' blocking work (their reads, PDF rendering, provider calls) uses the default pool;
        # the queue's own statements have a small pool of their own, so a slow handler can never
        # delay a heartbeat or a claim.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="handler"))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        await self._write(lambda s: workers.register(s, self.id, self.settings.worker_concurrency, self.clock()))
        log.info("worker.started", worker_id=self.id, concurrency=self.settings.worker_concurrency)
        background = [asyncio.create_task(self._heartbeat_loop()), asyncio.create_task(self._finisher.run())]
        if self.db.is_sqlite:
            watcher = DataVersionWatcher(
                self.db.engine, self._wake, interval=self.settings.wake_interval, idle_max=IDLE_WAKE_MAX
            )
            background.append(asyncio.create_task(watcher.run()))
        try:
            await self._rescue()
            await self._claim_loop()
            await self._drain()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._write(lambda s: workers.beat(s, self.id, 0, "stopped", self.clock()))
            self._db_threads.shutdown(wait=False)
        log.info("worker.stopped", worker_id=self.id)
        return 0

    def _on_signal(self, sig: int) -> None:
        if self._stopping.is_set():
            # Second signal: leave now. Unfinished jobs are rescued when their lease expires.
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
        self._stopping.set()
        self._wake.set()

    async def _drain(self) -> None:
        """Let running jobs finish within the grace period; hand the rest back unspent."""
        with contextlib.suppress(Exception):
            await self._write(lambda s: workers.beat(s, self.id, len(self.running), "stopping", self.clock()))
        tasks = list(self.running)
        if not tasks:
            return
        _, unfinished = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)

    # ---- claiming ----------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before looking, so a change during the look is not missed
            free = self.settings.worker_concurrency - len(self.running)
            if free > 0:
                batch = min(free, self.settings.claim_batch)
                try:
                    claimed = await self._claim(batch)
                except OperationalError as exc:  # e.g. the disk is full; the jobs stay pending
                    log.warning("worker.claim_failed", error=str(exc))
                    claimed = []
                self._start_jobs(claimed)
                if len(claimed) == batch:
                    continue  # there may be more due work and free slots
            try:
                timeout = await self._idle_timeout()
            except OperationalError as exc:
                log.warning("worker.poll_failed", error=str(exc))
                timeout = self.settings.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _start_jobs(self, jobs: list[ClaimedJob]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self.running[task] = job
            task.add_done_callback(self._job_done)

    def _room_after(self, settling: int) -> int:
        """Jobs to claim in the transaction that settles `settling` running jobs."""
        if self._stopping.is_set():
            return 0
        free = self.settings.worker_concurrency - len(self.running) + settling
        return max(0, min(free, self.settings.claim_batch))

    def _refill(self, connection: Connection, limit: int) -> list[ClaimedJob]:
        return consumer.claim(connection, self.id, limit, self.clock())

    async def _claim(self, limit: int) -> list[ClaimedJob]:
        now = self.clock()
        if not await self._read(lambda s: consumer.has_due_work(s, now)):
            return []  # nothing due: no write transaction, no write lock
        return await self._write(lambda s: consumer.claim(s, self.id, limit, self.clock()))

    async def _idle_timeout(self) -> float:
        """Sleep until the next scheduled job is due, at most POLL_INTERVAL."""
        poll = self.settings.poll_interval
        if len(self.running) >= self.settings.worker_concurrency:
            return poll  # a finishing job wakes us
        due = await self._read(consumer.next_due_at)
        if due is None:
            return poll
        return max(0.0, min(poll, (due - self.clock()).total_seconds()))

    def _job_done(self, task: asyncio.Task[None]) -> None:
        self.running.pop(task, None)
        self._wake.set()  # a slot is free

    # ---- running one job ---------------------------------------------------------------------

    def timeout_for(self, job_type: str) -> float:
        if job_type in self._timeouts:
            return self._timeouts[job_type]
        if job_type in self.registry:
            configured = self.registry.get(job_type).timeout_seconds
            if configured is not None:
                return configured
        return self.settings.job_timeout_seconds

    async def _execute(self, job: ClaimedJob) -> None:
        started = time.monotonic()
        bound = log.bind(job_id=job.id, type=job.type, attempt=job.attempts, worker_id=self.id)
        context = JobContext(job)
        try:
            job_type = self.registry.get(job.type)
            handler = self.handlers.get(job.type)
            if handler is None:
                raise PermanentJobError(f"no handler for job type {job.type!r} in this worker")
            payload = job_type.validate(job.payload)
            timeout = self.timeout_for(job.type)
            try:
                async with asyncio.timeout(timeout):
                    await handler(context, payload)
            except TimeoutError:
                raise TimeoutError(f"timed out after {timeout:g}s") from None
        except asyncio.CancelledError:
            if self._stopping.is_set():
                handed_back = await self._finish(lambda s: consumer.hand_back(s, job, self.clock()))
                bound.info("job.handed_back", handed_back=handed_back)
                return
            raise
        except (PermanentJobError, EnqueueError) as exc:
            # Unknown type, bad payload, missing data: retrying cannot help.
            error = f"{type(exc).__name__}: {exc}"
            filed = await self._finish(lambda s: consumer.dead_letter(s, job, error, self.clock()))
            bound.error("job.dead_lettered", error=error, retried=False, fenced_out=not filed)
            return
        except Exception as exc:
            await self._fail(job, f"{type(exc).__name__}: {exc}", bound)
            return
        done = await self._finish(lambda s: self._complete(s, job, context))
        if done:
            bound.info("job.completed", duration_ms=round((time.monotonic() - started) * 1000, 1))
        else:
            bound.warning("job.completion_ignored", reason="lease lost: another worker holds the job")

    def _complete(self, connection: Connection, job: ClaimedJob, context: JobContext) -> bool:
        if not consumer.complete(connection, job, self.clock()):
            return False
        for hook in context.completion_hooks:
            hook(connection)
        return True

    async def _fail(self, job: ClaimedJob, error: str, bound: BoundLogger) -> None:
        now = self.clock()
        if job.attempts >= job.max_attempts:
            filed = await self._finish(lambda s: consumer.dead_letter(s, job, error, now))
            bound.error("job.dead_lettered", error=error, retried=True, fenced_out=not filed)
            return
        delay = backoff_seconds(
            job.attempts, base=self.settings.retry_base_seconds, cap=self.settings.retry_max_seconds, rng=self.rng
        )
        run_at = now + timedelta(seconds=delay)
        await self._finish(lambda s: consumer.retry_later(s, job, error, run_at, now))
        bound.warning("job.failed", error=error, retry_in_seconds=round(delay, 3))

    # ---- heartbeat and rescue ----------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                await self._heartbeat()
                await self._rescue()
            except OperationalError as exc:  # keep beating; the next round may get through
                log.warning("worker.heartbeat_failed", error=str(exc))

    async def _heartbeat(self) -> None:
        job_ids = [job.id for job in self.running.values()]
        status = "stopping" if self._stopping.is_set() else "running"

        def beat(connection: Connection) -> None:
            now = self.clock()
            consumer.refresh_locks(connection, self.id, job_ids, now)
            workers.beat(connection, self.id, len(job_ids), status, now)
            workers.prune(connection, now - WORKER_RECORD_TTL)

        await self._write(beat)

    async def _rescue(self) -> None:
        now = self.clock()
        cutoff = now - timedelta(seconds=self.settings.lease_seconds)
        if not await self._read(lambda s: consumer.has_expired_locks(s, cutoff)):
            return
        rescue = await self._write(lambda s: consumer.rescue_expired(s, cutoff, now))
        if rescue.requeued or rescue.dead:
            log.warning("lease.rescued", requeued=rescue.requeued, dead_lettered=rescue.dead)
            self._wake.set()

    # ---- database calls, always off the event loop --------------------------------------------

    async def _read(self, fn: Callable[..., T]) -> T:
        def call() -> T:
            with self.db.read_conn() as connection:
                return fn(connection)

        return await asyncio.get_running_loop().run_in_executor(self._db_threads, call)

    async def _write(self, fn: Callable[..., T]) -> T:
        def call() -> T:
            with self.db.write_conn() as connection:
                return fn(connection)

        return await asyncio.get_running_loop().run_in_executor(self._db_threads, call)

    async def _finish(self, write: FinalWrite) -> bool:
        """A job's final write, batched with others. Shielded from shutdown cancellation; retried
        briefly if the database is unavailable, after which the lease rescue takes over."""
        for attempt in range(3):
            try:
                return await asyncio.shield(self._finisher.submit(write))
            except OperationalError as exc:
                log.warning("job.finish_retry", error=str(exc), attempt=attempt + 1)
                await asyncio.sleep(0.2 * (attempt + 1))
        return False

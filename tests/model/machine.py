"""The state machine: Hypothesis picks the steps, the real queue core runs them on a real database,
and the model (tests.model.model) says what each should have done.

The machine plays producers, three workers (w1..w3), an operator and the maintenance loop, with its
own clock: every core call gets the model's `now`. Rules:

- producers: enqueue one job or a batch (types with no limit, a rate limit, a concurrency limit;
  priorities, delays, past schedules, idempotency keys, workflows, max_attempts);
- workers: claim (several workers, batch sizes); finish a held job (complete; complete with
  children; complete with follow-up work that fails; fail; fail for good; hand back), the worker's
  round (settle then claim in one transaction), replay a round (a commit it could not confirm),
  a worker that lost its lease reporting late, heartbeat, stop, stop the jobs an operator asked to
  cancel;
- rescue (lease expired, three missed beats, a stopped worker);
- operators: cancel, pause or resume a type, retry a dead letter, retry a job now;
- maintenance: cron tick, pause or resume the schedule, aging, cleanup of completed jobs;
- the clock: forward (a millisecond to a day), back (up to 30 s behind its latest reading).

After every step the invariants in tests.model.checks are read by SQL from the tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from shared.db import Database, Tx
from shared.queue import JobSpec, aging, cron, enqueue, enqueue_many, operations, store, workers
from shared.queue.context import Child, ClaimedJob, Completion
from shared.queue.errors import NotFoundError, StateConflictError
from shared.queue.maintenance import delete_completed_batch, prune_bookkeeping
from shared.queue.policy import QueuePolicy
from shared.queue.store import Kind, Outcome, Settled
from tests.model.checks import check_all
from tests.model.jobs import LIMITS, RATE, TYPES
from tests.model.model import (
    AGING,
    CANCELLED,
    FAILED,
    HEARTBEAT,
    LEASE,
    PENDING,
    PROCESSING,
    RETRY_BASE_SECONDS,
    RETRY_MAX_SECONDS,
    UNFINISHED,
    WORKER_RECORD_TTL,
    Job,
    QueueModel,
    Schedule,
    Token,
    backoff_bounds,
    latest_tick,
    next_tick,
)

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
WORKERS = ("w1", "w2", "w3")
SCHEDULE = "model-tick"
KINDS = ("model_plain", "model_rated", "model_keyed")
TABLES = (
    "jobs",
    "dead_letter_jobs",
    "processed_jobs",
    "job_failures",
    "cron_runs",
    "cron_schedules",
    "rate_limit_starts",
    "queue_pauses",
    "workers",
)
# How a worker's run ends: completion (plain; with children; with follow-up work that fails),
# a failed attempt, an error retrying cannot help, a hand-back at shutdown.
ENDINGS = ("complete", "complete_with_children", "complete_failing_work", "fail", "dead", "hand_back")
MAX_BACKWARDS = timedelta(seconds=30)  # how far behind its latest reading the clock may step back


@dataclass(frozen=True)
class Spec:
    """One job to enqueue, as Hypothesis drew it."""

    kind: str
    key: str | None = None  # the payload's concurrency key (model_keyed)
    priority: int | None = None
    timing: tuple[str, float] | None = None  # ("delay", s) or ("at", s from now), or None: now
    idempotency_key: str | None = None
    workflow: str | None = None
    max_attempts: int | None = None


specs = st.builds(
    Spec,
    kind=st.sampled_from(KINDS),
    key=st.sampled_from(["x", "y"]),
    priority=st.sampled_from([None, 0, 3, 10, 20]),
    timing=st.sampled_from([None, ("delay", 0.0), ("delay", 2.0), ("delay", 45.0), ("at", -10.0)]),
    idempotency_key=st.sampled_from([None, None, "k1", "k2"]),
    workflow=st.sampled_from([None, "wf1"]),
    max_attempts=st.sampled_from([None, 1, 2, 4]),
)


def explode(_tx: Tx) -> None:
    raise RuntimeError("follow-up work refused")


class QueueMachine(RuleBasedStateMachine):
    db: ClassVar[Database]  # set by the test, on a subclass per database

    def __init__(self) -> None:
        super().__init__()
        db = self.db
        self.model = QueueModel(T0, WORKERS)
        self.policy = QueuePolicy(
            retry_base_seconds=RETRY_BASE_SECONDS,
            retry_max_seconds=RETRY_MAX_SECONDS,
            lease_seconds=LEASE.total_seconds(),
            heartbeat_seconds=HEARTBEAT.total_seconds(),
            rng=random.Random(0),  # jitter, checked against its bounds
        )
        self.last_round: dict[str, list[Outcome]] = {}  # each worker's last settled outcomes
        with db.write() as tx:  # one migrated database per test; each example starts empty
            for table in TABLES:
                tx.execute(f"DELETE FROM {table}")
            for worker in WORKERS:
                workers.register(tx, worker, 4, T0)

    @property
    def now(self) -> datetime:
        return self.model.now

    # ---- setup -------------------------------------------------------------------------------

    @initialize(overlap=st.sampled_from(["skip", "allow"]))
    def create_schedule(self, overlap: str) -> None:
        with self.db.write() as tx:
            cron.create_schedule(
                tx, TYPES, SCHEDULE, job_type="model_tick", expression="*/5 * * * *", now=self.now, overlap=overlap
            )
        self.model.schedule = Schedule(overlap, next_tick(self.now))

    # ---- producers ---------------------------------------------------------------------------

    def _job_spec(self, spec: Spec) -> JobSpec:
        payload: dict[str, Any] = {"key": spec.key} if spec.kind == "model_keyed" else {}
        delay = spec.timing[1] if spec.timing and spec.timing[0] == "delay" else None
        at = self.now + timedelta(seconds=spec.timing[1]) if spec.timing and spec.timing[0] == "at" else None
        return JobSpec(
            TYPES.get(spec.kind),
            payload,
            priority=spec.priority,
            scheduled_at=at,
            delay=delay,
            max_attempts=spec.max_attempts,
            idempotency_key=spec.idempotency_key,
            workflow_id=spec.workflow,
        )

    def _expect_enqueued(self, spec: Spec, job_id: str) -> None:
        holder = self.model.holder_of(spec.idempotency_key)
        if holder is not None:
            assert job_id == holder.id, "unique enqueue must return the unfinished job holding the key"
            return
        assert job_id not in self.model.jobs
        kind = TYPES.get(spec.kind)
        offset = spec.timing[1] if spec.timing else 0.0
        self.model.add(
            Job(
                id=job_id,
                type=spec.kind,
                order=0,
                priority=kind.priority if spec.priority is None else spec.priority,
                max_attempts=kind.max_attempts if spec.max_attempts is None else spec.max_attempts,
                scheduled_at=self.now + timedelta(seconds=offset),
                idempotency_key=spec.idempotency_key,
                workflow_id=spec.workflow,
                concurrency_key=f"model:{spec.key}" if spec.kind == "model_keyed" else None,
            )
        )

    @rule(spec=specs)
    def enqueue_one(self, spec: Spec) -> None:
        job = self._job_spec(spec)
        with self.db.write() as tx:
            job_id = enqueue(
                tx,
                job.job_type,
                job.payload,
                priority=job.priority,
                scheduled_at=job.scheduled_at,
                delay=job.delay,
                max_attempts=job.max_attempts,
                idempotency_key=job.idempotency_key,
                workflow_id=job.workflow_id,
                clock=lambda: self.now,
            )
        self._expect_enqueued(spec, job_id)

    @initialize(batch=st.lists(specs, max_size=8))
    def backlog(self, batch: list[Spec]) -> None:
        """Work waiting before the first worker starts."""
        if batch:
            self.enqueue_batch(batch)

    @rule(batch=st.lists(specs, min_size=1, max_size=4))
    def enqueue_batch(self, batch: list[Spec]) -> None:
        with self.db.write() as tx:
            ids = enqueue_many(tx, [self._job_spec(spec) for spec in batch], clock=lambda: self.now)
        assert len(ids) == len(batch)
        for spec, job_id in zip(batch, ids, strict=True):
            self._expect_enqueued(spec, job_id)

    # ---- workers: claim ----------------------------------------------------------------------

    def _check_claim(self, worker: str, limit: int, claimed: list[ClaimedJob]) -> None:
        """Claimed jobs were due and not paused; they come in claim order (priority with aging,
        then time, then FIFO); no job the limits would admit was passed over for a later one; and
        the batch is full unless nothing is left that a limit would let through."""
        model = self.model
        before = {job.id: job.rank() for job in model.eligible()}
        assert len(claimed) <= limit
        for job in claimed:
            assert job.id in before, f"claimed {job.id}, which was not due, or paused"
            assert (job.locked_by, job.attempts) == (worker, model.jobs[job.id].attempts + 1)
        ranks = [before[job.id] for job in claimed]
        assert ranks == sorted(ranks), "a claim out of priority/time/FIFO order"
        for job in claimed:
            model.claim(worker, job)
        left = model.eligible()
        admissible = [job for job in left if not model.blocked(job)]
        if claimed and admissible:
            passed_over = min(admissible, key=lambda j: j.rank())
            assert passed_over.rank() > ranks[-1], f"{passed_over.id} was passed over for a later job"
        if len(claimed) < limit and admissible:
            assert any(model.blocked(job) for job in left), "claimed fewer jobs than it could"

    @rule(worker=st.sampled_from(WORKERS), limit=st.integers(1, 4))
    def claim(self, worker: str, limit: int) -> None:
        with self.db.write() as tx:
            claimed = store.claim(tx, worker, limit, self.now, limits=LIMITS).jobs
        self._check_claim(worker, limit, claimed)

    # ---- workers: outcomes -------------------------------------------------------------------

    def _outcome(self, token: Token, ending: str) -> Outcome:
        job = token.job
        done = Completion(processed_key=f"done:{job.id}")
        if ending in ("complete_with_children", "complete_failing_work"):
            done.children.append(Child(TYPES.get("model_plain"), {"n": 1}, 5.0, None))
            done.children.append(Child(TYPES.get("model_plain"), {"n": 2}, None, "k1"))
        if ending == "complete_failing_work":
            done.hooks.append(explode)
        if ending.startswith("complete"):
            return Outcome(job, Kind.COMPLETED, completion=done)
        if ending == "fail":
            return Outcome(job, Kind.FAILED, "boom")
        if ending == "dead":
            return Outcome(job, Kind.DEAD, "retrying cannot help")
        if ending == "cancelled":
            return Outcome(job, Kind.CANCELLED, "cancelled while running, on request")
        return Outcome(job, Kind.HANDED_BACK)

    def _expect_settled(self, tx: Tx, token: Token, ending: str, result: Settled) -> None:
        """Apply one outcome to the model and compare with what the core did."""
        model = self.model
        if not model.holds(token):
            assert result.applied is None, f"a worker that lost its lease changed {token.job.id}: {result}"
            return
        job = model.jobs[token.job.id]
        if ending in ("complete", "complete_with_children"):
            assert result.applied is Kind.COMPLETED, result
            model.complete(token, processed=True)
            if ending == "complete_with_children":
                self._expect_children(tx, job)
        elif ending == "cancelled":
            assert result.applied is Kind.CANCELLED, result
            model.cancelled_by_worker(token)
        elif model.cancel_if_requested(job):
            assert result.applied is Kind.CANCELLED, f"{job.id} was asked to cancel: {result}"
        elif ending == "hand_back":
            assert result.applied is Kind.HANDED_BACK, result
            model.hand_back(token)
        elif ending == "dead" or model.fails_for_good(token):
            assert result.applied is Kind.DEAD, result
            model.dead_letter(job)
        else:
            assert result.applied is Kind.FAILED, result
            low, high = backoff_bounds(token.job.attempts)
            assert result.retry_delay is not None
            assert low <= result.retry_delay <= high, result
            run_at = tx.dt(tx.scalar("SELECT scheduled_at FROM jobs WHERE id = :id", {"id": job.id}))
            assert abs(run_at - (self.now + timedelta(seconds=result.retry_delay))) < timedelta(milliseconds=1)
            model.retry(token, run_at)

    def _expect_children(self, tx: Tx, parent: Job) -> None:
        rows = tx.all("SELECT id FROM jobs WHERE parent_id = :id ORDER BY seq", {"id": parent.id})
        new = iter(r[0] for r in rows if r[0] not in self.model.jobs)
        for delay, key in ((5.0, None), (0.0, "k1")):
            if self.model.holder_of(key) is not None:
                continue  # unique enqueue: the unfinished job holding the key stands for it
            kind = TYPES.get("model_plain")
            self.model.add(
                Job(
                    id=next(new),
                    type=kind.name,
                    order=0,
                    priority=kind.priority,
                    max_attempts=kind.max_attempts,
                    scheduled_at=self.now + timedelta(seconds=delay),
                    idempotency_key=key,
                    workflow_id=parent.workflow_id,
                    parent_id=parent.id,
                )
            )
        assert next(new, None) is None, "children enqueued beyond those the completion carried"

    def _settle(self, tx: Tx, worker: str, chosen: list[tuple[Token, str]]) -> None:
        """Settle a batch; its plain completions take effect first (one statement), then the rest in
        order, as settle() documents (it matters when a completion frees a key a child asks for)."""
        outcomes = [self._outcome(token, ending) for token, ending in chosen]
        results = store.settle(tx, outcomes, self.now, self.policy)
        assert [r.outcome for r in results] == outcomes
        applied = sorted(zip(chosen, results, strict=True), key=lambda pair: pair[0][1] != "complete")
        for (token, ending), result in applied:
            self._expect_settled(tx, token, ending, result)
            self.model.drop(worker, token)
        self.last_round[worker] = outcomes

    @precondition(lambda self: bool(self.model.tokens()))
    @rule(data=st.data(), ending=st.sampled_from(ENDINGS))
    def finish_one(self, data: st.DataObject, ending: str) -> None:
        worker, token = data.draw(st.sampled_from(self.model.tokens()), label="token")
        with self.db.write() as tx:
            self._settle(tx, worker, [(token, ending)])

    @precondition(lambda self: any(not self.model.holds(token) for _, token in self.model.tokens()))
    @rule(data=st.data(), ending=st.sampled_from(ENDINGS))
    def finish_late(self, data: st.DataObject, ending: str) -> None:
        """A worker that lost its lease (rescued, perhaps claimed again since) reports its outcome."""
        stale = [(worker, token) for worker, token in self.model.tokens() if not self.model.holds(token)]
        worker, token = data.draw(st.sampled_from(stale), label="stale token")
        with self.db.write() as tx:
            self._settle(tx, worker, [(token, ending)])

    @rule(worker=st.sampled_from(WORKERS), data=st.data(), want=st.integers(0, 3))
    def round(self, worker: str, data: st.DataObject, want: int) -> None:
        """What a worker's pump does: settle what finished, then claim, in one transaction."""
        held = list(self.model.held[worker])
        picks = data.draw(st.lists(st.sampled_from(range(len(held))), unique=True), label="finished") if held else []
        chosen = [(held[i], data.draw(st.sampled_from(ENDINGS), label="ending")) for i in picks]
        with self.db.write() as tx:
            self._settle(tx, worker, chosen)
            claimed = store.claim(tx, worker, want, self.now, limits=LIMITS).jobs if want else []
        if want:
            self._check_claim(worker, want, claimed)

    @precondition(lambda self: any(self.last_round.values()))
    @rule(data=st.data())
    def replay_round(self, data: st.DataObject) -> None:
        """A worker settles its last outcomes again (as after a commit it could not confirm): no effect."""
        worker = data.draw(st.sampled_from(sorted(w for w, outcomes in self.last_round.items() if outcomes)))
        with self.db.write() as tx:
            results = store.settle(tx, self.last_round[worker], self.now, self.policy)
        assert [r.applied for r in results] == [None] * len(results), results

    @rule(worker=st.sampled_from(WORKERS))
    def heartbeat(self, worker: str) -> None:
        with self.db.write() as tx:
            refreshed = store.refresh_locks(tx, worker, self.now)
            workers.beat(tx, worker, len(self.model.held[worker]), "running", self.now)
            workers.prune(tx, self.now - WORKER_RECORD_TTL)
            asked = store.cancel_requests(tx, worker)
        assert refreshed == self.model.refresh(worker)
        self.model.beat(worker, "running")
        self.model.prune_workers()
        assert set(asked) == self.model.cancel_requests(worker)

    @rule(worker=st.sampled_from(WORKERS))
    def worker_stops(self, worker: str) -> None:
        """Its last beat says it stopped: whatever it still held is rescued at once."""
        with self.db.write() as tx:
            workers.beat(tx, worker, 0, "stopped", self.now)
        self.model.beat(worker, "stopped")

    @precondition(lambda self: any(self.model.cancel_requests(w) for w in WORKERS))
    @rule(data=st.data())
    def stop_on_request(self, data: st.DataObject) -> None:
        """A worker stops the running jobs an operator asked to cancel."""
        worker = data.draw(st.sampled_from([w for w in WORKERS if self.model.cancel_requests(w)]))
        with self.db.write() as tx:
            asked = set(store.cancel_requests(tx, worker))
            assert asked == self.model.cancel_requests(worker)
            chosen = [(t, "cancelled") for t in self.model.held[worker] if t.job.id in asked and self.model.holds(t)]
            self._settle(tx, worker, chosen)

    @rule()
    def rescue(self) -> None:
        orphans = self.model.orphans()
        with self.db.write() as tx:
            assert store.has_orphans(tx, self.now, self.policy) == bool(orphans)
            rescued = store.rescue(tx, self.now, self.policy)
        requeued, dead, cancelled = [], [], []
        for job in orphans:
            if self.model.cancel_if_requested(job):
                cancelled.append(job.id)
            elif job.attempts >= job.max_attempts:
                self.model.dead_letter(job)
                dead.append(job.id)
            else:
                self.model.rescued(job)
                requeued.append(job.id)
        got = (sorted(rescued.requeued), sorted(rescued.dead), sorted(rescued.cancelled))
        assert got == (sorted(requeued), sorted(dead), sorted(cancelled))

    # ---- operators ---------------------------------------------------------------------------

    @precondition(lambda self: bool(self.model.jobs))
    @rule(data=st.data(), running=st.booleans())
    def cancel(self, data: st.DataObject, running: bool) -> None:
        """Cancel a job; a running one (asked to stop) half the time, when there is one."""
        jobs = self.model.by_order()
        pool = [j for j in jobs if j.status == PROCESSING] if running else []
        job = data.draw(st.sampled_from(pool or jobs), label="job")
        outcome: operations.CancelOutcome | None
        try:
            with self.db.write() as tx:
                outcome = operations.cancel(tx, job.id, self.now)
        except StateConflictError:
            outcome = None
        if job.status == PENDING:
            assert outcome is operations.CancelOutcome.CANCELLED
            job.status = CANCELLED
        elif job.status == PROCESSING:
            assert outcome is operations.CancelOutcome.REQUESTED
            job.cancel_requested = True
        else:
            assert outcome is None, f"cancelled a {job.status} job"

    @rule(kind=st.sampled_from((*KINDS, "model_tick")), pause=st.booleans())
    def pause_or_resume(self, kind: str, pause: bool) -> None:
        with self.db.write() as tx:
            if pause:
                operations.pause_type(tx, kind, self.now)
            else:
                assert operations.resume_type(tx, kind) == (kind in self.model.paused)
        if pause:
            self.model.paused.add(kind)
        else:
            self.model.paused.discard(kind)

    def _expect_retry(self, job: Job | None, error: type[Exception] | None) -> bool:
        """What retrying a job should do (retry_job); True if it was put back or made due."""
        if job is None:
            assert error is NotFoundError
            return False
        holder = self.model.holder_of(job.idempotency_key)
        if job.status == FAILED and (holder is None or holder is job):
            assert error is None
            self.model.requeue(job)
            return True
        if job.status == PENDING:
            assert error is None
            job.scheduled_at = min(job.scheduled_at, self.now)
            return True
        assert error is StateConflictError, f"retry of a {job.status} job: {error}"
        return False

    @precondition(lambda self: any(entry.id for entry in self.model.dead))
    @rule(data=st.data())
    def retry_dead_letter(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from([e for e in self.model.dead if e.id is not None]), label="dead letter")
        assert entry.id is not None
        error: type[Exception] | None = None
        try:
            with self.db.write() as tx:
                operations.retry_dead_letter(tx, entry.id, self.now)
        except (NotFoundError, StateConflictError) as exc:
            error = type(exc)
        if self._expect_retry(self.model.jobs.get(entry.job_id), error):
            entry.reviewed = True

    @precondition(lambda self: bool(self.model.jobs))
    @rule(data=st.data())
    def run_now(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.model.by_order()), label="job")
        error: type[Exception] | None = None
        try:
            with self.db.write() as tx:
                operations.retry_job(tx, job.id, self.now)
        except StateConflictError as exc:
            error = type(exc)
        self._expect_retry(job, error)

    # ---- maintenance -------------------------------------------------------------------------

    @rule()
    def tick(self) -> None:
        schedule = self.model.schedule
        assert schedule is not None
        due = schedule.active and schedule.next_run_at <= self.now
        with self.db.write() as tx:
            assert cron.has_due(tx, self.now) == due
            fired = cron.tick(tx, TYPES, self.now)
        if not due:
            assert fired == []
            return
        fire_at = max(latest_tick(self.now), schedule.next_run_at)
        schedule.next_run_at = next_tick(max(self.now, fire_at))
        if fire_at in schedule.fired:
            assert fired == [], "a cron tick fired twice"
            return
        schedule.fired.add(fire_at)
        last = self.model.jobs.get(schedule.last_job_id) if schedule.last_job_id else None
        if schedule.overlap == "skip" and last is not None and last.status in UNFINISHED:
            assert [(f.fire_at, f.job_id, f.outcome) for f in fired] == [(fire_at, None, "skipped")]
            return
        assert [(f.fire_at, f.outcome) for f in fired] == [(fire_at, "enqueued")]
        job_id = fired[0].job_id
        assert job_id is not None
        assert job_id not in self.model.jobs
        kind = TYPES.get("model_tick")
        self.model.add(
            Job(
                id=job_id,
                type=kind.name,
                order=0,
                priority=kind.priority,
                max_attempts=kind.max_attempts,
                scheduled_at=self.now,
                idempotency_key=f"cron:{SCHEDULE}:{self.db.backend.to_db(fire_at)}",
            )
        )
        schedule.last_job_id = job_id

    @rule(active=st.booleans())
    def schedule_active(self, active: bool) -> None:
        with self.db.write() as tx:
            cron.set_active(tx, SCHEDULE, active, self.now)
        schedule = self.model.schedule
        assert schedule is not None
        schedule.active = active
        if active:
            schedule.next_run_at = next_tick(self.now)

    @rule()
    def age(self) -> None:
        with self.db.write() as tx:
            waiting = aging.has_aged(tx, self.now, AGING.total_seconds())
            promoted = aging.age(tx, self.now, AGING.total_seconds())
        expected = self.model.age()
        assert promoted == expected
        assert waiting == bool(expected)

    @rule(older_than=st.sampled_from([0.0, 60.0, 600.0]))
    def cleanup(self, older_than: float) -> None:
        cutoff = self.now - timedelta(seconds=older_than)
        with self.db.write() as tx:
            deleted = delete_completed_batch(tx, cutoff)
            prune_bookkeeping(tx, self.now, RATE.per_seconds)
        assert deleted == len(self.model.cleanup(cutoff))

    # ---- time --------------------------------------------------------------------------------

    # Steps on both sides of the limits: three missed beats (15 s), the lease (60 s), the rate
    # window (10 s), the aging period (30 s); then minutes to a day (cron ticks, cleanup, pruning).
    @rule(seconds=st.sampled_from([0.001, 1.0, 9.999, 10.001, 14.999, 15.001, 30.0, 59.999, 60.001, 300.0, 86400.0]))
    def clock_forward(self, seconds: float) -> None:
        self._move_to(self.now + timedelta(seconds=seconds))

    @precondition(lambda self: self.model.schedule is not None and self.model.schedule.next_run_at > self.now)
    @rule()
    def clock_to_next_cron_tick(self) -> None:
        assert self.model.schedule is not None
        self._move_to(self.model.schedule.next_run_at)

    def _move_to(self, moment: datetime) -> None:
        self.model.now = moment
        self.model.high_water = max(self.model.high_water, moment)

    @rule(seconds=st.sampled_from([0.001, 1.0, 5.0, 30.0]))
    def clock_back(self, seconds: float) -> None:
        """A wall clock stepped back (NTP); the core tolerates small steps."""
        self.model.now = max(self.model.now - timedelta(seconds=seconds), self.model.high_water - MAX_BACKWARDS)

    # ---- invariants --------------------------------------------------------------------------

    @invariant()
    def tables_match_the_model(self) -> None:
        with self.db.read() as tx:
            check_all(tx, self.model, SCHEDULE)
            # and the reads an idle worker makes before it takes the write lock
            due = store.has_due_work(tx, self.now, except_paused=True)
            next_at = store.next_due_at(tx)
        assert due == bool(self.model.eligible())
        waiting = [j.scheduled_at for j in self.model.jobs.values() if j.status == PENDING]
        assert next_at == (min(waiting) if waiting else None)

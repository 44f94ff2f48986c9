"""Flow control at claim time, in process (the worker tests see it only from outside): which jobs a
rate or concurrency limit holds back, which types it reports as limited, and when to look again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.db import Database
from shared.queue import enqueue, operations, store
from shared.queue.context import Completion
from shared.queue.limits import FlowLimits, RateLimit
from shared.queue.policy import QueuePolicy
from shared.queue.registry import JobType
from shared.queue.store import Claim
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
RATED = FlowLimits({"model_rated": RateLimit(2, 10.0)}, {})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add(db: Database, job_type: JobType[Any], payload: dict[str, Any]) -> str:
    with db.write() as tx:
        return enqueue(tx, job_type, payload, clock=lambda: T0)


def claim(db: Database, worker: str, limit: int, now: datetime, limits: FlowLimits) -> Claim:
    with db.write() as tx:
        return store.claim(tx, worker, limit, now, limits=limits)


def test_a_rate_limit_that_fills_during_a_claim_reports_its_type_and_when_it_frees(db: Database) -> None:
    ids = [add(db, model_jobs.rated, {"n": i}) for i in range(2)]
    got = claim(db, "w", 10, at(0), RATED)
    assert [job.id for job in got.jobs] == ids
    assert got.rate_limited == frozenset({"model_rated"})
    # The claim filled the window: the worker is told when its first start leaves it, so it looks
    # for this type again then, not only once one of its own jobs finishes.
    assert got.wake_at == at(10)


def test_a_full_rate_window_holds_jobs_back_until_its_oldest_start_leaves_it(db: Database) -> None:
    for i in range(2):
        add(db, model_jobs.rated, {"n": i})
    claim(db, "w", 10, at(0), RATED)
    third = add(db, model_jobs.rated, {"n": 3})
    held = claim(db, "w", 10, at(9.5), RATED)
    assert held == Claim([], frozenset({"model_rated"}), at(10))
    # the window is (now - 10 s, now]: the starts at 0 have left it at 10
    assert [job.id for job in claim(db, "w", 10, at(10), RATED).jobs] == [third]


def test_a_held_key_is_skipped_and_the_claim_looks_past_it(db: Database) -> None:
    first = add(db, model_jobs.keyed, {"key": "a"})
    add(db, model_jobs.keyed, {"key": "a"})
    other = add(db, model_jobs.keyed, {"key": "c"})
    # the first look (2 rows) finds both a's; the second skips key a and finds c
    got = claim(db, "w", 2, at(0), model_jobs.LIMITS)
    assert [job.id for job in got.jobs] == [first, other]
    assert got.rate_limited == frozenset()


def test_a_concurrency_limit_counts_running_jobs_and_those_claimed_beside_them(db: Database) -> None:
    two_per_key = FlowLimits({}, {"model_keyed": 2})
    fresh = [add(db, model_jobs.keyed, {"key": "b"}) for _ in range(3)]
    assert [job.id for job in claim(db, "w1", 10, at(0), two_per_key).jobs] == fresh[:2]
    running = add(db, model_jobs.keyed, {"key": "a"})
    assert [job.id for job in claim(db, "w1", 1, at(1), two_per_key).jobs] == [running]
    second = add(db, model_jobs.keyed, {"key": "a"})
    add(db, model_jobs.keyed, {"key": "a"})
    assert [job.id for job in claim(db, "w2", 10, at(2), two_per_key).jobs] == [second]


def test_a_rate_window_with_room_left_sets_no_wake_time(db: Database) -> None:
    limits = FlowLimits({"model_keyed": RateLimit(2, 10.0)}, {"model_keyed": 1})
    add(db, model_jobs.keyed, {"key": "a"})
    first = claim(db, "w", 10, at(0), limits)
    assert (len(first.jobs), first.rate_limited) == (1, frozenset())
    add(db, model_jobs.keyed, {"key": "a"})
    # one start of two is left in the window; the key, not the rate, holds the job back
    assert claim(db, "w", 10, at(1), limits) == Claim([], frozenset(), None)


def test_the_wake_time_is_the_first_slot_any_limited_type_gets(db: Database) -> None:
    limits = FlowLimits({"model_plain": RateLimit(1, 10.0), "model_rated": RateLimit(1, 20.0)}, {})
    add(db, model_jobs.plain, {"n": 1})
    add(db, model_jobs.rated, {"n": 1})
    assert len(claim(db, "w", 10, at(0), limits).jobs) == 2
    add(db, model_jobs.plain, {"n": 2})
    add(db, model_jobs.rated, {"n": 2})
    assert claim(db, "w", 10, at(1), limits) == Claim([], frozenset({"model_plain", "model_rated"}), at(10))


def test_the_due_work_read_leaves_paused_types_out_only_when_asked(db: Database) -> None:
    add(db, model_jobs.plain, {"n": 1})
    with db.write() as tx:
        operations.pause_type(tx, "model_plain", at(0))
    with db.read() as tx:
        assert store.has_due_work(tx, at(0)) is True
        assert store.has_due_work(tx, at(0), except_paused=True) is False


def test_jobs_without_a_key_or_without_a_limit_are_not_held(db: Database) -> None:
    limits = FlowLimits({}, {"model_plain": 1})
    plain = [add(db, model_jobs.plain, {"n": i}) for i in range(2)]
    keyed = add(db, model_jobs.keyed, {"key": "a"})
    assert {job.id for job in claim(db, "w", 10, at(0), limits).jobs} == {*plain, keyed}


def test_already_done_names_the_step_keys_completed_jobs_recorded(db: Database) -> None:
    add(db, model_jobs.plain, {"n": 1})
    (job,) = claim(db, "w", 1, at(0), FlowLimits({}, {})).jobs
    with db.write() as tx:
        outcome = store.Outcome(job, store.Kind.COMPLETED, completion=Completion(processed_key="step:1"))
        store.settle(tx, [outcome], at(1), QueuePolicy())
    with db.read() as tx:
        assert store.already_done(tx, ["step:1", "step:2"]) == {"step:1"}
        assert store.already_done(tx, ["step:2"]) == set()

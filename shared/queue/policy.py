"""The queue's rules in one place: retry or dead-letter, backoff, time limits, leases, liveness."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# A worker is alive while it has beaten within this many heartbeat periods; after that, any other
# worker may take back the jobs it held.
MISSED_BEATS = 3


@dataclass(frozen=True)
class Retry:
    run_at: datetime
    delay: float


@dataclass(frozen=True)
class DeadLetter:
    pass


Decision = Retry | DeadLetter


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before the next try after failed attempt number `attempt` (1-based).

    The un-jittered delay doubles each attempt (base, 2·base, 4·base, ...) up to `cap`; the jitter
    picks uniformly in its upper half, so retries of jobs that failed together spread out while
    every delay stays within [d/2, d].
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    ceiling: float = min(cap, base * 2.0 ** min(attempt - 1, 60))
    roll: float = rng.random() if rng is not None else random.random()  # noqa: S311 - jitter, not security
    return ceiling * (0.5 + 0.5 * roll)


@dataclass
class QueuePolicy:
    """Settings-driven rules, shared by the worker runtime and the queue's statements."""

    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 3600.0
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    default_timeout_seconds: float = 120.0
    timeout_overrides: Mapping[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def after_failure(self, attempt: int, max_attempts: int, now: datetime) -> Decision:
        """A failed attempt (an exception or a timeout): retry with backoff, or dead-letter the job
        when that was its last attempt."""
        if attempt >= max_attempts:
            return DeadLetter()
        delay = backoff_seconds(attempt, base=self.retry_base_seconds, cap=self.retry_max_seconds, rng=self.rng)
        return Retry(now + timedelta(seconds=delay), delay)

    def timeout_for(self, job_type: str, declared: float | None) -> float:
        """JOB_TIMEOUTS beats the type's own limit, which beats JOB_TIMEOUT_SECONDS."""
        if job_type in self.timeout_overrides:
            return self.timeout_overrides[job_type]
        return declared if declared is not None else self.default_timeout_seconds

    def lease_cutoff(self, now: datetime) -> datetime:
        """A job whose lock is older than this has no live owner (its worker crashed or hung)."""
        return now - timedelta(seconds=self.lease_seconds)

    def liveness_cutoff(self, now: datetime) -> datetime:
        """A worker last seen before this is dead."""
        return live_since(now, self.heartbeat_seconds)

    def trusts_missed_beats(self, now: datetime, writable_since: datetime) -> bool:
        """Whether missed beats prove a worker dead, to a rescuer whose writes have all succeeded
        since `writable_since`. After an outage (the write lock held elsewhere, a full disk) every
        worker's beats are late through no fault of its own; the first to write again would take
        back every running job, each rescue spending an attempt, and a last attempt ending in the
        dead-letter queue though its worker completes it. So the beats count only once the rescuer
        has written for MISSED_BEATS heartbeats without a refusal; until then only the lease does."""
        return now - writable_since >= timedelta(seconds=self.heartbeat_seconds * MISSED_BEATS)


def live_since(now: datetime, heartbeat_seconds: float) -> datetime:
    return now - timedelta(seconds=heartbeat_seconds * MISSED_BEATS)

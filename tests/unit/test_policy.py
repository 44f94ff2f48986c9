"""The queue's rules: backoff, retry or dead letter, time limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from shared.queue.policy import DeadLetter, QueuePolicy, Retry, backoff_seconds


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (10, 60.0), (500, 60.0)])
def test_backoff_doubles_with_jitter_in_the_upper_half_and_a_cap(attempt: int, ceiling: float) -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(attempt, base=2.0, cap=60.0, rng=rng) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not constant


def test_backoff_extremes_of_the_jitter() -> None:
    class Fixed(random.Random):
        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

        def random(self) -> float:
            return self.value

    assert backoff_seconds(3, base=1.0, cap=100.0, rng=Fixed(0.0)) == 2.0
    assert backoff_seconds(3, base=1.0, cap=100.0, rng=Fixed(0.999999)) == pytest.approx(4.0, abs=1e-5)


def test_attempts_are_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        backoff_seconds(0, base=1.0, cap=1.0)


def test_a_failed_attempt_is_retried_until_the_last_one_then_dead_lettered() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    policy = QueuePolicy(retry_base_seconds=4, retry_max_seconds=10, rng=random.Random(1))
    first = policy.after_failure(1, 3, now)
    assert isinstance(first, Retry)
    assert first.run_at == now + timedelta(seconds=first.delay)
    assert 2 <= first.delay <= 4
    third = policy.after_failure(3, 5, now)
    assert isinstance(third, Retry)
    assert 5 <= third.delay <= 10  # 16 capped at 10
    assert isinstance(policy.after_failure(3, 3, now), DeadLetter)
    assert isinstance(policy.after_failure(4, 3, now), DeadLetter)


def test_time_limits_setting_beats_the_type_which_beats_the_default() -> None:
    policy = QueuePolicy(default_timeout_seconds=120, timeout_overrides={"send_email": 5})
    assert policy.timeout_for("send_email", 30) == 5
    assert policy.timeout_for("generate_invoice", 30) == 30
    assert policy.timeout_for("generate_invoice", None) == 120


def test_missed_beats_count_once_the_rescuer_has_written_for_three_heartbeats() -> None:
    """After an outage every worker's beats are late; a rescuer whose own writes were refused until
    recently judges by the lease alone."""
    policy = QueuePolicy(heartbeat_seconds=5)
    back = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # the rescuer's last refused write
    assert not policy.trusts_missed_beats(back + timedelta(seconds=14.9), back)
    assert policy.trusts_missed_beats(back + timedelta(seconds=15), back)


def test_backoff_without_a_generator_still_jitters_in_the_upper_half() -> None:
    delays = {backoff_seconds(2, base=1.0, cap=10.0) for _ in range(50)}
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(delays) > 1


def test_an_attempt_number_below_one_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match=r"^attempt is 1-based$"):
        backoff_seconds(0, base=1.0, cap=1.0)


def test_the_policy_jitters_with_its_own_generator() -> None:
    """A seeded generator makes the worker's retry times reproducible (tests, the model)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    decision = QueuePolicy(retry_base_seconds=4, rng=random.Random(5)).after_failure(2, 5, now)
    assert isinstance(decision, Retry)
    assert decision.delay == backoff_seconds(2, base=4, cap=3600.0, rng=random.Random(5))

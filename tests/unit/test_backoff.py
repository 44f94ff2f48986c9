from __future__ import annotations

import random

import pytest

from shared.queue.retry import backoff_seconds


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

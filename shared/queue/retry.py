"""Retry delays: exponential backoff with jitter and a cap."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before the next try after failed attempt number `attempt` (1-based).

    The un-jittered delay doubles each attempt (base, 2·base, 4·base, ...) up to `cap`; the
    jitter picks uniformly in its upper half, so retries of jobs that failed together spread
    out while every delay stays within [d/2, d].
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    ceiling: float = min(cap, base * 2.0 ** min(attempt - 1, 60))
    roll: float = rng.random() if rng is not None else random.random()  # noqa: S311 - jitter, not security
    return ceiling * (0.5 + 0.5 * roll)

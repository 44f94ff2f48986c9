"""Flow control enforced where jobs are claimed, so it holds across every worker process.

A rate limit caps how many jobs of a type START in any sliding window (the course's limiter counted
per process, so three workers allowed three times the limit); a concurrency limit caps how many jobs
sharing a key RUN at once. A held-back job is simply not claimed: it spends no attempt, and the
worker sleeps until a slot frees rather than polling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

P = TypeVar("P")


class LimitSpecError(ValueError):
    """A RATE_LIMITS or CONCURRENCY_LIMITS entry cannot be understood."""


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` starts in any window of `per_seconds`."""

    limit: int
    per_seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.per_seconds <= 0:
            raise LimitSpecError("a rate limit needs a positive count and a positive window")


@dataclass(frozen=True)
class ConcurrencyLimit(Generic[P]):
    """At most `limit` running jobs per key; `key` derives it from the payload at enqueue."""

    key: Callable[[P], str]
    limit: int = 1


@dataclass(frozen=True)
class FlowLimits:
    """The limits a worker enforces: per job type, after the RATE_LIMITS/CONCURRENCY_LIMITS overrides."""

    rates: Mapping[str, RateLimit]
    concurrency: Mapping[str, int]

    @property
    def empty(self) -> bool:
        return not self.rates and not self.concurrency


def parse_rate_limits(text: str) -> dict[str, RateLimit | None]:
    """`type=count/seconds` entries, comma-separated; `type=none` lifts the type's own limit.
    The single word `none` lifts every limit (returned as {"*": None})."""
    if text.strip().lower() == "none":
        return {"*": None}
    result: dict[str, RateLimit | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise LimitSpecError(f"expected type=count/seconds or type=none, got {part!r}")
        if value.lower() == "none":
            result[name] = None
            continue
        count, slash, seconds = value.partition("/")
        try:
            result[name] = RateLimit(int(count), float(seconds) if slash else 60.0)
        except ValueError as exc:
            raise LimitSpecError(f"expected type=count/seconds, got {part!r}") from exc
    return result


def parse_concurrency_limits(text: str) -> dict[str, int]:
    """`type=n` entries: at most n running jobs per key of that type."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            limit = int(value)
        except ValueError:
            limit = 0
        if not sep or not name.strip() or limit < 1:
            raise LimitSpecError(f"expected type=n (n >= 1), got {part!r}")
        result[name.strip()] = limit
    return result


def resolve(
    declared_rates: Mapping[str, RateLimit],
    declared_concurrency: Mapping[str, ConcurrencyLimit[Any]],
    rate_overrides: Mapping[str, RateLimit | None],
    concurrency_overrides: Mapping[str, int],
) -> FlowLimits:
    """The job types' own limits with the settings' overrides applied."""
    if "*" in rate_overrides:
        rates: dict[str, RateLimit] = {}
    else:
        rates = dict(declared_rates)
        for name, rate in rate_overrides.items():
            if rate is None:
                rates.pop(name, None)
            else:
                rates[name] = rate
    concurrency = {name: spec.limit for name, spec in declared_concurrency.items()}
    for name, most in concurrency_overrides.items():
        if name in concurrency:
            concurrency[name] = most
    return FlowLimits(rates, concurrency)

"""Flow-control specs: the RATE_LIMITS / CONCURRENCY_LIMITS syntax and how overrides meet the job
types' own limits (the claim itself is tested on a database in tests/integration/test_claim_limits.py)."""

from __future__ import annotations

import pytest

from shared.queue.limits import (
    ConcurrencyLimit,
    FlowLimits,
    LimitSpecError,
    RateLimit,
    parse_concurrency_limits,
    parse_rate_limits,
    resolve,
)

KEYED: ConcurrencyLimit[object] = ConcurrencyLimit(key=lambda _: "k", limit=2)


@pytest.mark.parametrize(("limit", "seconds"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -1.0)])
def test_a_rate_limit_needs_a_positive_count_and_window(limit: int, seconds: float) -> None:
    with pytest.raises(LimitSpecError) as refused:
        RateLimit(limit, seconds)
    assert str(refused.value) == "a rate limit needs a positive count and a positive window"


def test_the_smallest_rate_limit_is_allowed() -> None:
    assert RateLimit(1, 0.001) == RateLimit(limit=1, per_seconds=0.001)


def test_overrides_replace_add_and_lift_rate_limits() -> None:
    declared = {"a": RateLimit(1, 1.0), "b": RateLimit(2, 2.0)}
    overrides: dict[str, RateLimit | None] = {"a": None, "b": RateLimit(3, 3.0), "c": RateLimit(4, 4.0), "x": None}
    assert resolve(declared, {}, overrides, {}) == FlowLimits({"b": RateLimit(3, 3.0), "c": RateLimit(4, 4.0)}, {})
    assert resolve(declared, {}, {}, {}) == FlowLimits(declared, {})
    assert declared == {"a": RateLimit(1, 1.0), "b": RateLimit(2, 2.0)}  # the types' own limits are untouched


def test_none_lifts_every_rate_limit_but_no_concurrency_limit() -> None:
    got = resolve({"a": RateLimit(1, 1.0)}, {"k": KEYED}, {"*": None, "b": RateLimit(1, 1.0)}, {})
    assert got == FlowLimits({}, {"k": 2})


def test_a_concurrency_override_applies_only_to_a_type_with_a_key() -> None:
    assert resolve({}, {"k": KEYED}, {}, {"k": 5, "other": 3}) == FlowLimits({}, {"k": 5})


def test_rate_limit_syntax() -> None:
    assert parse_rate_limits(" c=none, a = 3/10 , b=5 ,, ") == {
        "c": None,
        "a": RateLimit(3, 10.0),
        "b": RateLimit(5, 60.0),
    }
    assert parse_rate_limits(" NONE ") == {"*": None}
    assert parse_rate_limits("") == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a", "expected type=count/seconds or type=none, got 'a'"),
        ("=3/10", "expected type=count/seconds or type=none, got '=3/10'"),
        ("a=x/10", "expected type=count/seconds, got 'a=x/10'"),
        ("a=3/x", "expected type=count/seconds, got 'a=3/x'"),
        ("a=b=3/10", "expected type=count/seconds, got 'a=b=3/10'"),
        ("a=0/10", "expected type=count/seconds, got 'a=0/10'"),
        ("a=3/0", "expected type=count/seconds, got 'a=3/0'"),
    ],
)
def test_rate_limit_syntax_errors(text: str, error: str) -> None:
    with pytest.raises(LimitSpecError) as refused:
        parse_rate_limits(text)
    assert str(refused.value) == error


def test_concurrency_limit_syntax() -> None:
    assert parse_concurrency_limits(" a = 2 ,b=1,, ") == {"a": 2, "b": 1}
    assert parse_concurrency_limits("") == {}


@pytest.mark.parametrize("text", ["a", "=2", " =2", "a=0", "a=-1", "a=x", "a=b=2"])
def test_concurrency_limit_syntax_errors(text: str) -> None:
    with pytest.raises(LimitSpecError, match="expected type=n"):
        parse_concurrency_limits(text)

"""Aging's ladder of named priority levels."""

from __future__ import annotations

from shared.queue.aging import next_level
from shared.queue.priority import Priority


def test_each_level_ages_into_the_next_named_one_and_the_top_into_none() -> None:
    assert next_level(Priority.LOW) == Priority.NORMAL
    assert next_level(Priority.NORMAL - 1) == Priority.NORMAL  # a custom priority joins the next level
    assert next_level(Priority.CRITICAL) is None
    assert next_level(Priority.CRITICAL + 5) is None

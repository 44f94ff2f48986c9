"""Model-based test of the queue core (Hypothesis stateful testing) on SQLite and PostgreSQL.

The default run is small and derandomized, so CI is fast and reproducible. A long exploration:

    HYPOTHESIS_PROFILE=long python -m pytest tests/model -p no:timeout

(random seeds, far more and longer runs; failures are kept in .hypothesis/ and replayed first).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from shared.db import Database
from tests.model.machine import QueueMachine

PROFILES = {
    "default": settings(
        max_examples=150,
        stateful_step_count=60,
        derandomize=True,  # the same steps on every run: CI is reproducible
        database=None,
        deadline=None,  # a step's time depends on the machine, not on the code under test
        suppress_health_check=[HealthCheck.too_slow],
    ),
    "long": settings(
        max_examples=2000,
        stateful_step_count=100,
        derandomize=False,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    ),
}


def profile() -> settings:
    name = os.environ.get("HYPOTHESIS_PROFILE", "default")
    if name not in PROFILES:
        raise ValueError(f"HYPOTHESIS_PROFILE={name!r}: use one of {sorted(PROFILES)}")
    return PROFILES[name]


def test_queue_core_follows_its_model(database_url: str) -> None:
    database = Database(database_url)

    class OnThisDatabase(QueueMachine):
        db = database

    try:
        run_state_machine_as_test(OnThisDatabase, settings=profile())
    finally:
        database.dispose()

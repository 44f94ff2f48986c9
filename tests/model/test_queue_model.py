"""Model-based test of the queue core (Hypothesis stateful testing) on SQLite and PostgreSQL.

Profiles, chosen with HYPOTHESIS_PROFILE:

- `default` (CI): 250 derandomized runs of up to 80 steps, the same on every machine; a failure
  prints its whole run, unshrunk (shrinking steps that each touch a database can take minutes);
- `shrink`: the same runs, and a failure is shrunk to a minimal one (use it on a CI failure);
- `long`: random runs, 2,000 of up to 100 steps, shrunk, with failures kept in .hypothesis/ and
  replayed first next time. Without a time limit:

      HYPOTHESIS_PROFILE=long python -m pytest tests/model -o timeout=0
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from shared.db import Database
from tests.model.machine import QueueMachine

NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
CI = settings(
    max_examples=250,
    stateful_step_count=80,
    derandomize=True,  # the same steps on every run: CI is reproducible
    database=None,
    deadline=None,  # a step's time depends on the machine and the database, not on the code under test
    suppress_health_check=[HealthCheck.too_slow],
    phases=NO_SHRINK,
)
PROFILES = {
    "default": CI,
    "shrink": settings(CI, phases=tuple(Phase)),
    "long": settings(
        CI,
        max_examples=2000,
        stateful_step_count=100,
        derandomize=False,
        database=settings().database,
        phases=tuple(Phase),
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

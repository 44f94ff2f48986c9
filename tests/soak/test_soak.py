"""The chaos soak, short: a few hundred orders through the real API while 4 real workers are
killed and stopped every few seconds, an outside process holds the write lock (within and beyond
BUSY_TIMEOUT_MS), the disk fills up, and 30 % of provider calls fail. bench/soak.py runs the same
scenario long (10,000 orders) and prints its figures.

What must hold at the end (tests/support/soak/audit.py and run.py): every order answered 201 is
stored once, and a repeat with its Idempotency-Key (after the answer, or at the same time) got the
same order; every pipeline is complete or stopped at a step that sits in the dead-letter queue; no
step enqueued twice, no effect delivered under a second key, every completed step's effect
delivered, every payment either an order or voided; no client and no log saw "database is
locked"; every 5xx was a 503 in the error envelope while the lock was held or the disk full; no
worker exited other than as its signal says; the admin stats equal a direct count; SQLite's
integrity check is ok.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.soak import SoakPlan, run_soak

pytestmark = pytest.mark.timeout(240)

PLAN = SoakPlan(orders=300, workers=4, order_rate=10.0)


def test_chaos_soak(tmp_path: Path) -> None:
    report = run_soak(PLAN, tmp_path)

    assert report.problems == [], "\n".join(report.problems)
    tally = report.tally
    assert tally["orders"] == PLAN.orders
    # Every fault happened, and was felt.
    assert tally["workers killed (SIGKILL)"] >= 5
    assert tally["workers stopped (SIGTERM)"] + tally["workers stopped (SIGTERM twice)"] >= 1
    assert tally["rescues"] >= 1  # a killed worker's jobs came back through the liveness check
    assert tally["write lock held outside"] >= 2
    assert tally["write lock held outside beyond BUSY_TIMEOUT_MS"] >= 1
    assert tally["disk full"] >= 1
    assert sum(n for what, n in tally.items() if what.startswith("5xx: ")) >= 1  # clients saw 503s
    assert tally["failed attempts retried"] >= PLAN.orders // 10  # the providers' 30 % failures
    assert tally["repeat calls deduplicated by the providers"] >= 1  # lost replies retried, not re-delivered
    assert tally["orders complete"] >= PLAN.orders * 3 // 4
    orders = range(PLAN.orders)
    assert tally["races"] == sum(n % PLAN.race_every == 0 for n in orders)
    assert tally["replays"] == sum(n % PLAN.replay_every == 0 and n % PLAN.race_every != 0 for n in orders)

"""An order's pipeline as a workflow: a failed step stops it where it failed, a retry from the
dead-letter queue resumes it from there, and no step runs twice in effect."""

from __future__ import annotations

import signal

from litestar.testing import TestClient

from api.app import create_app
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.queue import operations
from tests.support.queue import delivered, place_orders, query, scalar, wait_until
from tests.worker.conftest import WorkerFactory

FAILING = {"SIMULATED_FAILURE_RATE": "1", "RETRY_BASE_SECONDS": "0.01", "RETRY_MAX_SECONDS": "0.02"}


def test_a_failed_step_stops_the_pipeline_and_a_dead_letter_retry_resumes_it(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    (order,) = place_orders(settings, 1, [("prod-1", 1), ("prod-3", 2)])
    failing = workers("failing", **FAILING)
    wait_until(
        lambda: scalar(db, "SELECT status FROM jobs WHERE type = 'send_order_confirmation'") == "failed",
        timeout=30,
        what="the confirmation to spend its attempts",
    )
    failing.signal(signal.SIGTERM)
    assert failing.wait(30) == 0
    assert sorted(row[0] for row in query(db, "SELECT type FROM jobs")) == [
        "send_followup_email",
        "send_order_confirmation",
    ]  # the failed step's children were never scheduled

    with TestClient(create_app(settings)) as client:
        stopped = client.get(f"/orders/{order}").json()
        assert stopped["progress"]["state"] == "stopped"
        assert stopped["progress"]["stoppedAt"]["type"] == "send_order_confirmation"
        assert stopped["progress"]["stoppedAt"]["status"] == "failed"
        assert stopped["progress"]["stoppedAt"]["error"].startswith("ServiceError:")

        (dead_id,) = (row[0] for row in query(db, "SELECT id FROM dead_letter_jobs"))
        with db.write() as tx:
            confirmation = operations.retry_dead_letter(tx, dead_id, utcnow())
        healthy = workers("healthy", SIMULATED_FAILURE_RATE="0")
        wait_until(
            lambda: (
                scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND type != 'send_followup_email'")
                == 3
            ),
            timeout=30,
            what="the resumed pipeline",
        )
        resumed = client.get(f"/orders/{order}").json()

    assert resumed["progress"] == {"state": "waiting", "stoppedAt": None}  # only the follow-up, a day later
    steps = {job["type"]: job for job in resumed["pipeline"]}
    assert steps["send_order_confirmation"]["id"] == confirmation
    assert steps["send_order_confirmation"]["attempts"] == 1  # fresh attempts after the retry
    for child in ("generate_invoice", "sync_inventory"):
        assert steps[child]["status"] == "completed"
        assert steps[child]["parentId"] == confirmation  # enqueued by the confirmation's completion
    assert query(db, "SELECT reviewed FROM dead_letter_jobs") == [(1,)]
    # Every effect reached its provider once, even the confirmation email whose replies were lost
    # while it was failing: repeated calls were deduplicated by key.
    keys = [(provider, key) for provider, key, _, _ in delivered(settings) if provider != "payment"]
    assert sorted(keys) == sorted(
        [
            ("email", f"order-confirmation:{order}"),
            ("pdf", f"invoice:{order}"),
            ("inventory", f"inventory:{order}:prod-1"),
            ("inventory", f"inventory:{order}:prod-3"),
        ]
    )
    healthy.signal(signal.SIGTERM)
    assert healthy.wait(30) == 0

"""kill -9 and SIGTERM in the middle of jobs: nothing lost, nothing delivered twice, exit 0 on TERM."""

from __future__ import annotations

import json
import signal
import time

from shared.config import Settings
from shared.db import Database
from shared.queue import enqueue
from shared.shop import jobs as shop_jobs
from tests.support.processes import Service
from tests.support.queue import delivered, place_orders, query, scalar, set_stock, unfinished, wait_until
from tests.worker.conftest import WorkerFactory, assert_no_lock_errors

FAST_LEASE = {"LEASE_SECONDS": "2", "HEARTBEAT_SECONDS": "0.3", "SIMULATED_FAILURE_RATE": "0"}


def held_by(db: Database, service: Service) -> list[str]:
    pattern = f"%:{service.process.pid}:%"
    return [
        row[0]
        for row in query(db, "SELECT id FROM jobs WHERE status = 'processing' AND locked_by LIKE :p", {"p": pattern})
    ]


def assert_every_effect_delivered_once(settings: Settings, orders: list[str]) -> None:
    expected = set()
    for order in orders:
        expected |= {
            ("email", f"order-confirmation:{order}"),
            ("pdf", f"invoice:{order}"),
            ("inventory", f"inventory:{order}:prod-2"),
            ("payment", f"charge:{order}"),
        }
    rows = delivered(settings)
    assert {(provider, key) for provider, key, _, _ in rows} == expected
    # Rescued jobs ran again, but each effect reached the provider once: repeats were deduplicated.
    assert len(rows) == len(expected)


def test_kill_9_mid_job_the_others_rescue_its_jobs(
    db: Database, settings: Settings, workers: WorkerFactory, fleet: list[str]
) -> None:
    set_stock(db, 1000)
    orders = place_orders(settings, 30)
    env = {**FAST_LEASE, "SIMULATED_LATENCY_SCALE": "1", "WORKER_CONCURRENCY": "5"}
    victim = workers("victim", **env)
    wait_until(lambda: len(held_by(db, victim)) >= 3, timeout=30, what="the victim to hold jobs")
    survivors = [workers(name, **env) for name in fleet[1:]]
    taken = held_by(db, victim)
    victim.signal(signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL

    wait_until(lambda: unfinished(db) == 0, timeout=120, what="every pipeline to finish")
    statuses = dict(query(db, "SELECT status, COUNT(*) FROM jobs WHERE type != 'send_followup_email' GROUP BY status"))
    assert statuses == {"completed": 90}  # 30 orders x (confirmation, invoice, inventory)
    for job_id in taken:
        attempts, locked_by, error = query(
            db, "SELECT attempts, locked_by, last_error FROM jobs WHERE id = :id", {"id": job_id}
        )[0]
        assert attempts == 2  # the killed attempt counted, then one more by a survivor
        assert f":{victim.process.pid}:" not in locked_by
        assert "lease expired" in error
    assert_every_effect_delivered_once(settings, orders)
    assert scalar(db, "SELECT COUNT(*) FROM dead_letter_jobs") == 0
    for service in survivors:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in survivors] == [0] * len(survivors)
    assert_no_lock_errors(survivors)


def test_a_killed_workers_jobs_run_again_within_three_heartbeats(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    """The lease is long (60 s); the victim's missed heartbeats, not the lease, bring its jobs back."""
    set_stock(db, 1000)
    place_orders(settings, 10)
    env = {"LEASE_SECONDS": "60", "HEARTBEAT_SECONDS": "0.5", "SIMULATED_FAILURE_RATE": "0"}
    victim = workers("victim", SIMULATED_LATENCY_SCALE="100", WORKER_CONCURRENCY="5", **env)
    wait_until(lambda: len(held_by(db, victim)) >= 3, timeout=30, what="the victim to hold jobs")
    taken = held_by(db, victim)
    survivor = workers("survivor", SIMULATED_LATENCY_SCALE="0", **env)
    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait(10)
    wait_until(
        lambda: (
            scalar(
                db,
                "SELECT COUNT(*) FROM jobs WHERE status = 'completed' "
                f"AND id IN (SELECT value FROM {db.backend.list_table('ids')})",
                {"ids": db.backend.list_param(taken)},
            )
            == len(taken)
        ),
        timeout=30,
        what="the victim's jobs to complete elsewhere",
        interval=0.05,
    )
    # Three missed beats (1.5 s) plus a heartbeat round of the survivor to notice, well under the lease.
    assert time.monotonic() - killed_at < 5
    events = [json.loads(line) for line in survivor.log().splitlines() if line.startswith("{")]
    rescued = {event["job_id"]: event for event in events if event["event"] == "job.rescued"}
    assert sorted(rescued) == sorted(taken)  # one line per job, with the fields every job event has
    for event in rescued.values():
        assert event["outcome"] == "requeued"
        assert event["type"] in {"send_order_confirmation", "generate_invoice", "sync_inventory"}
        assert event["attempt"] == 1
        assert event["workflow_id"] is not None
        assert f":{victim.process.pid}:" in event["lost_worker_id"]
        assert event["worker_id"] != event["lost_worker_id"]
    survivor.signal(signal.SIGTERM)
    assert survivor.wait(30) == 0


def test_sigterm_lets_running_jobs_finish_within_the_grace_period(
    db: Database, settings: Settings, workers: WorkerFactory
) -> None:
    (order,) = place_orders(settings, 1)
    # The invoice takes 2 s x 0.5 = 1 s; the grace period is 20 s.
    worker = workers("w", SIMULATED_LATENCY_SCALE="0.5", SIMULATED_FAILURE_RATE="0", SHUTDOWN_GRACE_SECONDS="20")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE type = 'generate_invoice' AND status = 'processing'") == 1,
        timeout=30,
        what="the invoice job to start",
    )
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert scalar(db, "SELECT status FROM jobs WHERE type = 'generate_invoice'") == "completed"
    assert scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'processing'") == 0
    assert scalar(db, "SELECT status FROM workers") == "stopped"
    assert (settings.resolved_data_dir() / "invoices" / f"{order}.pdf").is_file()


def test_half_a_fleet_sigtermed_mid_backlog_finishes_its_jobs_and_the_rest_drain(
    db: Database, settings: Settings, workers: WorkerFactory, fleet: list[str]
) -> None:
    """A rolling deploy: half the workers get SIGTERM while every worker is busy. Each finishes what
    it holds and exits 0; the others drain the rest; no job runs twice or spends a second attempt."""
    set_stock(db, 1000)
    orders = place_orders(settings, 40)
    env = {"SIMULATED_LATENCY_SCALE": "0.3", "SIMULATED_FAILURE_RATE": "0", "SHUTDOWN_GRACE_SECONDS": "20"}
    running = [workers(name, WORKER_CONCURRENCY="4", **env) for name in fleet]
    leaving, staying = running[: len(running) // 2], running[len(running) // 2 :]
    wait_until(lambda: all(held_by(db, service) for service in leaving), timeout=30, what="every leaver busy")
    for service in leaving:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in leaving] == [0] * len(leaving)
    assert [held_by(db, service) for service in leaving] == [[]] * len(leaving)  # nothing left locked

    wait_until(lambda: unfinished(db) == 0, timeout=120, what="the rest of the backlog")
    assert query(db, "SELECT status, MAX(attempts) FROM jobs WHERE type != 'send_followup_email' GROUP BY status") == [
        ("completed", 1)
    ]
    assert_every_effect_delivered_once(settings, orders)
    for service in staying:
        service.signal(signal.SIGTERM)
    assert [service.wait(30) for service in staying] == [0] * len(staying)
    assert_no_lock_errors(running)


def test_sigterm_hands_back_what_cannot_finish_without_spending_an_attempt(
    db: Database, workers: WorkerFactory
) -> None:
    with db.write() as tx:
        ids = [enqueue(tx, shop_jobs.send_email, {"to": f"u{i}@shop.test", "subject": "slow"}) for i in range(3)]
    # Each email takes 0.5 s x 40 = 20 s; the grace period is 0.5 s.
    worker = workers("w", SIMULATED_LATENCY_SCALE="40", SIMULATED_FAILURE_RATE="0", SHUTDOWN_GRACE_SECONDS="0.5")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'processing'") == 3,
        timeout=30,
        what="the jobs to start",
    )
    started = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert time.monotonic() - started < 15  # did not wait for the 20 s jobs
    rows = query(db, "SELECT status, attempts, locked_by FROM jobs")
    assert rows == [("pending", 0, None)] * 3
    assert '"event": "job.handed_back"' in worker.log()

    # A new worker picks up where the old one left off.
    workers("next", SIMULATED_LATENCY_SCALE="0", SIMULATED_FAILURE_RATE="0")
    wait_until(lambda: unfinished(db, ignore_types=()) == 0, timeout=30, what="the handed-back jobs to run")
    assert sorted(query(db, "SELECT id, status, attempts FROM jobs")) == sorted((i, "completed", 1) for i in ids)


def test_a_second_signal_exits_at_once(db: Database, workers: WorkerFactory) -> None:
    with db.write() as tx:
        enqueue(tx, shop_jobs.send_email, {"to": "u@shop.test", "subject": "slow"})
    worker = workers("w", SIMULATED_LATENCY_SCALE="100", SIMULATED_FAILURE_RATE="0", SHUTDOWN_GRACE_SECONDS="60")
    wait_until(
        lambda: scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'processing'") == 1,
        timeout=30,
        what="the job to start",
    )
    worker.signal(signal.SIGTERM)
    time.sleep(0.3)
    assert worker.process.poll() is None  # still draining
    worker.signal(signal.SIGINT)
    assert worker.wait(10) == 128 + signal.SIGINT
    assert '"event": "worker.forced_exit"' in worker.log()

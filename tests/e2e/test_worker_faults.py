"""Faults on a running bundle of three workers: SIGKILL of a busy worker, `compose stop` in the
middle of work, then `down` and `up` over the same volume. Nothing is lost, nothing is done twice.

Settings for this module: a short lease (3 s, heartbeat 0.5 s) so a dead worker's jobs are rescued
quickly; the services' real delays (SIMULATED_LATENCY_SCALE=1: email 0.5 s, PDF 2 s, inventory
0.3 s per item) so jobs are still running when the fault hits; no simulated failures, so every
second attempt is a rescue; a 1 s shutdown grace, shorter than a PDF, so a stop both lets jobs
finish and hands some back. The tests share one bundle and run in file order; each brings the
three workers back first and places its own orders, and checks every order placed so far.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.bundle import Bundle, json_log_events, wait_until
from tests.e2e.shop import (
    FOLLOWUP,
    LEASE_EXPIRED,
    Order,
    assert_database_sound,
    assert_effects_exactly_once,
    assert_migrated_once,
    assert_orders_served,
    assert_pipelines_done,
    busiest,
    host_of,
    job_counts,
    jobs_by_id,
    place_orders,
    processing_jobs,
    restock,
    wait_for_pipelines,
    wait_for_workers,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WORKERS = 3
LEASE_SECONDS = 3.0


@pytest.fixture(scope="module")
def bundle_env() -> dict[str, str]:
    return {
        "LEASE_SECONDS": str(LEASE_SECONDS),
        "HEARTBEAT_SECONDS": "0.5",
        "SHUTDOWN_GRACE_SECONDS": "1",
        "SIMULATED_LATENCY_SCALE": "1",
        "SIMULATED_FAILURE_RATE": "0",
    }


@pytest.fixture(scope="module")
def placed() -> list[Order]:
    """Every order the module's tests placed, in the order placed."""
    return []


def three_workers(bundle: Bundle) -> dict[str, str]:
    """`up -d --scale worker=3 --wait` (starts what is missing); worker id -> container name."""
    bundle.up(scale={"worker": WORKERS})
    workers = wait_for_workers(bundle, WORKERS, seen_within=LEASE_SECONDS)
    restock(bundle)
    return workers


def test_sigkill_of_a_busy_worker_its_jobs_are_rescued_by_the_other_two(bundle: Bundle, placed: list[Order]) -> None:
    workers = three_workers(bundle)
    orders = place_orders(bundle, 45)
    placed.extend(orders)

    # Kill a worker while it holds jobs: find it by its locks, its container by hostname.
    victim, held = wait_until(
        lambda: busiest(bundle, workers, at_least=3), timeout=60, interval=0.1, what="a worker holding 3 jobs"
    )
    container = workers[victim]
    assert host_of(victim) == bundle.hostname(container)
    bundle.kill(container)

    def exited() -> dict[str, Any] | None:
        state: dict[str, Any] = bundle.inspect(container)["State"]
        return None if state["Running"] else state

    state = wait_until(exited, timeout=30, what=f"{container} down")
    assert (state["Status"], state["ExitCode"]) == ("exited", 137), state  # SIGKILLed, not restarted

    wait_for_pipelines(bundle)
    survivors = set(workers) - {victim}
    final = jobs_by_id(bundle, [str(job["id"]) for job in held])
    assert set(final) == {job["id"] for job in held}
    finished_by_victim, rescued = [], []
    for job in held:
        now = final[str(job["id"])]
        assert now["status"] == "completed", (job, now)
        if now["locked_by"] == victim:  # completed in the moment between the look and the kill
            assert now["attempts"] == job["attempts"], (job, now)
            finished_by_victim.append(job["id"])
        else:  # rescued after the lease ran out, completed by one of the other two
            assert now["locked_by"] in survivors, (job, now, survivors)
            assert now["attempts"] >= 2, (job, now)
            assert LEASE_EXPIRED in (now["last_error"] or ""), (job, now)
            rescued.append(job["id"])
    assert rescued, f"all {len(held)} jobs finished before the kill landed; nothing was rescued"

    assert_pipelines_done(bundle, placed)
    assert_effects_exactly_once(bundle, placed)


def test_compose_stop_drains_every_worker_and_up_resumes_the_work(bundle: Bundle, placed: list[Order]) -> None:
    workers = three_workers(bundle)
    orders = place_orders(bundle, 60)
    placed.extend(orders)

    def running() -> list[dict[str, Any]] | None:
        jobs = processing_jobs(bundle)
        return jobs if len(jobs) >= 5 else None

    held = wait_until(running, timeout=60, interval=0.1, what="5 jobs running")

    bundle.stop("worker")  # SIGTERM to each; SIGKILL after stop_grace_period (40 s)
    for container in workers.values():
        state = bundle.inspect(container)["State"]
        assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 0, False), (container, state)
        events = json_log_events(bundle.container_logs(container))
        stopping = [e for e in events if e.get("event") == "worker.stopping"]
        assert [e.get("signal") for e in stopping] == ["SIGTERM"], (container, stopping)
        assert any(e.get("event") == "worker.stopped" for e in events), (container, events[-5:])
    assert processing_jobs(bundle) == []
    rows = bundle.sql(f"SELECT id, status FROM workers WHERE id IN ({', '.join('?' * len(workers))})", list(workers))
    assert {row[0]: row[1] for row in rows} == dict.fromkeys(workers, "stopped")
    counts = job_counts(bundle)
    left = sum(n for (job_type, status), n in counts.items() if status == "pending" and job_type != FOLLOWUP)
    assert left > 0, "the workers finished everything before the stop: nothing to resume"

    # Each job running at the stop either finished in the grace period or went back to the queue
    # with its attempt given back.
    stopped = jobs_by_id(bundle, [str(job["id"]) for job in held])
    handed_back: dict[str, dict[str, Any]] = {}
    for job in held:
        now = stopped[str(job["id"])]
        if now["status"] == "completed":
            assert (now["locked_by"], now["attempts"]) == (job["locked_by"], job["attempts"]), (job, now)
        else:
            assert (now["status"], now["locked_by"], now["attempts"]) == ("pending", None, job["attempts"] - 1), (
                job,
                now,
            )
            handed_back[str(job["id"])] = job

    three_workers(bundle)
    wait_for_pipelines(bundle)
    resumed = jobs_by_id(bundle, handed_back)
    for job_id, job in handed_back.items():  # run again on the attempt they were handed back with
        assert (resumed[job_id]["status"], resumed[job_id]["attempts"]) == ("completed", job["attempts"]), job_id
    assert_pipelines_done(bundle, placed)
    assert_effects_exactly_once(bundle, placed)


def test_after_the_faults_down_and_up_keeps_every_order_and_a_sound_database(
    bundle: Bundle, placed: list[Order]
) -> None:
    three_workers(bundle)
    placed.extend(place_orders(bundle, 10))
    wait_for_pipelines(bundle)

    bundle.down()  # the volume stays
    assert bundle.ps() == []
    three_workers(bundle)
    assert_migrated_once(bundle)
    assert "Running upgrade" not in bundle.logs("migrate")

    assert_orders_served(bundle, placed)
    assert_pipelines_done(bundle, placed)
    assert_effects_exactly_once(bundle, placed)
    assert_database_sound(bundle)

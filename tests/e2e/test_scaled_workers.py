"""Three workers from `up --scale worker=3`: each its own identity and health, and 300 orders' work
done once, spread over all three.

No simulated failures here, so every pipeline completes and every job needs exactly one attempt; the
services are fast (SIMULATED_LATENCY_SCALE=0.1: PDF 200 ms, email 50 ms) but slow enough that the
workers' jobs overlap. The tests share one bundle and run in file order.
"""

from __future__ import annotations

import pytest

from tests.e2e.bundle import Bundle, docker
from tests.e2e.shop import (
    Order,
    assert_effects_exactly_once,
    assert_migrated_once,
    assert_orders_served,
    assert_pipelines_done,
    completed_by_worker,
    host_of,
    job_counts,
    place_orders,
    restock,
    summary,
    wait_for_pipelines,
    wait_for_workers,
    workers_overlapped,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WORKERS = 3
ORDERS = 300
HEARTBEAT_SECONDS = 5.0  # the default; a worker counts as live when seen within 3 heartbeats
LIVE_WITHIN = 3 * HEARTBEAT_SECONDS


@pytest.fixture(scope="module")
def bundle_env() -> dict[str, str]:
    return {
        "SIMULATED_FAILURE_RATE": "0",
        "SIMULATED_LATENCY_SCALE": "0.1",
        "HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    }


@pytest.fixture(scope="module")
def scaled(bundle: Bundle) -> dict[str, str]:
    """`up -d --build --scale worker=3 --wait`; worker id -> container name of the three workers."""
    bundle.up(build=True, scale={"worker": WORKERS})
    return wait_for_workers(bundle, WORKERS, seen_within=LIVE_WITHIN)


def test_scale_up_migrates_once_and_starts_three_distinct_healthy_workers(
    bundle: Bundle, scaled: dict[str, str]
) -> None:
    assert_migrated_once(bundle)
    by_service: dict[str, list[dict[str, object]]] = {}
    for row in bundle.ps():
        by_service.setdefault(str(row["Service"]), []).append(row)
    assert sorted(by_service) == ["api", "migrate", "worker"], by_service
    (api,) = by_service["api"]
    assert (api["State"], api["Health"]) == ("running", "healthy"), api
    assert len(by_service["worker"]) == WORKERS
    for worker in by_service["worker"]:
        assert worker["State"] == "running", worker
        assert bundle.health(str(worker["Name"])) == "healthy", worker

    # Three registered workers, one per container (the id starts with the container's hostname).
    assert len(scaled) == WORKERS
    assert sorted(scaled.values()) == bundle.containers("worker")
    for worker_id, container in scaled.items():
        assert host_of(worker_id) == bundle.hostname(container), (worker_id, container)
    assert bundle.wait_http_ok("/health").json()["liveWorkers"] == WORKERS


def test_worker_healthcheck_reads_its_own_containers_liveness(bundle: Bundle, scaled: dict[str, str]) -> None:
    for container in scaled.values():
        assert bundle.health(container) == "healthy"
        probe = docker("exec", container, "python", "-m", "worker.healthcheck", check=False)
        assert probe.returncode == 0, (container, probe.stdout, probe.stderr)
    # Same image, same database, three live workers, but none on this container's host: unhealthy.
    stranger = bundle.compose(
        "run", "--rm", "--no-deps", "-T", "worker", "python", "-m", "worker.healthcheck", check=False
    )
    assert stranger.returncode == 1, (stranger.stdout, stranger.stderr)
    assert "no live worker heartbeat on this host" in stranger.stderr, stranger.stderr


def test_300_orders_each_job_once_spread_over_three_workers(bundle: Bundle, scaled: dict[str, str]) -> None:
    restock(bundle)
    orders: list[Order] = place_orders(bundle, ORDERS)
    assert len({order["id"] for order in orders}) == ORDERS

    wait_for_pipelines(bundle)
    assert_pipelines_done(bundle, orders)
    counts = job_counts(bundle)
    assert sum(counts.values()) == 4 * ORDERS, counts

    # Exactly once: no job needed a second attempt, no provider saw a key twice, one row per effect.
    retried = bundle.sql("SELECT id, type, attempts, last_error FROM jobs WHERE status = 'completed' AND attempts != 1")
    assert retried == []
    repeats = assert_effects_exactly_once(bundle, orders)
    assert {key: n for key, n in repeats.items() if n} == {}

    # Spread: every completed job's lock names one of the three workers, and each did some.
    done_by = completed_by_worker(bundle)
    assert set(done_by) == set(scaled), f"completed by {summary(done_by)}; workers {sorted(scaled)}"
    assert sum(done_by.values()) == 3 * ORDERS
    assert workers_overlapped(bundle), "no two workers ever ran jobs at the same time"

    assert_orders_served(bundle, orders)

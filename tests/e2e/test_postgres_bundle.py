"""The bundle on PostgreSQL (docker-compose.postgres.yml over docker-compose.yml), deployed the way
the README moves a shop there: the database and its schema first, the SQLite shop copied in with
`shopqueue migrate-to-postgres`, then the API and three workers. Then a SIGKILL of a busy worker
(nothing lost, every effect once), and `down` then `up` over the same volumes.

Settings as in test_worker_faults.py: a short lease (3 s, heartbeat 0.5 s) so a dead worker's jobs
are rescued quickly, the services' real delays so jobs are running when the kill lands, no simulated
failures. The password has characters a URL would need escaped: the app gets it through PGPASSWORD.
The tests share one bundle and run in file order.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.e2e.bundle import Bundle, wait_until
from tests.e2e.shop import (
    LEASE_EXPIRED,
    Order,
    alembic_head,
    assert_database_sound,
    assert_effects_exactly_once,
    assert_migrated_once,
    assert_orders_served,
    assert_pipelines_done,
    busiest,
    host_of,
    jobs_by_id,
    place_orders,
    restock,
    wait_for_pipelines,
    wait_for_workers,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WORKERS = 3
LEASE_SECONDS = 3.0
OLD_SHOP = "sqlite:////data/old.db"  # a SQLite shop on the data volume, as a bundle before the move left it


@pytest.fixture(scope="module")
def bundle_database() -> str:
    return "postgres"


@pytest.fixture(scope="module")
def bundle_env() -> dict[str, str]:
    return {
        "POSTGRES_PASSWORD": f"p@ss:/w'rd {secrets.token_hex(6)}$HOME%",
        "LEASE_SECONDS": str(LEASE_SECONDS),
        "HEARTBEAT_SECONDS": "0.5",
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


def once(bundle: Bundle, *command: str, env: str | None = None) -> str:
    """`docker compose run --rm --no-deps migrate COMMAND` (the app image, the bundle's settings)."""
    extra = ["-e", env] if env else []
    result = bundle.compose("run", "--rm", "--no-deps", "-T", *extra, "migrate", *command, timeout=180)
    return result.stdout + result.stderr


def test_move_in_then_scale_to_three_workers_on_postgres(bundle: Bundle) -> None:
    bundle.up("postgres", build=True)
    (postgres,) = bundle.containers("postgres")
    assert bundle.health(postgres) == "healthy"
    ports = bundle.inspect(postgres)["NetworkSettings"]["Ports"]
    assert ports == {"5432/tcp": None}, ports  # exposed to the compose network, published nowhere

    # The schema on PostgreSQL, a SQLite shop to move, the move.
    migrated = once(bundle, "alembic", "upgrade", "head")
    assert "Context impl PostgresqlImpl" in migrated, migrated
    assert f"-> {alembic_head()}" in migrated, migrated
    once(bundle, "alembic", "upgrade", "head", env=f"DATABASE_URL={OLD_SHOP}")
    moved = once(bundle, "shopqueue", "migrate-to-postgres", "--from", OLD_SHOP)  # --to: the bundle's DATABASE_URL
    assert "copied sqlite:////data/old.db into postgresql+psycopg://shopqueue@postgres:5432/shopqueue" in moved, moved
    rows = dict(re.findall(r"^(\w+) +(\d+)$", moved, re.MULTILINE))
    assert (rows["products"], rows["cron_schedules"], rows["orders"], rows["jobs"]) == ("3", "2", "0", "0"), moved

    workers = three_workers(bundle)
    assert_migrated_once(bundle)
    assert "Running upgrade" not in bundle.logs("migrate")  # the schema was there already
    running = {c["Service"]: c for c in bundle.ps() if c["State"] == "running"}
    assert sorted(running) == ["api", "postgres", "worker"], bundle.ps()
    assert all(c["Health"] == "healthy" for c in running.values()), running
    assert len(workers) == WORKERS
    for worker_id, container in workers.items():
        assert host_of(worker_id) == bundle.hostname(container)
    assert bundle.wait_http_ok("/health").json()["liveWorkers"] == WORKERS

    # Really PostgreSQL: timestamps are timestamptz there, and no SQLite file was made for the shop.
    assert bundle.sql(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'scheduled_at'"
    ) == [["timestamp with time zone"]]
    assert bundle.exec("api", "python", "-c", "import os; print(os.path.exists('/data/shop.db'))").strip() == "False"
    assert_database_sound(bundle)


def test_sigkill_of_a_busy_worker_loses_nothing_on_postgres(bundle: Bundle, placed: list[Order]) -> None:
    workers = three_workers(bundle)
    placed.extend(place_orders(bundle, 45))

    victim, held = wait_until(
        lambda: busiest(bundle, workers, at_least=3), timeout=60, interval=0.1, what="a worker holding 3 jobs"
    )
    container = workers[victim]
    bundle.kill(container)

    def exited() -> dict[str, Any] | None:
        state: dict[str, Any] = bundle.inspect(container)["State"]
        return None if state["Running"] else state

    state = wait_until(exited, timeout=30, what=f"{container} down")
    assert (state["Status"], state["ExitCode"]) == ("exited", 137), state

    wait_for_pipelines(bundle)
    survivors = set(workers) - {victim}
    final = jobs_by_id(bundle, [str(job["id"]) for job in held])
    rescued = []
    for job in held:
        now = final[str(job["id"])]
        assert now["status"] == "completed", (job, now)
        if now["locked_by"] != victim:  # rescued after the lease ran out, completed by another worker
            assert now["locked_by"] in survivors, (job, now, survivors)
            assert now["attempts"] >= 2, (job, now)
            assert LEASE_EXPIRED in (now["last_error"] or ""), (job, now)
            rescued.append(job["id"])
        else:  # completed in the moment between the look and the kill
            assert now["attempts"] == job["attempts"], (job, now)
    assert rescued, f"all {len(held)} jobs finished before the kill landed; nothing was rescued"

    # Every order's jobs done exactly once: one job per step, each effect delivered once.
    assert_pipelines_done(bundle, placed)
    assert_effects_exactly_once(bundle, placed)


def test_down_and_up_keeps_the_data_on_postgres(bundle: Bundle, placed: list[Order]) -> None:
    three_workers(bundle)
    placed.extend(place_orders(bundle, 10))
    wait_for_pipelines(bundle)

    bundle.down()  # both volumes stay
    assert bundle.ps() == []
    three_workers(bundle)
    assert_migrated_once(bundle)
    assert "Running upgrade" not in bundle.logs("migrate")
    assert "cluster ready" not in bundle.logs("postgres")  # the cluster on the volume was reused

    assert_orders_served(bundle, placed)
    assert_pipelines_done(bundle, placed)
    assert_effects_exactly_once(bundle, placed)
    assert_database_sound(bundle)

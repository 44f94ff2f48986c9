"""The shop seen from outside the bundle: place orders through the published port, then read the
database (inside a container) to check what the workers did.

Every order's pipeline (design.md §4): `send_order_confirmation`, which on success fans out
`generate_invoice` and `sync_inventory`, plus `send_followup_email` 24 h later. Its effects at the
simulated providers (their own file on the volume), one `provider_deliveries` row per key:
`charge:<order>` (payment, authorised before the order's transaction), `order-confirmation:<order>`
(email), `invoice:<order>` (pdf) and `inventory:<order>:<product>` (one warehouse call per item).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.e2e.bundle import PROVIDERS_DB_PATH, ROOT, Bundle, wait_until

PRODUCTS = ("prod-1", "prod-2", "prod-3")
STEPS = ("send_order_confirmation", "generate_invoice", "sync_inventory")
FOLLOWUP = "send_followup_email"
LEASE_EXPIRED = "lease expired"  # the last_error of a job rescued from a dead worker (shared.queue.store)
DEAD_LETTERS = "SELECT original_job_id, type, attempts, last_error FROM dead_letter_jobs"

Order = dict[str, Any]  # the API's order body: id, userId, items, ...
Delivery = tuple[str, str]  # (provider, idempotency key)


# ---- the bundle's one-shot migrate ----------------------------------------------------------------


def alembic_head() -> str:
    head = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
    assert head is not None
    return head


def assert_migrated_once(bundle: Bundle) -> None:
    """One migrate container, exited 0, never restarted."""
    containers = bundle.ps("migrate")
    assert len(containers) == 1, containers
    (migrate,) = containers
    assert (migrate["State"], migrate["ExitCode"]) == ("exited", 0), (migrate, bundle.logs("migrate"))
    assert bundle.inspect(migrate["Name"])["RestartCount"] == 0


def assert_database_sound(bundle: Bundle) -> None:
    """The schema is at Alembic's head; on SQLite, the file's integrity check finds nothing wrong."""
    current = bundle.exec("api", "alembic", "current")
    assert f"{alembic_head()} (head)" in current, current
    if bundle.database == "sqlite":
        assert bundle.sql("PRAGMA integrity_check") == [["ok"]]


# ---- placing orders ---------------------------------------------------------------------------------


def restock(bundle: Bundle, units: int = 1_000_000) -> None:
    """The seed stocks 175 units in all; give the load tests room (test data, not product behaviour)."""
    bundle.sql("UPDATE products SET stock = ?", [units])


def order_lines(n: int) -> list[dict[str, object]]:
    """Order n's items: one, two or three products, quantities 1 or 2."""
    return [{"productId": PRODUCTS[(n + k) % 3], "quantity": 1 + (n + k) % 2} for k in range(n % 3 + 1)]


def place_orders(bundle: Bundle, count: int, *, threads: int = 8) -> list[Order]:
    """POST `count` orders concurrently through the published port; each must answer 201."""
    batch = secrets.token_hex(4)

    def place(n: int) -> Order:
        key = f"e2e-{batch}-{n}"
        response = bundle.post_order(order_lines(n), user_id=key, idempotency_key=key)
        assert response.status == 201, (n, response.status, response.body[:500])
        order: Order = response.json()
        return order

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(place, range(count)))


# ---- jobs -------------------------------------------------------------------------------------------


def job_counts(bundle: Bundle) -> dict[tuple[str, str], int]:
    """(type, status) -> number of jobs."""
    rows = bundle.sql("SELECT type, status, count(*) FROM jobs GROUP BY type, status")
    return {(job_type, status): count for job_type, status, count in rows}


def incomplete_orders(bundle: Bundle) -> tuple[int, int]:
    """(orders whose confirmation, invoice or inventory sync is not completed yet, jobs failed or
    cancelled for good)."""
    placeholders = ", ".join("?" * len(STEPS))
    incomplete, given_up = bundle.sql(
        f"""SELECT
              (SELECT count(*) FROM orders o WHERE (
                  SELECT count(DISTINCT j.type) FROM jobs j
                  WHERE j.workflow_id = o.id AND j.status = 'completed' AND j.type IN ({placeholders})
              ) < {len(STEPS)}),
              (SELECT count(*) FROM jobs WHERE status IN ('failed', 'cancelled'))""",
        STEPS,
    )[0]
    return incomplete, given_up


def wait_for_pipelines(bundle: Bundle, *, timeout: float = 240) -> None:
    """Until every order in the database has its three steps completed; fails as soon as a job is
    failed or cancelled for good (it would never complete)."""

    def probe() -> tuple[int, int] | None:
        incomplete, given_up = incomplete_orders(bundle)
        return (incomplete, given_up) if incomplete == 0 or given_up else None

    try:
        _, given_up = wait_until(probe, timeout=timeout, interval=0.5, what="every pipeline done")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; jobs by (type, status): {job_counts(bundle)}") from None
    assert not given_up, f"jobs failed for good: {job_counts(bundle)}; {bundle.sql(DEAD_LETTERS)}"


def processing_jobs(bundle: Bundle) -> list[dict[str, Any]]:
    rows = bundle.sql("SELECT id, type, locked_by, attempts FROM jobs WHERE status = 'processing'")
    return [{"id": i, "type": t, "locked_by": w, "attempts": a} for i, t, w, a in rows]


def jobs_by_id(bundle: Bundle, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = bundle.sql(
        "SELECT id, type, status, attempts, locked_by, last_error FROM jobs "
        f"WHERE id IN ({', '.join('?' * len(wanted))})",
        wanted,
    )
    return {r[0]: {"type": r[1], "status": r[2], "attempts": r[3], "locked_by": r[4], "last_error": r[5]} for r in rows}


def assert_pipelines_done(bundle: Bundle, orders: Sequence[Order]) -> None:
    """Exactly the orders placed; for each exactly one job per step, all completed, and its
    follow-up still pending a day ahead; no other job, nothing failed, the dead-letter queue empty."""
    placed = {order["id"] for order in orders}
    assert {row[0] for row in bundle.sql("SELECT id FROM orders")} == placed
    rows = bundle.sql(
        f"SELECT workflow_id, type, status, scheduled_at > {bundle.seconds_from_now(23 * 3600)} FROM jobs"
    )
    found: dict[str, dict[str, list[str]]] = {}
    for order_id, job_type, status, a_day_ahead in rows:
        entry = f"{status}, a day ahead" if job_type == FOLLOWUP and a_day_ahead else status
        found.setdefault(order_id, {}).setdefault(job_type, []).append(entry)
    expected = {**{step: ["completed"] for step in STEPS}, FOLLOWUP: ["pending, a day ahead"]}
    wrong = {order_id: jobs for order_id, jobs in found.items() if order_id not in placed or jobs != expected}
    wrong.update({order_id: {} for order_id in placed - set(found)})
    assert not wrong, f"{len(wrong)} orders with unexpected jobs, e.g. {dict(list(wrong.items())[:3])}"
    assert bundle.sql(DEAD_LETTERS) == []


# ---- effects at the providers -----------------------------------------------------------------------


def expected_deliveries(orders: Iterable[Order]) -> set[Delivery]:
    """What the providers must have received for these orders, computed from the API's replies."""
    expected: set[Delivery] = set()
    for order in orders:
        order_id = order["id"]
        expected |= {
            ("payment", f"charge:{order_id}"),
            ("email", f"order-confirmation:{order_id}"),
            ("pdf", f"invoice:{order_id}"),
        }
        expected |= {("inventory", f"inventory:{order_id}:{item['productId']}") for item in order["items"]}
    return expected


def assert_effects_exactly_once(bundle: Bundle, orders: Sequence[Order]) -> dict[Delivery, int]:
    """The providers received exactly the expected keys, nothing missing and nothing else (a key is
    one row: a repeated call only counts in `repeat_calls`).

    Returns each key's `repeat_calls` (calls the provider deduplicated)."""
    rows = bundle.sql("SELECT provider, idempotency_key, repeat_calls FROM provider_deliveries", path=PROVIDERS_DB_PATH)
    received = {(provider, key) for provider, key, _ in rows}
    expected = expected_deliveries(orders)
    missing = expected - received
    unexpected = received - expected
    assert not missing, f"{len(missing)} effects missing, e.g. {sorted(missing)[:5]}"
    assert not unexpected, f"{len(unexpected)} unexpected effects, e.g. {sorted(unexpected)[:5]}"
    return {(provider, key): repeats for provider, key, repeats in rows}


def same_order(a: Order, b: Order) -> bool:
    """Same id, user, total and items (POST lists items as sent, GET by product id)."""

    def key(order: Order) -> tuple[object, ...]:
        items = sorted(order["items"], key=lambda item: str(item["productId"]))
        return order["id"], order["userId"], order["total"], items

    return key(a) == key(b)


def assert_orders_served(bundle: Bundle, orders: Sequence[Order], *, invoices: int = 3) -> None:
    """GET /orders/{id} shows each order as placed, with its three steps completed and an invoice
    URL; the first `invoices` invoices download as PDFs."""

    def check(order: Order) -> str:
        served = bundle.get_json(f"/orders/{order['id']}")
        assert same_order(served, order), (served, order)
        steps = {job["type"]: job["status"] for job in served["pipeline"]}
        assert steps == {**dict.fromkeys(STEPS, "completed"), FOLLOWUP: "pending"}, (order["id"], served["pipeline"])
        url: str = served["invoiceUrl"]
        assert url, served
        return url

    with ThreadPoolExecutor(8) as pool:
        urls = list(pool.map(check, orders))
    for url in urls[:invoices]:
        response = bundle.request("GET", url)
        assert response.status == 200, (url, response.status)
        assert response.headers.get("content-type", "").startswith("application/pdf"), response.headers
        assert response.body.startswith(b"%PDF"), response.body[:20]


# ---- workers ----------------------------------------------------------------------------------------


def live_worker_ids(bundle: Bundle, *, seen_within: float) -> dict[str, str]:
    """worker id -> hostname of every worker registered `running` and seen in the last `seen_within` s."""
    rows = bundle.sql(
        "SELECT id, hostname FROM workers "
        f"WHERE status = 'running' AND last_seen_at >= {bundle.seconds_from_now(-seen_within)}"
    )
    return {row[0]: row[1] for row in rows}


def worker_containers(bundle: Bundle) -> dict[str, str]:
    """hostname -> container name of every worker container."""
    return {bundle.hostname(name): name for name in bundle.containers("worker")}


def wait_for_workers(bundle: Bundle, replicas: int, *, seen_within: float, timeout: float = 120) -> dict[str, str]:
    """Until `replicas` worker containers run healthy, each with one live registered worker;
    returns worker id -> container name."""

    def probe() -> dict[str, str] | None:
        containers = worker_containers(bundle)
        if len(containers) != replicas or any(bundle.health(name) != "healthy" for name in containers.values()):
            return None
        live = live_worker_ids(bundle, seen_within=seen_within)
        if sorted(live.values()) != sorted(containers):  # one live worker per container, none elsewhere
            return None
        return {worker_id: containers[hostname] for worker_id, hostname in live.items()}

    return wait_until(probe, timeout=timeout, interval=1, what=f"{replicas} healthy, registered workers")


def busiest(bundle: Bundle, workers: dict[str, str], *, at_least: int) -> tuple[str, list[dict[str, Any]]] | None:
    """The live worker holding the most `processing` jobs, if it holds `at_least`; and those jobs."""
    held: dict[str, list[dict[str, Any]]] = {}
    for job in processing_jobs(bundle):
        held.setdefault(str(job["locked_by"]), []).append(job)
    candidates = [(len(jobs), worker_id) for worker_id, jobs in held.items() if worker_id in workers]
    if not candidates:
        return None
    count, worker_id = max(candidates)
    return (worker_id, held[worker_id]) if count >= at_least else None


def host_of(worker_id: str) -> str:
    """`<hostname>:<pid>:<random>` -> hostname."""
    return worker_id.split(":", 1)[0]


def completed_by_worker(bundle: Bundle) -> dict[str, int]:
    """locked_by of completed jobs (the worker that completed them) -> how many."""
    rows = bundle.sql("SELECT locked_by, count(*) FROM jobs WHERE status = 'completed' GROUP BY locked_by")
    return {row[0]: row[1] for row in rows}


def workers_overlapped(bundle: Bundle) -> bool:
    """Did two different workers ever hold jobs at the same time (claim to completion)?"""
    rows = bundle.sql(
        """SELECT 1 FROM jobs a JOIN jobs b
             ON a.locked_by != b.locked_by AND a.locked_at < b.completed_at AND b.locked_at < a.completed_at
           WHERE a.status = 'completed' AND b.status = 'completed' LIMIT 1"""
    )
    return bool(rows)


def summary(values: Mapping[str, int]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(values.items()))

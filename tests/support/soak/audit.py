"""The end of a soak: what the shop's database, the providers' database and the invoice files hold,
checked against what the clients were told. Read with the stdlib `sqlite3`, not the project's own
queries, so the audit does not share a bug with what it audits.

Every broken rule is a line in `problems`; `figures` are what a report prints, `tally` the counts a
test asserts on.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support.soak.load import Placed
from tests.support.soak.plan import FOLLOWUP, STEPS

FINAL = ("completed", "failed")
LEASE_LOST = "lease expired"  # how a rescue's error starts (shared.queue.store.LEASE_LOST)
SHOW = 5  # examples quoted per problem

Job = dict[str, Any]
Pipelines = dict[str, dict[str, list[Job]]]  # order id -> job type -> its jobs


@dataclass
class Audit:
    problems: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)
    tally: Counter[str] = field(default_factory=Counter)

    def check(self, bad: Iterable[Any], what: str) -> None:
        items = list(bad)
        if items:
            self.problems.append(f"{len(items)} {what}, e.g. {items[:SHOW]}")


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def integrity(shop_db: Path) -> list[str]:
    """SQLite's own checks of the file: `PRAGMA integrity_check` and `foreign_key_check`."""
    with connect(shop_db) as conn:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in conn.execute("PRAGMA foreign_key_check")]
    return problems


def audit_database(shop_db: Path, providers_db: Path, invoices: Path, placed: Mapping[int, Placed]) -> Audit:
    audit = Audit()
    with connect(shop_db) as shop, connect(providers_db) as providers:
        orders = _audit_orders(audit, shop, placed)
        pipelines = _audit_pipelines(audit, shop, orders)
        _audit_dead_letters(audit, shop)
        _audit_effects(audit, providers, orders, pipelines)
        _audit_invoices(audit, invoices, pipelines)
        _figures(audit, shop, orders, pipelines)
    return audit


# ---- orders: every 201 is one order, and every order was a 201 ------------------------------------


def _audit_orders(audit: Audit, shop: sqlite3.Connection, placed: Mapping[int, Placed]) -> dict[str, dict[str, Any]]:
    """The orders by id, with their creation time and products. Clients use the key as user id."""
    rows = shop.execute("SELECT id, user_id, created_at FROM orders").fetchall()
    by_key: defaultdict[str, list[str]] = defaultdict(list)
    for order_id, user_id, _ in rows:
        by_key[user_id].append(order_id)
    told = {p.key: p.order["id"] for p in placed.values()}
    audit.check(
        [(key, order_id) for key, order_id in told.items() if by_key.get(key) != [order_id]],
        "orders answered 201 but not stored exactly once under that id (lost or duplicated)",
    )
    audit.check([key for key in by_key if key not in told], "orders stored that no client was told about")
    items: defaultdict[str, list[str]] = defaultdict(list)
    for order_id, product_id in shop.execute("SELECT order_id, product_id FROM order_items"):
        items[order_id].append(product_id)
    return {order_id: {"created_at": created, "items": items[order_id]} for order_id, _, created in rows}


# ---- pipelines: each order's steps once, each completed or dead-lettered ---------------------------


def _audit_pipelines(audit: Audit, shop: sqlite3.Connection, orders: Mapping[str, Any]) -> Pipelines:
    pipelines: Pipelines = {order_id: {} for order_id in orders}
    strays = []
    for job_id, job_type, status, workflow_id, completed_at in shop.execute(
        "SELECT id, type, status, workflow_id, completed_at FROM jobs"
    ):
        if workflow_id in pipelines:
            job = {"id": job_id, "status": status, "completed_at": completed_at}
            pipelines[workflow_id].setdefault(job_type, []).append(job)
        elif job_type in (*STEPS, FOLLOWUP) or status not in (*FINAL, "pending"):
            strays.append((job_id, job_type, status))  # cron's own jobs may only be finished or waiting
    audit.check(strays, "order jobs without an order, or other jobs left running")
    duplicated, incomplete, unsettled = [], [], []
    for order_id, steps in pipelines.items():
        statuses = {name: [job["status"] for job in jobs] for name, jobs in steps.items()}
        if any(len(jobs) > 1 for jobs in statuses.values()):
            duplicated.append((order_id, statuses))
        elif statuses.get("send_order_confirmation") is None or statuses.get(FOLLOWUP) != ["pending"]:
            incomplete.append((order_id, statuses))
        elif not _settled(statuses):
            unsettled.append((order_id, statuses))
    audit.check(duplicated, "orders with a step enqueued twice")
    audit.check(incomplete, "orders without their confirmation or their pending follow-up")
    audit.check(unsettled, "orders whose pipeline is neither complete nor stopped at a dead-lettered step")
    return pipelines


def _settled(statuses: Mapping[str, list[str]]) -> bool:
    """Completed confirmation with both children final, or a failed confirmation without children."""
    children = [statuses.get("generate_invoice"), statuses.get("sync_inventory")]
    if statuses["send_order_confirmation"] == ["completed"]:
        return all(child is not None and child[0] in FINAL for child in children)
    return statuses["send_order_confirmation"] == ["failed"] and children == [None, None]


def _audit_dead_letters(audit: Audit, shop: sqlite3.Connection) -> None:
    failed = {row[0] for row in shop.execute("SELECT id FROM jobs WHERE status = 'failed'")}
    filed = Counter(row[0] for row in shop.execute("SELECT original_job_id FROM dead_letter_jobs"))
    audit.check(sorted(failed - set(filed)), "failed jobs missing from the dead-letter queue")
    audit.check(sorted(set(filed) - failed), "dead letters whose job is not failed")
    audit.check(sorted(job for job, n in filed.items() if n > 1), "jobs filed in the dead-letter queue twice")


# ---- effects at the providers -------------------------------------------------------------------


def _status(pipelines: Pipelines, order_id: str, step: str) -> str | None:
    jobs = pipelines[order_id].get(step)
    return jobs[0]["status"] if jobs else None


def _audit_effects(
    audit: Audit, providers: sqlite3.Connection, orders: Mapping[str, Any], pipelines: Pipelines
) -> None:
    """Every completed step's effect was delivered; every payment became an order or was voided,
    never both; nothing was delivered under a key the shop does not use. A key is one delivery (the
    providers deduplicate), so an effect done twice would show as a second key: a second charge
    for one client request, an effect for an order that does not exist."""
    delivered: dict[tuple[str, str], int] = {
        (provider, key): repeats
        for provider, key, repeats in providers.execute(
            "SELECT provider, idempotency_key, repeat_calls FROM provider_deliveries"
        )
    }
    expected: set[tuple[str, str]] = set()
    maybe: set[tuple[str, str]] = set()  # a failed step may have delivered before its reply was lost
    for order_id, order in orders.items():
        effects = {
            "send_order_confirmation": {("email", f"order-confirmation:{order_id}")},
            "generate_invoice": {("pdf", f"invoice:{order_id}")},
            "sync_inventory": {("inventory", f"inventory:{order_id}:{product}") for product in order["items"]},
        }
        for step, wanted in effects.items():
            if _status(pipelines, order_id, step) == "completed":
                expected |= wanted
            else:
                maybe |= wanted
    audit.check(sorted(expected - set(delivered)), "effects of completed steps never delivered")
    payments = {key for provider, key in delivered if provider == "payment"}
    charged = {key.removeprefix("charge:") for key in payments if key.startswith("charge:")}
    voided = {key.removeprefix("void:") for key in payments if key.startswith("void:")}
    audit.check(sorted(set(orders) - charged), "orders without their payment")
    audit.check(sorted(charged & voided & set(orders)), "orders whose payment was voided")
    audit.check(sorted(charged - voided - set(orders)), "payments that neither became an order nor were voided")
    audit.check(sorted(voided - charged), "voids of payments never authorised")
    others = {(provider, key) for provider, key in delivered if provider != "payment"}
    audit.check(sorted(others - expected - maybe), "deliveries under keys the shop never uses")
    audit.tally["deliveries"] = len(delivered)
    audit.tally["repeat calls deduplicated by the providers"] = sum(delivered.values())
    audit.tally["payments voided (the order's write was refused)"] = len(voided)
    audit.tally["effects delivered by a step that then failed for good"] = len(set(delivered) & maybe)


def _audit_invoices(audit: Audit, invoices: Path, pipelines: Pipelines) -> None:
    missing, broken = [], []
    for order_id in pipelines:
        if _status(pipelines, order_id, "generate_invoice") == "completed":
            path = invoices / f"{order_id}.pdf"
            if not path.is_file():
                missing.append(order_id)
            elif not path.read_bytes().startswith(b"%PDF"):
                broken.append(order_id)
    audit.check(missing, "completed invoices without their PDF")
    audit.check(broken, "invoice files that are not PDFs")
    audit.tally["partial invoice files (*.tmp) left by killed workers"] = len(list(invoices.glob("*.tmp")))


# ---- figures ----------------------------------------------------------------------------------------


def _figures(audit: Audit, shop: sqlite3.Connection, orders: Mapping[str, Any], pipelines: Pipelines) -> None:
    tally = audit.tally
    tally["orders"] = len(orders)
    tally["jobs"] = shop.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    tally["attempts"] = shop.execute("SELECT COALESCE(SUM(attempts), 0) FROM jobs").fetchone()[0]
    outcomes = dict(shop.execute("SELECT outcome, COUNT(*) FROM job_failures GROUP BY outcome").fetchall())
    lost_then_dead = shop.execute(
        "SELECT COUNT(*) FROM job_failures WHERE outcome = 'dead_lettered' AND error LIKE ?", (f"{LEASE_LOST}%",)
    ).fetchone()[0]
    tally["failed attempts retried"] = outcomes.get("retried", 0)
    tally["rescues"] = outcomes.get("rescued", 0) + lost_then_dead
    tally["dead letters"] = shop.execute("SELECT COUNT(*) FROM dead_letter_jobs").fetchone()[0]
    complete = sum(1 for order_id in pipelines if all(_status(pipelines, order_id, s) == "completed" for s in STEPS))
    tally["orders complete"] = complete
    tally["orders stopped at a dead letter"] = len(pipelines) - complete
    audit.figures["jobs by status"] = dict(shop.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
    audit.figures["dead letters by type"] = dict(
        shop.execute("SELECT type, COUNT(*) FROM dead_letter_jobs GROUP BY type ORDER BY type")
    )
    audit.figures["lag, order created -> last immediate step completed, ms p50 / p99 / max"] = _lag(orders, pipelines)


def _lag(orders: Mapping[str, Any], pipelines: Pipelines) -> str:
    lags = []
    for order_id, order in orders.items():
        done = [
            pipelines[order_id][s][0]["completed_at"] for s in STEPS if _status(pipelines, order_id, s) == "completed"
        ]
        if len(done) == len(STEPS):
            lag = datetime.fromisoformat(max(done)) - datetime.fromisoformat(order["created_at"])
            lags.append(lag.total_seconds())
    return percentiles_ms(lags)


def percentiles_ms(seconds: Iterable[float]) -> str:
    """`p50 / p99 / max` in milliseconds, or `-` without samples."""
    ordered = sorted(seconds)
    if not ordered:
        return "-"

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"{at(0.5):,.0f} / {at(0.99):,.0f} / {ordered[-1] * 1000:,.0f}"

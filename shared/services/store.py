"""Where the simulated providers keep what they received: their own database, not the shop's.

They stand for remote services, so an effect never takes the shop database's write lock. Each
delivery is recorded once per (provider, key); a repeated key is counted in `repeat_calls`, never
delivered again, the way real providers deduplicate. Calls from one process are batched into one
transaction by the database's write lane.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shared.db import Database, Tx

PROVIDERS = ("email", "pdf", "inventory", "payment")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS provider_deliveries ("
    " provider TEXT NOT NULL CHECK (provider IN ('email', 'pdf', 'inventory', 'payment')),"
    " idempotency_key TEXT NOT NULL,"
    " job_id TEXT,"
    " payload TEXT NOT NULL,"
    " delivered_at TEXT NOT NULL,"
    " repeat_calls INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (provider, idempotency_key))"
)
RECORD = (
    "INSERT INTO provider_deliveries (provider, idempotency_key, job_id, payload, delivered_at, repeat_calls) "
    "VALUES (:provider, :key, :job_id, :payload, :now, 0) "
    "ON CONFLICT (provider, idempotency_key) DO UPDATE SET repeat_calls = provider_deliveries.repeat_calls + 1 "
    "RETURNING repeat_calls"
)


def ensure_schema(db: Database) -> None:
    db.backend.ensure_location()
    with db.write() as tx:
        # Several processes start at once; on PostgreSQL two concurrent `CREATE TABLE IF NOT EXISTS`
        # can both find no table and one then fails on the catalog's unique index, so they take turns.
        db.backend.serialize(tx, "provider_deliveries schema")
        tx.execute(SCHEMA)


def record_delivery(tx: Tx, *, provider: str, key: str, payload: Any, now: datetime, job_id: str | None = None) -> bool:
    """Insert the delivery, or bump `repeat_calls` if the key was seen. True if it was new."""
    row = {
        "provider": provider,
        "key": key,
        "job_id": job_id,
        "payload": msgspec.json.encode(payload).decode(),
        "now": tx.ts(now),
    }
    return bool(tx.scalar(RECORD, row) == 0)


def deliveries(db: Database, provider: str | None = None) -> list[tuple[str, str, str | None, int]]:
    """(provider, key, job_id, repeat_calls) of every delivery: what tests and benchmarks check."""
    sql = "SELECT provider, idempotency_key, job_id, repeat_calls FROM provider_deliveries"
    params: dict[str, Any] = {}
    if provider is not None:
        sql += " WHERE provider = :provider"
        params["provider"] = provider
    with db.read() as tx:
        return [(r[0], r[1], r[2], int(r[3])) for r in tx.all(sql + " ORDER BY provider, idempotency_key", params)]

"""`shopqueue queues list|pause|resume`."""

from __future__ import annotations

from shared.db import Database
from shared.queue import operations
from tests.cli.conftest import Shopqueue, failed, ok, ok_json
from tests.support.operator import TYPES, add_job


def paused(db: Database) -> list[str]:
    with db.read() as tx:
        return operations.paused_types(tx)


def test_list(shopqueue: Shopqueue, db: Database) -> None:
    add_job(db)
    add_job(db, delay=60)

    text = ok(shopqueue("queues", "list"))
    listed = ok_json(shopqueue("queues", "list", "--json"))

    assert [q["type"] for q in listed] == sorted(TYPES.names())
    assert next(q for q in listed if q["type"] == "send_email") == {
        "type": "send_email",
        "pending": 1,
        "scheduled": 1,
        "processing": 0,
        "paused": False,
    }
    assert ["send_email", "1", "1", "0", "no"] in [line.split() for line in text.splitlines()]


def test_pause_and_resume(shopqueue: Shopqueue, db: Database) -> None:
    text = ok(shopqueue("queues", "pause", "sync_inventory", "--reason", "warehouse maintenance"))

    assert text.strip() == "paused sync_inventory: 0 due, 0 scheduled, 0 running"
    assert paused(db) == ["sync_inventory"]
    assert ok_json(shopqueue("queues", "resume", "sync_inventory", "--json"))["paused"] is False
    assert paused(db) == []
    assert ok_json(shopqueue("queues", "pause", "send_email", "--json"))["paused"] is True
    assert ok(shopqueue("queues", "resume", "send_email")).startswith("resumed send_email: ")
    assert paused(db) == []
    assert "unknown job type 'nope'" in failed(shopqueue("queues", "pause", "nope"), 1)
    assert paused(db) == []

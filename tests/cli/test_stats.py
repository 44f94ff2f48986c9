"""`shopqueue stats`."""

from __future__ import annotations

from shared.db import Database
from shared.queue.store import Kind
from tests.cli.conftest import Shopqueue, ok, ok_json
from tests.support.operator import WORKER, add_job, finish, start_worker, take


def test_stats_as_json_has_the_admin_api_fields(shopqueue: Shopqueue, db: Database) -> None:
    start_worker(db)
    add_job(db)
    add_job(db, delay=600)
    running = add_job(db)
    finish(db, take(db), Kind.DEAD, "boom")
    take(db)

    stats = ok_json(shopqueue("stats", "--json"))

    assert set(stats) == {"queue", "deadLetterQueue", "byType", "rates", "pausedTypes", "workers"}
    assert stats["queue"]["pending"] == 0
    assert (stats["queue"]["scheduled"], stats["queue"]["processing"], stats["queue"]["failed"]) == (1, 1, 1)
    assert stats["deadLetterQueue"] == {"unreviewed": 1}
    assert stats["workers"][0]["running"] == [{"jobId": running, "type": "send_email"}]


def test_stats_as_text(shopqueue: Shopqueue, db: Database) -> None:
    start_worker(db)
    add_job(db)
    add_job(db, "generate_invoice", {"orderId": "o-1"})
    take(db)

    text = ok(shopqueue("stats"))

    assert "pending 1 (oldest due since 20" in text
    assert "processing 1" in text
    assert "dead letters unreviewed 0" in text
    assert WORKER in text
    lines = text.splitlines()
    assert lines[lines.index(next(line for line in lines if line.startswith("TYPE"))) + 1].split() == [
        "generate_invoice",
        "pending",
        "1",
    ]


def test_stats_of_an_empty_queue(shopqueue: Shopqueue) -> None:
    text = ok(shopqueue("stats"))

    assert "no live worker" in text
    assert "no jobs" in text
    assert "paused types: none" in text

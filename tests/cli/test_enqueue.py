"""`shopqueue enqueue TYPE JSON`."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from shared.db import Database
from tests.cli.conftest import Shopqueue, failed, ok, ok_json
from tests.support.operator import job_count, job_row

EMAIL = '{"to": "ops@shop.test", "subject": "hi"}'


def test_enqueue_with_options(shopqueue: Shopqueue, db: Database) -> None:
    job = ok_json(
        shopqueue(
            "enqueue",
            "send_email",
            EMAIL,
            "--priority",
            "20",
            "--delay",
            "90",
            "--max-attempts",
            "2",
            "--idempotency-key",
            "k-1",
            "--json",
        )
    )

    row = job_row(db, job["id"])
    assert (row.type, row.priority, row.max_attempts, row.idempotency_key) == ("send_email", 20, 2, "k-1")
    assert timedelta(seconds=89) < row.scheduled_at - row.created_at < timedelta(seconds=91)
    assert (job["priority"], job["maxAttempts"]) == (20, 2)


def test_enqueue_as_text_and_the_same_key_again(shopqueue: Shopqueue, db: Database) -> None:
    first = ok(shopqueue("enqueue", "send_email", EMAIL, "--idempotency-key", "once"))
    again = ok(shopqueue("enqueue", "send_email", EMAIL, "--idempotency-key", "once"))

    assert first.startswith("enqueued ")
    assert "(send_email, priority 5, due " in first
    job_id = first.split()[1]
    assert again.strip() == f"an unfinished job already holds that idempotency key: {job_id} (pending)"
    assert job_count(db) == 1


def test_refusals_exit_2_and_write_nothing(shopqueue: Shopqueue, db: Database) -> None:
    assert "unknown job type 'rocket'" in failed(shopqueue("enqueue", "rocket", "{}"), 2)
    assert "payload.to" in failed(shopqueue("enqueue", "send_email", '{"to": 1, "subject": "x"}'), 2)
    assert "not valid JSON" in failed(shopqueue("enqueue", "send_email", "{"), 2)
    assert "expected a JSON object" in failed(shopqueue("enqueue", "send_email", "[]"), 2)
    assert "--max-attempts" in failed(shopqueue("enqueue", "send_email", EMAIL, "--max-attempts", "0"), 2)
    assert "--delay" in failed(shopqueue("enqueue", "send_email", EMAIL, "--delay", "-1"), 2)
    too_large = msgspec.json.encode({"to": "ops@shop.test", "subject": "hi", "body": "é" * 17_000}).decode()
    assert "payload is too large" in failed(shopqueue("enqueue", "send_email", too_large), 2)
    assert job_count(db) == 0

"""`shopqueue dlq list|retry|discard`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import utcnow
from shared.db import Database
from shared.queue import queries
from tests.cli.conftest import Shopqueue, failed, ok, ok_json
from tests.support.operator import dead_letter, job_row


def unreviewed(db: Database) -> list[str]:
    with db.read() as tx:
        return [row.id for row in queries.dead_letters(tx, unreviewed_only=True)]


@pytest.fixture
def letters(db: Database) -> dict[str, str]:
    start = utcnow() - timedelta(minutes=10)
    return {
        "timeout1": dead_letter(db, "SMTP timeout", at=start),
        "bounced": dead_letter(db, "550 mailbox unavailable", at=start + timedelta(minutes=1)),
        "timeout2": dead_letter(db, "smtp timeout", at=start + timedelta(minutes=2)),
        "invoice": dead_letter(
            db, "renderer crashed", "generate_invoice", {"orderId": "o"}, at=start + timedelta(minutes=3)
        ),
    }


def test_list(shopqueue: Shopqueue, letters: dict[str, str]) -> None:
    text = ok(shopqueue("dlq", "list"))
    page = ok_json(shopqueue("dlq", "list", "--type", "send_email", "--error", "TIMEOUT", "--json"))

    assert [line.split()[0] for line in text.splitlines()[1:]] == [
        letters[k] for k in ("invoice", "timeout2", "bounced", "timeout1")
    ]
    assert [d["id"] for d in page["deadLetters"]] == [letters["timeout2"], letters["timeout1"]]
    assert page["deadLetters"][0]["lastError"] == "smtp timeout"
    assert ok(shopqueue("dlq", "list", "--reviewed", "yes")).strip() == "no dead letters"
    more = ok(shopqueue("dlq", "list", "--limit", "3"))
    assert more.splitlines()[-1].startswith("more: --cursor ")


def test_retry_by_id(shopqueue: Shopqueue, db: Database, letters: dict[str, str]) -> None:
    text = ok(shopqueue("dlq", "retry", letters["bounced"]))

    assert text.strip() == "retried 1 dead letter"
    with db.read() as tx:
        entry = queries.dead_letter(tx, letters["bounced"])
    assert entry is not None
    assert job_row(db, entry.original_job_id).status == "pending"
    assert letters["bounced"] not in unreviewed(db)


def test_retry_by_filter(shopqueue: Shopqueue, db: Database, letters: dict[str, str]) -> None:
    result = ok_json(shopqueue("dlq", "retry", "--type", "send_email", "--error", "timeout", "--json"))

    assert result == {"done": 2, "refused": {}, "more": False}
    assert unreviewed(db) == [letters["bounced"], letters["invoice"]]


def test_discard_by_filter_in_batches_with_notes(shopqueue: Shopqueue, db: Database, letters: dict[str, str]) -> None:
    text = ok(shopqueue("dlq", "discard", "--error", "timeout", "--limit", "1", "--notes", "outage"))

    assert text.splitlines() == ["discarded 1 dead letter", "more entries match: run the command again"]
    with db.read() as tx:
        entry = queries.dead_letter(tx, letters["timeout1"])
    assert entry is not None
    assert (entry.reviewed, entry.notes) == (True, "discarded: outage")
    assert job_row(db, entry.original_job_id).status == "failed"
    assert ok_json(shopqueue("dlq", "discard", "--all", "--json")) == {"done": 3, "refused": {}, "more": False}
    assert unreviewed(db) == []


def test_unknown_ids_are_reported_and_fail(shopqueue: Shopqueue, db: Database, letters: dict[str, str]) -> None:
    result = shopqueue("dlq", "discard", letters["bounced"], "nope")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["discarded 1 dead letter", "left alone nope: dead letter 'nope' not found"]
    assert "1 dead letter(s) left alone" in result.stderr
    assert letters["bounced"] not in unreviewed(db)


def test_ids_filters_or_all_exactly_one(shopqueue: Shopqueue, db: Database, letters: dict[str, str]) -> None:
    for args in (
        [],
        [letters["bounced"], "--type", "send_email"],
        ["--all", "--error", "x"],
        [letters["bounced"], "--all"],
    ):
        assert "give dead-letter ids, or filters" in failed(shopqueue("dlq", "retry", *args), 2)
    assert "ISO 8601" in failed(shopqueue("dlq", "discard", "--failed-from", "monday"), 2)
    assert len(unreviewed(db)) == len(letters)

"""The dead-letter queue: list with filters and cursors, retry, review, discard, bulk by filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.clock import to_api, utcnow
from shared.db import Database
from shared.queue import queries
from tests.api.helpers import assert_error
from tests.support.operator import add_job, dead_letter, job_row

ENTRY_KEYS = {"id", "originalJobId", "type", "payload", "attempts", "lastError", "failedAt", "reviewed", "notes"}


def entry(db: Database, dead_id: str) -> queries.DeadLetterRow:
    with db.read() as tx:
        found = queries.dead_letter(tx, dead_id)
    assert found is not None
    return found


def listed(client: TestClient[Litestar], **params: Any) -> list[str]:
    response = client.get("/admin/dead-letter", params=params)
    assert response.status_code == 200, response.text
    return [letter["id"] for letter in response.json()["deadLetters"]]


@pytest.fixture
def letters(db: Database) -> dict[str, str]:
    """Four dead letters a minute apart, oldest first: two SMTP timeouts, a bounced address, a crashed invoice."""
    start = utcnow() - timedelta(minutes=10)
    return {
        "timeout1": dead_letter(db, "SMTP timeout after 30s", at=start),
        "bounced": dead_letter(db, "550 mailbox unavailable", at=start + timedelta(minutes=1)),
        "timeout2": dead_letter(db, "smtp TIMEOUT after 30s", at=start + timedelta(minutes=2)),
        "invoice": dead_letter(
            db, "PDF renderer crashed", "generate_invoice", {"orderId": "o-1"}, at=start + timedelta(minutes=3)
        ),
    }


def test_list_latest_first_with_filters(client: TestClient[Litestar], letters: dict[str, str]) -> None:
    response = client.get("/admin/dead-letter")

    assert response.status_code == 200, response.text
    first = response.json()["deadLetters"][0]
    assert set(first) == ENTRY_KEYS
    assert (first["type"], first["payload"], first["reviewed"]) == ("generate_invoice", {"orderId": "o-1"}, False)
    assert listed(client) == [letters[k] for k in ("invoice", "timeout2", "bounced", "timeout1")]
    assert listed(client, type="send_email") == [letters[k] for k in ("timeout2", "bounced", "timeout1")]
    assert listed(client, error="smtp timeout") == [letters["timeout2"], letters["timeout1"]]  # any case
    assert listed(client, error="100%") == []  # LIKE wildcards are plain text
    middle = to_api(utcnow() - timedelta(minutes=8, seconds=30))
    assert listed(client, failedFrom=middle) == [letters["invoice"], letters["timeout2"]]
    assert listed(client, failedTo=middle) == [letters["bounced"], letters["timeout1"]]


def test_two_pages_without_overlap(client: TestClient[Litestar], letters: dict[str, str]) -> None:
    first = client.get("/admin/dead-letter", params={"limit": 3}).json()
    second = client.get("/admin/dead-letter", params={"limit": 3, "cursor": first["nextCursor"]}).json()

    pages = [[e["id"] for e in page["deadLetters"]] for page in (first, second)]
    assert pages == [[letters[k] for k in ("invoice", "timeout2", "bounced")], [letters["timeout1"]]]
    assert second["nextCursor"] is None
    error = assert_error(client.get("/admin/dead-letter", params={"cursor": "Zm9v"}), 400, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "cursor"


def test_retry_one(client: TestClient[Litestar], db: Database, letters: dict[str, str]) -> None:
    dead_id = letters["bounced"]

    response = client.post(f"/admin/dead-letter/{dead_id}/retry")

    assert response.status_code == 200, response.text
    assert (response.json()["reviewed"], response.json()["notes"]) == (True, "retried")
    job = job_row(db, entry(db, dead_id).original_job_id)
    assert (job.status, job.attempts) == ("pending", 0)
    assert dead_id not in listed(client)  # unreviewed ones only, by default
    assert dead_id in listed(client, reviewed="true")
    assert len(listed(client, reviewed="all")) == 4
    assert_error(client.post("/admin/dead-letter/nope/retry"), 404, "NOT_FOUND")


def test_review_with_notes(client: TestClient[Litestar], db: Database, letters: dict[str, str]) -> None:
    dead_id = letters["bounced"]

    response = client.post(f"/admin/dead-letter/{dead_id}/review", json={"notes": "customer left; nothing to do"})

    assert response.status_code == 200, response.text
    assert (entry(db, dead_id).reviewed, entry(db, dead_id).notes) == (True, "customer left; nothing to do")
    assert job_row(db, entry(db, dead_id).original_job_id).status == "failed"
    for body in ({}, {"notes": ""}, {"notes": "x", "extra": 1}):
        assert_error(client.post(f"/admin/dead-letter/{letters['invoice']}/review", json=body), 400, "VALIDATION_ERROR")
    assert entry(db, letters["invoice"]).reviewed is False
    assert_error(client.post("/admin/dead-letter/nope/review", json={"notes": "x"}), 404, "NOT_FOUND")


def test_discard_with_or_without_notes(client: TestClient[Litestar], db: Database, letters: dict[str, str]) -> None:
    plain = client.post(f"/admin/dead-letter/{letters['bounced']}/discard")
    noted = client.post(f"/admin/dead-letter/{letters['invoice']}/discard", json={"notes": "order refunded"})

    assert (plain.status_code, noted.status_code) == (200, 200)
    assert entry(db, letters["bounced"]).notes == "discarded"
    assert entry(db, letters["invoice"]).notes == "discarded: order refunded"
    assert job_row(db, entry(db, letters["invoice"]).original_job_id).status == "failed"
    assert listed(client) == [letters["timeout2"], letters["timeout1"]]


def test_bulk_retry_by_type_and_error(client: TestClient[Litestar], db: Database, letters: dict[str, str]) -> None:
    response = client.post("/admin/dead-letter/retry", json={"type": "send_email", "error": "smtp timeout"})

    assert response.status_code == 200, response.text
    assert response.json() == {"done": 2, "refused": {}, "more": False}
    for key in ("timeout1", "timeout2"):
        assert job_row(db, entry(db, letters[key]).original_job_id).status == "pending"
    assert listed(client) == [letters["invoice"], letters["bounced"]]


def test_bulk_discard_by_error_in_batches(client: TestClient[Litestar], db: Database, letters: dict[str, str]) -> None:
    first = client.post("/admin/dead-letter/discard", json={"error": "TIMEOUT", "limit": 1, "notes": "known outage"})
    second = client.post("/admin/dead-letter/discard", json={"error": "TIMEOUT", "limit": 1})

    assert first.json() == {"done": 1, "refused": {}, "more": True}
    assert second.json() == {"done": 1, "refused": {}, "more": False}
    assert entry(db, letters["timeout1"]).notes == "discarded: known outage"  # oldest first
    assert listed(client) == [letters["invoice"], letters["bounced"]]


def test_bulk_retry_reports_what_it_could_not_do(
    client: TestClient[Litestar], db: Database, letters: dict[str, str]
) -> None:
    job_id = entry(db, letters["invoice"]).original_job_id
    with db.write() as tx:  # the failed job had a key, and an unfinished job holds it now
        tx.execute("UPDATE jobs SET idempotency_key = 'invoice:o-1' WHERE id = :id", {"id": job_id})
    add_job(db, "generate_invoice", {"orderId": "o-1"}, key="invoice:o-1")

    response = client.post("/admin/dead-letter/retry", json={"type": "generate_invoice"})

    assert response.json()["done"] == 0
    assert list(response.json()["refused"]) == [letters["invoice"]]
    assert "idempotency key" in response.json()["refused"][letters["invoice"]]
    assert job_row(db, job_id).status == "failed"
    assert entry(db, letters["invoice"]).reviewed is False


@pytest.mark.parametrize(
    "body",
    [{"limit": 0}, {"limit": 1001}, {"failedFrom": "2026-01-01T00:00:00"}, {"status": "failed"}, {"type": ""}],
)
def test_bulk_refuses_bad_selections(
    client: TestClient[Litestar], letters: dict[str, str], body: dict[str, Any]
) -> None:
    assert_error(client.post("/admin/dead-letter/retry", json=body), 400, "VALIDATION_ERROR")
    assert_error(client.post("/admin/dead-letter/discard", json=body), 400, "VALIDATION_ERROR")
    assert len(listed(client)) == len(letters)
